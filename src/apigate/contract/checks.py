"""apigate's own schemathesis checks, run on every response next to schemathesis' default checks.

* ``apigate_error_envelope`` — an error status the contract documents for the operation (as the request's method
  and path) carries the service's documented body (:mod:`apigate.contract.envelopes`). Statuses the contract does
  not document there (a framework's 405 for an undeclared method, a proxy's 413) are status_code_conformance's
  business, not this check's.
* ``apigate_stream`` — on an operation whose contract documents a streamed answer: a request whose ``stream`` the
  server reads as true (lax, as pydantic: ``true``, ``1``, ``"yes"``, ...) answered 200 must be a valid stream
  (documented Content-Type, every chunk parses and matches the contract's chunk schema, exactly one terminal chunk,
  final text = the streamed text in either delta style, nothing after the end); any other request must be answered
  with plain JSON.
* ``apigate_remember`` — not a check of the API: remembers one successful authenticated request per operation for
  the auth probes (:mod:`apigate.contract.auth_probes`).

Schemathesis registers checks globally (importing this module registers them); they act only on schemas loaded by
:mod:`apigate.contract.engine` (tagged ``x-apigate-api``) while a run for that API is active
(:func:`apigate.contract.state.activate`).
"""

from __future__ import annotations

from typing import Any

import schemathesis

from apigate.clients.codemie import asks_structured
from apigate.contract.envelopes import check_error_body
from apigate.contract.state import RecordedRequest, active_state, route_missed
from apigate.errors import ContractViolation

__all__ = ["apigate_error_envelope", "apigate_remember", "apigate_stream"]


_TRUE_WORDS = frozenset({"1", "t", "true", "y", "yes", "on"})


def _streamed(case: Any) -> bool:
    """Whether the server streams its answer to ``case``: ``stream`` read as pydantic's lax boolean reads it."""
    body = case.body
    value = body.get("stream") if isinstance(body, dict) else None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.isascii() and value.lower() in _TRUE_WORDS


def _flag(value: Any) -> bool:
    """A query boolean as the server reads it (lax words)."""
    return value is True or (isinstance(value, str) and value.isascii() and value.lower() in _TRUE_WORDS)


def _label(case: Any) -> str:
    return f"{case.method.upper()} {case.operation.path}"


def _header(response: Any, name: str) -> str | None:
    values = response.headers.get(name) if hasattr(response.headers, "get") else None
    if isinstance(values, list):
        return str(values[0]) if values else None
    return values if isinstance(values, str) else None


def _content_type(response: Any) -> str | None:
    return _header(response, "content-type")


@schemathesis.check
def apigate_error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    found = active_state(case.operation.schema)
    if found is None or response.status_code < 400:
        return None
    api, state = found
    op = state.contract.find_operation(str(response.request.method), case.operation.path)
    if op is None or not op.documents_status(response.status_code):
        return None
    check_error_body(api, response.status_code, _content_type(response), response.content or b"",
                     route_missed=route_missed(case.path_parameters),
                     www_authenticate=_header(response, "www-authenticate"))
    return None


@schemathesis.check
def apigate_stream(ctx: Any, response: Any, case: Any) -> bool | None:
    found = active_state(case.operation.schema)
    if found is None:
        return None
    rules = found[1].streams.get(_label(case))
    if rules is None or response.status_code != 200:
        return None
    content_type = _content_type(response)
    if _streamed(case):
        include_tool_errors = _flag((case.query or {}).get("include_tool_errors"))
        rules.check_body(content_type, response.content or b"", include_tool_errors=include_tool_errors,
                         structured=asks_structured(case.body))
    else:
        kind = (content_type or "").split(";", 1)[0].strip().lower()
        if kind in rules.media_types:
            raise ContractViolation('a request without "stream": true was answered with a stream',
                                    expected="application/json", actual=content_type)
    return None


@schemathesis.check
def apigate_remember(ctx: Any, response: Any, case: Any) -> bool | None:
    found = active_state(case.operation.schema)
    if found is None or not 200 <= response.status_code < 300 or not case._has_explicit_auth:
        return None
    request = response.request
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    recorded = RecordedRequest(
        method=str(request.method),
        url=str(request.url),
        headers={str(k): str(v) for k, v in request.headers.items()},
        body=body if isinstance(body, bytes) else None,
        streamed=_streamed(case),
    )
    found[1].remember(_label(case), recorded)
    return None
