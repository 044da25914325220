"""Keycloak's token endpoint, row by row: each documented error → its status and ``{error, error_description}``;
a successful grant → a complete body whose access token verifies against the realm's JWKS.

Rows that need an account the target may not have (a disabled user, a client without direct access grants) are
not probed. The confidential-client rows use the target's confidential client when it has one, else the embedded
mock's documented demo client when Keycloak is the mock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Final

import jwt

from apigate.config import DEMO, Target
from apigate.contract import tokens
from apigate.contract.probe import Exchange, Prober
from apigate.errors import ContractViolation
from apigate.redact import Secret

__all__ = ["probe_keycloak"]

TOKEN_OP: Final = "POST /realms/{realm}/protocol/openid-connect/token"
CERTS_OP: Final = "GET /realms/{realm}/protocol/openid-connect/certs"
DISCOVERY_OP: Final = "GET /realms/{realm}/.well-known/openid-configuration"
SUCCESS_KEYS: Final = ("access_token", "expires_in", "refresh_expires_in", "token_type", "not-before-policy", "scope")


def _error_row(prober: Prober, statuses: tuple[int, ...], error: str) -> Any:
    base = prober.expect_error(statuses)

    def judge(exchange: Exchange) -> None:
        base(exchange)
        body = exchange.json()
        if body.get("error") != error:
            raise ContractViolation("wrong OAuth error code", expected=error, actual=body.get("error"))

    return judge


def probe_keycloak(prober: Prober, target: Target) -> None:
    kc = target.keycloak
    cm = target.codemie
    url = kc.token_url
    public_client = cm.client_id if cm.client_secret is None else (None if kc.live else DEMO.public_client)
    confidential: tuple[str, str] | None = None
    if cm.client_secret is not None:
        confidential = (cm.client_id, cm.client_secret.reveal())
    elif not kc.live:
        confidential = (DEMO.confidential_client, DEMO.client_secret)
    user = (cm.username, cm.password.reveal()) if cm.username and cm.password is not None else None

    def post(form: Mapping[str, str], token_url: str = url) -> Exchange:
        return prober.send("POST", token_url, form=form, headers={"Accept": "application/json"})

    rows: list[tuple[str, dict[str, str], tuple[int, ...], str]] = [
        ("keycloak.missing_grant_type", {"client_id": cm.client_id}, (400,), "invalid_request"),
        ("keycloak.unsupported_grant_type", {"grant_type": "apigate_unknown", "client_id": cm.client_id}, (400,),
         "unsupported_grant_type"),
        ("keycloak.missing_client_id", {"grant_type": "password", "username": "x", "password": "y"}, (400,),
         "invalid_client"),
        ("keycloak.unknown_client", {"grant_type": "client_credentials", "client_id": "apigate-no-such-client",
                                     "client_secret": "apigate-wrong"}, (401,), "invalid_client"),
        ("keycloak.refresh_token_not_active", {"grant_type": "refresh_token", "client_id": cm.client_id,
                                               "refresh_token": "apigate-not-a-refresh-token",
                                               **_secret_field(cm.client_secret)}, (400,), "invalid_grant"),
    ]
    if user is not None and public_client is not None:
        rows += [
            ("keycloak.wrong_password", {"grant_type": "password", "client_id": public_client, "username": user[0],
                                         "password": user[1] + "-apigate-wrong"}, (401,), "invalid_grant"),
            ("keycloak.unknown_user", {"grant_type": "password", "client_id": public_client,
                                       "username": "apigate-no-such-user", "password": "apigate-wrong"}, (400, 401),
             "invalid_grant"),
            ("keycloak.missing_username", {"grant_type": "password", "client_id": public_client,
                                           "password": "apigate-wrong"}, (401,), "invalid_request"),
        ]
    if public_client is not None:
        rows.append(("keycloak.client_credentials_on_public_client",
                     {"grant_type": "client_credentials", "client_id": public_client}, (401,), "unauthorized_client"))
    if confidential is not None:
        rows.append(("keycloak.wrong_client_secret", {"grant_type": "client_credentials", "client_id": confidential[0],
                                                      "client_secret": confidential[1] + "-apigate-wrong"}, (401,),
                     "unauthorized_client"))
    for name, form, statuses, error in rows:
        prober.check(TOKEN_OP, name, lambda form=form: post(form), _error_row(prober, statuses, error))  # type: ignore[misc]

    unknown_realm = url.replace(f"/realms/{kc.realm}/", "/realms/apigate-no-such-realm/")
    prober.check(TOKEN_OP, "keycloak.unknown_realm",
                 lambda: post({"grant_type": "password", "client_id": cm.client_id}, unknown_realm),
                 _error_row(prober, (404,), "Realm does not exist"))

    # -- success: discovery, JWKS, complete token bodies that verify -------------------------------------------
    issuer: dict[str, Any] = {}

    def judge_discovery(exchange: Exchange) -> None:
        body = _ok_json(exchange)
        if body.get("issuer") != kc.realm_url:
            raise ContractViolation("discovery issuer is not the realm URL", expected=kc.realm_url,
                                    actual=body.get("issuer"))
        issuer.update(body)

    prober.check(DISCOVERY_OP, "keycloak.discovery_issuer", lambda: prober.send("GET", kc.well_known_url),
                 judge_discovery)
    jwks: dict[str, Any] = {}
    prober.check(CERTS_OP, "keycloak.jwks", lambda: prober.send("GET", kc.certs_url),
                 lambda exchange: jwks.update(_ok_json(exchange)))

    grants: list[tuple[str, dict[str, str], bool]] = []
    if user is not None:
        form = {"grant_type": "password", "client_id": cm.client_id, "username": user[0], "password": user[1],
                **_secret_field(cm.client_secret)}
        grants.append(("keycloak.password_grant", form, True))
    if confidential is not None:
        grants.append(("keycloak.client_credentials_grant", {"grant_type": "client_credentials",
                                                             "client_id": confidential[0],
                                                             "client_secret": confidential[1]}, False))
    refresh: dict[str, str] = {}
    for name, form, with_refresh in grants:
        def judge(exchange: Exchange, client_id: str = form["client_id"], with_refresh: bool = with_refresh) -> None:
            body = _token_body(exchange, with_refresh)
            _verify(body["access_token"], jwks, kc.realm_url, client_id)
            if with_refresh:
                refresh["token"] = body["refresh_token"]
                refresh["client_id"] = client_id

        prober.check(TOKEN_OP, name, lambda form=form: post(form), judge)  # type: ignore[misc]
    if refresh:
        form = {"grant_type": "refresh_token", "client_id": refresh["client_id"], "refresh_token": refresh["token"],
                **_secret_field(cm.client_secret)}
        prober.check(TOKEN_OP, "keycloak.refresh_grant", lambda: post(form),
                     lambda exchange: _verify(_token_body(exchange, True)["access_token"], jwks, kc.realm_url,
                                              refresh["client_id"]))


def _secret_field(secret: Secret | None) -> dict[str, str]:
    return {"client_secret": secret.reveal()} if secret is not None else {}


def _ok_json(exchange: Exchange) -> dict[str, Any]:
    if exchange.status != 200:
        raise ContractViolation(f"answered {exchange.status}", expected=200, actual=exchange.content[:160])
    body = exchange.json()
    if not isinstance(body, dict):
        raise ContractViolation("not a JSON object", expected="object", actual=type(body).__name__)
    return body


def _token_body(exchange: Exchange, with_refresh: bool) -> dict[str, Any]:
    body = _ok_json(exchange)
    for key in ("access_token", "refresh_token", "id_token"):
        if isinstance(body.get(key), str):
            Secret(body[key])  # registered for redaction
    missing = [key for key in (*SUCCESS_KEYS, *(("refresh_token",) if with_refresh else ())) if key not in body]
    if missing:
        raise ContractViolation(f"token response lacks {', '.join(missing)}", expected=list(SUCCESS_KEYS),
                                actual=sorted(body))
    expires_in = body["expires_in"]
    if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
        raise ContractViolation("expires_in is not a positive integer", expected="> 0", actual=expires_in)
    if str(body.get("token_type", "")).lower() != "bearer":
        raise ContractViolation("token_type is not Bearer", expected="Bearer", actual=body.get("token_type"))
    cache = exchange.response_headers.get("cache-control", "")
    if "no-store" not in cache.lower():
        raise ContractViolation("token response may be cached", expected="Cache-Control: no-store", actual=cache)
    return body


def _verify(token: str, jwks: Mapping[str, Any], issuer: str, client_id: str) -> None:
    """The token verifies (RS256) against a key of the realm's JWKS and carries the documented claims."""
    kid = tokens.header(token).get("kid")
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid]
    if not keys:
        raise ContractViolation("the token's kid is not in the realm's JWKS", expected=kid,
                                actual=[k.get("kid") for k in jwks.get("keys", []) if isinstance(k, dict)])
    try:
        key = jwt.PyJWK(dict(keys[0])).key
        claims = jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})
    except jwt.PyJWTError as exc:
        raise ContractViolation("the token does not verify against the realm's JWKS", expected="valid RS256",
                                actual=str(exc)) from None
    if claims.get("iss") != issuer:
        raise ContractViolation("token iss is not the realm URL", expected=issuer, actual=claims.get("iss"))
    for claim in ("sub", "exp", "iat"):
        if claim not in claims:
            raise ContractViolation(f"token lacks the {claim} claim", expected=claim, actual=sorted(claims))
    if claims.get("azp") not in (None, client_id):
        raise ContractViolation("token azp is not the client", expected=client_id, actual=claims.get("azp"))
    if claims["exp"] <= time.time():
        raise ContractViolation("a fresh token is already expired", expected="exp in the future",
                                actual=json.dumps({"exp": claims["exp"]}))
