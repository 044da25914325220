"""Keycloak's token endpoint, row by row: each documented error → its status and ``{error, error_description}``;
a successful grant → a complete body whose access token verifies against the realm's JWKS; userinfo's refusal of a
token without the ``openid`` scope; an unknown realm on every operation.

Statuses follow what Keycloak 26.7 was observed to answer, widened where older versions answered otherwise (a wrong
password or unknown user: 400 now, 401 before; a missing client_id: 401 now, 400 before).

Rows that need particular accounts (a disabled user or client, a client without direct access grants or without a
service account, a second client) are probed when the target's Keycloak holds the demo accounts: the embedded mock,
or a live Keycloak tested without live CodeMie credentials, which must then have the realm of
``tests/keycloak/realm-codemie-prod.json``. The confidential-client rows use the target's confidential client when
it has one, else the demo one under the same condition.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlencode

import jwt

from apigate.config import DEMO, Target
from apigate.contract import tokens
from apigate.contract.idp import TokenSupply
from apigate.contract.probe import Exchange, Prober
from apigate.errors import ContractViolation
from apigate.redact import Secret

__all__ = ["probe_keycloak"]

TOKEN_OP: Final = "POST /realms/{realm}/protocol/openid-connect/token"
CERTS_OP: Final = "GET /realms/{realm}/protocol/openid-connect/certs"
DISCOVERY_OP: Final = "GET /realms/{realm}/.well-known/openid-configuration"
USERINFO_OP: Final = "GET /realms/{realm}/protocol/openid-connect/userinfo"
SUCCESS_KEYS: Final = ("access_token", "expires_in", "refresh_expires_in", "token_type", "not-before-policy", "scope")
# the test realm's (and the embedded mock's) accounts besides the demo user and clients
DISABLED_USER: Final = {"username": "disabled", "password": "disabled-password"}
NO_DIRECT_ACCESS_CLIENT: Final = {"client_id": "api-no-direct-access", "client_secret": "no-direct-secret"}
DISABLED_CLIENT: Final = {"client_id": "api-disabled", "client_secret": "disabled-secret"}
NO_SERVICE_ACCOUNT_CLIENT: Final = {"client_id": "api-no-service-account", "client_secret": "no-sa-secret"}
FORM: Final = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}

Row = tuple[str, dict[str, str], tuple[int, ...], str, str | None]  # name, form, statuses, error, description


def _error_row(prober: Prober, statuses: tuple[int, ...], error: str,
               description: str | None = None) -> Callable[[Exchange], None]:
    base = prober.expect_error(statuses)

    def judge(exchange: Exchange) -> None:
        base(exchange)
        body = exchange.json()
        if body.get("error") != error:
            raise ContractViolation("wrong OAuth error code", expected=error, actual=body.get("error"))
        if description is not None and body.get("error_description") != description:
            raise ContractViolation("wrong error_description", expected=description,
                                    actual=body.get("error_description"))

    return judge


def _bearer_refusal(prober: Prober, status: int, error: str) -> Callable[[Exchange], None]:
    """RFC 6750 §3: ``status``, and a Bearer challenge in ``WWW-Authenticate`` naming ``error``."""
    base = prober.expect_error(status)

    def judge(exchange: Exchange) -> None:
        base(exchange)
        challenge = exchange.response_headers.get("www-authenticate", "")
        if not challenge.lower().startswith("bearer") or f'error="{error}"' not in challenge:
            raise ContractViolation("no Bearer challenge naming the error", expected=f'Bearer ... error="{error}"',
                                    actual=challenge or None)

    return judge


def probe_keycloak(prober: Prober, target: Target, supply: TokenSupply | None = None) -> None:
    """Every explicit Keycloak check; ``supply`` (the run's token supply) lends the expired refresh token."""
    kc = target.keycloak
    cm = target.codemie
    url = kc.token_url
    demo_accounts = not cm.live  # the embedded mock's accounts, or a live Keycloak with the test realm
    public_client = cm.client_id if cm.client_secret is None else (DEMO.public_client if demo_accounts else None)
    confidential: tuple[str, str] | None = None
    if cm.client_secret is not None:
        confidential = (cm.client_id, cm.client_secret.reveal())
    elif demo_accounts:
        confidential = (DEMO.confidential_client, DEMO.client_secret)
    user = (cm.username, cm.password.reveal()) if cm.username and cm.password is not None else None
    client_form = {"client_id": cm.client_id, **_secret_field(cm.client_secret)}
    login = _login_form(target)

    def post(form: Mapping[str, str], token_url: str = url) -> Exchange:
        return prober.send("POST", token_url, form=form, headers={"Accept": "application/json"})

    rows: list[Row] = [
        ("keycloak.missing_grant_type", {"client_id": cm.client_id}, (400,), "invalid_request", None),
        ("keycloak.unsupported_grant_type", {"grant_type": "apigate_unknown", "client_id": cm.client_id}, (400,),
         "unsupported_grant_type", None),
        ("keycloak.missing_client_id", {"grant_type": "password", "username": "x", "password": "y"}, (400, 401),
         "invalid_client", None),
        ("keycloak.unknown_client", {"grant_type": "client_credentials", "client_id": "apigate-no-such-client",
                                     "client_secret": "apigate-wrong"}, (401,), "invalid_client", None),
        ("keycloak.missing_refresh_token", {"grant_type": "refresh_token", **client_form}, (400,), "invalid_request",
         None),
        ("keycloak.refresh_token_not_a_token", {"grant_type": "refresh_token", **client_form,
                                                "refresh_token": "apigate-not-a-refresh-token"}, (400,),
         "invalid_grant", None),
        ("keycloak.unknown_scope", {**login, "scope": "openid apigate-no-such-scope"}, (400,), "invalid_scope", None),
    ]
    if user is not None and public_client is not None:
        password = {"grant_type": "password", "client_id": public_client}
        rows += [
            ("keycloak.wrong_password", {**password, "username": user[0], "password": user[1] + "-apigate-wrong"},
             (400, 401), "invalid_grant", None),
            ("keycloak.unknown_user", {**password, "username": "apigate-no-such-user", "password": "apigate-wrong"},
             (400, 401), "invalid_grant", None),
            ("keycloak.missing_username", {**password, "password": "apigate-wrong"}, (401,), "invalid_request", None),
        ]
    if public_client is not None:
        rows.append(("keycloak.client_credentials_on_public_client",
                     {"grant_type": "client_credentials", "client_id": public_client}, (401,), "unauthorized_client",
                     None))
    if confidential is not None:
        rows.append(("keycloak.wrong_client_secret", {"grant_type": "client_credentials", "client_id": confidential[0],
                                                      "client_secret": confidential[1] + "-apigate-wrong"}, (401,),
                     "unauthorized_client", None))
    if demo_accounts:
        rows += [
            ("keycloak.disabled_user", {"grant_type": "password", "client_id": DEMO.public_client, **DISABLED_USER},
             (400,), "invalid_grant", "Account disabled"),
            ("keycloak.no_direct_access_grants", {"grant_type": "password", **NO_DIRECT_ACCESS_CLIENT,
                                                  "username": DEMO.username, "password": DEMO.password},
             (400,), "unauthorized_client", "Client not allowed for direct access grants"),
            ("keycloak.disabled_client", {"grant_type": "client_credentials", **DISABLED_CLIENT}, (401,),
             "invalid_client", None),
            ("keycloak.client_without_service_account", {"grant_type": "client_credentials",
                                                         **NO_SERVICE_ACCOUNT_CLIENT},
             (401,), "unauthorized_client", "Client not enabled to retrieve service account"),
        ]
    for name, form, statuses, error, description in rows:
        prober.check(TOKEN_OP, name, lambda form=form: post(form),  # type: ignore[misc]
                     _error_row(prober, statuses, error, description))

    prober.check(TOKEN_OP, "keycloak.duplicated_parameter",
                 lambda: prober.send("POST", url, body=(urlencode(login) + "&" + urlencode(client_form)).encode(),
                                     headers=FORM),
                 _error_row(prober, (400,), "invalid_request"))
    prober.check(TOKEN_OP, "keycloak.not_a_form",
                 lambda: prober.send("POST", url, json_body=login, headers={"Accept": "application/json"}),
                 _error_row(prober, (400,), "invalid_request", "Missing form parameter: grant_type"))

    for operation, method, path in ((TOKEN_OP, "POST", "/protocol/openid-connect/token"),
                                    (CERTS_OP, "GET", "/protocol/openid-connect/certs"),
                                    (DISCOVERY_OP, "GET", "/.well-known/openid-configuration"),
                                    (USERINFO_OP, "GET", "/protocol/openid-connect/userinfo")):
        other = f"{kc.url}/realms/apigate-no-such-realm{path}"
        prober.check(operation, "keycloak.unknown_realm",
                     lambda method=method, other=other: prober.send(  # type: ignore[misc]
                         method, other, form=login if method == "POST" else None),
                     _error_row(prober, (404,), "Realm does not exist"))

    # -- success: discovery, JWKS, complete token bodies that verify -------------------------------------------
    def judge_discovery(exchange: Exchange) -> None:
        body = _ok_json(exchange)
        if body.get("issuer") != kc.realm_url:
            raise ContractViolation("discovery issuer is not the realm URL", expected=kc.realm_url,
                                    actual=body.get("issuer"))

    prober.check(DISCOVERY_OP, "keycloak.discovery_issuer", lambda: prober.send("GET", kc.well_known_url),
                 judge_discovery)
    jwks: dict[str, Any] = {}
    prober.check(CERTS_OP, "keycloak.jwks", lambda: prober.send("GET", kc.certs_url),
                 lambda exchange: jwks.update(_ok_json(exchange)))

    grants: list[tuple[str, dict[str, str], bool]] = []
    if user is not None:
        grants.append(("keycloak.password_grant", login, True))
    if confidential is not None:
        grants.append(("keycloak.client_credentials_grant", {"grant_type": "client_credentials",
                                                             "client_id": confidential[0],
                                                             "client_secret": confidential[1]}, False))
    issued: dict[str, dict[str, Any]] = {}
    for name, form, with_refresh in grants:
        def judge(exchange: Exchange, name: str = name, client_id: str = form["client_id"],
                  with_refresh: bool = with_refresh) -> None:
            body = _token_body(exchange, with_refresh)
            _verify(body["access_token"], jwks, kc.realm_url, client_id)
            issued[name] = body

        prober.check(TOKEN_OP, name, lambda form=form: post(form), judge)  # type: ignore[misc]

    refresh = issued.get("keycloak.password_grant", {}).get("refresh_token")
    if refresh is not None:
        refresh_form = {"grant_type": "refresh_token", **client_form, "refresh_token": refresh}
        prober.check(TOKEN_OP, "keycloak.refresh_grant", lambda: post(refresh_form),
                     lambda exchange: _verify(_token_body(exchange, True)["access_token"], jwks, kc.realm_url,
                                              cm.client_id))
        if demo_accounts and confidential is not None and confidential[0] != cm.client_id:
            other_client = {"grant_type": "refresh_token", "client_id": confidential[0],
                            "client_secret": confidential[1], "refresh_token": refresh}
            prober.check(TOKEN_OP, "keycloak.refresh_token_of_another_client", lambda: post(other_client),
                         _error_row(prober, (400,), "invalid_grant"))
    _probe_ended_refresh_tokens(prober, target, login, client_form, supply)
    _probe_userinfo_scope(prober, target, login)


def _probe_ended_refresh_tokens(prober: Prober, target: Target, login: dict[str, str],
                                client_form: dict[str, str], supply: TokenSupply | None) -> None:
    """A refresh token whose session was logged out, and one past its lifetime: 400 ``invalid_grant``."""
    url = target.keycloak.token_url
    if login["grant_type"] != "password":
        _skipped(prober, "keycloak.refresh_token_revoked/expired", "the configured grant issues no refresh token")
        return
    refresh, why = _logged_out_refresh_token(prober, target, login, client_form)
    if refresh is None:
        _skipped(prober, "keycloak.refresh_token_revoked", why)
    else:
        prober.check(TOKEN_OP, "keycloak.refresh_token_revoked",
                     lambda: prober.send("POST", url, form={"grant_type": "refresh_token", **client_form,
                                                            "refresh_token": refresh}),
                     _error_row(prober, (400,), "invalid_grant"))
    if supply is None:
        return
    aged, why = supply.expired_refresh()
    if aged is None:
        _skipped(prober, "keycloak.refresh_token_expired", why)
        return
    prober.check(TOKEN_OP, "keycloak.refresh_token_expired",
                 lambda: prober.send("POST", url, form={"grant_type": "refresh_token", **client_form,
                                                        "refresh_token": aged}),
                 _error_row(prober, (400,), "invalid_grant"))


def _skipped(prober: Prober, check: str, why: str) -> None:
    # the check first: "…/token: <name>" would read as a "token:" header to the redactor
    prober.notes.append(f"{check} skipped ({TOKEN_OP}): {why}")


def _logged_out_refresh_token(prober: Prober, target: Target, login: dict[str, str],
                              client_form: dict[str, str]) -> tuple[str | None, str]:
    """A refresh token whose session the logout endpoint has ended (``None`` and why when there is none)."""
    try:
        issued = prober.send("POST", target.keycloak.token_url, form=login, headers={"Accept": "application/json"})
        refresh = issued.json().get("refresh_token") if issued.status == 200 else None
        if not isinstance(refresh, str):
            return None, f"the password grant answered {issued.status} without a refresh token"
        Secret(refresh)
        ended = prober.send("POST", f"{target.keycloak.realm_url}/protocol/openid-connect/logout",
                            form={**client_form, "refresh_token": refresh})
    except AssertionError as exc:  # no usable answer: the grant checks record that failure themselves
        return None, str(exc)
    if ended.status not in (200, 204):
        return None, f"the logout endpoint answered {ended.status}"
    return refresh, ""


def _probe_userinfo_scope(prober: Prober, target: Target, login: dict[str, str]) -> None:
    """A valid access token without the ``openid`` scope: 403 ``insufficient_scope`` with a Bearer challenge
    (observed on Keycloak 26), or the claims (older versions served such tokens)."""
    refused = _bearer_refusal(prober, 403, "insufficient_scope")

    def judge(exchange: Exchange) -> None:
        if exchange.status == 200 and "sub" in _ok_json(exchange):
            return
        refused(exchange)

    def ask() -> Exchange:
        issued = prober.send("POST", target.keycloak.token_url, form=login, headers={"Accept": "application/json"})
        token = issued.json().get("access_token") if issued.status == 200 else None
        if not isinstance(token, str):
            raise ContractViolation("the configured grant issued no access token", expected=200,
                                    actual=issued.status)
        Secret(token)
        return prober.send("GET", target.keycloak.userinfo_url, headers={"Authorization": f"Bearer {token}"})

    prober.check(USERINFO_OP, "keycloak.userinfo_without_openid_scope", ask, judge)


def _login_form(target: Target) -> dict[str, str]:
    """The configured grant's form, without a scope (so without ``openid``)."""
    cm = target.codemie
    form = {"grant_type": cm.grant, "client_id": cm.client_id, **_secret_field(cm.client_secret)}
    if cm.grant == "password":
        form.update(username=cm.username or "", password=cm.password.reveal() if cm.password is not None else "")
    return form


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
