from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from apigate import errors
from apigate.clients import BasejumpAuth, BasejumpClient, DatabaseSpec
from apigate.config import mock_target
from apigate.redact import Secret

from ._support import CLASSES, RETRIED, STATUSES, Clock, Sleeper, assert_no_secret

BASE = "https://basejump.test/api/v1"
API_KEY = "bj-owner-key-s3cret"
DB_PASSWORD = "db-pa55word-s3cret"
USER = "9a1f6c0e-2b7d-4c1e-8f3a-0d5b6e7f8a9b"
TEAM = "1b2c3d4e-0000-4000-8000-000000000001"
CONN = "1b2c3d4e-0000-4000-8000-000000000002"
CHAT = "1b2c3d4e-0000-4000-8000-000000000003"
SPEC = DatabaseSpec(
    database_type="postgres",
    host="db.example.com",
    port=5432,
    database_name="hr",
    username="reader",
    password=Secret(DB_PASSWORD),
    schemas=[{"schema_nm": "public"}],
    data_source_desc="HR data",
    database_desc="employees",
)
MESSAGE = {
    "role": "assistant",
    "msg_type": "response",
    "content": "There are 42 employees.",
    "timestamp": "2026-01-01T00:00:00Z",
    "msg_uuid": "m-1",
    "sql_query": "select count(*) from employees",
    "result_type": "metric",
    "thumbs_up": None,
}


def counting(key: str, prefix: str, **extra: Any) -> Callable[[httpx.Request], httpx.Response]:
    n = 0

    def issue(request: httpx.Request) -> httpx.Response:
        nonlocal n
        n += 1
        return httpx.Response(200, json={key: f"{prefix}-{n:03d}-token", **extra})

    return issue


def token_routes(router: respx.MockRouter, **access_extra: Any) -> tuple[respx.Route, respx.Route]:
    refresh = router.post(f"{BASE}/auth/token/").mock(side_effect=counting("refresh_token", "bj-refresh"))
    access = router.post(f"{BASE}/auth/access_token/").mock(side_effect=counting("access_token", "bj-access", **access_extra))
    return refresh, access


@pytest.fixture
def client(transport: httpx.BaseTransport, clock: Clock, sleeper: Sleeper) -> BasejumpClient:
    return BasejumpClient(BASE, API_KEY, transport=transport, clock=clock, sleep=sleeper, rng=lambda: 0.0)


# -- the token chain ---------------------------------------------------------------------------------------------


def test_token_chain_headers_and_params(router, client) -> None:
    user = router.post(f"{BASE}/account/user/").respond(json={"user_uuid": USER, "username": "new_user", "role": "ADMIN"})
    refresh, access = token_routes(router)
    created = client.create_user("new_user", "ADMIN", email="n@example.com")
    assert created.user_uuid == USER and created.role == "ADMIN"
    request = user.calls.last.request
    assert dict(request.url.params) == {"username": "new_user", "role": "ADMIN", "email": "n@example.com"}
    assert request.headers["client-secret"] == API_KEY and "authorization" not in request.headers
    rt = client.issue_refresh_token(USER)
    assert dict(refresh.calls.last.request.url.params) == {"user_uuid": USER}
    assert refresh.calls.last.request.headers["client-secret"] == API_KEY
    at = client.issue_access_token(USER, rt.access_token)
    assert access.calls.last.request.headers["authorization"] == "Bearer bj-refresh-001-token"
    assert dict(access.calls.last.request.url.params) == {"user_uuid": USER}
    assert at.access_token.reveal() == "bj-access-001-token" and at.lifetime == 900
    assert "client-secret" not in access.calls.last.request.headers


def test_user_calls_carry_the_access_token_which_is_cached(router, client) -> None:
    refresh, access = token_routes(router)
    team = router.post(f"{BASE}/account/team/").respond(json={"team_uuid": TEAM, "team_name": "t"})
    me = client.as_user(USER)
    assert me.create_team("t", team_desc="d").team_uuid == TEAM
    assert me.create_team("t2").team_uuid == TEAM
    assert refresh.call_count == 1 and access.call_count == 1
    assert [c.request.headers["authorization"] for c in team.calls] == ["Bearer bj-access-001-token"] * 2
    assert dict(team.calls[0].request.url.params) == {"team_name": "t", "team_desc": "d"}


def test_access_token_renewed_before_its_15_minutes_from_the_refresh_token(router, client, clock) -> None:
    refresh, access = token_routes(router)
    router.post(f"{BASE}/account/team/").respond(json={"team_uuid": TEAM})
    me = client.as_user(USER)
    me.create_team("a")
    clock.advance(869)  # 31 s left
    me.create_team("b")
    assert access.call_count == 1
    clock.advance(2)  # 29 s left: renewed with the same refresh token
    me.create_team("c")
    assert access.call_count == 2 and refresh.call_count == 1
    assert access.calls.last.request.headers["authorization"] == "Bearer bj-refresh-001-token"


def test_expires_in_is_honoured_when_sent(router, client, clock) -> None:
    _, access = token_routes(router, expires_in=120)
    me = client.as_user(USER)
    assert me.auth is not None
    me.auth.token()
    clock.advance(91)
    me.auth.token()
    assert access.call_count == 2


def test_a_rejected_refresh_token_is_renewed_from_the_api_key(router, client, clock) -> None:
    refresh = router.post(f"{BASE}/auth/token/").mock(side_effect=counting("refresh_token", "bj-refresh"))
    access = router.post(f"{BASE}/auth/access_token/").mock(side_effect=[
        httpx.Response(200, json={"access_token": "bj-access-001-token"}),
        httpx.Response(401, json={"detail": "Refresh token revoked"}),
        httpx.Response(200, json={"access_token": "bj-access-002-token"}),
    ])
    me = client.as_user(USER)
    assert me.auth is not None
    me.auth.token()
    clock.advance(900)
    assert me.auth.token() == "bj-access-002-token"
    assert refresh.call_count == 2
    assert [c.request.headers["authorization"] for c in access.calls] == [
        "Bearer bj-refresh-001-token", "Bearer bj-refresh-001-token", "Bearer bj-refresh-002-token",
    ]


def test_a_refresh_token_rejected_twice_is_raised(router, client) -> None:
    refresh = router.post(f"{BASE}/auth/token/").mock(side_effect=counting("refresh_token", "bj-refresh"))
    router.post(f"{BASE}/auth/access_token/").respond(401, json={"detail": "Could not validate credentials"})
    me = client.as_user(USER)
    with pytest.raises(errors.UnauthorizedError, match="Could not validate credentials") as info:
        me.create_team("t")
    assert refresh.call_count == 2
    assert_no_secret(info.value, API_KEY, "bj-refresh-001-token", "bj-refresh-002-token")


def test_a_given_refresh_token_is_used_before_the_api_key(router, client) -> None:
    access = router.post(f"{BASE}/auth/access_token/").respond(json={"access_token": "bj-access-xyz-token"})
    me = client.as_user(USER, refresh_token="bj-given-refresh-token")
    assert me.auth is not None and me.auth.token() == "bj-access-xyz-token"
    assert access.calls.last.request.headers["authorization"] == "Bearer bj-given-refresh-token"


def test_dashed_access_token_path_fallback_is_remembered(router, client, clock) -> None:
    router.post(f"{BASE}/auth/token/").mock(side_effect=counting("refresh_token", "bj-refresh"))
    underscore = router.post(f"{BASE}/auth/access_token/").respond(404, json={"detail": "Not Found"})
    dashed = router.post(f"{BASE}/auth/access-token/").mock(side_effect=counting("access_token", "bj-access"))
    me = client.as_user(USER)
    assert me.auth is not None
    assert me.auth.token() == "bj-access-001-token"
    clock.advance(900)
    assert me.auth.token() == "bj-access-002-token"
    assert underscore.call_count == 1 and dashed.call_count == 2
    assert me.auth.access_path == "/auth/access-token/"


def test_both_access_token_paths_404_is_a_not_found(router, client) -> None:
    router.post(f"{BASE}/auth/token/").mock(side_effect=counting("refresh_token", "bj-refresh"))
    router.post(f"{BASE}/auth/access_token/").respond(404, json={"detail": "Not Found"})
    dashed = router.post(f"{BASE}/auth/access-token/").respond(404, json={"detail": "User not found"})
    with pytest.raises(errors.NotFoundError, match="User not found"):
        client.as_user(USER).create_team("t")
    assert dashed.call_count == 1


def test_role_error_when_a_member_creates_an_admin(router, client) -> None:
    router.post(f"{BASE}/account/user/").respond(403, json={"detail": "A higher level of access is required"})
    with pytest.raises(errors.ForbiddenError) as info:
        client.create_user("boss", "ADMIN")
    assert info.value.message == "A higher level of access is required" and info.value.details == info.value.message
    assert_no_secret(info.value, API_KEY)


def test_a_401_on_a_cached_access_token_reauthenticates_once(router, client) -> None:
    refresh, access = token_routes(router)
    chat = router.post(f"{BASE}/chat/team/{TEAM}/").mock(side_effect=[
        httpx.Response(200, json={"chat_uuid": CHAT}),
        httpx.Response(401, json={"detail": "Token expired"}),
        httpx.Response(200, json={"chat_uuid": CHAT}),
    ])
    me = client.as_user(USER)
    me.create_chat(TEAM)
    me.create_chat(TEAM, messages=[{"role": "human", "content": "hi"}])
    assert access.call_count == 2 and refresh.call_count == 1
    assert [c.request.headers["authorization"] for c in chat.calls] == [
        "Bearer bj-access-001-token", "Bearer bj-access-001-token", "Bearer bj-access-002-token",
    ]
    assert json.loads(chat.calls.last.request.content) == {"messages": [{"role": "human", "content": "hi"}]}


def test_validation_errors_list_is_summarised(router, client) -> None:
    token_routes(router)
    router.post(f"{BASE}/connection/database/").respond(422, json={"detail": [
        {"loc": ["body", "database_type"], "msg": "Input should be 'postgres', 'mysql', ...", "type": "enum"},
        {"loc": ["body", "schemas"], "msg": "schemas must not be empty", "type": "value_error"},
    ]})
    with pytest.raises(errors.UnprocessableEntityError) as info:
        client.as_user(USER).create_connection(SPEC)
    assert info.value.message.startswith("database_type: Input should be") and "; schemas: " in info.value.message
    assert isinstance(info.value.details, list)
    assert_no_secret(info.value, DB_PASSWORD, API_KEY)


def test_acting_as_a_user_needs_a_user(client) -> None:
    with pytest.raises(errors.ConfigError, match="as_user"):
        client.create_team("t")


def test_quickstart_runs_every_step_in_order(router, client) -> None:
    router.post(f"{BASE}/account/user/").respond(json={"user_uuid": USER})
    token_routes(router)
    router.post(f"{BASE}/account/team/").respond(json={"team_uuid": TEAM})
    conn = router.post(f"{BASE}/connection/database/").respond(json={"conn_uuid": CONN, "db_uuid": "d", "database_name_alias": "hr"})
    attach = router.post(f"{BASE}/connection/{CONN}/team/").respond(json={"conn_uuid": CONN, "team_uuids": [TEAM]})
    router.post(f"{BASE}/account/user/{USER}/team/{TEAM}/").respond(json={"user_uuid": USER, "team_uuid": TEAM})
    router.post(f"{BASE}/chat/team/{TEAM}/").respond(json={"chat_uuid": CHAT})
    msg = router.post(f"{BASE}/chat/{CHAT}/message/").respond(json=MESSAGE)
    qs = client.quickstart("new_user", SPEC)
    assert (qs.user.user_uuid, qs.team.team_uuid, qs.connection.conn_uuid, qs.chat.chat_uuid) == (USER, TEAM, CONN, CHAT)
    body = json.loads(conn.calls.last.request.content)
    assert body["password"] == DB_PASSWORD and body["database_type"] == "postgres" and body["include_default_schema"] is True
    assert json.loads(attach.calls.last.request.content) == {"team_uuids": [TEAM]}
    message = qs.client.send_message(CHAT, "How many employees are there?")
    assert json.loads(msg.calls.last.request.content) == {"prompt": "How many employees are there?"}
    assert message.content == "There are 42 employees." and not message.is_error and message.raw["thumbs_up"] is None
    for shown in (repr(SPEC), repr(qs.client), repr(qs)):
        assert DB_PASSWORD not in shown and API_KEY not in shown


def test_an_agent_failure_is_a_message_not_an_exception(router, client) -> None:
    token_routes(router)
    router.post(f"{BASE}/chat/{CHAT}/message/").respond(json={**MESSAGE, "msg_type": "error", "content": "indexing"})
    assert client.as_user(USER).send_message(CHAT, "hi").is_error


def test_from_target_uses_the_api_key(router, transport) -> None:
    target = mock_target("http://mock.test")
    route = router.post("http://mock.test/api/v1/account/user/").respond(json={"user_uuid": USER})
    with BasejumpClient.from_target(target, transport=transport) as client:
        client.create_user("x")
    assert route.calls.last.request.headers["client-secret"] == "demo-owner-key"


def test_auth_repr_shows_no_secret(transport) -> None:
    auth = BasejumpAuth(BASE, API_KEY, USER, refresh_token="bj-refresh-abc-token", transport=transport)
    assert API_KEY not in repr(auth) and "bj-refresh-abc-token" not in repr(auth)


# -- every error status on every step ----------------------------------------------------------------------------

STEPS: dict[str, tuple[str, Callable[[BasejumpClient], Any], bool, bool]] = {
    # name: (path, call, needs user tokens first, retried on 429/502/503/504)
    "create_user": ("/account/user/", lambda c: c.create_user("u", "MEMBER"), False, False),
    "refresh_token": ("/auth/token/", lambda c: c.issue_refresh_token(USER), False, True),
    "access_token": ("/auth/access_token/", lambda c: c.issue_access_token(USER, "bj-refresh-given-token"), False, True),
    "create_team": ("/account/team/", lambda c: c.create_team("t"), True, False),
    "create_connection": ("/connection/database/", lambda c: c.create_connection(SPEC), True, False),
    "attach_connection": (f"/connection/{CONN}/team/", lambda c: c.attach_connection(CONN, [TEAM]), True, False),
    "add_user_to_team": (f"/account/user/{USER}/team/{TEAM}/", lambda c: c.add_user_to_team(USER, TEAM), True, False),
    "create_chat": (f"/chat/team/{TEAM}/", lambda c: c.create_chat(TEAM), True, False),
    "send_message": (f"/chat/{CHAT}/message/", lambda c: c.send_message(CHAT, "hi"), True, False),
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("status", STATUSES)
def test_every_error_status_on_every_step(router, client, sleeper, status: int, step: str) -> None:
    path, call, needs_user, retried = STEPS[step]
    body = {"detail": f"detail {status}"}
    if needs_user:
        token_routes(router)
    route = router.post(f"{BASE}{path}").respond(status, json=body, headers={"x-request-id": "bj-7"})
    dashed = None
    if step == "access_token" and status == 404:
        dashed = router.post(f"{BASE}/auth/access-token/").respond(404, json=body, headers={"x-request-id": "bj-7"})
    acting = client.as_user(USER) if needs_user or step == "access_token" else client
    with pytest.raises(errors.HTTPError) as info:
        call(acting)
    exc = info.value
    assert type(exc) is CLASSES[status]
    assert exc.status == status and exc.service == "basejump" and exc.request_id == "bj-7"
    assert exc.message == f"detail {status}" and exc.body == body and exc.method == "POST"
    attempts = 4 if retried and status in RETRIED else 1
    # a 401 on a freshly issued access token is not retried; on the token endpoints a 401 is final too
    assert route.call_count == attempts == exc.attempts
    assert len(sleeper.delays) == attempts - 1
    if dashed is not None:
        assert dashed.call_count == 1
    assert_no_secret(exc, API_KEY, DB_PASSWORD, "bj-refresh-given-token", "bj-refresh-001-token", "bj-access-001-token")


def test_an_error_body_echoing_the_request_keeps_no_secret(router, client) -> None:
    # pydantic v2 behind FastAPI: a missing field's error carries the whole rejected body as "input"
    token_routes(router)
    echoed = {**SPEC.to_json(), "host": None}
    router.post(f"{BASE}/connection/database/").respond(422, json={"detail": [
        {"type": "missing", "loc": ["body", "host"], "msg": "Field required", "input": echoed},
    ]})
    with pytest.raises(errors.UnprocessableEntityError) as info:
        client.as_user(USER).create_connection(SPEC)
    exc = info.value
    assert exc.message == "host: Field required"
    assert exc.details[0]["input"]["password"] == "***" and exc.details[0]["input"]["username"] == "reader"
    for shown in (repr(exc.body), repr(exc.details), exc.text, str(exc)):
        assert DB_PASSWORD not in shown
