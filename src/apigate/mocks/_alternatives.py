"""Alternatives that concern every service of the mock origin (``--variant independent``; see
:data:`apigate.mocks.settings.ALTERNATIVES`)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apigate.mocks.settings import MockSettings

__all__ = ["with_alternatives"]

class _Rewrite:
    """Answers whose status is one of ``statuses`` (on a path ending with ``path_suffix``) are sent with ``body`` as
    JSON instead of the service's own body; the headers named in ``keep`` are kept."""

    def __init__(self, app: ASGIApp, statuses: frozenset[int], body: object, keep: frozenset[bytes],
                 path_suffix: str = "") -> None:
        self.app = app
        self.statuses = statuses
        self.body = json.dumps(body).encode()
        self.keep = keep
        self.path_suffix = path_suffix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).endswith(self.path_suffix):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def rewrite(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] in self.statuses:
                replaced = True
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() in self.keep]
                await send({"type": "http.response.start", "status": message["status"], "headers": [
                    *kept, (b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode())]})
                await send({"type": "http.response.body", "body": self.body})
            elif not replaced:
                await send(message)

        await self.app(scope, receive, rewrite)


def with_alternatives(app: ASGIApp, settings: MockSettings) -> ASGIApp:
    """``app`` with the origin-wide alternatives of ``settings`` (none for the faithful mock)."""
    if settings.alternative("any.undeclared_method"):  # FastAPI's own 405, with the service's Allow header
        app = _Rewrite(app, frozenset({405}), {"detail": "Method Not Allowed"}, frozenset({b"allow"}))
    if settings.alternative("keycloak.json_bearer_refusal"):  # the refusal's reason as a JSON body too
        app = _Rewrite(app, frozenset({401, 403}), {"detail": "Not authenticated"}, frozenset({b"www-authenticate"}),
                       "/protocol/openid-connect/userinfo")
    return app
