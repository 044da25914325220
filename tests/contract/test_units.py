"""The contract suite's own pieces, without a server: envelopes, stream rules, forged tokens, documents, reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import jwt
import pytest

from apigate.contract import tokens
from apigate.contract.codemie_probes import CHAT_OP
from apigate.contract.documents import load_contract
from apigate.contract.envelopes import check_error_body
from apigate.contract.report import render_junit, render_text, summary_document
from apigate.contract.results import ApiResult, ContractResult
from apigate.contract.state import route_missed, stream_check_for
from apigate.errors import ContractViolation

JSON = "application/json"


def _chunk(**values: object) -> dict[str, object]:
    return {"generated_chunk": "", "generated": None, "thought": None, "last": False, "time_elapsed": None, **values}


def _ndjson(*chunks: dict[str, object]) -> bytes:
    return b"".join(json.dumps(c).encode() for c in chunks)


GOOD = (_chunk(generated_chunk="Hel"), _chunk(generated_chunk="lo"), _chunk(last=True, generated="Hello",
                                                                             time_elapsed=0.1))


@pytest.mark.parametrize(("api", "status", "body", "ok"), [
    ("codemie", 401, {"error": {"message": "Authentication failed", "details": "x", "help": None}}, True),
    ("codemie", 422, {"error": {"message": "top_k: bad", "details": []}}, True),
    ("codemie", 401, {"error": {"message": "Authentication failed", "details": "x"}}, False),
    ("codemie", 401, {"detail": "Authentication failed"}, False),
    ("codemie", 405, {"detail": "Method Not Allowed"}, True),
    ("codemie", 404, {"detail": "Not Found"}, False),
    ("keycloak", 401, {"error": "invalid_grant", "error_description": "Invalid user credentials"}, True),
    ("keycloak", 404, {"error": "Realm does not exist"}, True),
    ("keycloak", 400, {"error": "invalid_request"}, False),
    ("keycloak", 401, {"message": "no"}, False),
    ("basejump", 403, {"detail": "A higher level of access is required"}, True),
    ("basejump", 422, {"detail": [{"loc": ["query", "role"], "msg": "bad", "type": "enum"}]}, True),
    ("basejump", 422, {"detail": [{"msg": "bad"}]}, False),
    ("basejump", 401, {"message": "Could not validate credentials"}, False),
])
def test_error_envelopes(api: str, status: int, body: object, ok: bool) -> None:
    raw = json.dumps(body).encode()
    if ok:
        check_error_body(api, status, JSON, raw)
    else:
        with pytest.raises(ContractViolation):
            check_error_body(api, status, JSON, raw)


def test_error_bodies_must_be_json() -> None:
    with pytest.raises(ContractViolation, match="not JSON"):
        check_error_body("keycloak", 400, "text/plain", b"invalid_request")


@pytest.mark.parametrize(("status", "body", "challenge", "ok"), [
    (401, b"", 'Bearer realm="codemie-prod", error="invalid_token"', True),  # Keycloak 26's userinfo refusal
    (403, b"", 'Bearer realm="codemie-prod", error="insufficient_scope"', True),
    (401, b"", None, False),  # no body and no challenge: nothing says why
    (401, b"", 'Basic realm="x"', False),
    (400, b"", 'Bearer realm="codemie-prod"', False),  # only 401/403 are bearer refusals
    (401, b"denied", 'Bearer realm="codemie-prod"', False),  # a body must then be the envelope
])
def test_keycloak_bearer_refusals_may_be_bodiless_challenges(status: int, body: bytes, challenge: str | None,
                                                            ok: bool) -> None:
    def check() -> None:
        check_error_body("keycloak", status, "text/plain;charset=utf-8", body, www_authenticate=challenge)

    if ok:
        check()
    else:
        with pytest.raises(ContractViolation):
            check()


def test_keycloak_routing_answers_carry_no_description() -> None:
    for status, error in ((404, "HTTP 404 Not Found"), (405, "HTTP 405 Method Not Allowed")):
        check_error_body("keycloak", status, JSON, json.dumps({"error": error}).encode())
    with pytest.raises(ContractViolation):
        check_error_body("keycloak", 500, JSON, json.dumps({"error": "unknown_error"}).encode())


def test_fastapi_not_found_is_accepted_only_when_the_route_cannot_match() -> None:
    body = json.dumps({"detail": "Not Found"}).encode()
    check_error_body("codemie", 404, JSON, body, route_missed=route_missed({"assistant_id": "a/b"}))
    assert not route_missed({"assistant_id": "05959338"})


def test_stream_rules_from_the_contract_accept_a_good_stream() -> None:
    rules = stream_check_for(load_contract("codemie"))[CHAT_OP]
    assert rules.media_types == {"application/x-ndjson", "text/event-stream"}
    report = rules.check_body("application/x-ndjson", _ndjson(*GOOD))
    assert report.text == "Hello" and report.chunks == 3
    sse = b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in GOOD)
    assert rules.check_body("text/event-stream", sse).text == "Hello"


@pytest.mark.parametrize(("content_type", "body", "match"), [
    ("text/plain", _ndjson(*GOOD), "undocumented Content-Type"),
    ("application/x-ndjson", _ndjson(*GOOD[:2]), "without a terminal"),
    ("application/x-ndjson", _ndjson(*GOOD, _chunk(generated_chunk="!")), "after the terminal"),
    ("application/x-ndjson", _ndjson(*GOOD[:2], _chunk(last=True, generated="Hi", time_elapsed=1)), "differs"),
    ("application/x-ndjson", _ndjson(_chunk(last="yes", generated="x")), "chunk schema|not a boolean"),
    ("application/x-ndjson", _ndjson({"generated_chunk": "x"}, *GOOD), "chunk schema"),
    ("application/x-ndjson", _ndjson(*GOOD) + b'{"last": tr', "inside a JSON object"),
])
def test_stream_rules_reject_broken_streams(content_type: str, body: bytes, match: str) -> None:
    rules = stream_check_for(load_contract("codemie"))[CHAT_OP]
    with pytest.raises(ContractViolation, match=match):
        rules.check_body(content_type, body)


def test_forged_tokens_do_not_verify_with_the_original_key() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"sub": "u", "iss": "http://idp/realms/r", "exp": 4_000_000_000}, key, algorithm="RS256",
                       headers={"kid": "k1"})
    forged = tokens.resign(token)
    assert tokens.claims(forged) == tokens.claims(token) and tokens.header(forged)["kid"] == "k1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key.public_key(), algorithms=["RS256"])
    assert tokens.header(tokens.unsigned(token))["alg"] == "none"
    for value in tokens.malformed(token).values():
        with pytest.raises(jwt.PyJWTError):
            jwt.decode(value, key.public_key(), algorithms=["RS256"])


def test_documents_are_tagged_and_rewritten_for_schemathesis() -> None:
    raw = load_contract("keycloak").raw()
    assert raw["x-apigate-api"] == "keycloak"
    grants = raw["components"]["schemas"]["OpenIdConfiguration"]["properties"]["grant_types_supported"]
    assert {"contains": {"enum": ["password"]}} in grants["allOf"]
    assert load_contract("keycloak").document is not raw  # the pinned document itself is never edited


def _result() -> ContractResult:
    api = ApiResult("codemie", "http://127.0.0.1:1/code-assistant-api", duration_s=1.0)
    api.record("GET /v1/user", "ignored_auth", None)
    api.record("GET /v1/user", "auth.expired_token", AssertionError("answered 200\nsecond line"),
               curl="curl -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl' http://x")
    api.record("GET /v1/user", "auth.expired_token", AssertionError("answered 200\nsecond line"))  # same finding
    return ContractResult("2026-11-23T10:15:00Z", {"codemie": api.base_url}, {"codemie": api}, 1.5)


def test_results_summary_junit_and_text_are_redacted_and_complete() -> None:
    result = _result()
    assert not result.passed and result.exit_code == 1
    summary = summary_document(result)["contract"]
    assert summary == {"codemie": {"passed": False, "checks": 3, "seed": None, "failures": [{
        "operation": "GET /v1/user", "check": "auth.expired_token", "reason": "answered 200",
        "curl": "curl -H 'Authorization: ***' http://x", "severity": "failure"}], "warnings": [], "known": [],
        "accept_entries": []}}
    text = render_text(result)
    assert "auth.expired_token — answered 200" in text and "eyJ" not in text
    junit = ElementTree.fromstring(render_junit(result).split("?>", 1)[1])
    failures = list(junit.iter("failure"))
    assert len(failures) == 1 and failures[0].get("type") == "auth.expired_token"
    assert "eyJ" not in ElementTree.tostring(junit, encoding="unicode")


def test_default_seed_is_derived_and_random_is_fresh() -> None:
    from apigate.contract.runner import default_seed, resolve_seed

    assert resolve_seed(None) == default_seed() == default_seed()
    assert resolve_seed(5) == 5
    assert len({resolve_seed("random") for _ in range(4)}) > 1
