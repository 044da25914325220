"""For ``benchmarks/load_overhead.py``: the chat scenario's CodeMie user next to a bare FastHttpUser.

``BareCodemieChatUser`` sends the same request with the same kind of token and checks nothing: Locust's own
request count for it is the ceiling the scenario's ``codemie.chat`` is compared with, in the same run.
"""

from __future__ import annotations

from locust import FastHttpUser, task

from chat import CODEMIE_BODY, CodemieChatUser
from common import TARGET, KeycloakTokens

__all__ = ["BareCodemieChatUser", "CodemieChatUser"]


class BareCodemieChatUser(FastHttpUser):
    weight = 1
    services = ("keycloak",)
    host = TARGET.codemie.url

    def on_start(self) -> None:
        self.url = f"{TARGET.codemie.url}/v1/assistants/{TARGET.codemie.assistant_id}/model"
        self.headers = {"Content-Type": "application/json", **KeycloakTokens().header()}

    @task
    def chat(self) -> None:
        self.client.post(self.url, data=CODEMIE_BODY, headers=self.headers, name="bare.codemie.chat")
