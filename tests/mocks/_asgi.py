"""Helpers shared by the mock tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.types import ASGIApp

from apigate.config import DEMO

ORIGIN = "http://mock.test"
TOKEN_PATH = f"{DEMO.keycloak_prefix}/realms/{DEMO.realm}/protocol/openid-connect/token"
CODEMIE = DEMO.codemie_prefix
CHAT = f"{CODEMIE}/v1/assistants/{DEMO.assistant_id}/model"
FAST = {"chat_latency_ms": 0.0, "first_chunk_ms": 0.0, "chunk_interval_ms": 0.0}
PASSWORD_FORM = {"grant_type": "password", "client_id": DEMO.public_client, "username": DEMO.username,
                 "password": DEMO.password}


class ASGIClient:
    """One in-process request per call; the app (and its state) lives as long as this object."""

    def __init__(self, app: ASGIApp, base_url: str = ORIGIN) -> None:
        self.app = app
        self.base_url = base_url

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def password_token(client: ASGIClient) -> str:
    r = client.post(TOKEN_PATH, data=PASSWORD_FORM)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def decode_ndjson(data: bytes) -> list[dict[str, Any]]:
    """The JSON objects of a back-to-back (or newline separated) body."""
    decoder, text, objects, i = json.JSONDecoder(), data.decode(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        obj, i = decoder.raw_decode(text, i)
        objects.append(obj)
    return objects


def decode_sse(data: bytes) -> list[dict[str, Any]]:
    """The JSON ``data`` of each Server-Sent Event (events end with a blank line; CRLF or LF)."""
    events = data.decode().replace("\r\n", "\n").split("\n\n")
    return [json.loads(e.removeprefix("data: ")) for e in events if e.strip()]
