"""``apigate drift``: against the embedded mock, against stand-in "live" services on loopback, and the Keycloak
discovery check."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from apigate.cli import main
from apigate.config import KeycloakTarget
from apigate.diff import load_document
from apigate.diff.drift import check_discovery
from apigate.resources import contract_path

from ._server import serving

LIVE_CODEMIE_ENV = {
    "APIGATE_CODEMIE_CLIENT_ID": "codemie-sdk",
    "APIGATE_CODEMIE_USERNAME": "someone",
    "APIGATE_CODEMIE_PASSWORD": "not-used-by-drift",
    "APIGATE_CODEMIE_ASSISTANT_ID": "any",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("APIGATE_KEYCLOAK_URL", "APIGATE_CODEMIE_URL", "APIGATE_BASEJUMP_URL", "APIGATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no apigate.toml from the checkout


def _contract(api: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(contract_path(api).read_text(encoding="utf-8"))
    return data


@pytest.mark.slow
def test_no_drift_against_the_embedded_mock(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--api", "all", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["api"] for r in payload["apis"]] == ["codemie", "keycloak", "basejump"]
    for report in payload["apis"]:
        assert report["summary"]["breaking"] == 0, report
        assert report["note"] or report["live"].endswith("/openapi.json")
    codemie = payload["apis"][0]
    assert codemie["note"] is None and codemie["findings"] == []  # the mock serves the contract itself


@pytest.mark.slow
def test_live_keycloak_discovery_of_the_mock_meets_the_contract(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from apigate.mocks import running_mock

    with running_mock() as server:
        monkeypatch.setenv("APIGATE_KEYCLOAK_URL", server.origin + "/auth")
        assert main(["drift", "--api", "keycloak"]) == 0
    out = capsys.readouterr().out
    assert "/auth/realms/codemie-prod/.well-known/openid-configuration" in out
    assert "0 breaking" in out


@pytest.fixture
def live_codemie(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A stand-in live CodeMie on loopback; the test fills ``pages``."""
    pages: dict[str, str] = {}
    with serving(pages) as origin:
        monkeypatch.setenv("APIGATE_KEYCLOAK_URL", origin + "/auth")
        monkeypatch.setenv("APIGATE_CODEMIE_URL", origin + "/code-assistant-api")
        for name, value in LIVE_CODEMIE_ENV.items():
            monkeypatch.setenv(name, value)
        yield pages


def test_live_codemie_that_dropped_a_media_type_and_added_a_field(live_codemie: dict[str, str],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    live = _contract("codemie")
    answer = live["components"]["responses"]["ChatAnswer"]
    assert "application/x-ndjson" in answer["content"]
    del answer["content"]["application/x-ndjson"]
    live["components"]["schemas"]["Info"]["properties"]["build"] = {"type": "string"}
    live_codemie["/code-assistant-api/openapi.json"] = json.dumps(live)
    assert main(["drift", "--api", "codemie", "--format", "json"]) == 1
    [report] = json.loads(capsys.readouterr().out)["apis"]
    found = {(f["severity"], f["rule"], f["location"]) for f in report["findings"]}
    assert found == {
        ("breaking", "response-media-type-removed", "POST /v1/assistants/{assistant_id}/model response 200 application/x-ndjson"),
        ("breaking", "response-media-type-removed", "POST /v1/assistants/slug/{slug}/model response 200 application/x-ndjson"),
        ("compatible", "response-property-added", "GET /v1/info response 200 application/json: body.build"),
    }
    assert [(c["label"], c["findings"]) for c in report["changes"]] == [("response ChatAnswer application/x-ndjson", 2),
                                                                         ("Info.build", 1)]
    [added] = [f for f in report["findings"] if f["rule"] == "response-property-added"]
    assert added["cause"] == {"side": "new", "document": report["live"], "pointer": "#/components/schemas/Info/properties/build",
                              "line": 1, "label": "Info.build"}  # the live document is one line of JSON
    assert added["explanation"] == "Nothing breaks for clients that ignore unknown properties: `build` is new."


def test_live_document_with_mount_point_in_its_paths(live_codemie: dict[str, str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    live = _contract("codemie")
    live["paths"] = {"/code-assistant-api" + p: item for p, item in live["paths"].items()}
    live_codemie["/code-assistant-api/openapi.json"] = json.dumps(live)
    assert main(["drift", "--api", "codemie"]) == 0
    assert "0 change(s)" in capsys.readouterr().out


def test_service_without_a_document_is_reported_not_failed(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    with serving({}) as origin:
        monkeypatch.setenv("APIGATE_BASEJUMP_URL", origin + "/api/v1")
        monkeypatch.setenv("APIGATE_BASEJUMP_API_KEY", "k")
        assert main(["drift", "--api", "basejump"]) == 0
    out = capsys.readouterr().out
    assert "Basejump publishes no OpenAPI document" in out
    assert "apigate contract --api basejump" in out


def test_connection_failure_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with serving({}) as origin:
        pass  # the port is closed again
    monkeypatch.setenv("APIGATE_BASEJUMP_URL", origin + "/api/v1")
    monkeypatch.setenv("APIGATE_BASEJUMP_API_KEY", "k")
    assert main(["drift", "--api", "basejump"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("apigate drift: error: cannot connect to ")
    assert "Traceback" not in err


# -- the discovery check -------------------------------------------------------------------------------------------

KEYCLOAK = KeycloakTarget("https://sso.example.com/auth", "codemie-prod", live=True)
ISSUER = "https://sso.example.com/auth/realms/codemie-prod"
DISCOVERY: dict[str, Any] = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
    "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
    "userinfo_endpoint": f"{ISSUER}/protocol/openid-connect/userinfo",
    "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
    "grant_types_supported": ["password", "client_credentials", "refresh_token"],
    "response_types_supported": ["code"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
}


def _check(discovery: dict[str, Any]) -> set[tuple[str, str, str]]:
    pinned = load_document(str(contract_path("keycloak")))
    return {(f.severity, f.rule, f.where) for f in check_discovery(pinned, discovery, KEYCLOAK)}


def test_discovery_that_meets_the_contract() -> None:
    assert _check(DISCOVERY) == set()


def test_discovery_with_more_than_the_contract_needs_is_compatible() -> None:
    live = copy.deepcopy(DISCOVERY)
    live["grant_types_supported"] += ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"]
    live["id_token_signing_alg_values_supported"] = ["PS256", "RS256", "ES256"]
    assert _check(live) == {
        ("compatible", "discovery-value-added", "grant_types_supported"),
        ("compatible", "discovery-value-added", "id_token_signing_alg_values_supported"),
    }


def test_discovery_missing_what_the_contract_needs() -> None:
    live = copy.deepcopy(DISCOVERY)
    live["grant_types_supported"] = ["password", "refresh_token"]  # no client_credentials
    live["id_token_signing_alg_values_supported"] = ["ES256"]
    del live["jwks_uri"]
    live["token_endpoint"] = f"{ISSUER}/protocol/oauth2/token"
    live["issuer"] = "https://sso.example.com/realms/codemie-prod"  # a Keycloak without the /auth context path
    assert _check(live) == {
        ("breaking", "discovery-value-missing", "grant_types_supported"),
        ("breaking", "discovery-value-missing", "id_token_signing_alg_values_supported"),
        ("compatible", "discovery-value-added", "id_token_signing_alg_values_supported"),
        ("breaking", "discovery-field-missing", "jwks_uri"),
        ("breaking", "discovery-endpoint-moved", "token_endpoint"),
        ("breaking", "discovery-endpoint-moved", "issuer"),
    }


def test_a_discovery_finding_names_its_field_and_what_breaks() -> None:
    live = copy.deepcopy(DISCOVERY)
    del live["jwks_uri"]
    pinned = load_document(str(contract_path("keycloak")))
    [finding] = check_discovery(pinned, live, KEYCLOAK)
    assert finding.cause is not None
    assert (finding.cause.document, finding.cause.pointer) == (KEYCLOAK.well_known_url, "/jwks_uri")
    assert finding.explanation == "Clients that read `jwks_uri` from the discovery document do not find it."
