"""Validation of CodeMie's chat request (body and query) with the strictness and error shape of the real server.

Errors are pydantic-style objects ``{type, loc, msg, input}``; the 422 message is ``"<field path>: <msg>"`` joined
by ``"; "`` (``history[0].role: Input should be 'User' or 'Assistant'``). Every field is accepted in snake_case and
camelCase; when both spellings are sent both are validated and the snake_case value wins. Unknown keys are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from apigate.mocks._common import json_text

__all__ = ["ChatRequest", "ValidationFailed", "parse_chat_body", "parse_chat_query", "validation_message"]

MAX_FILES: Final = 20
TRUE_WORDS: Final = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS: Final = frozenset({"0", "false", "f", "no", "n", "off"})
DETAIL_LEVELS: Final = ("minimal", "standard", "full")

Loc = tuple[str | int, ...]


class ValidationFailed(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(validation_message(errors))
        self.errors = errors


def _error(kind: str, loc: Loc, msg: str, value: Any, ctx: Mapping[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx:
        error["ctx"] = dict(ctx)
    return error


def validation_message(errors: list[dict[str, Any]]) -> str:
    """``history[0].role: Input should be ...; top_k: ...`` (the location without its ``body``/``query`` root)."""
    parts = []
    for e in errors:
        loc = e["loc"][1:] if len(e["loc"]) > 1 and isinstance(e["loc"][1], str) else e["loc"]
        path = ""
        for item in loc:
            path += f"[{item}]" if isinstance(item, int) else (f".{item}" if path else str(item))
        parts.append(f"{path}: {e['msg']}")
    return "; ".join(parts)


# ---- type checks: each returns None when the value is fine, else appends errors ------------------------------
Check = Callable[[Any, Loc, list[dict[str, Any]]], None]


def _string(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if not isinstance(value, str):
        errors.append(_error("string_type", loc, "Input should be a valid string", value))


def _boolean(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if not isinstance(value, bool):
        errors.append(_error("bool_type", loc, "Input should be a valid boolean", value))


def _integer(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(_error("int_type", loc, "Input should be a valid integer", value))
    elif isinstance(value, float) and not value.is_integer():
        errors.append(_error("int_from_float", loc, "Input should be a valid integer, got a number with a "
                                                    "fractional part", value))


def _object(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if not isinstance(value, dict):
        errors.append(_error("dict_type", loc, "Input should be a valid dictionary", value))


def _anything(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    return None


def _list_of(item: Check, max_items: int | None = None) -> Check:
    def check(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
        if not isinstance(value, list):
            errors.append(_error("list_type", loc, "Input should be a valid list", value))
            return
        if max_items is not None and len(value) > max_items:
            errors.append(_error("too_long", loc, f"List should have at most {max_items} items after validation, "
                                                  f"not {len(value)}", value,
                                 {"field_type": "List", "max_length": max_items, "actual_length": len(value)}))
        for i, v in enumerate(value):
            item(v, (*loc, i), errors)

    return check


def _history_item(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if not isinstance(value, dict):
        errors.append(_error("model_type", loc, "Input should be a valid dictionary or instance of ChatMessage",
                             value))
        return
    if "role" not in value:
        errors.append(_error("missing", (*loc, "role"), "Field required", value))
    elif value["role"] not in ("User", "Assistant"):
        errors.append(_error("enum", (*loc, "role"), "Input should be 'User' or 'Assistant'", value["role"],
                             {"expected": "'User' or 'Assistant'"}))
    if "message" not in value:
        errors.append(_error("missing", (*loc, "message"), "Field required", value))
    else:
        _string(value["message"], (*loc, "message"), errors)


def _history(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        errors.append(_error("list_type", loc, "Input should be a valid list", value))
        return
    _list_of(_history_item)(value, loc, errors)


def _tool_config(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if not isinstance(value, dict):
        errors.append(_error("model_type", loc, "Input should be a valid dictionary or instance of ToolConfig",
                             value))
        return
    if "name" not in value:
        errors.append(_error("missing", (*loc, "name"), "Field required", value))
    else:
        _string(value["name"], (*loc, "name"), errors)
    creds, integration = value.get("tool_creds"), value.get("integration_id")
    before = len(errors)
    if creds is not None:
        _object(creds, (*loc, "tool_creds"), errors)
    if integration is not None:
        _string(integration, (*loc, "integration_id"), errors)
    if len(errors) == before and (creds is None) == (integration is None):
        errors.append(_error("value_error", loc, "Value error, Exactly one of 'tool_creds' or 'integration_id' "
                                                 "must be provided", value, {"error": {}}))


def _sub_versions(value: Any, loc: Loc, errors: list[dict[str, Any]]) -> None:
    if not isinstance(value, dict):
        errors.append(_error("dict_type", loc, "Input should be a valid dictionary", value))
        return
    for k, v in value.items():
        before = len(errors)
        _integer(v, (*loc, k), errors)
        if len(errors) == before and v < 1:
            errors.append(_error("greater_than_equal", (*loc, k), "Input should be greater than or equal to 1", v,
                                 {"ge": 1}))


@dataclass(frozen=True)
class _Field:
    name: str
    check: Check
    nullable: bool = True

    @property
    def camel(self) -> str:
        head, *rest = self.name.split("_")
        return head + "".join(w.capitalize() for w in rest)


FIELDS: Final = (
    _Field("text", _string),
    _Field("content_raw", _string),
    _Field("stream", _boolean),
    _Field("llm_model", _string),
    _Field("conversation_id", _string, nullable=False),
    _Field("history", _history, nullable=False),
    _Field("history_index", _integer),
    _Field("file_names", _list_of(_string, MAX_FILES)),
    _Field("top_k", _integer, nullable=False),
    _Field("system_prompt", _string, nullable=False),
    _Field("background_task", _boolean),
    _Field("save_history", _boolean, nullable=False),
    _Field("output_schema", _object),
    _Field("metadata", _object),
    _Field("version", _integer),
    _Field("tools_config", _list_of(_tool_config)),
    _Field("mcp_server_single_usage", _boolean),
    _Field("workflow_execution_id", _string),
    _Field("interactive_response", _anything),
    _Field("sub_assistants_versions", _sub_versions),
    _Field("disable_cache", _boolean),
    _Field("skill_ids", _list_of(_string)),
    _Field("enable_web_search", _boolean),
    _Field("enable_code_interpreter", _boolean),
    _Field("enable_image_generation", _boolean),
    _Field("image_generation_model", _string),
)


BY_KEY: Final = {**{f.camel: f for f in FIELDS}, **{f.name: f for f in FIELDS}}


@dataclass(frozen=True)
class ChatRequest:
    conversation_id: str | None = None  # None: not sent (the real server would start a new conversation)
    text: str | None = None
    stream: bool = False
    background_task: bool = False
    output_schema: dict[str, Any] | None = None
    version: int | None = None
    llm_model: str | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_chat_body(raw: bytes, content_type: str | None, *, lax_top_k: bool = False) -> ChatRequest:
    """The validated request; :class:`ValidationFailed` with pydantic-style errors otherwise."""
    if not raw:
        raise ValidationFailed([_error("missing", ("body",), "Field required", None)])
    if content_type is not None and "json" not in content_type.lower():
        body: Any = raw.decode("utf-8", "replace")
    else:
        try:
            body = json.loads(raw, parse_constant=_reject_constant)
            if b"\\ud" in raw or b"\\uD" in raw:  # a surrogate escape: it must be one half of a pair
                json_text(body).encode("utf-8")
        except (ValueError, UnicodeError) as exc:
            # pydantic's JSON parser refuses what Python's accepts beyond the standard: NaN/Infinity and lone
            # surrogate escapes are JSON decode errors (422), never an answer that cannot be encoded (500)
            position = getattr(exc, "pos", 0)
            raise ValidationFailed([_error("json_invalid", ("body", position), "JSON decode error", {},
                                           {"error": getattr(exc, "msg", str(exc))})]) from None
    if not isinstance(body, dict):
        raise ValidationFailed([_error("model_attributes_type", ("body",), "Input should be a valid dictionary or "
                                                                         "object to extract fields from", body)])
    errors: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    for key, value in body.items():
        f = BY_KEY.get(key)
        if f is None:
            continue  # unknown keys are ignored
        if lax_top_k and f.name == "top_k":
            pass
        elif value is None:
            if not f.nullable:
                f.check(value, ("body", key), errors)
        else:
            f.check(value, ("body", key), errors)
        if key == f.name or f.name not in values:  # snake_case wins over camelCase
            values[f.name] = value
    if errors:
        raise ValidationFailed(errors)
    version = values.get("version")
    return ChatRequest(
        text=values.get("text"),
        stream=values.get("stream") is True,
        conversation_id=values.get("conversation_id"),
        background_task=values.get("background_task") is True,
        output_schema=values.get("output_schema"),
        version=int(version) if version is not None else None,
        llm_model=values.get("llm_model"),
    )


@dataclass(frozen=True)
class ChatQuery:
    include_tool_errors: bool = False
    error_detail_level: str = "standard"


DEFAULT_QUERY: Final = ChatQuery()


def parse_bool(value: str, loc: Loc, errors: list[dict[str, Any]]) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word not in FALSE_WORDS:
        errors.append(_error("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input",
                             value))
    return False


def parse_int(value: str, loc: Loc, errors: list[dict[str, Any]]) -> int:
    try:
        return int(value.strip())
    except ValueError:
        errors.append(_error("int_parsing", loc, "Input should be a valid integer, unable to parse string as an "
                                                 "integer", value))
        return 0


def parse_chat_query(query: Mapping[str, str]) -> ChatQuery:
    errors: list[dict[str, Any]] = []
    include = False
    if "include_tool_errors" in query:
        include = parse_bool(query["include_tool_errors"], ("query", "include_tool_errors"), errors)
    level = query.get("error_detail_level", "standard")
    if level not in DETAIL_LEVELS:
        errors.append(_error("enum", ("query", "error_detail_level"), "Input should be 'minimal', 'standard' or "
                                                                      "'full'", level,
                             {"expected": "'minimal', 'standard' or 'full'"}))
    if errors:
        raise ValidationFailed(errors)
    return ChatQuery(include, level)
