"""Request validation of the embedded Basejump, answering FastAPI's 422 list shape.

Every check collects errors ``{"type", "loc", "msg"[, "input"][, "ctx"]}`` like pydantic v2 behind FastAPI, so one
request reports all its problems at once. Types are strict (an integer port is an integer, not ``"5432"``, and
``true`` is not an integer): the pinned contract is strict there, and a mock that coerced would accept requests the
contract calls invalid. Error ``input`` values are left out where they could carry a password.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "ABSENT",
    "DATABASE_TYPES",
    "ROLES",
    "SSL_MODES",
    "Errors",
    "Invalid",
    "parse_json_body",
]

ROLES: Final = ("OWNER", "ADMIN", "MEMBER", "SERVICE_MEMBER", "SUB_MEMBER")
DATABASE_TYPES: Final = ("postgres", "mysql", "redshift", "sql_server", "snowflake", "athena")
SSL_MODES: Final = ("require", "verify-ca", "verify-full")
VERIFY_MODES: Final = frozenset({"verify-ca", "verify-full"})
_MISSING: Final = object()
ABSENT: Final = object()  # no request body at all (unlike a JSON ``null``)
# what pydantic's datetime parser reads from a string: YYYY-MM-DD, optionally [T ]HH:MM[:SS[.f]] and an offset
_DATETIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?")

Loc = tuple[str | int, ...]


class Invalid(Exception):
    """The request failed validation; ``errors`` is FastAPI's ``detail`` list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


def _expected(options: Sequence[str]) -> str:
    quoted = [f"'{o}'" for o in options]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


class Errors:
    """Collects validation errors; :meth:`raise_if_any` raises :class:`Invalid`."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, kind: str, loc: Loc, msg: str, value: Any = _MISSING, ctx: Mapping[str, Any] | None = None) -> None:
        item: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg}
        if value is not _MISSING:
            item["input"] = value
        if ctx is not None:
            item["ctx"] = dict(ctx)
        self.items.append(item)

    def raise_if_any(self) -> None:
        if self.items:
            raise Invalid(self.items)

    # ---- scalar checks (each returns the accepted value, or None after recording an error) -------------------
    def missing(self, loc: Loc) -> None:
        self.add("missing", loc, "Field required", None)

    def string(self, value: Any, loc: Loc, *, min_length: int = 0, secret: bool = False) -> str | None:
        shown = _MISSING if secret else value
        if not isinstance(value, str):
            self.add("string_type", loc, "Input should be a valid string", shown)
            return None
        if len(value) < min_length:
            self.add("string_too_short", loc, f"String should have at least {min_length} character"
                     f"{'' if min_length == 1 else 's'}", shown, {"min_length": min_length})
            return None
        return value

    def enum(self, value: Any, loc: Loc, options: Sequence[str]) -> str | None:
        if isinstance(value, str) and value in options:
            return value
        expected = _expected(options)
        self.add("enum", loc, f"Input should be {expected}", value, {"expected": expected})
        return None

    def uuid(self, value: Any, loc: Loc) -> str | None:
        """A UUID in any form ``uuid.UUID`` reads (as FastAPI), returned lower-case and hyphenated."""
        if not isinstance(value, str):
            self.add("uuid_type", loc, "UUID input should be a string, bytes or UUID object", value)
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError as exc:
            self.add("uuid_parsing", loc, f"Input should be a valid UUID, {exc}", value, {"error": str(exc)})
            return None

    def integer(self, value: Any, loc: Loc) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add("int_type", loc, "Input should be a valid integer", value)
            return None
        return value

    def boolean(self, value: Any, loc: Loc) -> bool | None:
        if not isinstance(value, bool):
            self.add("bool_type", loc, "Input should be a valid boolean", value)
            return None
        return value

    def obj(self, value: Any, loc: Loc) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add("dict_type", loc, "Input should be a valid dictionary", value)
            return None
        return value

    def array(self, value: Any, loc: Loc) -> list[Any] | None:
        if not isinstance(value, list):
            self.add("list_type", loc, "Input should be a valid list", value)
            return None
        return value

    def datetime(self, value: Any, loc: Loc) -> str | None:
        """A datetime string in the forms pydantic reads (a date, or a date and time, with or without an offset),
        returned as the server would answer it: RFC 3339 in UTC (``...Z``; a value without an offset is UTC). A
        moment UTC cannot hold (``0001-01-01T00:04:00+04:00`` is in year 0 there) keeps its own offset."""
        if isinstance(value, str) and _DATETIME.fullmatch(value):
            try:
                moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                try:
                    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
                except OverflowError:
                    return moment.isoformat()
        self.add("datetime_from_date_parsing" if isinstance(value, str) else "datetime_type", loc,
                 "Input should be a valid datetime", value)
        return None

    def model(self, value: Any, loc: Loc) -> dict[str, Any] | None:
        """A JSON object where a pydantic model is expected."""
        if not isinstance(value, dict):
            shown = _MISSING if len(loc) == 1 else value  # a whole body may carry a password
            self.add("model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields "
                     "from", shown)
            return None
        return value


def parse_json_body(raw: bytes, content_type: str, errors: Errors, *, required: bool) -> Any:
    """The decoded JSON body; :data:`ABSENT` when there is none (an error when it is ``required``)."""
    if not raw:
        if required:
            errors.missing(("body",))
        return ABSENT
    media = content_type.split(";", 1)[0].strip().lower()
    if media and not (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
        # FastAPI hands a non-JSON body to the model as bytes, which is not an object
        errors.model(raw.decode("utf-8", "replace"), ("body",))
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        position = getattr(exc, "pos", 0)
        reason = getattr(exc, "msg", "invalid UTF-8")
        errors.add("json_invalid", ("body", position), "JSON decode error", {}, {"error": reason})
        return None


# ---- bodies ------------------------------------------------------------------------------------------------

_LAX_TRUE: Final = frozenset({"true", "1", "yes", "on", "t", "y"})
_LAX_FALSE: Final = frozenset({"false", "0", "no", "off", "f", "n"})


def _lax_int(value: Any) -> Any:
    """pydantic's lax int: a numeric string is read as its integer."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return value


def _lax_bool(value: Any) -> Any:
    """pydantic's lax bool: 0/1 and the usual spellings."""
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _LAX_TRUE | _LAX_FALSE:
        return value.strip().lower() in _LAX_TRUE
    return value


def database_connection(body: Any, errors: Errors, *, allow_mssql: bool = False,
                        lax: bool = False) -> dict[str, Any] | None:
    """``POST /connection/database/``: the fields of the core's ``DBConnSchema`` and its two cross-field rules.
    ``lax``: ``port`` and ``include_default_schema`` are coerced as pydantic's lax mode does."""
    if body is ABSENT:
        return None
    data = errors.model(body, ("body",))
    if data is None:
        return None
    before = len(errors.items)
    out: dict[str, Any] = {}

    def req(name: str) -> Any:
        if name not in data:
            errors.missing(("body", name))
            return _MISSING
        return data[name]

    value = req("database_type")
    if value is not _MISSING:
        accepted = allow_mssql and value == "mssql"  # contract break basejump.connection.bad_enum_ok
        out["database_type"] = value if accepted else errors.enum(value, ("body", "database_type"), DATABASE_TYPES)
    for name in ("host", "database_name", "username", "password", "data_source_desc", "database_desc"):
        value = req(name)
        if value is not _MISSING:
            out[name] = errors.string(value, ("body", name), secret=name == "password")
    port = _lax_int(data.get("port")) if lax else data.get("port")
    out["port"] = None if port is None else errors.integer(port, ("body", "port"))
    schemas: list[dict[str, Any]] = []
    raw_schemas = errors.array(data.get("schemas", []), ("body", "schemas"))
    for i, item in enumerate(raw_schemas or []):
        schema = errors.model(item, ("body", "schemas", i))
        if schema is None:
            continue
        if "schema_nm" not in schema:
            errors.missing(("body", "schemas", i, "schema_nm"))
            continue
        schema_nm = errors.string(schema["schema_nm"], ("body", "schemas", i, "schema_nm"))
        jinja = schema.get("jinja_values")
        if jinja is not None and errors.obj(jinja, ("body", "schemas", i, "jinja_values")) is not None:
            for key, val in jinja.items():
                errors.string(val, ("body", "schemas", i, "jinja_values", key))
        if schema_nm is not None:
            schemas.append({"schema_nm": schema_nm, "jinja_values": jinja})
    out["schemas"] = schemas
    include_value = data.get("include_default_schema", True)
    include = errors.boolean(_lax_bool(include_value) if lax else include_value, ("body", "include_default_schema"))
    out["include_default_schema"] = include
    ssl_mode = errors.enum(data.get("ssl_mode", "require"), ("body", "ssl_mode"), SSL_MODES)
    cert = data.get("ssl_root_cert")
    if cert is not None:
        cert = errors.string(cert, ("body", "ssl_root_cert"))
    query = data.get("query")
    if query is not None:
        errors.obj(query, ("body", "query"))
    out.update(ssl_mode=ssl_mode, ssl_root_cert=cert, query=query)
    if len(errors.items) > before:
        return None
    # the model validators run once the fields are valid (pydantic's "after" validators)
    if include is False and not schemas:
        errors.add("value_error", ("body",), "Value error, include_default_schema must be true when no schemas "
                   "are given", ctx={"error": "include_default_schema must be true when no schemas are given"})
    if ssl_mode in VERIFY_MODES and not cert:
        errors.add("value_error", ("body",), f"Value error, ssl_root_cert is required when ssl_mode is {ssl_mode}",
                   ctx={"error": f"ssl_root_cert is required when ssl_mode is {ssl_mode}"})
    return None if len(errors.items) > before else out


def team_uuids(body: Any, errors: Errors) -> list[str] | None:
    """``POST /connection/{conn_uuid}/team/``: ``{"team_uuids": [uuid, ...]}``."""
    if body is ABSENT:
        return None
    data = errors.model(body, ("body",))
    if data is None:
        return None
    if "team_uuids" not in data:
        errors.missing(("body", "team_uuids"))
        return None
    items = errors.array(data["team_uuids"], ("body", "team_uuids"))
    if items is None:
        return None
    parsed = [errors.uuid(v, ("body", "team_uuids", i)) for i, v in enumerate(items)]
    return None if any(p is None for p in parsed) else [p for p in parsed if p is not None]


def chat_history(body: Any, errors: Errors, *, any_items: bool = False) -> list[Any] | None:
    """``POST /chat/team/{team_uuid}/``'s optional ``{"messages": [{role?, content?}, ...]}`` (not ``null``);
    ``any_items``: the items are not checked at all."""
    if body is ABSENT:
        return []
    data = errors.model(body, ("body",))
    if data is None:
        return None
    if "messages" not in data:
        return []
    items = errors.array(data["messages"], ("body", "messages"))  # not nullable (the contract's list)
    if items is None or any_items:
        return items
    out: list[Any] = []
    for i, item in enumerate(items):
        message = errors.obj(item, ("body", "messages", i))
        if message is None:
            continue
        for key in ("role", "content"):
            if key in message:
                errors.string(message[key], ("body", "messages", i, key))
        out.append(message)
    return out


def chat_prompt(body: Any, errors: Errors, *, empty_timestamp_is_none: bool = False) -> tuple[str, str | None] | None:
    """``POST /chat/{chat_uuid}/message/``: the core's ``ChatPrompt`` ``{prompt, timestamp?}``;
    ``empty_timestamp_is_none``: ``"timestamp": ""`` is read as no timestamp."""
    if body is ABSENT:
        return None
    data = errors.model(body, ("body",))
    if data is None:
        return None
    prompt: str | None = None
    if "prompt" not in data:
        errors.missing(("body", "prompt"))
    else:
        prompt = errors.string(data["prompt"], ("body", "prompt"))
    stamp = data.get("timestamp")
    if empty_timestamp_is_none and stamp == "":
        stamp = None
    if stamp is not None:
        stamp = errors.datetime(stamp, ("body", "timestamp"))
    if prompt is None:
        return None
    return prompt, stamp
