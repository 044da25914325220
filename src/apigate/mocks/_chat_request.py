"""CodeMie's chat request (body and query), read as the real server reads it: FastAPI + pydantic's default lax mode.

Two steps, in the real server's order:

1. :func:`decode_chat_body`, BEFORE authentication (FastAPI reads the body before the auth dependency runs): a body
   sent as JSON (``application/json``, ``application/*+json``) is decoded — bytes that are not text →
   :class:`BodyUndecodable` (400 ``{"detail": "There was an error parsing the body"}``, FastAPI's own shape);
   text that is not JSON → 422 ``json_invalid`` (the documented answer; the real server's handler crashes with a
   500 there). A body sent with another Content-Type, or none, stays bytes (and fails validation in step 2).
2. :func:`parse_chat`, AFTER authentication: the query and the body against the request model, collecting
   pydantic-style errors ``{type, loc, msg, input[, ctx]}`` for a 422 whose message is ``"<path>: <msg>"`` joined by
   ``"; "`` (``history.list[ChatMessage][0].role: ...``; the body root is ``request``, query fields keep ``query.``).

Field rules (the server's model): types are LAX as pydantic's defaults — booleans accept ``0``/``1`` and the words
``true/false, yes/no, on/off, t/f, y/n, 1/0`` in any case; integers accept integral floats, booleans and numeric
text (``" 10 "``, ``"1_0"``, ``"10.0"``); strings, lists and objects accept only their own JSON type. Every field is
accepted in snake_case and camelCase (``toolCreds`` inside ``tools_config`` too); when both are sent the camelCase
value is read and the other ignored. ``history[].message`` is optional and nullable. ``tool_creds: {}`` counts as
missing. Both ``file_name`` and ``file_names`` → 422. More than 20 ``file_names`` and an invalid ``output_schema``
(it needs a string ``type``, an object ``properties`` and must be a valid Draft 7 schema; ``{}`` is not checked)
stop validation at once: the first with its own 422 shape, the second with the domain envelope (:class:`DomainInvalid`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from apigate.mocks._common import json_text

__all__ = [
    "Bends",
    "BodyUndecodable",
    "ChatRequest",
    "DomainInvalid",
    "ValidationFailed",
    "decode_chat_body",
    "lax_bool",
    "lax_int",
    "parse_bool",
    "parse_chat",
    "parse_int",
    "validation_message",
]

MAX_FILES: Final = 20
TRUE_WORDS: Final = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS: Final = frozenset({"0", "false", "f", "no", "n", "off"})
DETAIL_LEVELS: Final = ("minimal", "standard", "full")
INTERACTIVE_KINDS: Final = ("action", "choice", "form", "submit", "text_fallback")
BODY_PARSE_ERROR: Final = "There was an error parsing the body"
# what pydantic (Rust's str::trim) strips around numeric text: Unicode White_Space
_SPACE: Final = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
                "\u2028\u2029\u202f\u205f\u3000"
_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")
_MAX_INT_DIGITS: Final = 4300  # longer numeric text: int_parsing_size (Python's own limit)
_I64: Final = 2**63
_INVALID: Final = object()  # a check's result when it appended an error

Loc = tuple[str | int, ...]
Errors = list[dict[str, Any]]


class BodyUndecodable(Exception):
    """The body was sent as JSON but is not text: 400 ``{"detail": "There was an error parsing the body"}``."""


class DomainInvalid(Exception):
    """A domain-level 422 with CodeMie's full envelope (``details`` and ``help`` null)."""


class ValidationFailed(Exception):
    def __init__(self, errors: Errors) -> None:
        super().__init__(validation_message(errors))
        self.errors = errors


def _error(kind: str, loc: Loc, msg: str, value: Any, ctx: Mapping[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx:
        error["ctx"] = dict(ctx)
    return error


def _value_error(loc: Loc, text: str, value: Any) -> dict[str, Any]:
    return _error("value_error", loc, f"Value error, {text}", value, {"error": text})


def validation_message(errors: Errors) -> str:
    """The real server's 422 message: ``<path>: <msg>`` joined by ``; `` — the path drops a leading ``body``
    (``request`` when nothing is left), keeps ``query``, and writes list indexes as ``[i]``."""
    parts = []
    for e in errors:
        loc = list(e["loc"])
        if loc[:1] == ["body"]:
            loc = loc[1:]
        names: list[str] = []
        for item in loc:
            if isinstance(item, int):
                if not names:
                    names.append("request")
                names[-1] += f"[{item}]"
            else:
                names.append(str(item))
        parts.append(f"{'.'.join(names) or 'request'}: {e['msg']}")
    return "; ".join(parts)


# ---- lax scalars (pydantic's python-mode lax rules) -------------------------------------------------------------
def lax_bool(value: Any, loc: Loc, errors: Errors) -> Any:
    """``value`` read as a boolean; appends an error and returns :data:`_INVALID` when pydantic would refuse it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.lower() if value.isascii() else ""
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        errors.append(_error("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", value))
        return _INVALID
    if (isinstance(value, int) and -_I64 <= value < _I64) or (isinstance(value, float) and _float_fits_i64(value)):
        if value in (0, 1):
            return value == 1
        errors.append(_error("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", value))
        return _INVALID
    errors.append(_error("bool_type", loc, "Input should be a valid boolean", value))
    return _INVALID


def _float_fits_i64(value: float) -> bool:
    """An integral float pydantic converts to a 64-bit integer (both ends exclusive, as pydantic-core compares)."""
    return value.is_integer() and -_I64 < value < _I64


def lax_int(value: Any, loc: Loc, errors: Errors) -> Any:
    """``value`` read as an integer; appends an error and returns :data:`_INVALID` when pydantic would refuse it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            errors.append(_error("finite_number", loc, "Input should be a finite number", value))
        elif not value.is_integer():
            errors.append(_error("int_from_float", loc, "Input should be a valid integer, got a number with a "
                                                        "fractional part", value))
        elif not _float_fits_i64(value):
            errors.append(_error("int_parsing_size", loc, "Unable to parse input string as an integer, exceeded "
                                                          "maximum size", value))
        else:
            return int(value)
        return _INVALID
    if isinstance(value, str):
        text = value.strip(_SPACE)
        if _INT_TEXT.fullmatch(text):
            digits = text.split(".", 1)[0].replace("_", "")
            if len(digits.lstrip("+-")) > _MAX_INT_DIGITS:
                errors.append(_error("int_parsing_size", loc, "Unable to parse input string as an integer, "
                                                              "exceeded maximum size", value))
                return _INVALID
            return int(digits)
        errors.append(_error("int_parsing", loc, "Input should be a valid integer, unable to parse string as an "
                                                 "integer", value))
        return _INVALID
    errors.append(_error("int_type", loc, "Input should be a valid integer", value))
    return _INVALID


Check = Callable[[Any, Loc, Errors], Any]


def _exactly(accepts: Callable[[Any], bool], kind: str, msg: str) -> Check:
    """A check that takes values ``accepts`` says yes to as they are, and refuses anything else (no coercion)."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if accepts(value):
            return value
        errors.append(_error(kind, loc, msg, value))
        return _INVALID

    return check


_string = _exactly(lambda v: isinstance(v, str), "string_type", "Input should be a valid string")
_object = _exactly(lambda v: isinstance(v, dict), "dict_type", "Input should be a valid dictionary")
_strict_bool = _exactly(lambda v: isinstance(v, bool), "bool_type", "Input should be a valid boolean")
_strict_int = _exactly(lambda v: isinstance(v, int) and not isinstance(v, bool), "int_type",
                       "Input should be a valid integer")


def _model(value: Any, loc: Loc, errors: Errors) -> bool:
    """Whether ``value`` can be read as a model (an object); else appends pydantic's error (FastAPI validates with
    ``from_attributes``, hence ``model_attributes_type``)."""
    if isinstance(value, dict):
        return True
    errors.append(_error("model_attributes_type", loc, "Input should be a valid dictionary or object to extract "
                                                       "fields from", value))
    return False


def _list_of(item: Check) -> Check:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, list):
            errors.append(_error("list_type", loc, "Input should be a valid list", value))
            return _INVALID
        before = len(errors)
        out = [item(v, (*loc, i), errors) for i, v in enumerate(value)]
        return out if len(errors) == before else _INVALID

    return check


def _spellings(name: str) -> tuple[str, ...]:
    """The keys field ``name`` may be sent as, the one the server reads first first: camelCase, then snake_case."""
    head, *rest = name.split("_")
    camel = head + "".join(w.capitalize() for w in rest)
    return (camel, name) if camel != name else (name,)


def _lookup(obj: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    """(key, value) of the first of ``keys`` (a field's spellings, in precedence order) that ``obj`` holds."""
    for key in keys:
        if key in obj:
            return key, obj[key]
    return None


_ROLE, _MESSAGE, _NAME = ("role",), ("message",), ("name",)
_TOOL_CREDS, _INTEGRATION_ID = _spellings("tool_creds"), _spellings("integration_id")


# ---- nested models ----------------------------------------------------------------------------------------------
def _chat_message(value: Any, loc: Loc, errors: Errors, *, message_required: bool = False) -> Any:
    if not _model(value, loc, errors):
        return _INVALID
    found = _lookup(value, _ROLE)
    if found is None:
        errors.append(_error("missing", (*loc, "role"), "Field required", value))
    elif found[1] not in ("User", "Assistant"):
        errors.append(_error("enum", (*loc, found[0]), "Input should be 'Assistant' or 'User'", found[1],
                             {"expected": "'Assistant' or 'User'"}))
    message = _lookup(value, _MESSAGE)
    if message is None and message_required:
        errors.append(_error("missing", (*loc, "message"), "Field required", value))
    elif message is not None and (message[1] is not None or message_required):
        _string(message[1], (*loc, message[0]), errors)
    return value


def _history(value: Any, loc: Loc, errors: Errors, *, item: Check = _chat_message) -> Any:
    """``list[ChatMessage] | str``: pydantic's smart union reports both members' errors, tagged."""
    if isinstance(value, str):
        return value
    attempt: Errors = []
    _list_of(item)(value, (*loc, "list[ChatMessage]"), attempt)
    if not attempt:
        return value
    errors.extend(attempt)
    errors.append(_error("string_type", (*loc, "str"), "Input should be a valid string", value))
    return _INVALID


def _tool_config(value: Any, loc: Loc, errors: Errors, *, empty_creds_count: bool = False) -> Any:
    if not _model(value, loc, errors):
        return _INVALID
    before = len(errors)
    name = _lookup(value, _NAME)
    if name is None:
        errors.append(_error("missing", (*loc, "name"), "Field required", value))
    else:
        _string(name[1], (*loc, name[0]), errors)
    creds = _lookup(value, _TOOL_CREDS)
    if creds is not None and creds[1] is not None:
        _object(creds[1], (*loc, creds[0]), errors)
    integration = _lookup(value, _INTEGRATION_ID)
    if integration is not None and integration[1] is not None:
        _string(integration[1], (*loc, integration[0]), errors)
    if len(errors) > before:
        return _INVALID
    has_creds = creds is not None and creds[1] is not None if empty_creds_count else bool(creds and creds[1])
    # (an empty object counts as missing)
    has_integration = bool(integration and integration[1])
    if has_creds == has_integration:
        text = "Either tool_creds or integration_id must be provided" + (", but not both" if has_creds else "")
        errors.append(_value_error(loc, text, value))
        return _INVALID
    return value


def _interactive_response(value: Any, loc: Loc, errors: Errors) -> Any:
    """``{request_id: str, kind: action|choice|form|submit|text_fallback, payload: object}`` (no camelCase)."""
    if not _model(value, loc, errors):
        return _INVALID
    before = len(errors)
    for key, check in (("request_id", _string), ("kind", None), ("payload", _object)):
        if key not in value:
            errors.append(_error("missing", (*loc, key), "Field required", value))
        elif check is not None:
            check(value[key], (*loc, key), errors)
        elif value[key] not in INTERACTIVE_KINDS:
            expected = ", ".join(f"'{k}'" for k in INTERACTIVE_KINDS[:-1]) + f" or '{INTERACTIVE_KINDS[-1]}'"
            errors.append(_error("literal_error", (*loc, key), f"Input should be {expected}", value[key],
                                 {"expected": expected}))
    return value if len(errors) == before else _INVALID


def _sub_versions(value: Any, loc: Loc, errors: Errors, *, integer: Check = lax_int) -> Any:
    if not isinstance(value, dict):
        errors.append(_error("dict_type", loc, "Input should be a valid dictionary", value))
        return _INVALID
    before = len(errors)
    out = {k: integer(v, (*loc, k), errors) for k, v in value.items()}
    return out if len(errors) == before else _INVALID


def _file_names(value: Any, loc: Loc, errors: Errors) -> Any:
    names = _list_of(_string)(value, loc, errors)
    if names is not _INVALID and len(names) > MAX_FILES:
        # the server's field validator raises FastAPI's own exception: validation stops here, with this shape
        message = f"Too many files. Maximum count is {MAX_FILES}"
        raise ValidationFailed([{"loc": ["file_names"], "msg": message, "type": "value_error"}])
    return names


def _output_schema(value: Any, loc: Loc, errors: Errors) -> Any:
    schema = _object(value, loc, errors)
    if schema is _INVALID or not schema:
        return schema
    if not _valid_output_schema(schema):
        raise DomainInvalid("Wrong JSON schema for structured output")  # raised mid-validation: it stops it
    return schema


def _valid_output_schema(schema: dict[str, Any]) -> bool:
    if not isinstance(schema.get("type"), str) or not isinstance(schema.get("properties"), dict):
        return False
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft7Validator.check_schema(schema)
    except (SchemaError, RecursionError, TypeError, ValueError):  # pathological schemas too: refused, never a crash
        return False
    return True


@dataclass(frozen=True)
class Bends:
    """Contract breaks of the self-test that bend the request model (all false: the real server's rules)."""

    any_top_k: bool = False  # any top_k at all is accepted
    strict_types: bool = False  # no lax coercion: JSON booleans and integers only
    snake_case_wins: bool = False  # the snake_case spelling is read when both are sent
    empty_tool_creds: bool = False  # tool_creds {} counts as credentials
    history_message_required: bool = False  # history items need a string message


@dataclass(frozen=True)
class _Field:
    name: str
    kind: str  # a key of the checks of :func:`_checks`
    nullable: bool = True

    @functools.cached_property
    def spellings(self) -> tuple[str, ...]:
        return _spellings(self.name)


# the server's request model, in its declaration order (the order pydantic reports errors in)
FIELDS: Final = (
    _Field("conversation_id", "str", nullable=False),
    _Field("text", "str"),
    _Field("content_raw", "str"),
    _Field("file_names", "file_names"),
    _Field("llm_model", "str"),
    _Field("enable_image_generation", "bool"),
    _Field("image_generation_model", "str"),
    _Field("history", "history", nullable=False),
    _Field("history_index", "int"),
    _Field("mcp_server_single_usage", "bool"),
    _Field("workflow_execution_id", "str"),
    _Field("interactive_response", "interactive_response"),
    _Field("version", "int"),
    _Field("sub_assistants_versions", "sub_versions"),
    _Field("stream", "bool"),
    _Field("top_k", "int", nullable=False),
    _Field("system_prompt", "str", nullable=False),
    _Field("background_task", "bool"),
    _Field("metadata", "object"),
    _Field("tools_config", "tools_config"),
    _Field("output_schema", "output_schema"),
    _Field("disable_cache", "bool"),
    _Field("save_history", "bool", nullable=False),
    _Field("skill_ids", "str_list"),
    _Field("enable_web_search", "bool"),
    _Field("enable_code_interpreter", "bool"),
)
_NULL_ERRORS: Final = {"int": ("int_type", "Input should be a valid integer"),
                       "bool": ("bool_type", "Input should be a valid boolean"),
                       "str": ("string_type", "Input should be a valid string")}


@functools.cache
def _checks(bends: Bends) -> dict[str, Check]:
    """The check of each field kind, under ``bends``."""
    boolean = _strict_bool if bends.strict_types else lax_bool
    integer = _strict_int if bends.strict_types else lax_int
    message = functools.partial(_chat_message, message_required=bends.history_message_required)
    return {
        "str": _string, "bool": boolean, "int": integer, "object": _object, "str_list": _list_of(_string),
        "file_names": _file_names, "history": functools.partial(_history, item=message),
        "interactive_response": _interactive_response,
        "sub_versions": functools.partial(_sub_versions, integer=integer),
        "tools_config": _list_of(functools.partial(_tool_config, empty_creds_count=bends.empty_tool_creds)),
        "output_schema": _output_schema,
    }


@dataclass(frozen=True)
class ChatRequest:
    conversation_id: str | None = None  # None: not sent (the real server would start a new conversation)
    text: str | None = None
    stream: bool = False
    background_task: bool = False
    output_schema: dict[str, Any] | None = None  # a non-empty schema: the answer is structured
    version: int | None = None
    llm_model: str | None = None
    interactive_response: str | None = None  # the request_id it answers


def _json_content_type(content_type: str | None) -> bool:
    """FastAPI's test: the body is decoded as JSON for ``application/json`` and ``application/*+json``."""
    main, _, sub = (content_type or "").split(";", 1)[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or (sub.endswith("+json") and "/" not in sub))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_chat_body(raw: bytes, content_type: str | None) -> Any:
    """The body as the server has it before authentication: decoded JSON, the raw bytes (another Content-Type),
    or None (empty). :class:`BodyUndecodable` / :class:`ValidationFailed` (``json_invalid``) when it cannot be."""
    if not raw:
        return None
    if not _json_content_type(content_type):
        return raw
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
        if b"\\ud" in raw or b"\\uD" in raw:  # a surrogate escape: it must be one half of a pair
            json_text(body).encode("utf-8")
    except json.JSONDecodeError as exc:
        raise ValidationFailed([_error("json_invalid", ("body", exc.pos), "JSON decode error", {},
                                       {"error": exc.msg})]) from None
    except UnicodeDecodeError:
        raise BodyUndecodable(BODY_PARSE_ERROR) from None
    except (ValueError, UnicodeError) as exc:
        # NaN/Infinity and lone surrogate escapes: refused as JSON decode errors (422), never an answer that cannot
        # be encoded (500)
        raise ValidationFailed([_error("json_invalid", ("body", 0), "JSON decode error", {},
                                       {"error": str(exc)})]) from None
    return body


def parse_bool(value: str, loc: Loc, errors: Errors) -> bool:
    """A query-string boolean (False, with an error appended, when it is not one)."""
    result = lax_bool(value, loc, errors)
    return result if isinstance(result, bool) else False


def parse_int(value: str, loc: Loc, errors: Errors) -> int:
    """A query-string integer (0, with an error appended, when it is not one)."""
    result = lax_int(value, loc, errors)
    return result if isinstance(result, int) else 0


def _check_query(query: Mapping[str, str], errors: Errors) -> None:
    """``include_tool_errors`` (a boolean; it changes nothing the mock answers: no tool ever fails) and
    ``error_detail_level``."""
    if "include_tool_errors" in query:
        parse_bool(query["include_tool_errors"], ("query", "include_tool_errors"), errors)
    level = query.get("error_detail_level", "standard")
    if level not in DETAIL_LEVELS:
        errors.append(_error("enum", ("query", "error_detail_level"), "Input should be 'minimal', 'standard' or "
                                                                      "'full'", level,
                             {"expected": "'minimal', 'standard' or 'full'"}))


def parse_chat(body: Any, query: Mapping[str, str], *, bends: Bends = Bends()) -> ChatRequest:
    """The validated ask (after authentication; ``query``: the query parameters); raises
    :class:`ValidationFailed` (422 with the validation envelope) or :class:`DomainInvalid` (422 with the full
    envelope). ``bends``: contract breaks of the self-test.
    """
    errors: Errors = []
    _check_query(query, errors)
    if body is None:
        raise ValidationFailed([*errors, _error("missing", ("body",), "Field required", None)])
    if isinstance(body, dict) and "file_name" in body:
        if "file_names" in body:
            text = "Cannot provide both file_name and file_names. Use only file_names."
            raise ValidationFailed([*errors, _value_error(("body",), text, body)])
        body = dict(body)
        file_name = body.pop("file_name")
        if isinstance(file_name, str) and file_name.strip():
            body["file_names"] = [file_name]
    if not isinstance(body, dict):
        shown = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        _model(shown, ("body",), errors)
        raise ValidationFailed(errors)
    values: dict[str, Any] = {}
    checks = _checks(bends)
    for f in FIELDS:
        found = _lookup(body, f.spellings[::-1] if bends.snake_case_wins else f.spellings)
        if found is None:
            continue
        key, value = found
        if (value is None and f.nullable) or (bends.any_top_k and f.name == "top_k"):
            values[f.name] = None
        elif value is None and f.kind in _NULL_ERRORS:
            kind, msg = _NULL_ERRORS[f.kind]
            errors.append(_error(kind, ("body", key), msg, None))
        else:
            values[f.name] = checks[f.kind](value, ("body", key), errors)
    if not errors:
        for assistant_id, version in (values.get("sub_assistants_versions") or {}).items():
            if version < 1:
                text = (f"Invalid version number for assistant '{assistant_id}': {version}. "
                        "Version must be a positive integer.")
                errors.append(_value_error(("body",), text, body))
                break
    if errors:
        raise ValidationFailed(errors)
    schema = values.get("output_schema")
    return ChatRequest(
        text=values.get("text"),
        stream=values.get("stream") is True,
        conversation_id=values.get("conversation_id"),
        background_task=values.get("background_task") is True,
        output_schema=schema or None,
        version=values.get("version"),
        llm_model=values.get("llm_model"),
        interactive_response=(values.get("interactive_response") or {}).get("request_id"),
    )

