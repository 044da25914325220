"""The embedded CodeMie, in-process: auth, validation, assistants, the plain answer, error envelopes, breaks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from apigate.config import DEMO
from apigate.mocks.keycloak import RealmKey

from ._asgi import CHAT, CODEMIE, ORIGIN, ASGIClient, decode_ndjson, password_token

PRIVATE_ID = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
ISSUER = f"{ORIGIN}{DEMO.keycloak_prefix}/realms/{DEMO.realm}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "sub": "8c2e4b1a-6f0d-4c55-9a3e-2d7f3b9e0c11", "typ": "Bearer", "azp": "codemie-sdk",
            "iat": now, "exp": now + 300, "preferred_username": "demo", "applications": ["demo"], **overrides}


def assert_envelope(body: Any, *, validation: bool = False) -> None:
    assert set(body) == {"error"}
    keys = set(body["error"])
    assert keys == ({"message", "details"} if validation else {"message", "details", "help"})
    assert isinstance(body["error"]["message"], str)


# ---- authentication -------------------------------------------------------------------------------------------

def test_missing_authorization_is_401(mock: ASGIClient) -> None:
    r = mock.post(CHAT, json={"text": "hi"})
    assert r.status_code == 401
    assert_envelope(r.json())
    assert r.json()["error"]["details"] == "Missing Authorization header"


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic ZGVtbzpkZW1v", "Bearer", "Bearer a.b.c"])
def test_malformed_credentials_are_401(mock: ASGIClient, header: str) -> None:
    r = mock.post(CHAT, json={"text": "hi"}, headers={"Authorization": header})
    assert r.status_code == 401
    assert_envelope(r.json())
    assert r.json()["error"]["message"] == "Token validation failed"


def _bad_tokens(realm_key: RealmKey) -> dict[str, str]:
    other = RealmKey("other")
    forged = other.sign(claims()).split(".")
    real_header = realm_key.sign(claims()).split(".")[0]
    return {
        "other key": other.sign(claims()),
        "other key, same kid": ".".join([real_header, forged[1], forged[2]]),
        "expired": realm_key.sign(claims(exp=int(time.time()) - 5)),
        "wrong issuer": realm_key.sign(claims(iss="http://evil.test/auth/realms/codemie-prod")),
        "refresh token": realm_key.sign(claims(typ="Refresh")),
    }


@pytest.mark.parametrize("case", ["other key", "other key, same kid", "expired", "wrong issuer", "refresh token"])
def test_invalid_tokens_are_401(mock: ASGIClient, realm_key: RealmKey, case: str) -> None:
    r = mock.post(CHAT, json={"text": "hi"}, headers=bearer(_bad_tokens(realm_key)[case]))
    assert r.status_code == 401
    assert_envelope(r.json())


def test_a_self_signed_valid_token_is_accepted(mock: ASGIClient, realm_key: RealmKey) -> None:
    assert mock.post(CHAT, json={"text": "hi"}, headers=bearer(realm_key.sign(claims()))).status_code == 200


def test_expiry_is_checked_on_cached_tokens(mock: ASGIClient, realm_key: RealmKey,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    token = realm_key.sign(claims(exp=int(time.time()) + 60))
    assert mock.get(f"{CODEMIE}/v1/user", headers=bearer(token)).status_code == 200  # now cached
    monkeypatch.setattr("apigate.mocks._bearer._now", lambda: time.time() + 61)
    assert mock.get(f"{CODEMIE}/v1/user", headers=bearer(token)).status_code == 401


def test_client_credentials_tokens_work_too(mock: ASGIClient) -> None:
    r = mock.post(f"{DEMO.keycloak_prefix}/realms/{DEMO.realm}/protocol/openid-connect/token",
                  data={"grant_type": "client_credentials", "client_id": DEMO.confidential_client,
                        "client_secret": DEMO.client_secret})
    token = r.json()["access_token"]
    assert mock.post(CHAT, json={"text": "hi"}, headers=bearer(token)).status_code == 200


def test_no_read_access_is_401_access_denied(mock: ASGIClient, token: str) -> None:
    for r in (mock.post(f"{CODEMIE}/v1/assistants/{PRIVATE_ID}/model", json={}, headers=bearer(token)),
              mock.get(f"{CODEMIE}/v1/assistants/id/{PRIVATE_ID}", headers=bearer(token))):
        assert r.status_code == 401
        assert_envelope(r.json())
        assert r.json()["error"]["message"] == "Access denied"


def test_another_users_conversation_is_403(mock: ASGIClient, token: str, realm_key: RealmKey) -> None:
    assert mock.post(CHAT, json={"conversation_id": "c-1"}, headers=bearer(token)).status_code == 200
    other = realm_key.sign(claims(sub="someone-else"))
    r = mock.post(CHAT, json={"conversation_id": "c-1"}, headers=bearer(other))
    assert r.status_code == 403
    assert_envelope(r.json())


# ---- validation: see test_codemie_chat.py ------------------------------------------------------------------

def test_unknown_version_is_404(mock: ASGIClient, token: str) -> None:
    r = mock.post(CHAT, json={"version": 99}, headers=bearer(token))
    assert r.status_code == 404 and r.json()["error"]["message"] == "Version not found"


def test_unknown_assistant_is_404(mock: ASGIClient, token: str) -> None:
    for path in (f"{CODEMIE}/v1/assistants/nope/model", f"{CODEMIE}/v1/assistants/slug/nope/model"):
        r = mock.post(path, json={}, headers=bearer(token))
        assert r.status_code == 404
        assert_envelope(r.json())
        assert r.json()["error"]["message"] == "Assistant not found"
    assert mock.get(f"{CODEMIE}/v1/assistants/id/nope", headers=bearer(token)).status_code == 404


def test_routing_errors_use_fastapis_shape(mock: ASGIClient, token: str) -> None:
    r = mock.get(f"{CODEMIE}/v1/nothing", headers=bearer(token))
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    r = mock.get(f"{CODEMIE}/v1/assistants/{DEMO.assistant_id}", headers=bearer(token))
    assert (r.status_code, r.json()) == (405, {"detail": "Method Not Allowed"})
    r = mock.get(CHAT, headers=bearer(token))
    assert r.status_code == 405
    assert mock.get("/elsewhere").json() == {"detail": "Not Found"}


# ---- answers ----------------------------------------------------------------------------------------------------

def test_plain_answer_has_every_camel_case_key(mock: ASGIClient, token: str) -> None:
    r = mock.post(CHAT, json={"text": "hi"}, headers=bearer(token))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["generated", "timeElapsed", "tokensUsed", "thoughts", "taskId", "success", "agentError",
                          "toolErrors"]
    assert isinstance(body["generated"], str) and body["generated"]
    assert isinstance(body["timeElapsed"], float)
    assert body["tokensUsed"] is None and body["taskId"] is None and body["success"] is True
    assert body["agentError"] is None and body["toolErrors"] is None
    (thought,) = body["thoughts"]
    assert thought["author_name"] == "Codemie Thoughts" and thought["id"]


def test_include_tool_errors_without_tool_errors_answers_null(mock: ASGIClient, token: str) -> None:
    r = mock.post(f"{CHAT}?include_tool_errors=true&error_detail_level=full", json={}, headers=bearer(token))
    assert r.status_code == 200 and r.json()["toolErrors"] is None  # as the real server: no tool, no errors


def test_by_slug_answers_like_by_id(mock: ASGIClient, token: str) -> None:
    r = mock.post(f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}/model?project=demo", json={"text": "hi"},
                  headers=bearer(token))
    assert r.status_code == 200 and "generated" in r.json()
    r = mock.post(f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}/model?project=other", json={},
                  headers=bearer(token))
    assert r.status_code == 404


def test_background_task_answers_at_once_with_a_task_id(make_mock: Callable[..., ASGIClient]) -> None:
    mock = make_mock(chat_latency_ms=5000)
    r = mock.post(CHAT, json={"background_task": True}, headers=bearer(password_token(mock)))
    body = r.json()
    assert body["generated"] == "Task is running in the background" and body["timeElapsed"] == 0
    assert isinstance(body["taskId"], str)


def test_chat_latency_is_honoured(make_mock: Callable[..., ASGIClient]) -> None:
    mock = make_mock(chat_latency_ms=60)
    token = password_token(mock)
    started = time.perf_counter()
    r = mock.post(CHAT, json={}, headers=bearer(token))
    assert time.perf_counter() - started >= 0.06
    assert r.json()["timeElapsed"] >= 0.06


# ---- assistants, models, user, info -----------------------------------------------------------------------------

def test_assistants_list_is_paginated(mock: ASGIClient, token: str) -> None:
    body = mock.get(f"{CODEMIE}/v1/assistants", headers=bearer(token)).json()
    ids = [a["id"] for a in body["data"]]
    assert DEMO.assistant_id in ids and PRIVATE_ID not in ids
    assert body["pagination"] == {"page": 0, "per_page": 12, "total": len(ids), "pages": 1}
    page = mock.get(f"{CODEMIE}/v1/assistants?per_page=1&page=1&minimal_response=true", headers=bearer(token)).json()
    assert len(page["data"]) == 1 and page["pagination"]["pages"] == len(ids)
    assert "system_prompt" not in page["data"][0]


def test_assistants_filters_and_scope(mock: ASGIClient, token: str) -> None:
    r = mock.get(f"{CODEMIE}/v1/assistants", params={"filters": json.dumps({"slug": DEMO.assistant_slug})},
                 headers=bearer(token))
    assert [a["id"] for a in r.json()["data"]] == [DEMO.assistant_id]
    r = mock.get(f"{CODEMIE}/v1/assistants?scope=marketplace", headers=bearer(token))
    assert all(a["is_global"] for a in r.json()["data"])
    assert mock.get(f"{CODEMIE}/v1/assistants?scope=everything", headers=bearer(token)).status_code == 422


@pytest.mark.parametrize("filters", ["{not json", "[1]"])
def test_bad_filters_are_400(mock: ASGIClient, token: str, filters: str) -> None:
    r = mock.get(f"{CODEMIE}/v1/assistants", params={"filters": filters}, headers=bearer(token))
    assert r.status_code == 400
    assert_envelope(r.json())
    assert r.json()["error"]["message"] == "Invalid filters"


def test_assistant_by_id(mock: ASGIClient, token: str) -> None:
    body = mock.get(f"{CODEMIE}/v1/assistants/id/{DEMO.assistant_id}", headers=bearer(token)).json()
    assert body["id"] == DEMO.assistant_id and body["slug"] == DEMO.assistant_slug and "system_prompt" in body


def test_llm_models_user_info_healthcheck(mock: ASGIClient, token: str) -> None:
    models = mock.get(f"{CODEMIE}/v1/llm_models", headers=bearer(token)).json()
    assert all("base_name" in m for m in models)
    user = mock.get(f"{CODEMIE}/v1/user", headers=bearer(token)).json()
    assert user["username"] == DEMO.username and user["applications"] == ["demo"]
    assert user["projects"][0]["name"] == "demo"
    assert mock.get(f"{CODEMIE}/v1/user").status_code == 401
    assert mock.get(f"{CODEMIE}/v1/info").json()["message"] == "Codemie"
    assert mock.get(f"{CODEMIE}/v1/healthcheck").json()["status"] == "healthy"


@pytest.mark.parametrize(("path", "title"), [(f"{CODEMIE}/openapi.json", "Codemie"),
                                             (f"{DEMO.keycloak_prefix}/openapi.json", None)])
def test_contract_is_served_as_json(mock: ASGIClient, path: str, title: str | None) -> None:
    r = mock.get(path)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    if title:
        assert doc["info"]["title"] == title


def test_a_missing_contract_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, mock: ASGIClient,
                                             tmp_path: Any) -> None:
    monkeypatch.setattr("apigate.mocks._common.contract_path", lambda api: tmp_path / f"{api}.openapi.yaml")
    r = mock.get(f"{CODEMIE}/openapi.json")
    assert r.status_code == 500 and "not found" in r.json()["detail"]


# ---- contract breaks ------------------------------------------------------------------------------------------

def broken(make_mock: Callable[..., ASGIClient], name: str) -> tuple[ASGIClient, str]:
    mock = make_mock(breaks=frozenset({name}))
    return mock, password_token(mock)


def test_break_chat_wrong_type(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.chat.wrong_type")
    assert isinstance(mock.post(CHAT, json={}, headers=bearer(token)).json()["timeElapsed"], str)


def test_break_chat_missing_key(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.chat.missing_key")
    assert "generated" not in mock.post(CHAT, json={}, headers=bearer(token)).json()


def test_break_chat_status_201(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.chat.status_201")
    assert mock.post(CHAT, json={}, headers=bearer(token)).status_code == 201


def test_break_error_envelope(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.error.envelope")
    assert set(mock.post(CHAT, json={}).json()) == {"detail"}
    assert set(mock.post(CHAT, json={"stream": 2}, headers=bearer(token)).json()) == {"detail"}


def test_break_auth_not_enforced(make_mock: Callable[..., ASGIClient]) -> None:
    mock, _ = broken(make_mock, "codemie.auth.not_enforced")
    assert mock.post(CHAT, json={}).status_code == 200


@pytest.mark.parametrize(("name", "case"), [("codemie.auth.expired_accepted", "expired"),
                                            ("codemie.auth.any_issuer", "wrong issuer"),
                                            ("codemie.auth.any_key", "other key")])
def test_break_auth_accepts_bad_tokens(make_mock: Callable[..., ASGIClient], realm_key: RealmKey, name: str,
                                       case: str) -> None:
    mock, _ = broken(make_mock, name)
    bad = _bad_tokens(realm_key)
    assert mock.post(CHAT, json={}, headers=bearer(bad[case])).status_code == 200
    others = [c for c in ("expired", "wrong issuer", "other key") if c != case]
    assert all(mock.post(CHAT, json={}, headers=bearer(bad[c])).status_code == 401 for c in others)


def test_break_500_on_input(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.chat.500_on_input")
    assert mock.post(CHAT, json={"text": "héllo"}, headers=bearer(token)).status_code == 500
    assert mock.post(CHAT, json={"text": "hello"}, headers=bearer(token)).status_code == 200


def test_break_assistants_pagination(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.assistants.pagination")
    assert "pagination" not in mock.get(f"{CODEMIE}/v1/assistants", headers=bearer(token)).json()


def test_break_validation_lax(make_mock: Callable[..., ASGIClient]) -> None:
    mock, token = broken(make_mock, "codemie.validation.lax")
    for top_k in (None, "ten", 1.5, []):
        assert mock.post(CHAT, json={"top_k": top_k}, headers=bearer(token)).status_code == 200
    assert mock.post(CHAT, json={"stream": 2}, headers=bearer(token)).status_code == 422


def _stream(make_mock: Callable[..., ASGIClient], name: str, **values: Any) -> tuple[str, list[dict[str, Any]]]:
    mock = make_mock(breaks=frozenset({name}), chunks=3, **values)
    r = mock.post(CHAT, json={"text": "hi", "stream": True}, headers=bearer(password_token(mock)))
    assert r.status_code == 200
    return r.headers["content-type"], decode_ndjson(r.content)


def test_break_stream_no_terminal(make_mock: Callable[..., ASGIClient]) -> None:
    _, chunks = _stream(make_mock, "codemie.stream.no_terminal")
    assert len(chunks) == 3 and not any(c["last"] for c in chunks)


def test_break_stream_content_type(make_mock: Callable[..., ASGIClient]) -> None:
    content_type, chunks = _stream(make_mock, "codemie.stream.content_type")
    assert content_type.startswith("text/plain") and chunks[-1]["last"] is True


def test_break_stream_final_mismatch(make_mock: Callable[..., ASGIClient]) -> None:
    _, chunks = _stream(make_mock, "codemie.stream.final_mismatch")
    assert chunks[-1]["generated"] != "".join(c["thought"]["message"] for c in chunks[:-1])


def test_break_stream_after_end(make_mock: Callable[..., ASGIClient]) -> None:
    _, chunks = _stream(make_mock, "codemie.stream.after_end")
    assert [c["last"] for c in chunks] == [False, False, False, True, False]


def test_every_codemie_and_keycloak_break_has_a_test() -> None:
    from pathlib import Path

    from apigate.mocks import BREAKS

    here = Path(__file__).parent
    text = "".join(p.read_text() for p in (*here.glob("test_codemie*.py"), here / "test_keycloak.py"))
    mine = [b for b in BREAKS if b.startswith(("codemie.", "keycloak."))]
    assert [b for b in mine if f'"{b}"' not in text] == []
