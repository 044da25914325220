"""The embedded Keycloak: the token endpoint of realm ``codemie-prod`` and its OIDC neighbours.

Served (relative to the server URL, e.g. ``http://127.0.0.1:8080/auth``)::

    POST /realms/{realm}/protocol/openid-connect/token      password, client_credentials, refresh_token grants
    POST /realms/{realm}/protocol/openid-connect/logout     ends the session of a refresh token
    GET  /realms/{realm}/protocol/openid-connect/certs      JWKS (RS256 signing + RSA-OAEP keys made at start)
    GET  /realms/{realm}/.well-known/openid-configuration
    GET|POST /realms/{realm}/protocol/openid-connect/userinfo   (Bearer access token)
    GET  /openapi.json                                      the Keycloak contract, as data

It answers like Keycloak 26.7 with the realm of ``tests/keycloak/realm-codemie-prod.json`` (the differential test
holds it against a real one): every error row (status + ``{"error", "error_description"}``) in Keycloak's order of
checks — grant type, client authentication, duplicated parameters, then the grant's own parameters —, the same
token claims, discovery document and JWKS (a signing and an encryption key), userinfo's bodiless
``WWW-Authenticate`` errors, and Keycloak's JAX-RS bodies for unknown paths and methods. Deliberate differences
are listed in contracts/README.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from apigate.config import DEMO
from apigate.mocks._common import ContractDocument, JSONAnswer
from apigate.mocks._oidc_discovery import discovery_document
from apigate.mocks.settings import MockSettings

__all__ = ["CLIENTS", "USERS", "Client", "RealmKey", "User", "create_app", "issuer_for"]

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
USERINFO_OK: Final = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
DISCOVERY_CACHE: Final = {"Cache-Control": "no-cache, must-revalidate, no-transform, no-store"}
# the client scopes a client of the realm may request (its default and optional scopes), and those that Keycloak
# names in a token's "scope" (roles, web-origins, acr and basic are granted silently)
KNOWN_SCOPES: Final = frozenset({"openid", "profile", "email", "roles", "web-origins", "acr", "basic", "address",
                                 "phone", "offline_access", "organization", "microprofile-jwt"})
SILENT_SCOPES: Final = frozenset({"roles", "web-origins", "acr", "basic"})
DEFAULT_SCOPES: Final = ("profile", "email")
ACCOUNT_ROLES: Final = ("manage-account", "manage-account-links", "view-profile")
INVALID_CLIENT: Final = "Invalid client or Invalid client credentials"
INVALID_USER: Final = "Invalid user credentials"
SERVER_LOG: Final = "For more on this error consult the server log."


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None = None  # None: a public client
    enabled: bool = True
    direct_access: bool = True  # "Direct access grants" (password grant)
    service_account: bool = False  # client_credentials grant
    applications: tuple[str, ...] = ()  # service-account user's CodeMie projects

    @property
    def public(self) -> bool:
        return self.secret is None


@dataclass(frozen=True)
class User:
    username: str
    password: str
    sub: str
    email: str
    given_name: str
    family_name: str
    enabled: bool = True
    roles: tuple[str, ...] = ("developer",)
    applications: tuple[str, ...] = ()
    applications_admin: tuple[str, ...] = ()


# the accounts of tests/keycloak/realm-codemie-prod.json (the realm the real-Keycloak tier imports)
CLIENTS: Final[Mapping[str, Client]] = {
    c.client_id: c
    for c in (
        Client(DEMO.public_client),  # the SDK's public client
        Client(DEMO.confidential_client, secret=DEMO.client_secret, service_account=True, applications=("demo",)),
        Client("api-no-direct-access", secret="no-direct-secret", direct_access=False, service_account=True),
        Client("codemie-ui", direct_access=False),  # browser login only
        Client("api-disabled", secret="disabled-secret", enabled=False, direct_access=False, service_account=True),
        Client("api-no-service-account", secret="no-sa-secret", direct_access=False),
    )
}
USERS: Final[Mapping[str, User]] = {
    u.username: u
    for u in (
        User(DEMO.username, DEMO.password, "8c2e4b1a-6f0d-4c55-9a3e-2d7f3b9e0c11", "demo@example.com", "Demo", "User",
             applications=("demo",), applications_admin=("demo",)),
        User("disabled", "disabled-password", "1f4a0c9e-3b7d-4e21-8d6a-5c0b9e2f7a44", "disabled@example.com",
             "Disabled", "User", enabled=False, applications=("demo",)),
    )
}
SERVICE_ACCOUNT_NAMESPACE: Final = uuid.UUID("6f1c7e3a-0c8e-4d6b-9b1f-2a4e5d6c7b8a")


def _rsa_jwk(private_key: rsa.RSAPrivateKey, name: str, alg: str, use: str) -> dict[str, Any]:
    """The public JWK of ``private_key`` with a self-signed certificate, as Keycloak publishes its realm keys."""
    public = private_key.public_key()
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(private_key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    numbers = public.public_numbers()
    return {
        "kid": _b64(hashlib.sha256(der).digest())[:43],
        "kty": "RSA",
        "alg": alg,
        "use": use,
        "x5c": [base64.b64encode(der).decode()],
        "x5t": _b64(hashlib.sha1(der).digest()),  # noqa: S324 - a certificate thumbprint, as in RFC 7517
        "x5t#S256": _b64(hashlib.sha256(der).digest()),
        "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }


class RealmKey:
    """The realm's RSA 2048 keys made at start: the RS256 signing key (and its kid) and, published beside it as
    Keycloak does, an RSA-OAEP encryption key."""

    def __init__(self, name: str = "codemie-prod") -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = _rsa_jwk(self.private_key, name, "RS256", "sig")
        self.kid: str = self.jwk["kid"]
        encryption_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.encryption_jwk = _rsa_jwk(encryption_key, name, "RSA-OAEP", "enc")

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk, self.encryption_jwk]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this key signed; ``jwt.PyJWTError`` when it is bad or expired."""
        claims: dict[str, Any] = jwt.decode(
            token, self.private_key.public_key(), algorithms=["RS256"], options={"verify_aud": False}
        )
        return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issuer_for(request: Request, settings: MockSettings, realm: str) -> str:
    """``{server}/realms/{realm}``: from ``settings.keycloak_url``, else from the request's origin and mount path."""
    if settings.keycloak_url:
        return f"{settings.keycloak_url.rstrip('/')}/realms/{realm}"
    host = request.headers.get("host") or "localhost"
    return f"{request.url.scheme}://{host}{request.scope.get('root_path', '')}/realms/{realm}"


class _TokenError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class _BearerError(Exception):
    """Userinfo's refusal: a bodiless answer whose ``WWW-Authenticate`` says why (``error`` None: no token)."""

    def __init__(self, status: int, error: str | None = None, description: str = "") -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass(frozen=True)
class _Form:
    """A token request's form: the first value of each parameter (as Keycloak reads it) and whether any repeats."""

    values: Mapping[str, str]
    duplicated: bool = False

    def get(self, name: str) -> str | None:
        return self.values.get(name)


@dataclass
class _Realm:
    settings: MockSettings
    key: RealmKey
    name: str = DEMO.realm
    ended_sessions: set[str] = field(default_factory=set)
    _wrong_key: RealmKey | None = None

    # ---- answers ------------------------------------------------------------------------------------------
    def error(self, exc: _TokenError) -> Response:
        status = exc.status
        if self.settings.broken("keycloak.error.status") and exc.description == INVALID_USER:
            status = 403
        if self.settings.broken("keycloak.error.body"):
            return PlainTextResponse(f"{exc.error}: {exc.description}", status_code=status, headers=NO_STORE)
        return JSONAnswer({"error": exc.error, "error_description": exc.description}, status_code=status,
                          headers=NO_STORE)

    def published_jwks(self) -> dict[str, Any]:
        if self.settings.broken("keycloak.jwks.wrong_key"):
            if self._wrong_key is None:
                self._wrong_key = RealmKey("other")
            return self._wrong_key.jwks
        return self.key.jwks

    # ---- token endpoint -----------------------------------------------------------------------------------
    def authenticate_client(self, form: _Form, authorization: str | None) -> Client:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization[:6].lower() == "basic ":
            try:
                basic_id, _, basic_secret = base64.b64decode(authorization[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise _TokenError(401, "invalid_client", INVALID_CLIENT) from None
            client_id, secret = unquote(basic_id), unquote(basic_secret)
        client = CLIENTS.get(client_id or "")
        if client is None or not client.enabled:  # a missing client_id too (older versions: 400 "Missing client_id")
            raise _TokenError(401, "invalid_client", INVALID_CLIENT)
        if not client.public and secret != client.secret:
            raise _TokenError(401, "unauthorized_client", INVALID_CLIENT)
        return client

    def granted_scope(self, requested: str | None) -> list[str]:
        """The token's scopes (``openid`` first, as requested, then the defaults); ``invalid_scope`` for others."""
        asked = (requested or "").split()
        if any(s not in KNOWN_SCOPES for s in asked):
            raise _TokenError(400, "invalid_scope", f"Invalid scopes: {requested}")
        scope = ["openid"] if "openid" in asked else []
        scope += [s for s in (*DEFAULT_SCOPES, *asked) if s not in SILENT_SCOPES and s not in scope]
        return scope

    def token(self, form: _Form, authorization: str | None, issuer: str) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise _TokenError(400, "invalid_request", "Missing form parameter: grant_type")
        if grant_type not in ("password", "client_credentials", "refresh_token"):
            raise _TokenError(400, "unsupported_grant_type", "Unsupported grant_type")
        client = self.authenticate_client(form, authorization)
        if form.duplicated:
            raise _TokenError(400, "invalid_request", "duplicated parameter")
        if grant_type == "password":
            return self.password_grant(client, form, issuer)
        if grant_type == "client_credentials":
            return self.client_credentials_grant(client, form, issuer)
        return self.refresh_grant(client, form, issuer)

    def password_grant(self, client: Client, form: _Form, issuer: str) -> dict[str, Any]:
        if not client.direct_access:
            raise _TokenError(400, "unauthorized_client", "Client not allowed for direct access grants")
        scope = self.granted_scope(form.get("scope"))
        username = form.get("username")
        if username is None:
            raise _TokenError(401, "invalid_request", "Missing parameter: username")
        user = USERS.get(username) or next((u for u in USERS.values() if u.email == username), None)
        # the password is checked before the account's state: a disabled account is named only to its owner
        if user is None or form.get("password") != user.password:
            raise _TokenError(400, "invalid_grant", INVALID_USER)
        if not user.enabled:
            raise _TokenError(400, "invalid_grant", "Account disabled")
        return self.issue(client, _user_claims(user), scope, issuer, session=_session_id())

    def client_credentials_grant(self, client: Client, form: _Form, issuer: str) -> dict[str, Any]:
        if client.public and not self.settings.broken("keycloak.public_client_cc"):
            raise _TokenError(401, "unauthorized_client", "Public client not allowed to retrieve service account")
        if not client.service_account and not client.public:
            raise _TokenError(401, "unauthorized_client", "Client not enabled to retrieve service account")
        scope = self.granted_scope(form.get("scope"))
        return self.issue(client, _service_account_claims(client), scope, issuer, session=None)

    def refresh_grant(self, client: Client, form: _Form, issuer: str) -> dict[str, Any]:
        token = form.get("refresh_token")
        if token is None:
            raise _TokenError(400, "invalid_request", "No refresh token")
        self.granted_scope(form.get("scope"))
        claims = self.refresh_claims(token, issuer)
        if claims.get("azp") != client.client_id:
            raise _TokenError(400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
        user = USERS.get(str(claims.get("preferred_username")))
        if user is None or not user.enabled:
            raise _TokenError(400, "invalid_grant", "Session not active")
        return self.issue(client, _user_claims(user), str(claims.get("scope", "")).split(), issuer,
                          session=str(claims["sid"]))

    def refresh_claims(self, token: str, issuer: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self.key.private_key.public_key(), algorithms=["RS256"],
                                options={"verify_aud": False, "verify_exp": False})
        except jwt.PyJWTError:
            raise _TokenError(400, "invalid_grant", "Invalid refresh token") from None
        if claims.get("typ") != "Refresh" or claims.get("iss") != issuer or "sid" not in claims:
            raise _TokenError(400, "invalid_grant", "Invalid refresh token")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise _TokenError(400, "invalid_grant", "Token is not active")
        if claims["sid"] in self.ended_sessions:
            raise _TokenError(400, "invalid_grant", "Session not active")
        return claims

    def issue(self, client: Client, subject: dict[str, Any], scope: list[str], issuer: str, *,
              session: str | None) -> dict[str, Any]:
        now = int(time.time())
        lifetime = self.settings.access_token_lifetime_s
        scope_text = " ".join(scope)
        access = {
            "exp": now + lifetime, "iat": now, "jti": f"onrtro:{uuid.uuid4()}", "iss": issuer, "aud": "account",
            "sub": subject["sub"], "typ": "Bearer", "azp": client.client_id, **({"sid": session} if session else {}),
            "acr": "1", "realm_access": subject["realm_access"],
            "resource_access": {"account": {"roles": list(ACCOUNT_ROLES)}}, "scope": scope_text,
            **{k: v for k, v in subject.items() if k not in ("sub", "realm_access")},
        }
        access_token = self.key.sign(access)
        answer: dict[str, Any] = {"access_token": access_token}
        if not self.settings.broken("keycloak.token.no_expires_in"):
            answer["expires_in"] = lifetime
        answer["refresh_expires_in"] = self.settings.refresh_token_lifetime_s if session else 0
        if session:
            refresh = {
                "exp": now + self.settings.refresh_token_lifetime_s, "iat": now, "jti": str(uuid.uuid4()),
                "iss": issuer, "aud": issuer, "sub": subject["sub"], "typ": "Refresh", "azp": client.client_id,
                "sid": session, "scope": scope_text, "preferred_username": subject["preferred_username"],
            }
            answer["refresh_token"] = self.key.sign(refresh)
        answer["token_type"] = "Bearer"
        if "openid" in scope:
            answer["id_token"] = self.key.sign({
                "exp": access["exp"], "iat": now, "jti": str(uuid.uuid4()), "iss": issuer, "aud": client.client_id,
                "sub": subject["sub"], "typ": "ID", "azp": client.client_id,
                **({"sid": session} if session else {}), "at_hash": _at_hash(access_token), "acr": "1",
                **{k: subject[k] for k in _ID_CLAIMS if k in subject},
            })
        answer["not-before-policy"] = 0
        if session:
            answer["session_state"] = session
        answer["scope"] = scope_text
        return answer

    def logout(self, form: _Form, authorization: str | None, issuer: str) -> None:
        client = self.authenticate_client(form, authorization)
        token = form.get("refresh_token")
        if not token:
            raise _TokenError(400, "invalid_request", "No refresh token")
        claims = self.refresh_claims(token, issuer)
        if claims.get("azp") != client.client_id:
            raise _TokenError(400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
        self.ended_sessions.add(str(claims["sid"]))

    def userinfo(self, token: str | None, issuer: str) -> dict[str, Any]:
        """The token's user claims; :class:`_BearerError` in Keycloak's order of checks."""
        if not token:
            raise _BearerError(401)
        try:
            claims = self.key.verify(token)
        except jwt.PyJWTError:
            raise _BearerError(401, "invalid_token", "Token verification failed") from None
        if claims.get("typ") != "Bearer" or claims.get("iss") != issuer:
            raise _BearerError(401, "invalid_token", "Token verification failed")
        if claims.get("sid") in self.ended_sessions:
            raise _BearerError(401, "invalid_token", "user_session_not_found")
        if "openid" not in str(claims.get("scope", "")).split():
            raise _BearerError(403, "insufficient_scope", "Missing openid scope")
        keys = ("sub", "email_verified", "name", "preferred_username", "given_name", "family_name", "email")
        return {k: claims[k] for k in keys if k in claims}


_ID_CLAIMS: Final = ("email_verified", "name", "preferred_username", "given_name", "family_name", "email")


def _session_id() -> str:
    return _b64(uuid.uuid4().bytes + uuid.uuid4().bytes[:2])  # 24 characters, like Keycloak 26's session ids


def _at_hash(access_token: str) -> str:
    """OpenID Connect's ``at_hash``: the left half of the access token's SHA-256, base64url."""
    return _b64(hashlib.sha256(access_token.encode()).digest()[:16])


def _realm_roles(roles: tuple[str, ...]) -> dict[str, list[str]]:
    return {"roles": ["default-roles-codemie-prod", "offline_access", *roles, "uma_authorization"]}


def _applications(**lists: tuple[str, ...]) -> dict[str, list[str]]:
    """CodeMie's project claims, from user attributes: a claim only when the attribute has values."""
    return {name: list(values) for name, values in lists.items() if values}


def _user_claims(user: User) -> dict[str, Any]:
    return {
        "sub": user.sub,
        "realm_access": _realm_roles(user.roles),
        "email_verified": True,
        "name": f"{user.given_name} {user.family_name}",
        "preferred_username": user.username,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "email": user.email,
        **_applications(applications=user.applications, applications_admin=user.applications_admin),
    }


def _service_account_claims(client: Client) -> dict[str, Any]:
    return {
        "sub": str(uuid.uuid5(SERVICE_ACCOUNT_NAMESPACE, client.client_id)),
        "realm_access": _realm_roles(("developer",)),
        "email_verified": False,
        "preferred_username": f"service-account-{client.client_id}",
        **_applications(applications=client.applications),
    }


class _MultipartForm(Exception):
    """Keycloak fails a multipart/form-data body (with a boundary) with a 500 ``unknown_error``."""


async def _form(request: Request) -> _Form:
    """The urlencoded form (what Keycloak reads); any other body is no form at all."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data") and "boundary=" in content_type:
        raise _MultipartForm
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return _Form({})
    pairs = parse_qsl((await request.body()).decode("latin-1"), keep_blank_values=True)
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return _Form(values, duplicated=len(values) < len(pairs))


def _server_error() -> Response:
    return JSONAnswer({"error": "unknown_error", "error_description": SERVER_LOG}, status_code=500)


async def _routing_error(request: Request, exc: Exception) -> Response:
    """Keycloak's JAX-RS answers for an unknown path or a wrong method: ``{"error": "HTTP 404 Not Found"}``.

    The 405 keeps Starlette's ``Allow`` header (Keycloak sends none; RFC 9110 requires it): a deliberate difference.
    """
    assert isinstance(exc, HTTPException)
    return JSONAnswer({"error": f"HTTP {exc.status_code} {exc.detail}"}, status_code=exc.status_code,
                      headers=exc.headers)


def create_app(settings: MockSettings | None = None, *, key: RealmKey | None = None) -> Starlette:
    """The Keycloak server app (mount it at ``/auth`` for the legacy context path, or serve it at the root)."""
    realm = _Realm(settings or MockSettings(), key or RealmKey())
    contract = ContractDocument("keycloak")

    def known_realm(request: Request) -> str | None:
        name: str = request.path_params["realm"]
        return name if name == realm.name else None

    def no_realm() -> Response:
        return JSONAnswer({"error": "Realm does not exist"}, status_code=404)

    def preflight() -> Response:  # Keycloak answers OPTIONS (CORS preflight) with an empty 200
        return Response(status_code=200)

    async def token(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        if request.method == "OPTIONS":
            return preflight()
        try:
            form = await _form(request)
            answer = realm.token(form, request.headers.get("authorization"), issuer_for(request, realm.settings, name))
        except _MultipartForm:
            return _server_error()
        except _TokenError as exc:
            return realm.error(exc)
        return JSONAnswer(answer, headers=NO_STORE)

    async def logout(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        try:
            form = await _form(request)
            realm.logout(form, request.headers.get("authorization"), issuer_for(request, realm.settings, name))
        except _MultipartForm:
            return _server_error()
        except _TokenError as exc:
            return realm.error(exc)
        return Response(status_code=204, headers={"Cache-Control": "no-cache"})

    async def certs(request: Request) -> Response:
        if known_realm(request) is None:
            return no_realm()
        if request.method == "OPTIONS":
            return preflight()
        return JSONAnswer(realm.published_jwks(), headers={"Cache-Control": "no-cache"})

    async def discovery(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        if request.method == "OPTIONS":
            return preflight()
        return JSONAnswer(discovery_document(issuer_for(request, realm.settings, name)), headers=DISCOVERY_CACHE)

    async def userinfo(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        if request.method == "OPTIONS":
            return preflight()
        try:
            token = await _bearer_token(request)
            answer = realm.userinfo(token, issuer_for(request, realm.settings, name))
        except _MultipartForm:
            return _server_error()
        except _BearerError as exc:
            challenge = f'Bearer realm="{name}"'
            if exc.error:
                challenge += f', error="{exc.error}", error_description="{exc.description}"'
            return PlainTextResponse("", status_code=exc.status,
                                     headers={**NO_STORE, "WWW-Authenticate": challenge})
        return JSONAnswer(answer, headers=USERINFO_OK)

    oidc = "/realms/{realm}/protocol/openid-connect"
    app = Starlette(
        routes=[
            Route(f"{oidc}/token", token, methods=["POST", "OPTIONS"]),
            Route(f"{oidc}/logout", logout, methods=["POST"]),
            Route(f"{oidc}/certs", certs, methods=["GET", "OPTIONS"]),
            Route(f"{oidc}/userinfo", userinfo, methods=["GET", "POST", "OPTIONS"]),
            Route("/realms/{realm}/.well-known/openid-configuration", discovery, methods=["GET", "OPTIONS"]),
            Route("/openapi.json", contract.endpoint, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _routing_error},
    )
    app.state.key = realm.key
    app.state.realm = realm
    return app


async def _bearer_token(request: Request) -> str | None:
    """The access token of a userinfo request: a Bearer header, or (POST) the form's ``access_token``."""
    authorization = request.headers.get("authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if request.method == "POST" and not authorization:
        return (await _form(request)).get("access_token") or None
    return None
