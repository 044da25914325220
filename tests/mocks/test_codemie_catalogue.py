"""The embedded CodeMie's catalogue as the real server serves it: the assistants list (scopes, filters, sorting,
pagination), the slug route, the fixed assistant paths, categories, models and the user (issues 10 and 15)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from apigate.config import DEMO
from apigate.mocks._catalog import ASSISTANTS, CATEGORIES, DATASOURCES, TEMPLATES, TOOLKITS
from apigate.mocks._llm_models import LLM_MODELS
from apigate.mocks.keycloak import RealmKey

from ._asgi import CODEMIE, TOKEN_PATH, ASGIClient
from .test_codemie import assert_envelope, bearer, broken, claims

LIST = f"{CODEMIE}/v1/assistants"
PRIVATE_ID = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"


def listing(mock: ASGIClient, token: str, **params: Any) -> Any:
    if "filters" in params and not isinstance(params["filters"], str):
        params["filters"] = json.dumps(params["filters"])
    r = mock.get(LIST, params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def names(body: Any) -> list[str]:
    return [a["name"] for a in body["data"]]


def everything(mock: ASGIClient, token: str, **params: Any) -> list[str]:
    return names(listing(mock, token, per_page=100, **params))


def service_account_token(mock: ASGIClient) -> str:
    r = mock.post(TOKEN_PATH, data={"grant_type": "client_credentials", "client_id": DEMO.confidential_client,
                                    "client_secret": DEMO.client_secret})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


# ---- the demo data is consistent -------------------------------------------------------------------------------

def test_catalogue_data_is_consistent() -> None:
    assert len(ASSISTANTS) >= 20 and len({a.id for a in ASSISTANTS}) == len(ASSISTANTS)
    assert not [k for k, n in Counter((a.project, a.slug) for a in ASSISTANTS).items() if n > 1]
    assert len({a.slug for a in ASSISTANTS}) < len(ASSISTANTS)  # one slug lives in two projects
    categories = {c["id"] for c in CATEGORIES}
    models = {m["base_name"] for m in LLM_MODELS}
    sources = {(name, project) for _, name, _, project in DATASOURCES}
    for a in (*ASSISTANTS, *TEMPLATES):
        assert set(a.categories) <= categories and a.llm_model_type in models and set(a.toolkits) <= set(TOOLKITS)
        assert a.description and a.system_prompt
    for a in ASSISTANTS:
        assert all((name, a.project) in sources for name in a.context), a.name
    assert sum(a.is_global for a in ASSISTANTS) >= 8 and len({a.created_by.id for a in ASSISTANTS}) >= 5


# ---- scopes ----------------------------------------------------------------------------------------------------

def test_visible_to_user_lists_the_callers_project_assistants_not_the_marketplace(mock: ASGIClient,
                                                                                   token: str) -> None:
    body = listing(mock, token, per_page=100)
    items = body["data"]
    assert items and not any(a["is_global"] for a in items)
    assert {a["project"] for a in items} == {"demo", "platform-tools"}  # platform-tools: only its own assistant
    assert [a["name"] for a in items if a["project"] == "platform-tools"] == ["Terraform Helper"]
    assert PRIVATE_ID not in {a["id"] for a in items}
    updates = [a["update_date"] for a in items]
    assert updates == sorted(updates, reverse=True)  # latest update first
    assert body["pagination"] == {"page": 0, "per_page": 100, "total": len(items), "pages": 1}


def test_a_project_member_sees_only_the_shared_assistants(mock: ASGIClient) -> None:
    token = service_account_token(mock)  # member of "demo", administers nothing
    items = listing(mock, token, per_page=100)["data"]
    assert items and all(a["shared"] and a["project"] == "demo" for a in items)
    assert "Jira Story Refiner" not in names({"data": items})  # not shared
    assert all(a["user_abilities"] == ["read"] for a in items)


def test_realm_admins_see_every_project_assistant(mock: ASGIClient, realm_key: RealmKey) -> None:
    admin = realm_key.sign(claims(sub="admin-1", preferred_username="root", applications=[],
                                  realm_access={"roles": ["admin"]}))
    items = listing(mock, admin, per_page=100)["data"]
    assert len(items) == sum(not a.is_global for a in ASSISTANTS)


def test_marketplace_lists_the_global_assistants_by_popularity(mock: ASGIClient, token: str) -> None:
    items = listing(mock, token, scope="marketplace", per_page=100)["data"]
    assert len(items) == sum(a.is_global for a in ASSISTANTS)
    users = [a["unique_users_count"] for a in items]
    assert all(a["is_global"] for a in items) and users == sorted(users, reverse=True)


def test_all_created_by_user_and_project_with_marketplace(mock: ASGIClient, token: str) -> None:
    visible, market = everything(mock, token), everything(mock, token, scope="marketplace")
    assert sorted(everything(mock, token, scope="all")) == sorted(visible + market)
    mine = listing(mock, token, scope="created_by_user", per_page=100)["data"]
    assert mine and all(a["created_by"]["username"] == DEMO.username for a in mine)
    both = listing(mock, token, scope="project_with_marketplace", filters={"project": "demo"}, per_page=100)["data"]
    local = [a for a in both if not a["is_global"]]
    assert {a["project"] for a in local} == {"demo"} and len(both) == len(local) + len(market)
    assert both[:len(local)] == local  # the project's own assistants first


def test_templates_are_the_prebuilt_assistants(mock: ASGIClient, token: str) -> None:
    body = listing(mock, token, scope="templates")
    assert len(body["data"]) == len(TEMPLATES) and all(t["id"] is None and t["slug"] for t in body["data"])
    assert all(t["project"] == "demo" for t in body["data"])  # the caller's current project
    found = listing(mock, token, scope="templates", filters={"search": "python", "categories": ["engineering"]})
    assert names(found) == ["[Template] Python Developer"]


# ---- filters ---------------------------------------------------------------------------------------------------

def test_search_finds_name_description_and_id_with_name_matches_first(mock: ASGIClient, token: str) -> None:
    assert everything(mock, token, scope="all", filters={"search": "no assistant is called this"}) == []
    body = listing(mock, token, scope="all", filters={"search": "no assistant is called this"})
    assert body["pagination"]["total"] == 0 and body["pagination"]["pages"] == 0
    found = everything(mock, token, scope="all", filters={"search": "REVIEW"})
    assert found[0] == "Code Reviewer" and "Release Notes Writer" not in found
    by_description = everything(mock, token, scope="all", filters={"search": "merge requests"})
    assert set(by_description) == {"Code Reviewer", "Release Notes Writer"}
    by_id = everything(mock, token, scope="all", filters={"search": DEMO.assistant_id[:13]})
    assert by_id == ["Demo Assistant"]


@pytest.mark.parametrize(("filters", "expected"), [
    ({"created_by": "Priya Raman"}, {"SQL Tutor", "Data Quality Checker", "API Docs Explainer", "Regex Wizard"}),
    ({"created_by": ["Marta Lindqvist"], "is_global": True}, {"Test Case Generator", "Meeting Summarizer"}),
    ({"categories": ["security", "documentation"]}, {"Security Threat Modeler", "API Docs Explainer",
                                                      "Release Notes Writer", "Onboarding Buddy"}),
    ({"categories": "data-analytics", "shared": False}, {"Data Quality Checker", "Cloud Cost Advisor"}),
    ({"project": ["platform-tools"], "shared": True}, set()),  # the caller is no member there
    ({"slug": "code-reviewer"}, {"Code Reviewer"}),
    ({"id": [DEMO.assistant_id, PRIVATE_ID]}, {"Demo Assistant"}),
    ({"created_date": "2025-01-15T10:00:00"}, {"Demo Assistant"}),
    ({"created_date": {">=": "2025-09-01", "<": "2025-10-20"}}, {"Python Pair Programmer"}),
    ({"created_date": {">": "2025-10-20T19:00:00Z"}, "is_global": True}, {"Regex Wizard"}),
    ({"search": "", "project": [], "shared": None, "unknown_key": {"x": 1}}, None),  # empty/unknown: ignored
])
def test_filters(mock: ASGIClient, token: str, filters: dict[str, Any], expected: set[str] | None) -> None:
    found = everything(mock, token, scope="all", filters=filters)
    assert set(found) == (expected if expected is not None else set(everything(mock, token, scope="all")))


@pytest.mark.parametrize("filters", ["{not json", "[1]", "1", '"text"', '{"search": 5}', '{"shared": "yes"}',
                                     '{"categories": [1]}', '{"created_date": "yesterday"}',
                                     '{"created_date": {"~": "2025-01-01"}}'])
def test_unusable_filters_are_400(mock: ASGIClient, token: str, filters: str) -> None:
    r = mock.get(LIST, params={"filters": filters}, headers=bearer(token))
    assert r.status_code == 400
    assert_envelope(r.json())
    assert r.json()["error"]["message"] == "Invalid filters"


# ---- sorting and pagination -------------------------------------------------------------------------------------

def test_sort_by_name_usage_likes(mock: ASGIClient, token: str) -> None:
    asc = everything(mock, token, scope="all", sort_by="name", sort_order="asc")
    assert asc == sorted(asc, key=str.casefold) and len(asc) > 10
    assert everything(mock, token, scope="all", sort_by="name") == asc[::-1]  # desc is the default order
    for field, key in (("usage", "unique_users_count"), ("likes", "unique_likes_count"),
                       ("dislikes", "unique_dislikes_count")):
        counts = [a[key] for a in listing(mock, token, scope="all", sort_by=field, sort_order="asc",
                                          per_page=100)["data"]]
        assert counts == sorted(counts) and len(set(counts)) > 3


@pytest.mark.parametrize(("params", "loc"), [
    ({"sort_by": "popularity"}, "sort_by"), ({"sort_by": "name", "sort_order": "up"}, "sort_order"),
    ({"sort_order": "DESC"}, "sort_order"), ({"page": "-1"}, "page"), ({"per_page": "0"}, "per_page"),
    ({"page": "first"}, "page"), ({"scope": "everything"}, "scope"), ({"minimal_response": "maybe"},
                                                                      "minimal_response"),
])
def test_bad_query_parameters_are_422(mock: ASGIClient, token: str, params: dict[str, str], loc: str) -> None:
    r = mock.get(LIST, params={**params, "filters": "{not json"}, headers=bearer(token))  # 422 before 400
    assert r.status_code == 422, r.text
    assert_envelope(r.json(), validation=True)
    assert [d["loc"] for d in r.json()["error"]["details"]] == [["query", loc]]


def test_pages_cover_the_list_once(mock: ASGIClient, token: str) -> None:
    whole = everything(mock, token, scope="all", sort_by="name", sort_order="asc")
    pages = [listing(mock, token, scope="all", sort_by="name", sort_order="asc", page=p, per_page=5,
                     minimal_response="True") for p in range(5)]  # "True": how requests sends a Python bool
    assert [n for page in pages for n in names(page)] == whole
    assert pages[0]["pagination"] == {"page": 0, "per_page": 5, "total": len(whole), "pages": -(-len(whole) // 5)}
    assert "system_prompt" not in pages[0]["data"][0] and pages[0]["data"][0]["description"]


# ---- one assistant: by id, by slug -----------------------------------------------------------------------------

def test_by_slug_answers_like_by_id(mock: ASGIClient, token: str) -> None:
    by_id = mock.get(f"{CODEMIE}/v1/assistants/id/{DEMO.assistant_id}", headers=bearer(token)).json()
    by_slug = mock.get(f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}", headers=bearer(token))
    assert by_slug.status_code == 200 and by_slug.json() == by_id
    assert by_id["system_prompt"] and by_id["user_abilities"] == ["read", "write", "delete"]
    assert by_id["version_count"] == 1 and by_id["skills"] == []  # the real demo: 1, yet "version": 1 is 404


def test_by_slug_project_narrows_and_an_empty_project_is_ignored(mock: ASGIClient, token: str) -> None:
    def get(project: str | None) -> Any:
        params = {"project": project} if project is not None else {}
        return mock.get(f"{CODEMIE}/v1/assistants/slug/code-reviewer", params=params, headers=bearer(token))

    assert get(None).json()["project"] == "demo" and get("").json()["project"] == "demo"
    r = get("platform-tools")
    assert r.status_code == 401 and r.json()["error"]["message"] == "Access denied"  # found, not readable
    r = get("nope")
    assert r.status_code == 404 and "in project 'nope'" in r.json()["error"]["details"]
    for path in (f"{CODEMIE}/v1/assistants/slug/nope", f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}/model"):
        r = mock.get(path, headers=bearer(token))  # GET .../slug/x/model is the slug route: slug "x/model"
        assert r.status_code == 404
        assert_envelope(r.json())
        assert r.json()["error"]["message"] == "Assistant not found"


def test_the_slug_route_shadows_the_slug_chat_for_other_methods(mock: ASGIClient, token: str) -> None:
    chat = f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}/model"
    r = mock.request("OPTIONS", chat, headers=bearer(token))
    assert (r.status_code, r.headers["allow"], r.json()) == (405, "GET", {"detail": "Method Not Allowed"})
    assert mock.request("HEAD", f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}").status_code == 405
    assert mock.post(chat, json={"text": "hi"}, headers=bearer(token)).status_code == 200


def test_the_slug_route_needs_a_token(mock: ASGIClient) -> None:
    r = mock.get(f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}")
    assert r.status_code == 401
    assert_envelope(r.json())


# ---- the fixed paths --------------------------------------------------------------------------------------------

FIXED = ["tools", "prebuilt", "builtin_subagents", "context?project_name=demo", "categories", "users"]


@pytest.mark.parametrize("path", FIXED)
def test_fixed_paths_are_endpoints_of_their_own(mock: ASGIClient, token: str, path: str) -> None:
    r = mock.get(f"{LIST}/{path}", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list) and r.json()


def test_fixed_paths_content(mock: ASGIClient, token: str) -> None:
    def get(path: str, **kwargs: Any) -> Any:
        return mock.get(f"{LIST}/{path}", headers=bearer(token), **kwargs)

    assert {t["toolkit"] for t in get("tools").json()} == set(TOOLKITS)
    assert all(t["tools"] and all(tool["name"] for tool in t["tools"]) for t in get("tools").json())
    prebuilt = get("prebuilt").json()
    assert [p["slug"] for p in prebuilt] == [t.slug for t in TEMPLATES] and all(p["id"] is None for p in prebuilt)
    assert get(f"prebuilt/{TEMPLATES[0].slug}").json() == prebuilt[0]
    r = get("prebuilt/nope")
    assert r.status_code == 404 and r.json()["error"]["message"] == "Prebuilt assistant not found"
    assert {s["id"] for s in get("builtin_subagents").json()} >= {"general_purpose"}
    context = get("context", params={"project_name": "demo"}).json()
    assert {c["context_type"] for c in context} == {"code", "knowledge_base"} and all(c["id"] for c in context)
    assert get("context", params={"project_name": "platform-tools"}).json() == []  # not a member
    r = get("context")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["query", "project_name"]
    assert [c["id"] for c in get("categories").json()] == [c["id"] for c in CATEGORIES]
    creators = get("users", params={"scope": "marketplace"}).json()
    assert {c["name"] for c in creators} == {a.created_by.name for a in ASSISTANTS if a.is_global}


def test_categories_need_no_token_the_others_do(mock: ASGIClient) -> None:
    assert mock.get(f"{LIST}/categories").status_code == 200
    for path in FIXED[:-2]:
        assert mock.get(f"{LIST}/{path}").status_code == 401


def test_other_methods_on_fixed_paths_reach_the_assistant_id_route(mock: ASGIClient, token: str) -> None:
    r = mock.request("DELETE", f"{LIST}/tools", headers=bearer(token))  # DELETE /v1/assistants/{id="tools"}
    assert r.status_code == 404 and r.json()["error"]["message"] == "Assistant not found"
    r = mock.post(f"{LIST}/tools", json={}, headers=bearer(token))
    assert (r.status_code, r.headers["allow"]) == (405, "GET")


# ---- models, user, openapi.json ----------------------------------------------------------------------------------

def test_llm_models_are_a_current_installations_list(mock: ASGIClient, token: str) -> None:
    models = mock.get(f"{CODEMIE}/v1/llm_models", headers=bearer(token)).json()
    assert len(models) >= 15 and len({m["provider"] for m in models}) >= 3
    assert all(isinstance(m["is_premium"], bool) for m in models)
    assert {m["is_premium"] for m in models} == {True, False}
    assert [m["base_name"] for m in models if m["default"]] == ["gpt-4.1"]
    assert all(None not in m.values() for m in models)  # null fields are omitted
    everything_ = mock.get(f"{CODEMIE}/v1/llm_models?include_all=true", headers=bearer(token)).json()
    assert len(everything_) == len(LLM_MODELS) > len(models)
    assert mock.get(f"{CODEMIE}/v1/llm_models?include_all=maybe", headers=bearer(token)).status_code == 422


def test_user_strings_are_never_null(mock: ASGIClient, token: str) -> None:
    user = mock.get(f"{CODEMIE}/v1/user", headers=bearer(token)).json()
    assert (user["email"], user["picture"], user["name"]) == ("demo@example.com", "", "Demo User")
    assert user["projects"] == [{"name": "demo", "display_name": "Demo project", "is_project_admin": True}]
    service = mock.get(f"{CODEMIE}/v1/user", headers=bearer(service_account_token(mock))).json()
    assert service["email"] == "" and service["picture"] == ""
    assert service["username"] == service["name"] == f"service-account-{DEMO.confidential_client}"
    assert all(service[k] is not None for k in ("user_id", "name", "username", "email", "picture", "is_admin"))


def test_openapi_json_carries_the_real_apps_info(mock: ASGIClient) -> None:
    info = mock.get(f"{CODEMIE}/v1/info").json()
    doc = mock.get(f"{CODEMIE}/openapi.json").json()
    assert doc["info"]["title"] == "Codemie" == info["message"]
    assert doc["info"]["description"] == "Smart AI assistant 'CodeMie'" == info["description"]
    assert doc["info"]["version"] == info["version"]
    assert "/v1/assistants/slug/{slug}" in doc["paths"]


# ---- contract breaks --------------------------------------------------------------------------------------------

def test_break_assistants_filters_ignored(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.assistants.filters_ignored")
    assert everything(mock, token, filters={"search": "nobody"}) == everything(mock, token)


def test_break_assistants_sort_unchecked(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.assistants.sort_unchecked")
    assert listing(mock, token, sort_by="popularity", sort_order="up")["data"]


def test_break_assistants_fixed_paths_405(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.assistants.fixed_paths_405")
    for path in ("tools", "prebuilt", "builtin_subagents", "context?project_name=demo", "users"):
        assert mock.get(f"{LIST}/{path}", headers=bearer(token)).status_code == 405


def test_break_assistants_no_slug_route(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.assistants.no_slug_route")
    r = mock.get(f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}", headers=bearer(token))
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


def test_break_user_null_strings(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.user.null_strings")
    user = mock.get(f"{CODEMIE}/v1/user", headers=bearer(token)).json()
    assert user["picture"] is None and user["email"] == "demo@example.com"
    service = mock.get(f"{CODEMIE}/v1/user", headers=bearer(service_account_token(mock))).json()
    assert service["email"] is None


def test_break_assistants_filters_500(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.assistants.filters_500")
    assert mock.get(LIST, params={"filters": "[1]"}, headers=bearer(token)).status_code == 500
    assert mock.get(LIST, params={"filters": "{not json"}, headers=bearer(token)).status_code == 400


def test_break_assistants_negative_page_500(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.assistants.negative_page_500")
    r = mock.get(LIST, params={"page": "-1"}, headers=bearer(token))
    assert r.status_code == 500
    assert_envelope(r.json())
    assert mock.get(LIST, params={"per_page": "0"}, headers=bearer(token)).status_code == 422

