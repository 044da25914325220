"""The embedded Basejump, in-process: every quickstart step, tokens, roles, membership, 404/422s, every break."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from apigate.config import DEMO
from apigate.mocks import _basejump_state, _common
from apigate.mocks.basejump import HIGHER_ACCESS, create_app
from apigate.mocks.settings import BREAKS, MockSettings

from ._asgi import ASGIClient

BASE = "/api/v1"
KEYS = {"OWNER": DEMO.basejump_owner_key, "ADMIN": DEMO.basejump_admin_key, "MEMBER": DEMO.basejump_member_key}
ROLES = ("OWNER", "ADMIN", "MEMBER", "SERVICE_MEMBER", "SUB_MEMBER")
UNKNOWN = "0b9a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
CONNECTION = {
    "database_type": "postgres",
    "host": "db.example.com",
    "port": 5432,
    "database_name": "hr",
    "username": "reader",
    "password": "db-pass",
    "schemas": [{"schema_nm": "public"}],
    "include_default_schema": True,
    "ssl_mode": "require",
    "data_source_desc": "HR database",
    "database_desc": "Employees, departments and salaries",
}
MESSAGE_KEYS = {
    "role", "msg_type", "content", "timestamp", "msg_uuid", "result_uuid", "sql_query", "result_type",
    "visual_result_uuid", "visual_json", "visual_explanation", "saved_result_uuid", "prompt_uuid", "initial_prompt",
    "prompt_time", "parent_msg_uuid", "verified", "verified_user_role", "verified_user_uuid", "can_verify",
    "thumbs_up",
}
MSG_TYPES = {"response", "error", "thought", "status", "solution", "initial"}


def make(**values: Any) -> ASGIClient:
    settings = MockSettings(**{"basejump_message_latency_ms": 0.0, **values})
    return ASGIClient(Starlette(routes=[Mount(BASE, app=create_app(settings))]))


@pytest.fixture
def bj() -> ASGIClient:
    return make()


def key(role: str = "OWNER") -> dict[str, str]:
    return {"client-secret": KEYS[role]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and str(uuid.UUID(value)) == value


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def detail(r: httpx.Response, status: int) -> Any:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"detail"}, body
    return body["detail"]


def validation(r: httpx.Response) -> list[dict[str, Any]]:
    errors = detail(r, 422)
    assert isinstance(errors, list) and errors
    for item in errors:
        assert {"loc", "msg", "type"} <= set(item) and isinstance(item["loc"], list)
    return errors


@dataclass
class Session:
    """A user with tokens, ready for the Bearer steps."""

    bj: ASGIClient
    user_uuid: str
    refresh: str
    access: str

    def post(self, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.bj.post(BASE + path, headers={**bearer(self.access), **(headers or {})}, **kwargs)


def user(bj: ASGIClient, role: str = "ADMIN", creator: str = "OWNER") -> Session:
    created = ok(bj.post(f"{BASE}/account/user/", params={"username": f"u-{uuid.uuid4().hex[:6]}", "role": role},
                         headers=key(creator)))
    refresh = ok(bj.post(f"{BASE}/auth/token/", params={"user_uuid": created["user_uuid"]}, headers=key(creator)))
    access = ok(bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": created["user_uuid"]},
                        headers=bearer(refresh["refresh_token"])))
    return Session(bj, created["user_uuid"], refresh["refresh_token"], access["access_token"])


def chat_ready(s: Session, connection: dict[str, Any] | None = None) -> str:
    """Team + connection + membership + chat; the chat's uuid."""
    team = ok(s.post("/account/team/", params={"team_name": "analysts"}))["team_uuid"]
    if connection is not None:
        conn = ok(s.post("/connection/database/", json=connection))["conn_uuid"]
        ok(s.post(f"/connection/{conn}/team/", json={"team_uuids": [team]}))
    ok(s.post(f"/account/user/{s.user_uuid}/team/{team}/"))
    chat: str = ok(s.post(f"/chat/team/{team}/"))["chat_uuid"]
    return chat


# ---- the quickstart ---------------------------------------------------------------------------------------------

def test_every_quickstart_step(bj: ASGIClient) -> None:
    created = ok(bj.post(f"{BASE}/account/user/", params={"username": "new_user", "role": "ADMIN",
                                                         "email": "new@example.com"}, headers=key()))
    assert created == {"user_uuid": created["user_uuid"], "username": "new_user", "role": "ADMIN",
                       "email_address": "new@example.com"}
    assert is_uuid(created["user_uuid"])
    uid = created["user_uuid"]
    refresh = ok(bj.post(f"{BASE}/auth/token/", params={"user_uuid": uid}, headers=key()))["refresh_token"]
    access = ok(bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": uid}, headers=bearer(refresh)))
    dashed = ok(bj.post(f"{BASE}/auth/access-token/", params={"user_uuid": uid}, headers=bearer(refresh)))
    assert set(access) == set(dashed) == {"access_token"} and access != dashed
    s = Session(bj, uid, refresh, access["access_token"])
    team = ok(s.post("/account/team/", params={"team_name": "analysts", "team_desc": "HR analysts"}))
    assert team == {"team_uuid": team["team_uuid"], "team_name": "analysts", "team_desc": "HR analysts"}
    conn = ok(s.post("/connection/database/", json=CONNECTION))
    assert set(conn) == {"conn_uuid", "db_uuid", "database_name_alias"}
    assert is_uuid(conn["conn_uuid"]) and is_uuid(conn["db_uuid"]) and conn["conn_uuid"] != conn["db_uuid"]
    tid = team["team_uuid"]
    assert ok(s.post(f"/connection/{conn['conn_uuid']}/team/", json={"team_uuids": [tid]})) == {
        "conn_uuid": conn["conn_uuid"], "team_uuids": [tid]}
    assert ok(s.post(f"/account/user/{uid}/team/{tid}/")) == {"user_uuid": uid, "team_uuid": tid}
    chat = ok(s.post(f"/chat/team/{tid}/"))
    assert set(chat) == {"chat_uuid"} and is_uuid(chat["chat_uuid"])
    message = ok(s.post(f"/chat/{chat['chat_uuid']}/message/", json={"prompt": "How many employees are there?"}))
    assert set(message) == MESSAGE_KEYS
    assert message["msg_type"] == "response" and message["result_type"] == "metric"
    assert message["sql_query"] == 'SELECT COUNT(*) AS employees_count FROM "public"."employees";'
    assert "employees" in message["content"] and message["initial_prompt"] == "How many employees are there?"
    stamp = datetime.fromisoformat(message["timestamp"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert abs(stamp.timestamp() - time.time()) < 60
    for name in ("msg_uuid", "result_uuid", "prompt_uuid", "parent_msg_uuid"):
        assert is_uuid(message[name])
    assert message["verified"] is False and message["can_verify"] is True


def test_messages_are_deterministic_and_chained(bj: ASGIClient) -> None:
    s = user(bj)
    chat = chat_ready(s, CONNECTION)
    first = ok(s.post(f"/chat/{chat}/message/", json={"prompt": "How many employees are there?"}))
    again = ok(s.post(f"/chat/{chat}/message/", json={"prompt": "How many employees are there?",
                                                        "timestamp": "2025-04-10T12:00:00Z"}))
    assert first["content"] == again["content"] and first["sql_query"] == again["sql_query"]
    assert again["parent_msg_uuid"] == first["msg_uuid"] and again["prompt_time"] == "2025-04-10T12:00:00Z"
    listing = ok(s.post(f"/chat/{chat}/message/", json={"prompt": "Show salaries by department"}))
    assert listing["result_type"] == "dataset" and listing["sql_query"].endswith("LIMIT 100;")
    assert ok(s.post(f"/chat/team/{_team_of(bj, chat)}/", json={"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}))["chat_uuid"]


def _team_of(bj: ASGIClient, chat: str) -> str:
    app = bj.app
    assert isinstance(app, Starlette)
    mounted = app.routes[0].app  # type: ignore[attr-defined]
    team: str = mounted.state.basejump.state.chats[chat].team_uuid
    return team


def test_message_latency_is_honoured() -> None:
    bj = make(basejump_message_latency_ms=60.0)
    s = user(bj)
    chat = chat_ready(s, CONNECTION)
    t0 = time.perf_counter()
    ok(s.post(f"/chat/{chat}/message/", json={"prompt": "How many teams?"}))
    assert time.perf_counter() - t0 >= 0.06


@pytest.mark.parametrize(("connection", "reason"), [
    (None, "no database connection"),
    ({**CONNECTION, "database_name": "indexing_hr"}, "still being indexed"),
])
def test_agent_failures_are_error_messages(bj: ASGIClient, connection: dict[str, Any] | None, reason: str) -> None:
    s = user(bj)
    message = ok(s.post(f"/chat/{chat_ready(s, connection)}/message/", json={"prompt": "How many employees?"}))
    assert set(message) == MESSAGE_KEYS
    assert message["msg_type"] == "error" and reason in message["content"]
    assert message["sql_query"] is None and message["result_uuid"] is None


def test_message_keys_are_bounded_per_chat(bj: ASGIClient) -> None:
    s = user(bj)
    chat = chat_ready(s, CONNECTION)
    for _ in range(_basejump_state.MAX_MESSAGES + 3):
        ok(s.post(f"/chat/{chat}/message/", json={"prompt": "How many employees?"}))
    app = bj.app
    assert isinstance(app, Starlette)
    stored = app.routes[0].app.state.basejump.state.chats[chat].messages  # type: ignore[attr-defined]
    assert len(stored) == _basejump_state.MAX_MESSAGES


def test_bounded_store_forgets_the_oldest() -> None:
    store: _basejump_state.Bounded[str, int] = _basejump_state.Bounded(limit=3)
    for i in range(5):
        store.add(str(i), i)
    assert list(store) == ["2", "3", "4"]
    store.add("3", 30)
    assert list(store) == ["2", "3", "4"] and store["3"] == 30


# ---- credentials ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"client-secret": ""}, {"client-secret": "not-a-key"},
                                     {"Authorization": f"Bearer {DEMO.basejump_owner_key}"}])
def test_api_key_endpoints_need_a_valid_key(bj: ASGIClient, headers: dict[str, str]) -> None:
    s = user(bj)
    for path, params in (("/account/user/", {"username": "x", "role": "MEMBER"}),
                         ("/auth/token/", {"user_uuid": s.user_uuid})):
        detail(bj.post(BASE + path, params=params, headers=headers), 401)


def test_credentials_are_checked_before_validation(bj: ASGIClient) -> None:
    assert detail(bj.post(f"{BASE}/account/user/"), 401) == "Not authenticated"
    assert detail(bj.post(f"{BASE}/connection/database/", json={}), 401) == "Not authenticated"
    assert detail(bj.post(f"{BASE}/chat/not-a-uuid/message/"), 401) == "Not authenticated"


BEARER_STEPS = [
    ("/account/team/", {"params": {"team_name": "t"}}),
    ("/connection/database/", {"json": CONNECTION}),
    (f"/connection/{UNKNOWN}/team/", {"json": {"team_uuids": []}}),
    (f"/account/user/{UNKNOWN}/team/{UNKNOWN}/", {}),
    (f"/chat/team/{UNKNOWN}/", {}),
    (f"/chat/{UNKNOWN}/message/", {"json": {"prompt": "hi"}}),
]


@pytest.mark.parametrize(("path", "kwargs"), BEARER_STEPS)
@pytest.mark.parametrize("header", ["", "Bearer", "Bearer garbage", "Basic ZGVtbzpkZW1v", "Bearer a.b.c"])
def test_bearer_endpoints_reject_missing_or_invalid_tokens(bj: ASGIClient, path: str, kwargs: dict[str, Any],
                                                           header: str) -> None:
    headers = {"Authorization": header} if header else {}
    r = bj.post(BASE + path, headers=headers, **kwargs)
    detail(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("path", "kwargs"), BEARER_STEPS)
def test_a_refresh_token_is_not_an_access_token(bj: ASGIClient, path: str, kwargs: dict[str, Any]) -> None:
    s = user(bj)
    assert "access token" in detail(bj.post(BASE + path, headers=bearer(s.refresh), **kwargs), 401)


@pytest.mark.parametrize("path", ["/auth/access_token/", "/auth/access-token/"])
def test_an_access_token_is_not_a_refresh_token(bj: ASGIClient, path: str) -> None:
    s = user(bj)
    r = bj.post(BASE + path, params={"user_uuid": s.user_uuid}, headers=bearer(s.access))
    assert "refresh token" in detail(r, 401)


def test_a_token_signed_by_another_mock_is_rejected(bj: ASGIClient) -> None:
    other = user(make())
    assert detail(bj.post(f"{BASE}/account/team/", params={"team_name": "t"}, headers=bearer(other.access)),
                  401) == "Could not validate credentials"


@pytest.mark.parametrize("path", ["/auth/access_token/", "/auth/access-token/"])
def test_user_uuid_must_be_the_refresh_tokens_subject(bj: ASGIClient, path: str) -> None:
    alice, bob = user(bj), user(bj)
    r = bj.post(BASE + path, params={"user_uuid": bob.user_uuid}, headers=bearer(alice.refresh))
    assert "does not match" in detail(r, 401)
    r = bj.post(BASE + path, params={"user_uuid": UNKNOWN}, headers=bearer(alice.refresh))
    detail(r, 401)


def test_access_tokens_expire_after_their_lifetime(bj: ASGIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    s = user(bj)
    now = time.time()
    team = {"params": {"team_name": "t"}}
    monkeypatch.setattr(_basejump_state, "_now", lambda: now + 899)
    ok(s.post("/account/team/", **team))  # verified and cached: expiry is still checked per request
    monkeypatch.setattr(_basejump_state, "_now", lambda: now + 901)
    assert detail(s.post("/account/team/", **team), 401) == "Token has expired"
    fresh = ok(bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": s.user_uuid},
                       headers=bearer(s.refresh)))["access_token"]
    ok(bj.post(f"{BASE}/account/team/", headers=bearer(fresh), **team))
    monkeypatch.setattr(_basejump_state, "_now", lambda: now + 90 * 24 * 3600 + 1)
    r = bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": s.user_uuid}, headers=bearer(s.refresh))
    assert detail(r, 401) == "Token has expired"


def test_access_lifetime_comes_from_the_settings() -> None:
    bj = make(basejump_access_lifetime_s=0)
    s = user(bj)
    assert detail(s.post("/account/team/", params={"team_name": "t"}), 401) == "Token has expired"


# ---- roles and membership ---------------------------------------------------------------------------------------

ALLOWED = {"OWNER": {"ADMIN", "MEMBER", "SERVICE_MEMBER", "SUB_MEMBER"},
           "ADMIN": {"MEMBER", "SERVICE_MEMBER", "SUB_MEMBER"},
           "MEMBER": set()}


@pytest.mark.parametrize("creator", ["OWNER", "ADMIN", "MEMBER"])
@pytest.mark.parametrize("role", ROLES)
def test_role_hierarchy(bj: ASGIClient, creator: str, role: str) -> None:
    r = bj.post(f"{BASE}/account/user/", params={"username": "someone", "role": role}, headers=key(creator))
    if role in ALLOWED[creator]:
        assert ok(r)["role"] == role
    else:
        assert detail(r, 403) == HIGHER_ACCESS


def test_a_chat_needs_team_membership(bj: ASGIClient) -> None:
    s = user(bj)
    team = ok(s.post("/account/team/", params={"team_name": "t"}))["team_uuid"]
    assert detail(s.post(f"/chat/team/{team}/"), 403) == "User is not a member of this team"
    ok(s.post(f"/account/user/{s.user_uuid}/team/{team}/"))
    chat = ok(s.post(f"/chat/team/{team}/"))["chat_uuid"]
    outsider = user(bj, "MEMBER")
    detail(outsider.post(f"/chat/{chat}/message/", json={"prompt": "hi"}), 403)
    ok(s.post(f"/account/user/{outsider.user_uuid}/team/{team}/"))
    ok(outsider.post(f"/chat/{chat}/message/", json={"prompt": "hi"}))


# ---- unknown ids, malformed ids, routing ------------------------------------------------------------------------

def test_unknown_uuids_are_404(bj: ASGIClient) -> None:
    s = user(bj)
    team = ok(s.post("/account/team/", params={"team_name": "t"}))["team_uuid"]
    conn = ok(s.post("/connection/database/", json=CONNECTION))["conn_uuid"]
    assert detail(bj.post(f"{BASE}/auth/token/", params={"user_uuid": UNKNOWN}, headers=key()), 404) == \
        "User not found"
    detail(s.post(f"/connection/{UNKNOWN}/team/", json={"team_uuids": [team]}), 404)
    detail(s.post(f"/connection/{conn}/team/", json={"team_uuids": [team, UNKNOWN]}), 404)
    detail(s.post(f"/account/user/{UNKNOWN}/team/{team}/"), 404)
    detail(s.post(f"/account/user/{s.user_uuid}/team/{UNKNOWN}/"), 404)
    detail(s.post(f"/chat/team/{UNKNOWN}/"), 404)
    detail(s.post(f"/chat/{UNKNOWN}/message/", json={"prompt": "hi"}), 404)


def test_malformed_uuids_are_422(bj: ASGIClient) -> None:
    s = user(bj)
    errors = validation(bj.post(f"{BASE}/auth/token/", params={"user_uuid": "nope"}, headers=key()))
    assert errors[0]["loc"] == ["query", "user_uuid"] and errors[0]["type"] == "uuid_parsing"
    errors = validation(s.post("/account/user/nope/team/also-nope/"))
    assert [e["loc"] for e in errors] == [["path", "user_uuid"], ["path", "team_uuid"]]
    assert validation(s.post("/chat/team/x/"))[0]["loc"] == ["path", "team_uuid"]
    assert validation(s.post("/chat/x/message/", json={"prompt": "hi"}))[0]["loc"] == ["path", "chat_uuid"]
    errors = validation(s.post(f"/connection/{UNKNOWN}/team/", json={"team_uuids": ["x"]}))
    assert errors[0]["loc"] == ["body", "team_uuids", 0]
    # uuid.UUID's other spellings are accepted and answered in the canonical form
    upper = s.user_uuid.upper()
    r = bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": upper}, headers=bearer(s.refresh))
    ok(r)


def test_paths_need_their_trailing_slash_and_method(bj: ASGIClient) -> None:
    assert detail(bj.post(f"{BASE}/account/user", params={"username": "x", "role": "MEMBER"}, headers=key()),
                  404) == "Not Found"
    assert detail(bj.get(f"{BASE}/account/user/", headers=key()), 405) == "Method Not Allowed"


def test_serves_its_contract(bj: ASGIClient) -> None:
    r = bj.get(f"{BASE}/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["openapi"].startswith("3.") and "/account/user/" in r.json()["paths"]


def test_a_missing_contract_is_a_clear_500(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_common, "contract_path", lambda api: tmp_path / f"{api}.openapi.yaml")
    r = make().get(f"{BASE}/openapi.json")
    assert r.status_code == 500 and "basejump.openapi.yaml not found" in r.json()["detail"]


# ---- validation -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "loc", "kind"), [
    ({"role": "ADMIN"}, ["query", "username"], "missing"),
    ({"username": "", "role": "ADMIN"}, ["query", "username"], "string_too_short"),
    ({"username": "x"}, ["query", "role"], "missing"),
    ({"username": "x", "role": "admin"}, ["query", "role"], "enum"),
])
def test_create_user_validation(bj: ASGIClient, params: dict[str, str], loc: list[str], kind: str) -> None:
    errors = validation(bj.post(f"{BASE}/account/user/", params=params, headers=key()))
    assert errors[0]["loc"] == loc and errors[0]["type"] == kind


def test_create_team_validation(bj: ASGIClient) -> None:
    s = user(bj)
    assert validation(s.post("/account/team/"))[0]["loc"] == ["query", "team_name"]
    assert validation(s.post("/account/team/", params={"team_name": ""}))[0]["type"] == "string_too_short"


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in CONNECTION.items() if k != name}


@pytest.mark.parametrize(("body", "loc"), [
    ({**CONNECTION, "database_type": "mssql"}, ["body", "database_type"]),
    ({**CONNECTION, "database_type": "oracle"}, ["body", "database_type"]),
    ({**CONNECTION, "include_default_schema": False, "schemas": []}, ["body"]),
    ({**without("schemas"), "include_default_schema": False}, ["body"]),
    ({**CONNECTION, "ssl_mode": "verify-full"}, ["body"]),
    ({**CONNECTION, "ssl_mode": "verify-ca", "ssl_root_cert": None}, ["body"]),
    ({**CONNECTION, "ssl_mode": "disable"}, ["body", "ssl_mode"]),
    (without("database_desc"), ["body", "database_desc"]),
    (without("data_source_desc"), ["body", "data_source_desc"]),
    (without("host"), ["body", "host"]),
    ({**CONNECTION, "port": "5432"}, ["body", "port"]),
    ({**CONNECTION, "port": True}, ["body", "port"]),
    ({**CONNECTION, "include_default_schema": "yes"}, ["body", "include_default_schema"]),
    ({**CONNECTION, "schemas": [{"jinja_values": None}]}, ["body", "schemas", 0, "schema_nm"]),
    ({**CONNECTION, "schemas": "public"}, ["body", "schemas"]),
    ({**CONNECTION, "query": "sslmode=require"}, ["body", "query"]),
    ({**CONNECTION, "password": 1234}, ["body", "password"]),
    ([CONNECTION], ["body"]),
])
def test_connection_validation(bj: ASGIClient, body: Any, loc: list[Any]) -> None:
    s = user(bj)
    errors = validation(s.post("/connection/database/", json=body))
    assert errors[0]["loc"] == loc, errors
    assert "db-pass" not in json.dumps(errors)


@pytest.mark.parametrize("body", [
    {**without("port")},
    {**CONNECTION, "port": None, "query": None, "ssl_root_cert": None},
    {**CONNECTION, "schemas": [{"schema_nm": "geo{{region}}", "jinja_values": {"region": "eu"}}],
     "include_default_schema": False},
    {**CONNECTION, "schemas": [{"schema_nm": "public", "jinja_values": None}]},
    {**without("schemas"), **{"include_default_schema": True}},
    {**without("include_default_schema"), "schemas": []},
    {**CONNECTION, "ssl_mode": "verify-full", "ssl_root_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n"},
    {**CONNECTION, "database_type": "sql_server", "query": {"driver": "ODBC Driver 18"}},
    {**without("ssl_mode"), "database_type": "mysql"},
])
def test_valid_connections(bj: ASGIClient, body: dict[str, Any]) -> None:
    s = user(bj)
    ok(s.post("/connection/database/", json=body))


def test_connection_body_errors(bj: ASGIClient) -> None:
    s = user(bj)
    assert validation(s.post("/connection/database/"))[0] == {"type": "missing", "loc": ["body"],
                                                               "msg": "Field required", "input": None}
    errors = validation(s.post("/connection/database/", content=b"{nope",
                               headers={"Content-Type": "application/json"}))
    assert errors[0]["type"] == "json_invalid"
    errors = validation(s.post("/connection/database/", content=b"a=b", headers={"Content-Type": "text/plain"}))
    assert errors[0]["type"] == "model_attributes_type"
    errors = validation(s.post("/connection/database/", json={}))
    assert {e["loc"][1] for e in errors} >= {"database_type", "host", "database_name", "username", "password",
                                             "data_source_desc", "database_desc"}


@pytest.mark.parametrize("change", [{"password": "wrong"}, {"host": "db.unreachable.invalid"}])
def test_failed_connection_test_is_400(bj: ASGIClient, change: dict[str, str]) -> None:
    s = user(bj)
    assert detail(s.post("/connection/database/", json={**CONNECTION, **change}), 400) == \
        "Database credentials are incorrect"


def test_chat_validation(bj: ASGIClient) -> None:
    s = user(bj)
    chat = chat_ready(s, CONNECTION)
    assert validation(s.post(f"/chat/{chat}/message/"))[0]["loc"] == ["body"]
    assert validation(s.post(f"/chat/{chat}/message/", json={}))[0]["loc"] == ["body", "prompt"]
    assert validation(s.post(f"/chat/{chat}/message/", json={"prompt": 7}))[0]["type"] == "string_type"
    assert validation(s.post(f"/chat/{chat}/message/", json={"prompt": "hi", "timestamp": "yesterday"}))[0][
        "loc"] == ["body", "timestamp"]
    team = _team_of(bj, chat)
    assert validation(s.post(f"/chat/team/{team}/", json={"messages": "hi"}))[0]["loc"] == ["body", "messages"]
    assert validation(s.post(f"/chat/team/{team}/", json={"messages": None}))[0]["loc"] == ["body", "messages"]
    assert validation(s.post(f"/chat/team/{team}/", json=[]))[0]["loc"] == ["body"]
    assert validation(s.post(f"/chat/team/{team}/", content=b"null",
                             headers={"Content-Type": "application/json"}))[0]["loc"] == ["body"]
    ok(s.post(f"/chat/team/{team}/", json={}))
    validation(s.post(f"/connection/{UNKNOWN}/team/", json={}))


@pytest.mark.parametrize(("sent", "answered"), [
    ("2025-04-10T12:00:00Z", "2025-04-10T12:00:00Z"),
    ("2025-04-10", "2025-04-10T00:00:00Z"),  # pydantic reads a date as midnight
    ("2025-04-10T12:00:00", "2025-04-10T12:00:00Z"),  # no offset: UTC
    ("2025-04-10 14:00:00.5+02:00", "2025-04-10T12:00:00.500000Z"),
    ("20250410T120000", None),  # ISO basic format: pydantic refuses it
    ("0001-01-01T00:04:00+04:00", "0001-01-01T00:04:00+04:00"),  # year 0 in UTC: kept with its offset (was a 500)
])
def test_prompt_time_is_answered_as_a_datetime(bj: ASGIClient, sent: str, answered: str | None) -> None:
    """The prompt's ``timestamp`` is parsed as pydantic does and answered as a UTC RFC 3339 ``prompt_time`` (the
    contract's format), never echoed as the client wrote it."""
    s = user(bj)
    chat = chat_ready(s, CONNECTION)
    r = s.post(f"/chat/{chat}/message/", json={"prompt": "How many teams are there?", "timestamp": sent})
    if answered is None:
        assert validation(r)[0]["loc"] == ["body", "timestamp"]
    else:
        assert ok(r)["prompt_time"] == answered


# ---- contract breaks --------------------------------------------------------------------------------------------

def test_every_basejump_break_is_covered() -> None:
    assert {name for name in BREAKS if name.startswith("basejump.")} == set(BREAK_CHECKS)


def _refresh_as_access(bj: ASGIClient) -> bool:
    s = user(bj)
    return s.bj.post(f"{BASE}/account/team/", params={"team_name": "t"}, headers=bearer(s.refresh)).status_code == 200


def _access_as_refresh(bj: ASGIClient) -> bool:
    s = user(bj)
    r = bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": s.user_uuid}, headers=bearer(s.access))
    return r.status_code == 200


def _roles_not_enforced(bj: ASGIClient) -> bool:
    r = bj.post(f"{BASE}/account/user/", params={"username": "x", "role": "ADMIN"}, headers=key("MEMBER"))
    return r.status_code == 200


def _user_uuid_unchecked(bj: ASGIClient) -> bool:
    alice, bob = user(bj), user(bj)
    r = bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": bob.user_uuid}, headers=bearer(alice.refresh))
    return r.status_code == 200


def _message_bad_enum(bj: ASGIClient) -> bool:
    s = user(bj)
    return bool(ok(s.post(f"/chat/{chat_ready(s, CONNECTION)}/message/", json={"prompt": "hi"}))["msg_type"]
                not in MSG_TYPES)


def _chat_not_member_ok(bj: ASGIClient) -> bool:
    s = user(bj)
    team = ok(s.post("/account/team/", params={"team_name": "t"}))["team_uuid"]
    return s.post(f"/chat/team/{team}/").status_code == 200


def _error_envelope(bj: ASGIClient) -> bool:
    body = bj.post(f"{BASE}/account/user/").json()
    routed = bj.post(f"{BASE}/nowhere/").json()
    return "detail" not in body and "message" in body and "message" in routed


def _bad_enum_ok(bj: ASGIClient) -> bool:
    s = user(bj)
    return s.post("/connection/database/", json={**CONNECTION, "database_type": "mssql"}).status_code == 200


BREAK_CHECKS = {
    "basejump.auth.refresh_as_access": _refresh_as_access,
    "basejump.auth.access_as_refresh": _access_as_refresh,
    "basejump.roles.not_enforced": _roles_not_enforced,
    "basejump.user_uuid.unchecked": _user_uuid_unchecked,
    "basejump.message.bad_enum": _message_bad_enum,
    "basejump.chat.not_member_ok": _chat_not_member_ok,
    "basejump.error.envelope": _error_envelope,
    "basejump.connection.bad_enum_ok": _bad_enum_ok,
}


@pytest.mark.parametrize("name", sorted(BREAK_CHECKS))
def test_each_break_is_observable_and_off_by_default(name: str) -> None:
    observe = BREAK_CHECKS[name]
    assert observe(make()) is False
    assert observe(make(breaks=frozenset({name}))) is True
