"""Helpers of the client tests (statuses, a controllable clock, a fake sleep, secret checks)."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from apigate import errors

STATUSES = (400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504)
RETRIED = frozenset({429, 502, 503, 504})
CLASSES: dict[int, type[errors.HTTPError]] = {
    400: errors.BadRequestError,
    401: errors.UnauthorizedError,
    403: errors.ForbiddenError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.UnprocessableEntityError,
    429: errors.TooManyRequestsError,
    500: errors.InternalServerError,
    502: errors.BadGatewayError,
    503: errors.ServiceUnavailableError,
    504: errors.GatewayTimeoutError,
}


class Clock:
    """A monotonic clock the test moves by hand; counts its readings so tests can wait for callers."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.reads = 0
        self.cond = threading.Condition()

    def __call__(self) -> float:
        with self.cond:
            self.reads += 1
            self.cond.notify_all()
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeper:
    """Records the delays a client asked to sleep, without sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def error_response(status: int, body: Any, *, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"x-request-id": f"req-{status}", **(headers or {})})


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    shown = " ".join([str(exc), repr(exc), getattr(exc, "url", ""), getattr(exc, "text", "")])
    for secret in secrets:
        assert secret not in shown, f"{secret!r} leaked into {shown!r}"
