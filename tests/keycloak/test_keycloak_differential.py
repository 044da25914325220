"""``apigate mock``'s Keycloak against a real Keycloak: the same requests to both, the same answers required.

Each probe is sent to the real server (realm ``realm-codemie-prod.json``) and to ``apigate mock`` (started with the
realm's token lifetimes), each side with tokens it issued itself. Compared is what a client depends on: the status,
``Content-Type``, ``Cache-Control``, ``Pragma``, ``WWW-Authenticate`` and the body — OAuth error bodies exactly,
token answers by keys, types and the non-random values, the claim names and types of issued JWTs, the discovery
document exactly (each server's own URL written as ``{server}``), the JWKS by the kind and fields of its keys,
userinfo exactly except the user's id. Deliberate differences are listed in :data:`DELIBERATE` with the reason
(and in contracts/README.md).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
import jwt
import pytest

from apigate.config import KeycloakTarget

Probe = Callable[["Side"], httpx.Response]
PROBES: dict[str, Probe] = {}

PUBLIC: Final = {"client_id": "codemie-sdk"}
CONFIDENTIAL: Final = {"client_id": "api-demo", "client_secret": "demo-secret"}
PASSWORD: Final = {"grant_type": "password", **PUBLIC, "username": "demo", "password": "demo-password"}
OPENID: Final = {**PASSWORD, "scope": "openid"}
CLIENT_CREDENTIALS: Final = {"grant_type": "client_credentials", **CONFIDENTIAL}

MAX_EXPIRY_WAIT_S: Final = 60.0  # the test realm's sessions last 20 s
# probe name -> why the mock answers differently on purpose (the test requires that it still does)
DELIBERATE: Final[dict[str, str]] = {
    "POST on the discovery document": (
        "Keycloak answers an undeclared method on the discovery path 404 (405 elsewhere); the mock answers 405 with "
        "an Allow header everywhere (RFC 9110), so that schemathesis' unsupported_method check passes on the "
        "embedded mock. No client sends such a request."),
}


def probe(name: str) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        PROBES[name] = fn
        return fn

    return register


@dataclass
class Side:
    """One server under comparison, with the tokens it issued itself."""

    name: str
    target: KeycloakTarget
    http: httpx.Client

    @property
    def oidc(self) -> str:
        return f"{self.target.realm_url}/protocol/openid-connect"

    def token(self, form: dict[str, str], **kwargs: Any) -> httpx.Response:
        return self.http.post(self.target.token_url, data=form, **kwargs)

    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        """A fresh successful grant (its body)."""
        response = self.token(form)
        assert response.status_code == 200, f"{self.name}: {form['grant_type']} grant answered {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def userinfo(self, token: str | None, method: str = "GET") -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.http.request(method, f"{self.oidc}/userinfo", headers=headers)

    def logout(self, refresh_token: str) -> None:
        response = self.http.post(f"{self.oidc}/logout", data={**PUBLIC, "refresh_token": refresh_token})
        assert response.status_code == 204, f"{self.name}: logout answered {response.status_code}"


# ---- the probes --------------------------------------------------------------------------------------------------
# token endpoint: successful grants
probe("password grant, scope openid")(lambda s: s.token(OPENID))
probe("password grant, no scope")(lambda s: s.token(PASSWORD))
probe("password grant by e-mail address")(lambda s: s.token({**PASSWORD, "username": "demo@example.com"}))
probe("client_credentials grant")(lambda s: s.token(CLIENT_CREDENTIALS))
probe("client_credentials, client in a Basic header")(lambda s: s.token(
    {"grant_type": "client_credentials"},
    headers={"Authorization": "Basic " + base64.b64encode(b"api-demo:demo-secret").decode()}))
probe("refresh grant")(lambda s: s.token({"grant_type": "refresh_token", **PUBLIC,
                                          "refresh_token": s.grant(PASSWORD)["refresh_token"]}))
probe("form with a charset parameter")(lambda s: s.http.post(
    s.target.token_url, content=str(httpx.QueryParams(PASSWORD)).encode(),
    headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}))

# token endpoint: every error row
probe("no grant_type")(lambda s: s.token({**PUBLIC}))
probe("unknown grant_type")(lambda s: s.token({**PASSWORD, "grant_type": "magic"}))
probe("empty grant_type")(lambda s: s.token({**PASSWORD, "grant_type": ""}))
probe("no client_id")(lambda s: s.token({k: v for k, v in PASSWORD.items() if k != "client_id"}))
probe("empty client_id")(lambda s: s.token({**PASSWORD, "client_id": ""}))
probe("unknown client")(lambda s: s.token({**CLIENT_CREDENTIALS, "client_id": "apigate-no-such-client"}))
probe("disabled client")(lambda s: s.token({"grant_type": "client_credentials", "client_id": "api-disabled",
                                            "client_secret": "disabled-secret"}))
probe("wrong client secret")(lambda s: s.token({**CLIENT_CREDENTIALS, "client_secret": "wrong"}))
probe("missing client secret")(lambda s: s.token({"grant_type": "client_credentials", "client_id": "api-demo"}))
probe("password grant, public client without direct access grants")(
    lambda s: s.token({**PASSWORD, "client_id": "codemie-ui"}))
probe("password grant, confidential client")(lambda s: s.token({**PASSWORD, **CONFIDENTIAL}))
probe("password grant, confidential client without direct access grants")(
    lambda s: s.token({**PASSWORD, "client_id": "api-no-direct-access", "client_secret": "no-direct-secret"}))
probe("wrong password")(lambda s: s.token({**PASSWORD, "password": "wrong"}))
probe("unknown username")(lambda s: s.token({**PASSWORD, "username": "apigate-no-such-user"}))
probe("no username")(lambda s: s.token({k: v for k, v in PASSWORD.items() if k != "username"}))
probe("empty username")(lambda s: s.token({**PASSWORD, "username": ""}))
probe("no password")(lambda s: s.token({k: v for k, v in PASSWORD.items() if k != "password"}))
probe("disabled user")(lambda s: s.token({**PASSWORD, "username": "disabled", "password": "disabled-password"}))
probe("disabled user, wrong password")(lambda s: s.token({**PASSWORD, "username": "disabled", "password": "x"}))
probe("client_credentials on a public client")(lambda s: s.token({"grant_type": "client_credentials", **PUBLIC}))
probe("client_credentials on a client without service account")(lambda s: s.token(
    {"grant_type": "client_credentials", "client_id": "api-no-service-account", "client_secret": "no-sa-secret"}))
probe("unknown scope")(lambda s: s.token({**PASSWORD, "scope": "openid apigate-no-such-scope"}))
probe("no refresh_token")(lambda s: s.token({"grant_type": "refresh_token", **PUBLIC}))
probe("refresh_token that is not a token")(lambda s: s.token({"grant_type": "refresh_token", **PUBLIC,
                                                              "refresh_token": "apigate-not-a-token"}))
probe("refresh_token of another client")(lambda s: s.token({"grant_type": "refresh_token", **CONFIDENTIAL,
                                                            "refresh_token": s.grant(PASSWORD)["refresh_token"]}))
probe("duplicated form parameter")(lambda s: s.http.post(
    s.target.token_url, content=(str(httpx.QueryParams(PASSWORD)) + "&client_id=codemie-sdk").encode(),
    headers={"Content-Type": "application/x-www-form-urlencoded"}))
probe("JSON body instead of a form")(lambda s: s.http.post(s.target.token_url, json=PASSWORD))
probe("text/plain body")(lambda s: s.http.post(s.target.token_url, content=str(httpx.QueryParams(PASSWORD)),
                                               headers={"Content-Type": "text/plain"}))
probe("multipart form body")(lambda s: s.http.post(s.target.token_url, data=PASSWORD,
                                                   files={"note": ("note.txt", b"x")}))
probe("multipart content type without a boundary")(lambda s: s.http.post(
    s.target.token_url, content=str(httpx.QueryParams(PASSWORD)), headers={"Content-Type": "multipart/form-data"}))
probe("no body")(lambda s: s.http.post(s.target.token_url))


@probe("refresh_token after logout (revoked)")
def _refresh_revoked(s: Side) -> httpx.Response:
    refresh = s.grant(PASSWORD)["refresh_token"]
    s.logout(refresh)
    return s.token({"grant_type": "refresh_token", **PUBLIC, "refresh_token": refresh})


# unknown realm, undeclared methods and paths
def _other_realm(s: Side, tail: str) -> str:
    return f"{s.target.url}/realms/apigate-no-such-realm{tail}"


probe("unknown realm: token")(lambda s: s.http.post(_other_realm(s, "/protocol/openid-connect/token"), data=PASSWORD))
probe("unknown realm: certs")(lambda s: s.http.get(_other_realm(s, "/protocol/openid-connect/certs")))
probe("unknown realm: discovery")(lambda s: s.http.get(_other_realm(s, "/.well-known/openid-configuration")))
probe("unknown realm: userinfo")(lambda s: s.http.get(_other_realm(s, "/protocol/openid-connect/userinfo")))
probe("GET on the token endpoint")(lambda s: s.http.get(s.target.token_url))
probe("PUT on the token endpoint")(lambda s: s.http.put(s.target.token_url, data=PASSWORD))
probe("DELETE on the JWKS")(lambda s: s.http.delete(s.target.certs_url))
probe("PUT on userinfo")(lambda s: s.http.put(s.target.userinfo_url))
probe("TRACE on the JWKS")(lambda s: s.http.request("TRACE", s.target.certs_url))
probe("POST on the discovery document")(lambda s: s.http.post(s.target.well_known_url))
probe("OPTIONS on the token endpoint")(lambda s: s.http.options(s.target.token_url))
probe("unknown path in the realm")(lambda s: s.http.get(f"{s.oidc}/apigate-no-such-endpoint"))

# discovery, JWKS, logout
probe("discovery document")(lambda s: s.http.get(s.target.well_known_url))
probe("JWKS")(lambda s: s.http.get(s.target.certs_url))
probe("logout")(lambda s: s.http.post(f"{s.oidc}/logout", data={**PUBLIC,
                                                                 "refresh_token": s.grant(PASSWORD)["refresh_token"]}))

# userinfo
probe("userinfo, openid token")(lambda s: s.userinfo(s.grant(OPENID)["access_token"]))
probe("userinfo by POST, openid token")(lambda s: s.userinfo(s.grant(OPENID)["access_token"], "POST"))
probe("userinfo by POST, token in the form")(lambda s: s.http.post(
    s.target.userinfo_url, data={"access_token": s.grant(OPENID)["access_token"]}))
probe("userinfo, token in the query")(lambda s: s.http.get(
    s.target.userinfo_url, params={"access_token": s.grant(OPENID)["access_token"]}))
probe("userinfo, lower-case bearer")(lambda s: s.http.get(
    s.target.userinfo_url, headers={"Authorization": "bearer " + s.grant(OPENID)["access_token"]}))
probe("userinfo without a token")(lambda s: s.userinfo(None))
probe("userinfo by POST without a token")(lambda s: s.userinfo(None, "POST"))
probe("userinfo, not a token")(lambda s: s.userinfo("apigate-not-a-token"))
probe("userinfo, Basic credentials")(lambda s: s.http.get(s.target.userinfo_url,
                                                          headers={"Authorization": "Basic ZGVtbzpkZW1v"}))
probe("userinfo, token without the openid scope")(lambda s: s.userinfo(s.grant(PASSWORD)["access_token"]))
probe("userinfo, service account token")(lambda s: s.userinfo(s.grant(CLIENT_CREDENTIALS)["access_token"]))
probe("userinfo, refresh token as bearer")(lambda s: s.userinfo(s.grant(OPENID)["refresh_token"]))
probe("userinfo, id token as bearer")(lambda s: s.userinfo(s.grant(OPENID)["id_token"]))


@probe("userinfo, token of another issuer (other host name)")
def _foreign_issuer(s: Side) -> httpx.Response:
    port = httpx.URL(s.target.url).port
    foreign = s.token(OPENID, headers={"Host": f"localhost:{port}"})
    assert foreign.status_code == 200
    return s.userinfo(foreign.json()["access_token"])


@probe("userinfo after logout")
def _userinfo_after_logout(s: Side) -> httpx.Response:
    tokens = s.grant(OPENID)
    s.logout(tokens["refresh_token"])
    return s.userinfo(tokens["access_token"])


# ---- what is compared -----------------------------------------------------------------------------------------
def _shape(value: Any) -> Any:
    """JSON types and keys, not values (list items as the sorted set of their shapes)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return sorted({json.dumps(_shape(item), sort_keys=True) for item in value})
    return type(value).__name__


def _claims(token: Any) -> Any:
    if not isinstance(token, str) or token.count(".") != 2:
        return _shape(token)
    return {"header": sorted(jwt.get_unverified_header(token)),
            "claims": _shape(jwt.decode(token, options={"verify_signature": False}))}


def _www_authenticate(value: str | None) -> Any:
    if value is None:
        return None
    scheme, _, rest = value.partition(" ")
    params = {}
    for part in rest.split('", '):
        name, _, text = part.partition("=")
        params[name.strip()] = text.strip().strip('"')
    return {"scheme": scheme.lower(), **params}


def _body(side: Side, response: httpx.Response) -> Any:
    text = response.text.replace(side.target.url, "{server}")
    if not text:
        return ""
    try:
        body = json.loads(text)
    except ValueError:
        return {"not JSON": text[:200]}
    if not isinstance(body, dict):
        return _shape(body)
    if "error" in body:
        return body  # OAuth error bodies: exactly
    if "access_token" in body:
        fixed = ("token_type", "not-before-policy", "expires_in", "refresh_expires_in")
        return {"keys": _shape(body), **{key: body.get(key) for key in fixed},
                "scope": sorted(str(body.get("scope", "")).split()),
                **{key: _claims(body[key]) for key in ("access_token", "id_token") if key in body}}
    if "keys" in body:
        return sorted((k.get("kty"), k.get("alg"), k.get("use"), sorted(k)) for k in body["keys"])
    if "issuer" in body:  # the discovery document: exactly, lists in any order
        return {key: sorted(value) if isinstance(value, list) else value for key, value in body.items()}
    if "sub" in body:
        return {**body, "sub": _shape(body["sub"])}
    return _shape(body)


def answer(side: Side, response: httpx.Response) -> dict[str, Any]:
    headers = response.headers
    cache = headers.get("cache-control")
    return {
        "status": response.status_code,
        "content-type": (headers.get("content-type") or "").replace(" ", "").lower() or None,
        "cache-control": sorted(d.strip().lower() for d in cache.split(",")) if cache else None,
        "pragma": headers.get("pragma"),
        "www-authenticate": _www_authenticate(headers.get("www-authenticate")),
        "body": _body(side, response),
    }


@pytest.fixture(scope="module")
def sides(keycloak: KeycloakTarget, mock_keycloak: KeycloakTarget) -> Iterator[tuple[Side, Side]]:
    with httpx.Client(timeout=30.0) as real, httpx.Client(timeout=30.0) as mock:
        yield Side("keycloak", keycloak, real), Side("mock", mock_keycloak, mock)


@pytest.fixture(scope="module", autouse=True)
def aged_tokens(sides: tuple[Side, Side]) -> dict[str, dict[str, Any]]:
    """Tokens issued when this module starts, for the expiry probes at its end (no wait spent twice)."""
    return {side.name: side.grant(OPENID) for side in sides}


def _differences(real: dict[str, Any], mock: dict[str, Any]) -> dict[str, Any]:
    return {key: {"keycloak": real[key], "mock": mock[key]} for key in real if real[key] != mock[key]}


@pytest.mark.parametrize("name", list(PROBES))
def test_mock_answers_like_keycloak(sides: tuple[Side, Side], name: str) -> None:
    real, mock = sides
    want, got = answer(real, PROBES[name](real)), answer(mock, PROBES[name](mock))
    differences = _differences(want, got)
    if name in DELIBERATE:
        assert differences, f"{name}: listed as a deliberate difference, but the mock now answers like Keycloak"
        return
    assert not differences, f"{name}: the mock differs from Keycloak: {json.dumps(differences, indent=1)}"


def test_expired_tokens_are_refused_alike(sides: tuple[Side, Side], aged_tokens: dict[str, dict[str, Any]]) -> None:
    """Refresh and userinfo with tokens past their lifetime (issued when the module started)."""
    expiry = max(jwt.decode(tokens["refresh_token"], options={"verify_signature": False})["exp"]
                 for tokens in aged_tokens.values())
    wait = expiry + 1.0 - time.time()
    assert wait <= MAX_EXPIRY_WAIT_S, (f"refresh tokens expire in {wait:.0f} s: import the realm file as it is "
                                       "(10 s access tokens, 20 s sessions)")
    time.sleep(max(0.0, wait))  # the tokens' own expiry is what is under test
    answers = {}
    for side in sides:
        tokens = aged_tokens[side.name]
        answers[side.name] = {
            "refresh": answer(side, side.token({"grant_type": "refresh_token", **PUBLIC,
                                                "refresh_token": tokens["refresh_token"]})),
            "userinfo": answer(side, side.userinfo(tokens["access_token"])),
        }
    for kind in ("refresh", "userinfo"):
        differences = _differences(answers["keycloak"][kind], answers["mock"][kind])
        assert not differences, f"expired token, {kind}: {json.dumps(differences, indent=1)}"
