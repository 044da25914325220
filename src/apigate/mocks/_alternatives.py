"""Alternatives that concern every service of the mock origin (``--variant independent``; see
:data:`apigate.mocks.settings.ALTERNATIVES`)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apigate.mocks.settings import MockSettings

__all__ = ["with_alternatives"]

_BODY = json.dumps({"detail": "Method Not Allowed"}).encode()


class _FrameworkMethodNotAllowed:
    """A 405 the service answers (for a method its routes do not have) is sent as FastAPI's own 405: ``{"detail":
    "Method Not Allowed"}`` with the service's ``Allow`` header, not the service's error envelope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def rewrite(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 405:
                replaced = True
                allow = [(k, v) for k, v in message.get("headers", []) if k.lower() == b"allow"]
                await send({"type": "http.response.start", "status": 405, "headers": [
                    *allow, (b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]})
                await send({"type": "http.response.body", "body": _BODY})
            elif not replaced:
                await send(message)

        await self.app(scope, receive, rewrite)


def with_alternatives(app: ASGIApp, settings: MockSettings) -> ASGIApp:
    """``app`` with the origin-wide alternatives of ``settings`` (none for the faithful mock)."""
    if settings.alternative("any.undeclared_method"):
        return _FrameworkMethodNotAllowed(app)
    return app
