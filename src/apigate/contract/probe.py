"""Plumbing of apigate's explicit checks: send one request, judge the answer, record it with a redacted curl.

An explicit check is a named expectation about one exchange (``auth.expired_token`` on ``GET /v1/user``: 401 with
the error envelope). :class:`Prober` sends it with httpx, and records a pass or a finding (one-line reason, curl)
into the API's :class:`~apigate.contract.results.ApiResult`. Transport failures on the way count as failures of the
check (a server that resets the connection on some input broke its contract), except when nothing at all answers:
that is the caller's connection error (exit code 2).

An expectation comes from places of the contract, and a failed one is a warning when those places are assumed
(``x-apigate-assumed``; :meth:`apigate.contract.classify.Classifier.probe`): a judge that expects statuses raises
:class:`~apigate.contract.classify.UnexpectedStatus` (the operation's documented responses for those statuses are
its places), one that validates a body against a schema raises :class:`~apigate.contract.classify.BodyMismatch`
naming the schema's place, and ``check(..., cites=[pointer, ...])`` names further places.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from apigate.contract.classify import FAILURE, Classifier, UnexpectedStatus
from apigate.contract.envelopes import check_error_body
from apigate.contract.results import ApiResult
from apigate.errors import ConnectError, ContractViolation
from apigate.redact import redact

__all__ = ["Exchange", "Prober", "curl", "expect_status"]

_NOISE_HEADERS = frozenset({"content-length", "user-agent", "accept-encoding", "connection", "accept"})


def curl(method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | str | None = None) -> str:
    """A reproducible curl command line, secrets redacted."""
    parts = ["curl", "-X", method.upper()]
    netloc = urlsplit(url).netloc
    for name, value in (headers or {}).items():
        if name.lower() in _NOISE_HEADERS or (name.lower() == "host" and value == netloc):
            continue
        parts += ["-H", f"{name}: {value}"]
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        parts += ["-d", text]
    parts.append(url)
    return redact(" ".join(shlex.quote(part) for part in parts))


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    status: int
    response_headers: httpx.Headers
    content: bytes

    @property
    def curl(self) -> str:
        return curl(self.method, self.url, self.headers, self.body)

    @property
    def content_type(self) -> str | None:
        value = self.response_headers.get("content-type")
        return str(value) if value is not None else None

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            raise ContractViolation("body is not JSON", expected="JSON", actual=self.content[:120]) from None


class Prober:
    """Sends explicit checks for one API and records them into ``result``."""

    def __init__(self, api: str, result: ApiResult, *, classifier: Classifier | None = None,
                 client: httpx.Client | None = None, timeout: float = 30.0) -> None:
        self.api = api
        self.result = result
        self.classifier = classifier
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._owns = client is None

    @property
    def notes(self) -> list[str]:
        return self.result.notes

    def close(self) -> None:
        if self._owns:
            self.client.close()

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None,
             json_body: Any = None, form: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None) -> Exchange:
        request = self.client.build_request(method, url, headers=dict(headers or {}), content=body, json=json_body,
                                            data=dict(form) if form is not None else None, params=params)
        try:
            response = self.client.send(request)
        except httpx.ConnectError as exc:
            raise ConnectError(f"cannot connect to {redact(str(request.url))}: {redact(str(exc))}",
                               method=method, url=str(request.url)) from exc
        except httpx.TransportError as exc:
            # the server took the request and then failed it: that is the API's failure, recorded by check()
            raise ContractViolation(f"transport failure: {type(exc).__name__}: {redact(str(exc))}",
                                    expected="an HTTP answer", actual=type(exc).__name__) from exc
        sent_headers = {k: v for k, v in request.headers.items()}
        return Exchange(method.upper(), str(request.url), sent_headers, request.content or None,
                        response.status_code, response.headers, response.content)

    def parameter_places(self, operation: str, *names: str) -> tuple[str, ...]:
        """The contract places of ``operation``'s parameters ``names`` (their schemas), for ``check(cites=...)``."""
        if self.classifier is None:
            return ()
        places = (self.classifier.parameter_place(operation, name) for name in names)
        return tuple(place for place in places if place is not None)

    def check(self, operation: str, name: str, action: Callable[[], Exchange | None],
              judge: Callable[[Exchange], None] | None = None, *, cites: Sequence[str] = ()) -> Exchange | None:
        """Run ``action`` (send a request), then ``judge`` it; record one check on ``operation``. ``cites``: the
        contract places (JSON pointers) the expectation rests on, besides those its violation names."""
        exchange: Exchange | None = None
        try:
            exchange = action()
            if exchange is not None and judge is not None:
                judge(exchange)
        except AssertionError as exc:
            self.record(operation, name, exc, curl=exchange.curl if exchange is not None else "", cites=cites,
                        answer=exchange)
            return exchange
        self.result.record(operation, name, None)
        return exchange

    def record(self, operation: str, name: str, error: AssertionError, *, curl: str = "",
               cites: Sequence[str] = (), answer: Exchange | None = None) -> None:
        """Record the failed check ``name`` on ``operation`` with what it means (a failure, or a warning when the
        expectation rests on assumptions); ``answer``: the exchange it judged, if there was one."""
        found = FAILURE
        if self.classifier is not None:
            seen = (answer.status, answer.content_type, answer.content) if answer is not None else None
            found = self.classifier.probe(operation, error, cites, seen)
        self.result.record(operation, name, error, curl=curl, severity=found.severity, note=found.note)

    # -- common judgements -----------------------------------------------------------------------------------
    def expect_error(self, statuses: int | tuple[int, ...]) -> Callable[[Exchange], None]:
        """The answer has one of ``statuses`` and the service's documented error body."""
        wanted = (statuses,) if isinstance(statuses, int) else statuses

        def judge(exchange: Exchange) -> None:
            expect_status(exchange, wanted)
            check_error_body(self.api, exchange.status, exchange.content_type, exchange.content,
                             www_authenticate=exchange.response_headers.get("www-authenticate"))

        return judge


def expect_status(exchange: Exchange, statuses: Sequence[int]) -> None:
    """:class:`~apigate.contract.classify.UnexpectedStatus` unless the answer has one of ``statuses``."""
    if exchange.status not in statuses:
        raise UnexpectedStatus(f"answered {exchange.status}", expected=statuses, actual=exchange.status,
                               body=redact(exchange.content[:160].decode("utf-8", "replace")))
