"""Every error apigate raises, in two separate trees.

Errors: the tool, its input or the transport is broken (exit code 2 at the CLI unless said otherwise)::

    ApigateError
    ├── UsageError                 bad command-line input                      (exit 2)
    ├── ConfigError                bad or missing configuration / credentials  (exit 2)
    ├── DocumentError              an OpenAPI document cannot be read/parsed   (exit 2)
    ├── TransportError             no usable HTTP exchange                     (exit 2 at the CLI)
    │   ├── ConnectError           connection refused / DNS / TLS
    │   ├── TransportTimeoutError  connect, read or pool timeout
    │   ├── ConnectionLostError    the peer reset or closed the connection mid-response
    │   └── StreamCutOffError      a streamed body was cut (reset / truncated) before its terminal chunk
    └── HTTPError                  the server answered with status >= 400
        ├── ClientError (4xx)
        │   ├── BadRequestError 400, UnauthorizedError 401, ForbiddenError 403,
        │   ├── NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
        │   └── TooManyRequestsError 429
        └── ServerError (5xx)
            └── InternalServerError 500, BadGatewayError 502, ServiceUnavailableError 503,
                GatewayTimeoutError 504

Failures: the API broke its contract. They are ``AssertionError`` subclasses so that pytest reports them as
test failures, and carry what was expected and what came back::

    AssertionError
    └── ContractViolation          expected / actual / where
        └── StreamViolation        a streamed answer broke its framing or sequence rules (offset = byte offset)

``HTTPError`` objects never carry secrets: the URL is stored without its query string values for secret-looking
parameters, the text is passed through :func:`apigate.redact.redact` and the parsed body (which may echo the
request) through :func:`apigate.redact.redact_json`. Besides the ``body`` they carry the
fields of the service's error envelope, whatever the service: ``message`` (CodeMie ``error.message``, Keycloak
``error_description``, FastAPI ``detail``), ``code`` (Keycloak ``error``), ``details`` and ``help`` (CodeMie), the
``service`` that answered and how many ``attempts`` were made.
"""

from __future__ import annotations

from typing import Any, ClassVar

from apigate.redact import redact, redact_json

__all__ = [
    "ApigateError",
    "BadGatewayError",
    "BadRequestError",
    "ClientError",
    "ConfigError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "ContractViolation",
    "DocumentError",
    "ForbiddenError",
    "GatewayTimeoutError",
    "HTTPError",
    "InternalServerError",
    "NotFoundError",
    "ServerError",
    "ServiceUnavailableError",
    "StreamCutOffError",
    "StreamViolation",
    "TooManyRequestsError",
    "TransportError",
    "TransportTimeoutError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "UsageError",
    "http_error_class",
]


class ApigateError(Exception):
    """Root of every error apigate raises on purpose. ``exit_code`` is what the CLI exits with."""

    exit_code: ClassVar[int] = 2

    def __str__(self) -> str:
        return redact(super().__str__())


class UsageError(ApigateError):
    """Bad command-line input."""


class ConfigError(ApigateError):
    """Bad or missing configuration (a malformed URL, a live target without a credential, ...)."""


class DocumentError(ApigateError):
    """An OpenAPI document cannot be read, parsed or resolved."""


class TransportError(ApigateError):
    """No usable HTTP exchange took place."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.url = redact(url)


class ConnectError(TransportError):
    """Connection refused, name resolution or TLS failure."""


class TransportTimeoutError(TransportError):
    """A connect, read, write or pool timeout."""


class ConnectionLostError(TransportError):
    """The peer reset or closed the connection before the response was complete."""


class StreamCutOffError(TransportError):
    """A streamed response was cut (connection reset or truncated body) before its terminal chunk.

    ``offset`` is the number of body bytes received. A body that ends *cleanly* without a terminal chunk is the
    server's contract breach and raises :class:`StreamViolation` instead.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "", offset: int = 0) -> None:
        super().__init__(message, method=method, url=url)
        self.offset = offset


class HTTPError(ApigateError):
    """The server answered with an error status.

    ``body`` is the parsed JSON body when there is one (else ``None``) and ``text`` the raw text (redacted,
    truncated). ``message`` is the best one-line reason found in the service's error envelope.
    """

    status_code: ClassVar[int] = 0

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        url: str,
        body: Any = None,
        text: str = "",
        request_id: str | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        details: Any = None,
        help: str | None = None,
        service: str = "",
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = redact(message)
        self.status = status
        self.method = method
        self.url = redact(url)
        self.body = redact_json(body)  # an error body may echo the request (FastAPI 422: "input")
        self.text = redact(text[:2000])
        self.request_id = request_id
        self.retry_after = retry_after
        self.code = code
        self.details = redact_json(details)
        self.help = redact(help) if help else help
        self.service = service
        self.attempts = attempts

    def __str__(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return redact(f"{self.method} {self.url} -> {self.status}: {self.args[0]}{rid}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, method={self.method!r}, url={self.url!r})"


class ClientError(HTTPError):
    """A 4xx answer."""


class ServerError(HTTPError):
    """A 5xx answer."""


class BadRequestError(ClientError):
    status_code = 400


class UnauthorizedError(ClientError):
    status_code = 401


class ForbiddenError(ClientError):
    status_code = 403


class NotFoundError(ClientError):
    status_code = 404


class ConflictError(ClientError):
    status_code = 409


class UnprocessableEntityError(ClientError):
    status_code = 422


class TooManyRequestsError(ClientError):
    status_code = 429


class InternalServerError(ServerError):
    status_code = 500


class BadGatewayError(ServerError):
    status_code = 502


class ServiceUnavailableError(ServerError):
    status_code = 503


class GatewayTimeoutError(ServerError):
    status_code = 504


_BY_STATUS: dict[int, type[HTTPError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        ConflictError,
        UnprocessableEntityError,
        TooManyRequestsError,
        InternalServerError,
        BadGatewayError,
        ServiceUnavailableError,
        GatewayTimeoutError,
    )
}


def http_error_class(status: int) -> type[HTTPError]:
    """The most specific error class for an HTTP status (>= 400)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ClientError


class ContractViolation(AssertionError):
    """The API broke its contract: ``expected`` is what the contract says, ``actual`` what came back."""

    def __init__(self, message: str, *, expected: Any = None, actual: Any = None, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual
        self.where = where

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return redact(f"{where}{self.message} (expected {self.expected!r}, got {self.actual!r})")


class StreamViolation(ContractViolation):
    """A streamed answer broke its framing or sequence rules; ``offset`` is the byte offset in the body."""

    def __init__(
        self, message: str, *, offset: int, expected: Any = None, actual: Any = None, where: str = ""
    ) -> None:
        super().__init__(message, expected=expected, actual=actual, where=where)
        self.offset = offset

    def __str__(self) -> str:
        return f"{super().__str__()} at byte {self.offset}"
