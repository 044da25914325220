"""Typed results of the clients: frozen dataclasses parsed leniently.

Parsing never fails on unknown keys or on an optional field of an unexpected type (it becomes ``None``); the whole
decoded object stays available as ``raw`` (not shown in ``repr``), so nothing a newer server sends is lost. Only a
value the client cannot work without (a token, an id it must pass on) missing raises
:class:`~apigate.errors.ContractViolation` — checking shapes in depth is the contract suite's job.
Tokens are :class:`~apigate.redact.Secret` objects and registered for redaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

from apigate.errors import ContractViolation
from apigate.redact import Secret

__all__ = [
    "Assistant",
    "AssistantAnswer",
    "AssistantPage",
    "BasejumpUser",
    "Chat",
    "ConnectionTeams",
    "DatabaseConnection",
    "HistoryItem",
    "LLMModel",
    "Message",
    "Project",
    "Team",
    "TeamMembership",
    "Thought",
    "TokenSet",
    "User",
]


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContractViolation("expected a JSON object", expected="object", actual=type(value).__name__, where=where)
    return value


def _str(d: Mapping[str, Any], key: str) -> str | None:
    value = d.get(key)
    return value if isinstance(value, str) else None


def _req_str(d: Mapping[str, Any], key: str, where: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value:
        raise ContractViolation(f"missing '{key}'", expected=f"{key}: non-empty string", actual=value, where=where)
    return value


def _int(d: Mapping[str, Any], key: str) -> int | None:
    value = d.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(d: Mapping[str, Any], key: str) -> float | None:
    value = d.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bool(d: Mapping[str, Any], key: str) -> bool | None:
    value = d.get(key)
    return value if isinstance(value, bool) else None


def _list(d: Mapping[str, Any], key: str) -> list[Any]:
    value = d.get(key)
    return value if isinstance(value, list) else []


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


# -- tokens ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenSet:
    """Tokens issued by one grant. Times are on the auth object's clock (``time.monotonic`` by default)."""

    access_token: Secret
    expires_at: float
    issued_at: float
    refresh_token: Secret | None = None
    refresh_expires_at: float | None = None  # None: no known expiry
    token_type: str = "Bearer"
    scope: str | None = None
    id_token: Secret | None = None
    raw: Mapping[str, Any] = _raw()  # the response without its token values

    @property
    def lifetime(self) -> float:
        return self.expires_at - self.issued_at

    @classmethod
    def from_oidc(cls, body: Any, *, issued_at: float, where: str) -> TokenSet:
        d = _obj(body, where)
        access = Secret(_req_str(d, "access_token", where))
        expires_in = _num(d, "expires_in")
        if expires_in is None or expires_in <= 0:
            raise ContractViolation(
                "missing or non-positive 'expires_in'", expected="positive integer", actual=d.get("expires_in"), where=where
            )
        refresh = _str(d, "refresh_token")
        refresh_in = _num(d, "refresh_expires_in")
        id_token = _str(d, "id_token")
        return cls(
            access_token=access,
            expires_at=issued_at + expires_in,
            issued_at=issued_at,
            refresh_token=Secret(refresh) if refresh else None,
            refresh_expires_at=issued_at + refresh_in if refresh and refresh_in else None,
            token_type=_str(d, "token_type") or "Bearer",
            scope=_str(d, "scope"),
            id_token=Secret(id_token) if id_token else None,
            raw={k: v for k, v in d.items() if not k.endswith("token")},
        )


# -- CodeMie ---------------------------------------------------------------------------------------------------


class HistoryItem(TypedDict):
    """One prior turn of a chat request, as the server reads it: ``role`` is case-sensitive; ``message`` may be
    left out or null (the server reads ``""``)."""

    role: Literal["User", "Assistant"]
    message: NotRequired[str | None]



@dataclass(frozen=True)
class Thought:
    id: str | None
    message: str | None = None
    author_name: str | None = None
    author_type: str | None = None
    in_progress: bool | None = None
    parent_id: str | None = None
    children: tuple[Thought, ...] = ()
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, d: Any) -> Thought:
        if not isinstance(d, dict):
            return cls(id=None, raw={"value": d})
        return cls(
            id=_str(d, "id"),
            message=_str(d, "message"),
            author_name=_str(d, "author_name"),
            author_type=_str(d, "author_type"),
            in_progress=_bool(d, "in_progress"),
            parent_id=_str(d, "parent_id"),
            children=tuple(cls.parse(c) for c in _list(d, "children")),
            raw=d,
        )


@dataclass(frozen=True)
class AssistantAnswer:
    """A non-streamed answer. ``generated`` is text, or an object when ``output_schema`` was given."""

    generated: str | dict[str, Any] | None
    time_elapsed: float | None
    success: bool
    tokens_used: int | None = None
    thoughts: tuple[Thought, ...] = ()
    task_id: str | None = None
    agent_error: Any = None
    tool_errors: Any = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> AssistantAnswer:
        d = _obj(body, where)
        generated = d.get("generated")
        success = _bool(d, "success")
        return cls(
            generated=generated if isinstance(generated, str | dict) else None,
            time_elapsed=_num(d, "timeElapsed"),
            success=True if success is None else success,
            tokens_used=_int(d, "tokensUsed"),
            thoughts=tuple(Thought.parse(t) for t in _list(d, "thoughts")),
            task_id=_str(d, "taskId"),
            agent_error=d.get("agentError"),
            tool_errors=d.get("toolErrors"),
            raw=d,
        )


@dataclass(frozen=True)
class Assistant:
    id: str
    name: str | None = None
    slug: str | None = None
    project: str | None = None
    description: str | None = None
    llm_model_type: str | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> Assistant:
        d = _obj(body, where)
        return cls(
            id=_req_str(d, "id", where),
            name=_str(d, "name"),
            slug=_str(d, "slug"),
            project=_str(d, "project"),
            description=_str(d, "description"),
            llm_model_type=_str(d, "llm_model_type"),
            raw=d,
        )


@dataclass(frozen=True)
class AssistantPage:
    items: tuple[Assistant, ...]
    page: int | None = None
    per_page: int | None = None
    total: int | None = None
    pages: int | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> AssistantPage:
        d = _obj(body, where)
        found = d.get("pagination")
        pagination: dict[str, Any] = found if isinstance(found, dict) else {}
        return cls(
            items=tuple(Assistant.parse(a, where) for a in _list(d, "data")),
            page=_int(pagination, "page"),
            per_page=_int(pagination, "per_page"),
            total=_int(pagination, "total"),
            pages=_int(pagination, "pages"),
            raw=d,
        )


@dataclass(frozen=True)
class LLMModel:
    base_name: str | None
    deployment_name: str | None = None
    label: str | None = None
    provider: str | None = None
    enabled: bool | None = None
    default: bool | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, d: Any) -> LLMModel:
        if not isinstance(d, dict):
            return cls(base_name=None, raw={"value": d})
        return cls(
            base_name=_str(d, "base_name"),
            deployment_name=_str(d, "deployment_name"),
            label=_str(d, "label"),
            provider=_str(d, "provider"),
            enabled=_bool(d, "enabled"),
            default=_bool(d, "default"),
            raw=d,
        )


@dataclass(frozen=True)
class Project:
    name: str | None
    display_name: str | None = None
    is_project_admin: bool | None = None


@dataclass(frozen=True)
class User:
    user_id: str | None
    username: str | None = None
    name: str | None = None
    email: str | None = None
    projects: tuple[Project, ...] = ()
    is_admin: bool | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> User:
        d = _obj(body, where)
        return cls(
            user_id=_str(d, "user_id"),
            username=_str(d, "username"),
            name=_str(d, "name"),
            email=_str(d, "email"),
            projects=tuple(
                Project(_str(p, "name"), _str(p, "display_name"), _bool(p, "is_project_admin"))
                for p in _list(d, "projects")
                if isinstance(p, dict)
            ),
            is_admin=_bool(d, "is_admin"),
            raw=d,
        )


# -- Basejump --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasejumpUser:
    user_uuid: str
    username: str | None = None
    role: str | None = None
    email_address: str | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> BasejumpUser:
        d = _obj(body, where)
        return cls(
            user_uuid=_req_str(d, "user_uuid", where),
            username=_str(d, "username"),
            role=_str(d, "role"),
            email_address=_str(d, "email_address"),
            raw=d,
        )


@dataclass(frozen=True)
class Team:
    team_uuid: str
    team_name: str | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> Team:
        d = _obj(body, where)
        return cls(team_uuid=_req_str(d, "team_uuid", where), team_name=_str(d, "team_name"), raw=d)


@dataclass(frozen=True)
class DatabaseConnection:
    conn_uuid: str
    db_uuid: str | None = None
    database_name_alias: str | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> DatabaseConnection:
        d = _obj(body, where)
        return cls(
            conn_uuid=_req_str(d, "conn_uuid", where),
            db_uuid=_str(d, "db_uuid"),
            database_name_alias=_str(d, "database_name_alias"),
            raw=d,
        )


@dataclass(frozen=True)
class ConnectionTeams:
    conn_uuid: str | None
    team_uuids: tuple[str, ...] = ()
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> ConnectionTeams:
        d = body if isinstance(body, dict) else {}
        return cls(
            conn_uuid=_str(d, "conn_uuid"),
            team_uuids=tuple(t for t in _list(d, "team_uuids") if isinstance(t, str)),
            raw=d if isinstance(body, dict) else {"value": body},
        )


@dataclass(frozen=True)
class TeamMembership:
    user_uuid: str | None
    team_uuid: str | None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> TeamMembership:
        d = body if isinstance(body, dict) else {}
        return cls(
            user_uuid=_str(d, "user_uuid"),
            team_uuid=_str(d, "team_uuid"),
            raw=d if isinstance(body, dict) else {"value": body},
        )


@dataclass(frozen=True)
class Chat:
    chat_uuid: str
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def parse(cls, body: Any, where: str) -> Chat:
        d = _obj(body, where)
        return cls(chat_uuid=_req_str(d, "chat_uuid", where), raw=d)


@dataclass(frozen=True)
class Message:
    """A Basejump chat message. Agent failures are ordinary messages with ``msg_type == "error"``."""

    content: str | None
    msg_type: str | None = None
    role: str | None = None
    timestamp: str | None = None
    msg_uuid: str | None = None
    result_uuid: str | None = None
    sql_query: str | None = None
    result_type: str | None = None
    raw: Mapping[str, Any] = _raw()

    @property
    def is_error(self) -> bool:
        return self.msg_type == "error"

    @classmethod
    def parse(cls, body: Any, where: str) -> Message:
        d = _obj(body, where)
        return cls(
            content=_str(d, "content"),
            msg_type=_str(d, "msg_type"),
            role=_str(d, "role"),
            timestamp=_str(d, "timestamp"),
            msg_uuid=_str(d, "msg_uuid"),
            result_uuid=_str(d, "result_uuid"),
            sql_query=_str(d, "sql_query"),
            result_type=_str(d, "result_type"),
            raw=d,
        )
