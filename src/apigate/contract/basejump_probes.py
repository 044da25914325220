"""Basejump's explicit checks: role hierarchy, token/user binding, enums, team membership, unknown ids, and
randomized orderings of the quickstart that must fail cleanly.

Role hierarchy: any key may not create an OWNER; against the embedded mock (whose demo keys are documented) a
MEMBER key may not create an ADMIN or a MEMBER, an ADMIN key may not create an ADMIN but may create a MEMBER.

Randomized orderings: each round takes the quickstart steps after the tokens (team, connection, attach, join,
chat, message) in a seeded random order; a step whose prerequisite was not made yet uses an unknown uuid instead.
A small model of the service says what each step must answer (200 with the documented body, 403 for a chat on a
team the user has not joined, 404 for an unknown id), and every error carries ``{"detail": ...}``.

Teams whose membership matters are created by a second user, so that the suite's user is a member only once it
joins: whether a team's creator becomes a member is not published (the checks hold either way). The statuses
expected for refusals (401, 403, 404, 422) are assumptions of the contract: another status of the same class is
reported as a warning (:mod:`apigate.contract.classify`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

from apigate.config import DEMO, Target
from apigate.contract.classify import BodyMismatch
from apigate.contract.documents import Contract
from apigate.contract.fixtures import Fixture
from apigate.contract.probe import Exchange, Prober, expect_status
from apigate.redact import register_secret

__all__ = ["ROUNDS", "probe_basejump"]

ROUNDS: Final = 4
USER_OP: Final = "POST /account/user/"
TOKEN_OP: Final = "POST /auth/token/"
ACCESS_OP: Final = "POST /auth/access_token/"
TEAM_OP: Final = "POST /account/team/"
CONN_OP: Final = "POST /connection/database/"
ATTACH_OP: Final = "POST /connection/{conn_uuid}/team/"
JOIN_OP: Final = "POST /account/user/{user_uuid}/team/{team_uuid}/"
CHAT_OP: Final = "POST /chat/team/{team_uuid}/"
MESSAGE_OP: Final = "POST /chat/{chat_uuid}/message/"


class _Basejump:
    """Raw requests against the service, judged against the contract."""

    def __init__(self, prober: Prober, target: Target, contract: Contract, fixture: Fixture) -> None:
        self.prober = prober
        self.base = target.basejump.url
        self.contract = contract
        self.key = target.basejump.api_key.reveal()
        self.access: Callable[[], tuple[str, str]] = fixture.credentials["AccessToken"]
        self.refresh: Callable[[], tuple[str, str]] = fixture.credentials["RefreshToken"]
        self.params = fixture.parameters
        self.spec = fixture.extras["spec"].to_json()

    def send(self, method: str, path: str, *, auth: Mapping[str, str] | None = None, **kwargs: Any) -> Exchange:
        headers = dict(auth) if auth is not None else dict([self.access()])
        return self.prober.send(method, self.base + path, headers=headers, **kwargs)

    def as_key(self, key: str | None = None) -> dict[str, str]:
        return {"client-secret": key or self.key}

    def expect_ok(self, operation: str) -> Callable[[Exchange], None]:
        """200 with a body valid against the operation's documented 200 schema."""
        method, path = operation.split(" ", 1)
        op = self.contract.operation(method, path)
        place = self.contract.response_schema_place(op, "200", "application/json")
        schema = self.contract.resolve(self.contract.pointer(place)) if place else None
        validator = self.contract.validator(schema) if schema else None

        def judge(exchange: Exchange) -> None:
            expect_status(exchange, (200,))
            body = exchange.json()
            if validator is not None and place is not None:
                errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
                if errors:
                    where = "/".join(str(p) for p in errors[0].path)
                    raise BodyMismatch(f"body does not match the contract at /{where}: {errors[0].message}",
                                       place=place, instance=body, expected="the documented 200 body",
                                       actual=str(body)[:200])

        return judge

    def expect(self, statuses: int | tuple[int, ...]) -> Callable[[Exchange], None]:
        return self.prober.expect_error(statuses)

    def tokens_of(self, user_uuid: str) -> dict[str, str] | None:
        """An ``Authorization`` header with an access token of ``user_uuid`` (made with the API key), or None."""
        refresh = _body(self.send("POST", "/auth/token/", auth=self.as_key(), params={"user_uuid": user_uuid}),
                        "refresh_token")
        if refresh is None:
            return None
        register_secret(refresh)
        access = _body(self.send("POST", "/auth/access_token/", auth={"Authorization": f"Bearer {refresh}"},
                                 params={"user_uuid": user_uuid}), "access_token")
        if access is None:
            return None
        register_secret(access)
        return {"Authorization": f"Bearer {access}"}


def _unknown() -> str:
    return str(uuid.uuid4())


def _body(exchange: Exchange | None, key: str) -> str | None:
    if exchange is None or exchange.status != 200:
        return None
    try:
        value = exchange.json().get(key)
    except (AssertionError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def probe_basejump(prober: Prober, target: Target, contract: Contract, fixture: Fixture, seed: int) -> None:
    bj = _Basejump(prober, target, contract, fixture)
    check = prober.check
    user_uuid = str(fixture.parameters["path.user_uuid"])
    team_uuid = str(fixture.parameters["path.team_uuid"])

    # -- role hierarchy ----------------------------------------------------------------------------------------
    def create_user(role: str, key: str | None = None) -> Exchange:
        return bj.send("POST", "/account/user/", auth=bj.as_key(key),
                       params={"username": f"apigate-{uuid.uuid4().hex[:8]}", "role": role})

    check(USER_OP, "roles.nobody_creates_owner", lambda: create_user("OWNER"), bj.expect(403))
    if not target.basejump.live:
        check(USER_OP, "roles.member_cannot_create_admin", lambda: create_user("ADMIN", DEMO.basejump_member_key),
              bj.expect(403))
        check(USER_OP, "roles.member_cannot_create_member", lambda: create_user("MEMBER", DEMO.basejump_member_key),
              bj.expect(403))
        check(USER_OP, "roles.admin_cannot_create_admin", lambda: create_user("ADMIN", DEMO.basejump_admin_key),
              bj.expect(403))
        check(USER_OP, "roles.admin_creates_member", lambda: create_user("MEMBER", DEMO.basejump_admin_key),
              bj.expect_ok(USER_OP))
    else:
        prober.notes.append("roles: only 'nobody creates an OWNER' is probed against a live Basejump (one key)")
    check(USER_OP, "validation.role_enum", lambda: create_user("SUPERUSER"), bj.expect(422))

    # -- token / user binding ----------------------------------------------------------------------------------
    other = create_user("MEMBER")
    other_uuid = _body(other, "user_uuid")
    other_access: dict[str, str] | None = None
    if other_uuid is None:
        prober.record(USER_OP, "fixtures.second_user", AssertionError(
            f"creating a second user failed ({other.status})"))
    else:
        check(ACCESS_OP, "auth.user_uuid_mismatch",
              lambda: bj.send("POST", "/auth/access_token/", auth=dict([bj.refresh()]),
                              params={"user_uuid": other_uuid}), bj.expect(401))
        other_access = bj.tokens_of(other_uuid)
    check(TOKEN_OP, "token.unknown_user",
          lambda: bj.send("POST", "/auth/token/", auth=bj.as_key(), params={"user_uuid": _unknown()}), bj.expect(404))

    # -- enums and body rules ----------------------------------------------------------------------------------
    check(CONN_OP, "validation.database_type_mssql",
          lambda: bj.send("POST", "/connection/database/", json_body={**bj.spec, "database_type": "mssql"}),
          bj.expect(422))
    check(CONN_OP, "validation.no_schema_at_all",
          lambda: bj.send("POST", "/connection/database/",
                          json_body={**bj.spec, "include_default_schema": False, "schemas": []}), bj.expect(422))
    check(MESSAGE_OP, "message.documented_body",
          lambda: bj.send("POST", f"/chat/{fixture.parameters['path.chat_uuid']}/message/",
                          json_body={"prompt": "How many employees are there?"}), bj.expect_ok(MESSAGE_OP))

    # -- membership and unknown ids ----------------------------------------------------------------------------
    if other_access is not None:
        lonely = _body(bj.send("POST", "/account/team/", auth=other_access,
                               params={"team_name": "apigate-not-joined"}), "team_uuid")
        if lonely is None:
            prober.record(TEAM_OP, "fixtures.team", AssertionError("creating a team as the second user failed"))
        else:
            check(CHAT_OP, "membership.chat_on_team_not_joined",
                  lambda: bj.send("POST", f"/chat/team/{lonely}/"), bj.expect(403))
    for operation, method, path, kwargs in (
        (CHAT_OP, "POST", f"/chat/team/{_unknown()}/", {}),
        (MESSAGE_OP, "POST", f"/chat/{_unknown()}/message/", {"json_body": {"prompt": "hi"}}),
        (JOIN_OP, "POST", f"/account/user/{_unknown()}/team/{team_uuid}/", {}),
        (JOIN_OP, "POST", f"/account/user/{user_uuid}/team/{_unknown()}/", {}),
        (ATTACH_OP, "POST", f"/connection/{_unknown()}/team/", {"json_body": {"team_uuids": [team_uuid]}}),
    ):
        check(operation, "ids.unknown_uuid_404",
              lambda method=method, path=path, kwargs=kwargs: bj.send(method, path, **kwargs),  # type: ignore[misc]
              bj.expect(404))

    if other_access is not None:
        _orderings(bj, user_uuid, other_access, random.Random(seed))


def _orderings(bj: _Basejump, user_uuid: str, team_owner: Mapping[str, str], rng: random.Random) -> None:
    steps = ["team", "conn", "attach", "join", "chat", "message"]
    for _ in range(ROUNDS):
        order = steps[:]
        rng.shuffle(order)
        ids: dict[str, str] = {}
        joined = False
        for step in order:
            team = ids.get("team")
            if step == "team":
                ex = bj.prober.check(TEAM_OP, "ordering.team", lambda: bj.send(
                    "POST", "/account/team/", auth=team_owner,
                    params={"team_name": f"apigate-order-{rng.randrange(10**6)}"}), bj.expect_ok(TEAM_OP))
                _keep(ids, "team", _body(ex, "team_uuid"))
            elif step == "conn":
                ex = bj.prober.check(CONN_OP, "ordering.connection", lambda: bj.send(
                    "POST", "/connection/database/", json_body=bj.spec), bj.expect_ok(CONN_OP))
                _keep(ids, "conn", _body(ex, "conn_uuid"))
            elif step == "attach":
                conn = ids.get("conn")
                expected = bj.expect_ok(ATTACH_OP) if conn and team else bj.expect(404)
                bj.prober.check(ATTACH_OP, "ordering.attach", lambda conn=conn, team=team: bj.send(  # type: ignore[misc]
                    "POST", f"/connection/{conn or _unknown()}/team/",
                    json_body={"team_uuids": [team or _unknown()]}), expected)
            elif step == "join":
                ex = bj.prober.check(JOIN_OP, "ordering.join", lambda team=team: bj.send(  # type: ignore[misc]
                    "POST", f"/account/user/{user_uuid}/team/{team or _unknown()}/"),
                    bj.expect_ok(JOIN_OP) if team else bj.expect(404))
                joined = team is not None and ex is not None and ex.status == 200
            elif step == "chat":
                if team is None:
                    expected = bj.expect(404)
                elif joined:
                    expected = bj.expect_ok(CHAT_OP)
                else:
                    expected = bj.expect(403)
                ex = bj.prober.check(CHAT_OP, "ordering.chat", lambda team=team: bj.send(  # type: ignore[misc]
                    "POST", f"/chat/team/{team or _unknown()}/"), expected)
                _keep(ids, "chat", _body(ex, "chat_uuid"))
            elif step == "message":
                chat = ids.get("chat")
                bj.prober.check(MESSAGE_OP, "ordering.message", lambda chat=chat: bj.send(  # type: ignore[misc]
                    "POST", f"/chat/{chat or _unknown()}/message/", json_body={"prompt": "How many teams?"}),
                    bj.expect_ok(MESSAGE_OP) if chat else bj.expect(404))


def _keep(ids: dict[str, str], name: str, value: str | None) -> None:
    if value is not None:
        ids[name] = value
