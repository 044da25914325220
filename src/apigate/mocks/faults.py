"""Operational faults injected in front of one mock service (random per request, seeded by ``settings.seed``).

* ``reset_rate``: the connection is reset (TCP RST) before any answer;
* ``error_rate``: the request is answered ``error_status`` with the service's own error envelope;
* ``added_latency_ms``: every answer is delayed by this much, counted from the request's arrival.

Stream cut-offs (``stream_cut_rate``) happen inside the CodeMie stream, which knows where half-way is. Contract
documents (``/openapi.json``) and CodeMie's ``/v1/info`` and ``/v1/healthcheck`` (readiness probes) are exempt.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Final

from starlette.types import ASGIApp, Receive, Scope, Send

from apigate.mocks._common import JSONAnswer, abort_connection, received_at
from apigate.mocks.settings import MockSettings
from apigate.mocks.timing import sleep_until

__all__ = ["ENVELOPES", "FaultInjector", "with_faults"]

EXEMPT: Final = frozenset({"/openapi.json", "/v1/info", "/v1/healthcheck"})
Envelope = Callable[[MockSettings, int, str], Any]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _codemie(settings: MockSettings, status: int, reason: str) -> Any:
    if settings.broken("codemie.error.envelope"):
        return {"detail": _phrase(status)}
    return {"error": {"message": _phrase(status), "details": reason, "help": None}}


def _keycloak(settings: MockSettings, status: int, reason: str) -> Any:
    error = "temporarily_unavailable" if status == 503 else "server_error" if status >= 500 else "invalid_request"
    return {"error": error, "error_description": reason}


def _basejump(settings: MockSettings, status: int, reason: str) -> Any:
    key = "message" if settings.broken("basejump.error.envelope") else "detail"
    return {key: f"{_phrase(status)}: {reason}"}


ENVELOPES: Final[dict[str, Envelope]] = {"codemie": _codemie, "keycloak": _keycloak, "basejump": _basejump}


class FaultInjector:
    """ASGI middleware around one service app."""

    def __init__(self, app: ASGIApp, settings: MockSettings, service: str) -> None:
        self.app = app
        self.settings = settings
        self.envelope = ENVELOPES[service]
        seed = settings.seed
        self.random = random.Random(None if seed is None else f"{seed}:{service}:faults")
        self.latency = settings.added_latency_ms / 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"][len(scope.get("root_path", "")):] in EXEMPT:
            await self.app(scope, receive, send)
            return
        s = self.settings
        received, _ = received_at(scope)
        if s.reset_rate and self.random.random() < s.reset_rate:
            await abort_connection(scope, reset=True)
            return
        failed = bool(s.error_rate) and self.random.random() < s.error_rate
        if self.latency:
            await sleep_until(received + self.latency)
        if failed:
            body = self.envelope(s, s.error_status, "injected fault (apigate mock --error-rate)")
            await JSONAnswer(body, status_code=s.error_status)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def with_faults(app: ASGIApp, settings: MockSettings, service: str) -> ASGIApp:
    """``app`` behind a :class:`FaultInjector` when any operational fault is switched on, else ``app`` itself."""
    if settings.error_rate or settings.reset_rate or settings.added_latency_ms:
        return FaultInjector(app, settings, service)
    return app
