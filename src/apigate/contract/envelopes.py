"""Each service's documented error body, checked on every error status it returns.

* CodeMie: ``{"error": {"message": str, "details": any, "help": str | null}}`` — all three keys, except that request
  validation 422s may omit ``help``. FastAPI's own ``{"detail": "Not Found"}`` / ``{"detail": "Method Not
  Allowed"}`` are what the framework answers for a path no route matches and for a wrong method: accepted for 405,
  and for 404 only when the request's path could not have matched the operation's route (``route_missed``); and
  ``{"detail": "There was an error parsing the body"}`` is its 400 for a JSON body whose bytes are not text.
* Keycloak: ``{"error": str, "error_description": str}``; an unknown realm (``{"error": "Realm does not exist"}``)
  and its JAX-RS routing answers (``{"error": "HTTP 404 Not Found"}``, ``"HTTP 405 Method Not Allowed"``) carry no
  description. A bearer-protected endpoint (userinfo) refuses a token as RFC 6750 §3 says: 401/403 with a
  ``WWW-Authenticate: Bearer ... error="..."`` challenge; Keycloak 26 sends no body with it (older versions: the
  OAuth error as JSON).
* Basejump (FastAPI): ``{"detail": str}`` or the validation list ``{"detail": [{loc, msg, type}, ...]}``.
"""

from __future__ import annotations

import json
from typing import Any

from apigate.errors import ContractViolation

__all__ = ["check_error_body", "parse_json"]

_FASTAPI_ROUTING = {404: "Not Found", 405: "Method Not Allowed"}
_FASTAPI_BODY_ERROR = "There was an error parsing the body"  # 400, before CodeMie's own handlers run


def parse_json(body: bytes | str) -> Any:
    """The JSON value of ``body``; :class:`ContractViolation` when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        raise ContractViolation("error body is not JSON", expected="a JSON error envelope", actual=text[:120]) from None


def _codemie(status: int, body: Any, *, route_missed: bool) -> None:
    if status == 400 and body == {"detail": _FASTAPI_BODY_ERROR}:
        return
    if isinstance(body, dict) and set(body) == {"detail"} and body["detail"] == _FASTAPI_ROUTING.get(status):
        if status == 405 or route_missed:
            return
        raise ContractViolation(
            f"{status} for a path the operation's route matches, with FastAPI's routing body instead of the envelope",
            expected={"error": {"message": "...", "details": "...", "help": "..."}},
            actual=body,
        )
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise ContractViolation("not CodeMie's error envelope", expected={"error": {"message": "..."}}, actual=body)
    required = ("message", "details") if status == 422 else ("message", "details", "help")
    missing = [key for key in required if key not in error]
    if missing:
        raise ContractViolation(f"error envelope lacks {', '.join(missing)}", expected=list(required),
                                actual=sorted(error))
    if not isinstance(error["message"], str):
        raise ContractViolation("error.message is not a string", expected="string", actual=error["message"])
    if error.get("help") is not None and not isinstance(error["help"], str):
        raise ContractViolation("error.help is not a string or null", expected="string | null", actual=error["help"])


_KEYCLOAK_NO_DESCRIPTION = frozenset({404, 405})


def _bearer_challenge(status: int, body: bytes, www_authenticate: str | None) -> bool:
    """An RFC 6750 refusal: a bodiless 401/403 whose ``WWW-Authenticate`` is a Bearer challenge."""
    return status in (401, 403) and not body.strip() and (www_authenticate or "")[:7].lower() == "bearer "


def _keycloak(status: int, body: Any) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        raise ContractViolation("not Keycloak's error body", expected={"error": "...", "error_description": "..."},
                                actual=body)
    if "error_description" in body and not isinstance(body["error_description"], str):
        raise ContractViolation("error_description is not a string", expected="string",
                                actual=body["error_description"])
    if status not in _KEYCLOAK_NO_DESCRIPTION and "error_description" not in body:
        raise ContractViolation("Keycloak error without error_description", expected=["error", "error_description"],
                                actual=sorted(body))


def _basejump(body: Any) -> None:
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return
    if isinstance(detail, list) and detail:
        for item in detail:
            if not (isinstance(item, dict) and isinstance(item.get("loc"), list) and isinstance(item.get("msg"), str)
                    and isinstance(item.get("type"), str)):
                raise ContractViolation("validation error item is not {loc, msg, type}",
                                        expected={"loc": [], "msg": "...", "type": "..."}, actual=item)
        return
    raise ContractViolation("not Basejump's error body", expected={"detail": "..."}, actual=body)


def check_error_body(api: str, status: int, content_type: str | None, body: bytes, *,
                     route_missed: bool = False, www_authenticate: str | None = None) -> None:
    """Raise :class:`ContractViolation` unless ``body`` is ``api``'s documented error body for ``status``."""
    if status < 400:
        return
    if api == "keycloak" and _bearer_challenge(status, body, www_authenticate):
        return
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise ContractViolation(f"error {status} is not JSON", expected="application/json", actual=content_type)
    value = parse_json(body)
    if api == "codemie":
        _codemie(status, value, route_missed=route_missed)
    elif api == "keycloak":
        _keycloak(status, value)
    elif api == "basejump":
        _basejump(value)
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown api {api!r}")
