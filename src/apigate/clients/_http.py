"""HTTP plumbing shared by every client: timeouts, retries, and the one place httpx errors are translated.

* :class:`Timeouts` — explicit connect/read/write/pool timeouts (httpx's default is 5 s for everything).
* :class:`RetryPolicy` — exponential backoff with jitter for 429/502/503/504 and connection failures, honouring
  ``Retry-After`` (seconds or an HTTP date) up to a cap. A request is retried when it is *safe*: idempotent methods,
  token requests, or any request that never reached the server (connect errors). A non-idempotent call (a chat) is
  retried only when the caller passes ``retry_unsafe=True``.
* :class:`HttpSession` — one ``httpx.Client`` per service with an injectable transport, ``sleep`` and ``rng``, so
  the same code runs under respx, in-process against an ASGI app and against the network.

Every ``httpx`` request exception (transport failures, and bodies that do not decode) is translated here, once,
``raise ... from exc``; error responses become the
:func:`apigate.errors.http_error_class` of their status with the service's error envelope parsed.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from apigate.errors import (
    ConnectError,
    ConnectionLostError,
    ContractViolation,
    HTTPError,
    TransportError,
    TransportTimeoutError,
    http_error_class,
)
from apigate.redact import RedactingFilter, redact

__all__ = [
    "HttpSession",
    "RetryPolicy",
    "Timeouts",
    "error_from_response",
    "parse_retry_after",
    "read_json",
    "safe_url",
    "transport_error",
]

logger = logging.getLogger("apigate.clients")
logger.addFilter(RedactingFilter())

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
REQUEST_ID_HEADERS: Final = ("x-request-id", "x-correlation-id", "request-id", "x-amzn-requestid")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``read`` bounds each read of a body (a streamed answer may take longer in total)."""

    connect: float = 5.0
    read: float = 60.0
    write: float = 10.0
    pool: float = 10.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying again.

    Attempt ``n`` (1-based) that failed waits ``min(max_delay, base_delay * 2**(n-1))``, scaled by a random factor in
    ``[1 - jitter, 1]``. A ``Retry-After`` header replaces the computed delay; one longer than ``max_retry_after``
    is not waited for (the error is raised at once, carrying ``retry_after``).
    """

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 60.0
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 502, 503, 504}))

    def backoff(self, attempt: int, rng: Callable[[], float]) -> float:
        delay: float = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay * (1.0 - self.jitter * rng())



def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None`` when absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now())
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


def _request_id(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)
    return None


def _envelope(body: Any) -> tuple[str | None, str | None, Any, str | None]:
    """(message, code, details, help) from any of the three services' error envelopes."""
    if not isinstance(body, dict):
        return None, None, None, None
    error = body.get("error")
    if isinstance(error, dict):  # CodeMie {"error": {message, details, help}}
        message = error.get("message")
        help_ = error.get("help")
        return (
            str(message) if message is not None else None,
            None,
            error.get("details"),
            str(help_) if help_ is not None else None,
        )
    if isinstance(error, str):  # Keycloak {"error", "error_description"}
        description = body.get("error_description")
        return (str(description) if description else error), error, None, None
    if "detail" in body:  # FastAPI {"detail": str | [validation errors]}
        detail = body["detail"]
        if isinstance(detail, str):
            return detail, None, detail, None
        if isinstance(detail, list):
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                    parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
                else:
                    parts.append(str(item))
            return "; ".join(parts) or "validation error", None, detail, None
        return json.dumps(detail)[:200], None, detail, None
    message = body.get("message")
    if isinstance(message, str):
        return message, None, None, None
    return None, None, None, None


def error_from_response(
    response: httpx.Response, *, service: str = "", attempts: int = 1, now: Callable[[], float] = time.time
) -> HTTPError:
    """The typed error for an error response whose body has been read."""
    request = response.request
    content_type = response.headers.get("content-type", "")
    text = response.text if response.content else ""
    body: Any = None
    if text:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    message, code, details, help_ = _envelope(body)
    if message is None:
        if body is None and text:
            title = _TITLE.search(text)
            kind = content_type.split(";")[0].strip() or "unknown type"
            what = f"{title.group(1).strip()!r} " if title else ""
            message = f"{response.reason_phrase or 'error'} ({what}non-JSON {kind} body)"
        else:
            message = response.reason_phrase or f"HTTP {response.status_code}"
    cls = http_error_class(response.status_code)
    return cls(
        " ".join(message.split())[:500],
        status=response.status_code,
        method=request.method,
        url=safe_url(request.url),
        body=body,
        text=text,
        request_id=_request_id(response.headers),
        retry_after=parse_retry_after(response.headers.get("retry-after"), now=now),
        code=code,
        details=details,
        help=help_,
        service=service,
        attempts=attempts,
    )


def read_json(response: httpx.Response) -> Any:
    """The decoded JSON body of a successful response; :class:`ContractViolation` when it is not JSON."""
    try:
        return json.loads(response.content)
    except ValueError:
        request = response.request
        raise ContractViolation(
            "response body is not JSON",
            expected="a JSON body",
            actual=f"{response.headers.get('content-type', 'no Content-Type')}: {response.text[:80]!r}",
            where=f"{request.method} {safe_url(request.url)} -> {response.status_code}",
        ) from None


def safe_url(url: httpx.URL) -> str:
    """The URL without userinfo; secret-looking query values are scrubbed by :func:`redact`."""
    return redact(str(url.copy_with(username=None, password=None)))


def transport_error(exc: httpx.RequestError, method: str, url: str) -> TransportError:
    """The apigate class for an httpx request failure (the caller raises it ``from exc``)."""
    reason = redact(str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.DecodingError):  # a body whose Content-Encoding does not decode
        return TransportError(f"undecodable response body: {reason}", method=method, url=url)
    if isinstance(exc, httpx.TimeoutException):
        return TransportTimeoutError(f"{type(exc).__name__}: {reason}", method=method, url=url)
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"cannot connect: {reason}", method=method, url=url)
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError | httpx.CloseError):
        return ConnectionLostError(f"connection lost: {reason}", method=method, url=url)
    if isinstance(exc, httpx.TransportError):  # proxy error, unsupported protocol
        return ConnectError(f"{type(exc).__name__}: {reason}", method=method, url=url)
    return TransportError(f"{type(exc).__name__}: {reason}", method=method, url=url)


def _retriable(exc: httpx.RequestError, safe: bool) -> bool:
    """May a request that failed with ``exc`` be sent again? Transport failures of safe requests, or any request
    that certainly never reached the server; a body that does not decode would not decode the next time either."""
    return isinstance(exc, httpx.TransportError) and (safe or _never_sent(exc))


def _never_sent(exc: httpx.TransportError) -> bool:
    """True when the request certainly never reached the server (safe to retry even a POST)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


class HttpSession:
    """One service's HTTP client: base URL, timeouts, retries, error translation.

    ``transport`` (or a ready ``client``) is the seam for tests: ``respx``, ``httpx.ASGITransport(app)``, or ``None``
    for the network. ``sleep`` and ``rng`` are injectable so retry tests never sleep.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng
        self._owns_client = client is None
        self.client = client or httpx.Client(
            transport=transport,
            timeout=self.timeouts.to_httpx(),
            headers={"User-Agent": "apigate", **(headers or {})},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"HttpSession({self.service!r}, {self.base_url!r})"

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path

    # -- one exchange ----------------------------------------------------------------------------------------
    def build(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        kwargs: dict[str, Any] = {"params": {k: v for k, v in (params or {}).items() if v is not None} or None}
        if json_body is not None:
            kwargs["json"] = json_body
        if form is not None:
            kwargs["data"] = dict(form)
        return self.client.build_request(method, self.url(path), headers=dict(headers or {}), **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        safe: bool | None = None,
    ) -> httpx.Response:
        """Send with retries; return the (read) response when its status is < 400, else raise its HTTPError.

        ``safe``: may the request be retried after it reached the server? Default: idempotent method.
        """
        with self._exchange(method, path, params, json_body, form, headers, safe, stream=False) as response:
            return response

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        safe: bool | None = None,
        on_send: Callable[[], None] | None = None,
    ) -> Iterator[httpx.Response]:
        """Like :meth:`request` but the body of a successful response is left unread (read it in the block).

        ``on_send`` is called just before each attempt is sent (to time the request from its sending).
        """
        with self._exchange(method, path, params, json_body, None, headers, safe, stream=True, on_send=on_send) as response:
            yield response

    @contextlib.contextmanager
    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        safe: bool | None,
        *,
        stream: bool,
        on_send: Callable[[], None] | None = None,
    ) -> Iterator[httpx.Response]:
        method = method.upper()
        if safe is None:
            safe = method in IDEMPOTENT_METHODS
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            request = self.build(method, path, params=params, json_body=json_body, form=form, headers=headers)
            if on_send is not None:
                on_send()
            started = time.perf_counter()
            try:
                response = self.client.send(request, stream=True)
            except httpx.RequestError as exc:
                url = safe_url(request.url)
                failure = transport_error(exc, method, url)
                if attempt < policy.max_attempts and _retriable(exc, safe):
                    delay = policy.backoff(attempt, self.rng)
                    logger.info("%s %s: %s; retry %d in %.3fs", method, url, failure, attempt, delay)
                    self.sleep(delay)
                    continue
                raise failure from exc
            try:
                if response.status_code >= 400:
                    url = safe_url(request.url)
                    try:
                        response.read()
                    except httpx.RequestError as exc:
                        raise transport_error(exc, method, url) from exc
                    error = error_from_response(response, service=self.service, attempts=attempt)
                    logger.debug("%s %s -> %d (%.1f ms)", method, url, response.status_code,
                                 (time.perf_counter() - started) * 1000)
                    if safe and response.status_code in policy.statuses and attempt < policy.max_attempts:
                        delay = policy.backoff(attempt, self.rng)
                        if error.retry_after is not None:
                            if error.retry_after > policy.max_retry_after:
                                raise error
                            delay = error.retry_after
                        logger.info("%s %s -> %d; retry %d in %.3fs", method, url, response.status_code, attempt, delay)
                        response.close()
                        self.sleep(delay)
                        continue
                    raise error
                if not stream:
                    try:
                        response.read()
                    except httpx.RequestError as exc:
                        raise transport_error(exc, method, safe_url(request.url)) from exc
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s %s -> %d (%.1f ms)", method, safe_url(request.url), response.status_code,
                                 (time.perf_counter() - started) * 1000)
                yield response
                return
            finally:
                response.close()
