"""Chat latency: CodeMie's non-streamed answer and Basejump's chat message.

The request itself goes through Locust's ``FastHttpUser`` with a body serialised once and a token obtained once
per user (renewed before it expires); per request only the status and one key are checked, so the load generator
stays cheap (``benchmarks/load_overhead.py`` compares it with a bare FastHttpUser).
Run alone with ``locust -f load/chat.py`` or through ``apigate load --scenario chat``.
"""

from __future__ import annotations

import json
import time

from locust import FastHttpUser, task

from common import TARGET, BasejumpTokens, KeycloakTokens, LoginError, auth_headers, measured_post, with_retries
from rawhttp import request_once

_JSON = {"Content-Type": "application/json"}
CODEMIE_BODY = json.dumps({"text": "Summarise the release notes in one sentence.", "stream": False}).encode()
BASEJUMP_BODY = json.dumps({"prompt": "How many employees are there?"}).encode()


class CodemieChatUser(FastHttpUser):
    """``POST /v1/assistants/{id}/model`` without streaming."""

    weight = 1
    services = ("keycloak",)
    host = TARGET.codemie.url

    def on_start(self) -> None:
        self.auth = KeycloakTokens(headers=_JSON)
        self.url = f"{TARGET.codemie.url}/v1/assistants/{TARGET.codemie.assistant_id}/model"

    @task
    def chat(self) -> None:
        headers = auth_headers(self, self.auth, "codemie.chat")
        if headers is None:
            return
        measured_post(self, self.url, CODEMIE_BODY, headers, "codemie.chat", b'"generated"')


class BasejumpChatUser(FastHttpUser):
    """``POST /chat/{chat_uuid}/message/``; each user sets up its team, connection and chat once in on_start.

    Every set-up call is retried on transient failures (``common.with_retries``); a user whose set-up still fails
    tries again later (``lifecycle.py``), so a fault during set-up does not take the user out of the run.
    """

    weight = 1
    services = ("basejump",)
    host = TARGET.basejump.url

    def on_start(self) -> None:
        self.auth = BasejumpTokens(headers=_JSON, user=self)
        base = TARGET.basejump.url
        user = self.auth.user_uuid
        tag = f"{id(self):x}-{int(time.time() * 1000)}"

        def call(method: str, path: str, key: str, *, params: dict[str, str] | None = None,
                 body: object = None) -> str:
            what = f"basejump chat set-up {method} {path.split('/')[1]}"

            def once() -> str:
                status, data = request_once(method, f"{base}{path}", params=params, json_body=body,
                                            headers=self.auth.header())
                if status != 200 or not isinstance(data, dict):
                    raise LoginError(f"HTTP {status}", status)
                return str(data.get(key, ""))

            return with_retries(once, what, self)

        team = call("POST", "/account/team/", "team_uuid", params={"team_name": f"apigate-load-{tag}"})
        call("POST", f"/account/user/{user}/team/{team}/", "team_uuid")
        conn = call("POST", "/connection/database/", "conn_uuid", body={
            "database_type": "postgres", "host": "db.example.internal", "port": 5432,
            "database_name": "sales", "username": "reader", "password": "load-test",
            "include_default_schema": True, "data_source_desc": "apigate load test",
            "database_desc": "apigate load test",
        })
        call("POST", f"/connection/{conn}/team/", "conn_uuid", body={"team_uuids": [team]})
        chat = call("POST", f"/chat/team/{team}/", "chat_uuid")
        self.url = f"{base}/chat/{chat}/message/"

    @task
    def message(self) -> None:
        headers = auth_headers(self, self.auth, "basejump.chat")
        if headers is None:
            return
        measured_post(self, self.url, BASEJUMP_BODY, headers, "basejump.chat", b'"msg_type"')
