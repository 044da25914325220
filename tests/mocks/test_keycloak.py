"""The embedded Keycloak: grants, every error row as Keycloak 26.7 answers it, token claims checked with PyJWT
against /certs. (tests/keycloak holds the same mock against a real Keycloak.)"""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest

from apigate.config import DEMO
from apigate.mocks import keycloak
from apigate.mocks.settings import MockSettings

from ._asgi import ASGIClient

REALM = f"/realms/{DEMO.realm}"
TOKEN = f"{REALM}/protocol/openid-connect/token"
CERTS = f"{REALM}/protocol/openid-connect/certs"
USERINFO = f"{REALM}/protocol/openid-connect/userinfo"
ISSUER = f"http://kc.test{REALM}"
PASSWORD = {"grant_type": "password", "client_id": DEMO.public_client, "username": DEMO.username,
            "password": DEMO.password}
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "client_id": DEMO.confidential_client,
                      "client_secret": DEMO.client_secret}

_KEY = keycloak.RealmKey()  # one key for the module: RSA generation is the slow part


def make(settings: MockSettings | None = None) -> ASGIClient:
    return ASGIClient(keycloak.create_app(settings or MockSettings(), key=_KEY), "http://kc.test")


@pytest.fixture(scope="module")
def kc() -> ASGIClient:
    return make()


def decode(kc: ASGIClient, token: str, audience: str = "account") -> dict[str, Any]:
    jwks = kc.get(CERTS).json()
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims: dict[str, Any] = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=audience,
                                        issuer=ISSUER)
    return claims


def test_password_grant_answers_a_complete_token_response(kc: ASGIClient) -> None:
    r = kc.post(TOKEN, data=PASSWORD)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type",
                         "not-before-policy", "session_state", "scope"}  # no id_token without scope openid
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["refresh_expires_in"] == 1800
    claims = decode(kc, body["access_token"])
    assert claims["iss"] == ISSUER and claims["typ"] == "Bearer" and claims["azp"] == DEMO.public_client
    assert claims["preferred_username"] == DEMO.username and claims["email"] == "demo@example.com"
    assert claims["exp"] - claims["iat"] == 300
    assert "developer" in claims["realm_access"]["roles"]
    assert claims["applications"] == ["demo"] and claims["applications_admin"] == ["demo"]
    assert claims["scope"] == body["scope"] == "profile email"
    refresh = jwt.decode(body["refresh_token"], options={"verify_signature": False})
    assert refresh["typ"] == "Refresh" and refresh["sid"] == body["session_state"] == claims["sid"]


def test_scope_openid_adds_an_id_token(kc: ASGIClient) -> None:
    body = kc.post(TOKEN, data={**PASSWORD, "scope": "openid"}).json()
    assert body["scope"] == "openid profile email"
    id_claims = decode(kc, body["id_token"], audience=DEMO.public_client)
    assert id_claims["typ"] == "ID" and id_claims["preferred_username"] == DEMO.username


def test_client_credentials_grant_has_no_refresh_token_nor_session(kc: ASGIClient) -> None:
    r = kc.post(TOKEN, data=CLIENT_CREDENTIALS)
    assert r.status_code == 200
    body = r.json()
    assert "refresh_token" not in body and "session_state" not in body and body["refresh_expires_in"] == 0
    claims = decode(kc, body["access_token"])
    assert claims["azp"] == DEMO.confidential_client
    assert claims["preferred_username"] == f"service-account-{DEMO.confidential_client}"


def test_client_secret_in_a_basic_header_is_accepted(kc: ASGIClient) -> None:
    basic = base64.b64encode(f"{DEMO.confidential_client}:{DEMO.client_secret}".encode()).decode()
    r = kc.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200


def test_refresh_grant_issues_new_tokens_in_the_same_session(kc: ASGIClient) -> None:
    first = kc.post(TOKEN, data=PASSWORD).json()
    r = kc.post(TOKEN, data={"grant_type": "refresh_token", "client_id": DEMO.public_client,
                             "refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    assert r.json()["session_state"] == first["session_state"]
    assert decode(kc, r.json()["access_token"])["preferred_username"] == DEMO.username


def _refresh_token(kc: ASGIClient) -> str:
    token: str = kc.post(TOKEN, data=PASSWORD).json()["refresh_token"]
    return token


ERROR_ROWS = [
    # (what, form, status, error, description)
    ("no grant_type", {"client_id": DEMO.public_client}, 400, "invalid_request", "Missing form parameter: grant_type"),
    ("unknown grant_type", {**PASSWORD, "grant_type": "magic"}, 400, "unsupported_grant_type",
     "Unsupported grant_type"),
    ("no client_id", {"grant_type": "password", "username": "demo", "password": "x"}, 401, "invalid_client",
     "Invalid client or Invalid client credentials"),
    ("empty grant_type", {**PASSWORD, "grant_type": ""}, 400, "unsupported_grant_type", "Unsupported grant_type"),
    ("unknown client", {**PASSWORD, "client_id": "nobody"}, 401, "invalid_client",
     "Invalid client or Invalid client credentials"),
    ("disabled client", {**CLIENT_CREDENTIALS, "client_id": "api-disabled", "client_secret": "disabled-secret"}, 401,
     "invalid_client", "Invalid client or Invalid client credentials"),
    ("wrong secret", {**CLIENT_CREDENTIALS, "client_secret": "wrong"}, 401, "unauthorized_client",
     "Invalid client or Invalid client credentials"),
    ("missing secret", {"grant_type": "client_credentials", "client_id": DEMO.confidential_client}, 401,
     "unauthorized_client", "Invalid client or Invalid client credentials"),
    ("no direct access grants", {**PASSWORD, "client_id": "codemie-ui"}, 400, "unauthorized_client",
     "Client not allowed for direct access grants"),
    ("no direct access grants, confidential", {**PASSWORD, "client_id": "api-no-direct-access",
                                               "client_secret": "no-direct-secret"}, 400, "unauthorized_client",
     "Client not allowed for direct access grants"),
    ("wrong password", {**PASSWORD, "password": "wrong"}, 400, "invalid_grant", "Invalid user credentials"),
    ("missing password", {k: v for k, v in PASSWORD.items() if k != "password"}, 400, "invalid_grant",
     "Invalid user credentials"),
    ("empty username", {**PASSWORD, "username": ""}, 400, "invalid_grant", "Invalid user credentials"),
    ("unknown username", {**PASSWORD, "username": "nobody"}, 400, "invalid_grant", "Invalid user credentials"),
    ("missing username", {k: v for k, v in PASSWORD.items() if k != "username"}, 401, "invalid_request",
     "Missing parameter: username"),
    ("disabled user", {**PASSWORD, "username": "disabled", "password": "disabled-password"}, 400, "invalid_grant",
     "Account disabled"),
    ("disabled user, wrong password", {**PASSWORD, "username": "disabled", "password": "x"}, 400, "invalid_grant",
     "Invalid user credentials"),
    ("client_credentials on a public client", {"grant_type": "client_credentials", "client_id": DEMO.public_client},
     401, "unauthorized_client", "Public client not allowed to retrieve service account"),
    ("client without service account", {"grant_type": "client_credentials", "client_id": "api-no-service-account",
                                        "client_secret": "no-sa-secret"}, 401, "unauthorized_client",
     "Client not enabled to retrieve service account"),
    ("missing refresh_token", {"grant_type": "refresh_token", "client_id": DEMO.public_client}, 400,
     "invalid_request", "No refresh token"),
    ("garbage refresh_token", {"grant_type": "refresh_token", "client_id": DEMO.public_client,
                               "refresh_token": "not-a-token"}, 400, "invalid_grant", "Invalid refresh token"),
    ("unknown scope", {**PASSWORD, "scope": "openid admin"}, 400, "invalid_scope", "Invalid scopes: openid admin"),
]


@pytest.mark.parametrize(("form", "status", "error", "description"), [r[1:] for r in ERROR_ROWS],
                         ids=[r[0] for r in ERROR_ROWS])
def test_token_error_rows(kc: ASGIClient, form: dict[str, str], status: int, error: str, description: str) -> None:
    r = kc.post(TOKEN, data=form)
    assert r.status_code == status
    assert r.json() == {"error": error, "error_description": description}
    assert r.headers["cache-control"] == "no-store"


def test_expired_refresh_token_is_not_active() -> None:
    kc = make(MockSettings(refresh_token_lifetime_s=0))
    r = kc.post(TOKEN, data={"grant_type": "refresh_token", "client_id": DEMO.public_client,
                             "refresh_token": _refresh_token(kc)})
    assert (r.status_code, r.json()) == (400, {"error": "invalid_grant", "error_description": "Token is not active"})


def test_refresh_token_after_logout_is_rejected(kc: ASGIClient) -> None:
    token = _refresh_token(kc)
    assert kc.post(f"{REALM}/protocol/openid-connect/logout",
                   data={"client_id": DEMO.public_client, "refresh_token": token}).status_code == 204
    r = kc.post(TOKEN, data={"grant_type": "refresh_token", "client_id": DEMO.public_client, "refresh_token": token})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    assert r.json()["error_description"] in ("Token is not active", "Session not active")


def test_refresh_token_of_another_client_is_rejected(kc: ASGIClient) -> None:
    r = kc.post(TOKEN, data={**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": _refresh_token(kc)})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("path", [TOKEN, CERTS, USERINFO, "/realms/other/.well-known/openid-configuration"])
def test_unknown_realm_is_404(kc: ASGIClient, path: str) -> None:
    path = path.replace(DEMO.realm, "other")
    r = kc.post(path, data=PASSWORD) if path.endswith("/token") else kc.get(path)
    assert (r.status_code, r.json()) == (404, {"error": "Realm does not exist"})


def test_discovery_document_points_at_the_served_endpoints(kc: ASGIClient) -> None:
    doc = kc.get(f"{REALM}/.well-known/openid-configuration").json()
    assert doc["issuer"] == ISSUER
    assert doc["token_endpoint"] == f"http://kc.test{TOKEN}" and doc["jwks_uri"] == f"http://kc.test{CERTS}"
    assert {"password", "client_credentials", "refresh_token"} <= set(doc["grant_types_supported"])
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    assert len(doc) == 56  # every key Keycloak 26.7 publishes


def test_issuer_follows_the_mount_path_or_the_configured_url() -> None:
    fixed = make(MockSettings(keycloak_url="https://sso.example.com/auth/"))
    claims = jwt.decode(fixed.post(TOKEN, data=PASSWORD).json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"https://sso.example.com/auth{REALM}"


def test_userinfo_needs_a_valid_bearer_token_with_the_openid_scope(kc: ASGIClient) -> None:
    token = kc.post(TOKEN, data={**PASSWORD, "scope": "openid"}).json()["access_token"]
    r = kc.get(USERINFO, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["preferred_username"] == DEMO.username
    assert r.headers["cache-control"] == "no-store, no-cache"
    assert kc.post(USERINFO, data={"access_token": token}).status_code == 200  # the POST form's token
    # refusals are bodiless; WWW-Authenticate says why (RFC 6750 §3)
    missing = kc.get(USERINFO)
    assert (missing.status_code, missing.content) == (401, b"")
    assert missing.headers["www-authenticate"] == f'Bearer realm="{DEMO.realm}"'
    bad = kc.get(USERINFO, headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("text/plain")
    assert 'error="invalid_token", error_description="Token verification failed"' in bad.headers["www-authenticate"]
    without_openid = kc.post(TOKEN, data=PASSWORD).json()["access_token"]
    r = kc.get(USERINFO, headers={"Authorization": f"Bearer {without_openid}"})
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]


def test_unknown_path_and_wrong_method_answer_keycloaks_jax_rs_bodies(kc: ASGIClient) -> None:
    r = kc.get("/realms/codemie-prod/nothing")
    assert (r.status_code, r.json()) == (404, {"error": "HTTP 404 Not Found"})
    r = kc.get(TOKEN)
    assert (r.status_code, r.json()) == (405, {"error": "HTTP 405 Method Not Allowed"})
    assert r.headers["allow"]  # deliberately kept (RFC 9110); Keycloak sends none


def test_options_is_an_empty_200_and_multipart_a_500_like_keycloak(kc: ASGIClient) -> None:
    r = kc.request("OPTIONS", TOKEN)
    assert (r.status_code, r.content) == (200, b"")
    r = kc.post(TOKEN, data=PASSWORD, files={"note": ("note.txt", b"x")})
    assert (r.status_code, r.json()["error"]) == (500, "unknown_error")


def test_duplicated_parameter_is_refused_after_client_authentication(kc: ASGIClient) -> None:
    body = "grant_type=password&client_id=codemie-sdk&username=demo&password=demo-password&username=demo"
    r = kc.post(TOKEN, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, r.json()["error_description"]) == (400, "duplicated parameter")
    r = kc.post(TOKEN, content=body.replace("codemie-sdk", "nobody"),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")


# ---- contract breaks -------------------------------------------------------------------------------------------

def broken(name: str) -> ASGIClient:
    return make(MockSettings(breaks=frozenset({name})))


def test_break_no_expires_in() -> None:
    assert "expires_in" not in broken("keycloak.token.no_expires_in").post(TOKEN, data=PASSWORD).json()


def test_break_error_status() -> None:
    assert broken("keycloak.error.status").post(TOKEN, data={**PASSWORD, "password": "x"}).status_code == 403


def test_break_error_body() -> None:
    r = broken("keycloak.error.body").post(TOKEN, data={**PASSWORD, "password": "x"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")


def test_break_jwks_wrong_key() -> None:
    kc = broken("keycloak.jwks.wrong_key")
    token = kc.post(TOKEN, data=PASSWORD).json()["access_token"]
    (jwk,) = [k for k in kc.get(CERTS).json()["keys"] if k["use"] == "sig"]
    assert jwk["kid"] != jwt.get_unverified_header(token)["kid"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience="account")


def test_break_public_client_credentials() -> None:
    r = broken("keycloak.public_client_cc").post(TOKEN, data={"grant_type": "client_credentials",
                                                               "client_id": DEMO.public_client})
    assert r.status_code == 200 and "access_token" in r.json()
