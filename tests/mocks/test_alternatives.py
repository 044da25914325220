"""``--variant independent``: each catalogued alternative answers its assumed behaviour the other way, and the
faithful mock answers it the way the contracts assume (the pair proves the switch does something)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from apigate.config import DEMO
from apigate.mocks.settings import ALTERNATIVES

from ._asgi import CHAT, CODEMIE, ORIGIN, ASGIClient, password_token
from .test_basejump import BASE, CONNECTION, UNKNOWN, bearer, key, make, ok, user

Probe = Callable[[ASGIClient], httpx.Response]


def _creator_joins(bj: ASGIClient) -> httpx.Response:
    me = user(bj)
    team = ok(me.post("/account/team/", params={"team_name": "t"}))["team_uuid"]
    return me.post(f"/chat/team/{team}/")


def _history(bj: ASGIClient) -> httpx.Response:
    me = user(bj)
    team = ok(me.post("/account/team/", params={"team_name": "t"}))["team_uuid"]
    ok(me.post(f"/account/user/{me.user_uuid}/team/{team}/"))
    return me.post(f"/chat/team/{team}/", json={"messages": [{"role": "user", "content": {}}]})


def _timestamp(bj: ASGIClient) -> httpx.Response:
    me = user(bj)
    team = ok(me.post("/account/team/", params={"team_name": "t"}))["team_uuid"]
    ok(me.post(f"/account/user/{me.user_uuid}/team/{team}/"))
    chat = ok(me.post(f"/chat/team/{team}/"))["chat_uuid"]
    return me.post(f"/chat/{chat}/message/", json={"prompt": "How many employees?", "timestamp": ""})


def _mismatch(bj: ASGIClient) -> httpx.Response:
    me, other = user(bj), user(bj)
    return bj.post(f"{BASE}/auth/access_token/", params={"user_uuid": other.user_uuid}, headers=bearer(me.refresh))


def _list(mock: ASGIClient, params: dict[str, str]) -> httpx.Response:
    token = password_token(mock)
    return mock.get(f"{CODEMIE}/v1/assistants", params=params, headers={"Authorization": f"Bearer {token}"})


def _assistants(mock: ASGIClient) -> httpx.Response:
    return _list(mock, {"page": "-1", "per_page": "0", "filters": '{"search": 5, "is_global": "yes"}'})


def _chat(mock: ASGIClient) -> httpx.Response:
    return mock.post(CHAT, json={"text": "hi"}, headers={"Authorization": f"Bearer {password_token(mock)}"})


def _join(bj: ASGIClient) -> httpx.Response:
    me = user(bj)
    team = ok(me.post("/account/team/", params={"team_name": "t"}))["team_uuid"]
    return me.post(f"/account/user/{me.user_uuid}/team/{team}/")


# alternative -> (request, what the faithful mock answers, what the independent one answers)
CASES: dict[str, tuple[Probe, Callable[[httpx.Response], bool], Callable[[httpx.Response], bool]]] = {
    "any.undeclared_method": (
        lambda bj: bj.request("TRACE", f"{DEMO.keycloak_prefix}/realms/{DEMO.realm}/protocol/openid-connect/token"),
        lambda r: r.status_code == 405 and r.json() != {"detail": "Method Not Allowed"},
        lambda r: r.status_code == 405 and r.json() == {"detail": "Method Not Allowed"} and "allow" in r.headers),
    "keycloak.json_bearer_refusal": (
        lambda mock: mock.get(f"{DEMO.keycloak_prefix}/realms/{DEMO.realm}/protocol/openid-connect/userinfo"),
        lambda r: r.status_code == 401 and not r.content,
        lambda r: r.status_code == 401 and r.json() == {"detail": "Not authenticated"}
        and r.headers["www-authenticate"].startswith("Bearer")),
    "codemie.thought_values": (
        _chat, lambda r: r.json()["thoughts"][0]["author_type"] == "Tool",
        lambda r: (r.json()["thoughts"][0]["author_type"], r.json()["thoughts"][0]["output_format"]) == (
            "Assistant", "html")),
    "codemie.lenient_list_query": (_assistants, lambda r: r.status_code == 422,
                                   lambda r: r.status_code == 200 and r.json()["pagination"]["page"] == 0),
    "codemie.sort_ignored": (lambda mock: _list(mock, {"sort_by": "apigate-unknown", "sort_order": "sideways"}),
                             lambda r: r.status_code == 422, lambda r: r.status_code == 200 and r.json()["data"]),
    "basejump.empty_names": (
        lambda bj: bj.post(f"{BASE}/account/user/", params={"username": "", "role": "MEMBER"}, headers=key()),
        lambda r: r.status_code == 422, lambda r: r.status_code == 200),
    "basejump.history_items": (_history, lambda r: r.status_code == 422, lambda r: r.status_code == 200),
    "basejump.empty_timestamp": (_timestamp, lambda r: r.status_code == 422, lambda r: r.status_code == 200),
    "basejump.lax_types": (
        lambda bj: user(bj).post("/connection/database/", json={**CONNECTION, "port": "5432",
                                                                "include_default_schema": "true"}),
        lambda r: r.status_code == 422, lambda r: r.status_code == 200),
    "basejump.malformed_uuid_404": (
        lambda bj: user(bj).post("/chat/team/not-a-uuid/"), lambda r: r.status_code == 422,
        lambda r: r.status_code == 404),
    "basejump.missing_credentials_403": (
        lambda bj: bj.post(f"{BASE}/account/team/", params={"team_name": "t"}),
        lambda r: r.status_code == 401, lambda r: r.status_code == 403),
    "basejump.user_mismatch_403": (_mismatch, lambda r: r.status_code == 401, lambda r: r.status_code == 403),
    "basejump.no_dashed_alias": (
        lambda bj: bj.post(f"{BASE}/auth/access-token/", params={"user_uuid": UNKNOWN}, headers=bearer("x")),
        lambda r: r.status_code == 401, lambda r: r.status_code == 404),
    "basejump.creator_joins_team": (_creator_joins, lambda r: r.status_code == 403, lambda r: r.status_code == 200),
    "basejump.bare_answers": (_join, lambda r: r.status_code == 200 and set(r.json()) == {"user_uuid", "team_uuid"},
                              lambda r: r.status_code == 200 and r.json() is None),
}


def test_every_alternative_is_exercised() -> None:
    assert set(CASES) == set(ALTERNATIVES)


def _client(name: str, variant: str) -> ASGIClient:
    if name.startswith("basejump."):  # the Basejump app alone; the others on the combined origin
        return make(variant=variant)
    from apigate.mocks.app import build_app
    from apigate.mocks.settings import MockSettings

    return ASGIClient(build_app(MockSettings(variant=variant)), ORIGIN)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(CASES))
def test_alternative_answers_the_other_way(name: str) -> None:
    request, faithful, independent = CASES[name]
    answer: Any = request(_client(name, "faithful"))
    assert faithful(answer), (answer.status_code, answer.text)
    answer = request(_client(name, "independent"))
    assert independent(answer), (answer.status_code, answer.text)
