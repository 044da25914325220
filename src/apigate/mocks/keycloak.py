"""The embedded Keycloak: the token endpoint of realm ``codemie-prod`` and its OIDC neighbours.

Served (relative to the server URL, e.g. ``http://127.0.0.1:8080/auth``)::

    POST /realms/{realm}/protocol/openid-connect/token      password, client_credentials, refresh_token grants
    POST /realms/{realm}/protocol/openid-connect/logout     ends the session of a refresh token
    GET  /realms/{realm}/protocol/openid-connect/certs      JWKS (the RS256 signing key made at start)
    GET  /realms/{realm}/.well-known/openid-configuration
    GET|POST /realms/{realm}/protocol/openid-connect/userinfo   (Bearer access token)
    GET  /openapi.json                                      the Keycloak contract, as data

Every error row of the facts (status + ``{"error", "error_description"}``) is reproduced, in Keycloak's order of
checks: grant type, then client authentication, then the grant's own parameters.
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
from apigate.mocks.settings import MockSettings

__all__ = ["CLIENTS", "USERS", "Client", "RealmKey", "User", "create_app", "issuer_for"]

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
KNOWN_SCOPES: Final = frozenset(
    {"openid", "profile", "email", "roles", "web-origins", "acr", "basic", "address", "phone", "offline_access"}
)
DEFAULT_SCOPES: Final = ("profile", "email")


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


CLIENTS: Final[Mapping[str, Client]] = {
    c.client_id: c
    for c in (
        Client(DEMO.public_client),  # the SDK's public client
        Client(DEMO.confidential_client, secret=DEMO.client_secret, service_account=True, applications=("demo",)),
        Client("codemie-ui", direct_access=False),  # browser login only
        Client("api-disabled", secret="disabled-secret", enabled=False, service_account=True),
        Client("api-no-service-account", secret="no-sa-secret"),
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


class RealmKey:
    """An RSA 2048 key made at start, its JWK (with a self-signed certificate, as Keycloak publishes) and kid."""

    def __init__(self, name: str = "codemie-prod") -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = self.private_key.public_key()
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
            .sign(self.private_key, hashes.SHA256())
        )
        der = cert.public_bytes(serialization.Encoding.DER)
        numbers = public.public_numbers()
        self.kid = _b64(hashlib.sha256(der).digest())[:43]
        self.jwk: dict[str, Any] = {
            "kid": self.kid,
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "x5c": [base64.b64encode(der).decode()],
            "x5t": _b64(hashlib.sha1(der).digest()),  # noqa: S324 - a certificate thumbprint, as in RFC 7517
            "x5t#S256": _b64(hashlib.sha256(der).digest()),
        }

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

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
        if self.settings.broken("keycloak.error.status") and exc.description == "Invalid user credentials" \
                and status == 401:
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
    def authenticate_client(self, form: Mapping[str, str], authorization: str | None) -> Client:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization[:6].lower() == "basic ":
            try:
                basic_id, _, basic_secret = base64.b64decode(authorization[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise _TokenError(401, "invalid_client", "Invalid client or Invalid client credentials") from None
            client_id, secret = unquote(basic_id), unquote(basic_secret)
        if not client_id:
            raise _TokenError(400, "invalid_client", "Missing client_id parameter")
        client = CLIENTS.get(client_id)
        if client is None or not client.enabled:
            raise _TokenError(401, "invalid_client", "Invalid client or Invalid client credentials")
        if not client.public and secret != client.secret:
            raise _TokenError(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        return client

    def granted_scope(self, requested: str | None) -> list[str]:
        asked = (requested or "").split()
        unknown = [s for s in asked if s not in KNOWN_SCOPES]
        if unknown:
            raise _TokenError(400, "invalid_scope", f"Invalid scopes: {requested}")
        scope = ["openid"] if "openid" in asked else []
        scope += [s for s in (*DEFAULT_SCOPES, *asked) if s != "openid" and s not in scope]
        return scope

    def token(self, form: Mapping[str, str], authorization: str | None, issuer: str) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _TokenError(400, "invalid_request", "Missing form parameter: grant_type")
        if grant_type not in ("password", "client_credentials", "refresh_token"):
            raise _TokenError(400, "unsupported_grant_type", "Unsupported grant_type")
        client = self.authenticate_client(form, authorization)
        if grant_type == "password":
            return self.password_grant(client, form, issuer)
        if grant_type == "client_credentials":
            return self.client_credentials_grant(client, form, issuer)
        return self.refresh_grant(client, form, issuer)

    def password_grant(self, client: Client, form: Mapping[str, str], issuer: str) -> dict[str, Any]:
        if not client.direct_access:
            raise _TokenError(400, "unauthorized_client", "Client not allowed for direct access grants")
        username = form.get("username")
        if not username:
            raise _TokenError(401, "invalid_request", "Missing parameter: username")
        user = USERS.get(username) or next((u for u in USERS.values() if u.email == username), None)
        if user is None:
            raise _TokenError(400, "invalid_grant", "Invalid user credentials")
        if not user.enabled:
            raise _TokenError(400, "invalid_grant", "Account disabled")
        if form.get("password") != user.password:
            raise _TokenError(401, "invalid_grant", "Invalid user credentials")
        scope = self.granted_scope(form.get("scope"))
        return self.issue(client, _user_claims(user), scope, issuer, session=str(uuid.uuid4()), auth_time=int(time.time()))

    def client_credentials_grant(self, client: Client, form: Mapping[str, str], issuer: str) -> dict[str, Any]:
        if client.public and not self.settings.broken("keycloak.public_client_cc"):
            raise _TokenError(401, "unauthorized_client", "Public client not allowed to retrieve service account")
        if not client.service_account and not client.public:
            raise _TokenError(400, "unauthorized_client", "Client not enabled to retrieve service account")
        scope = self.granted_scope(form.get("scope"))
        return self.issue(client, _service_account_claims(client), scope, issuer, session=None, auth_time=None)

    def refresh_grant(self, client: Client, form: Mapping[str, str], issuer: str) -> dict[str, Any]:
        token = form.get("refresh_token")
        if not token:
            raise _TokenError(400, "invalid_request", "Missing parameter: refresh_token")
        claims = self.refresh_claims(token, issuer)
        if claims.get("azp") != client.client_id:
            raise _TokenError(400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
        user = USERS.get(str(claims.get("preferred_username")))
        if user is None or not user.enabled:
            raise _TokenError(400, "invalid_grant", "Session not active")
        return self.issue(client, _user_claims(user), str(claims.get("scope", "")).split(), issuer,
                          session=str(claims["sid"]), auth_time=claims.get("auth_time"))

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

    def issue(
        self, client: Client, subject: dict[str, Any], scope: list[str], issuer: str, *, session: str | None,
        auth_time: int | None,
    ) -> dict[str, Any]:
        now = int(time.time())
        lifetime = self.settings.access_token_lifetime_s
        scope_text = " ".join(scope)
        access = {
            "exp": now + lifetime, "iat": now, "jti": str(uuid.uuid4()), "iss": issuer, "aud": "account",
            "typ": "Bearer", "azp": client.client_id, "acr": "1",
            **({"auth_time": auth_time, "sid": session} if session else {}),
            "allowed-origins": ["/*"],
            "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
            "scope": scope_text,
            **subject,
        }
        answer: dict[str, Any] = {"access_token": self.key.sign(access)}
        if not self.settings.broken("keycloak.token.no_expires_in"):
            answer["expires_in"] = lifetime
        answer["refresh_expires_in"] = self.settings.refresh_token_lifetime_s if session else 0
        if session:
            refresh = {
                "exp": now + self.settings.refresh_token_lifetime_s, "iat": now, "jti": str(uuid.uuid4()),
                "iss": issuer, "aud": issuer, "sub": subject["sub"], "typ": "Refresh", "azp": client.client_id,
                "sid": session, "scope": scope_text, "preferred_username": subject["preferred_username"],
                **({"auth_time": auth_time} if auth_time else {}),
            }
            answer["refresh_token"] = self.key.sign(refresh)
        answer["token_type"] = "Bearer"
        if "openid" in scope:
            id_claims = {k: v for k, v in access.items() if k not in ("scope", "allowed-origins", "resource_access",
                                                                       "realm_access", "acr")}
            id_claims.update(jti=str(uuid.uuid4()), aud=client.client_id, typ="ID")
            answer["id_token"] = self.key.sign(id_claims)
        answer["not-before-policy"] = 0
        if session:
            answer["session_state"] = session
        answer["scope"] = scope_text
        return answer

    def logout(self, form: Mapping[str, str], authorization: str | None, issuer: str) -> None:
        client = self.authenticate_client(form, authorization)
        token = form.get("refresh_token")
        if not token:
            raise _TokenError(400, "invalid_request", "No refresh token")
        claims = self.refresh_claims(token, issuer)
        if claims.get("azp") != client.client_id:
            raise _TokenError(400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
        self.ended_sessions.add(str(claims["sid"]))

    def userinfo(self, authorization: str | None, issuer: str) -> dict[str, Any]:
        if not authorization or authorization[:7].lower() != "bearer ":
            raise _TokenError(401, "invalid_token", "Token not provided")
        try:
            claims = self.key.verify(authorization[7:].strip())
        except jwt.PyJWTError:
            raise _TokenError(401, "invalid_token", "Token verification failed") from None
        if claims.get("typ") != "Bearer" or claims.get("iss") != issuer:
            raise _TokenError(401, "invalid_token", "Token verification failed")
        if claims.get("sid") in self.ended_sessions:
            raise _TokenError(401, "invalid_token", "User session not found or doesn't have client attached on it")
        keys = ("sub", "email_verified", "name", "preferred_username", "given_name", "family_name", "email")
        return {k: claims[k] for k in keys if k in claims}

    def discovery(self, issuer: str) -> dict[str, Any]:
        oidc = f"{issuer}/protocol/openid-connect"
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{oidc}/auth",
            "token_endpoint": f"{oidc}/token",
            "userinfo_endpoint": f"{oidc}/userinfo",
            "end_session_endpoint": f"{oidc}/logout",
            "jwks_uri": f"{oidc}/certs",
            "grant_types_supported": ["password", "client_credentials", "refresh_token"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(KNOWN_SCOPES),
            "claims_supported": ["aud", "sub", "iss", "auth_time", "name", "given_name", "family_name",
                                 "preferred_username", "email", "acr"],
        }


def _user_claims(user: User) -> dict[str, Any]:
    return {
        "sub": user.sub,
        "realm_access": {"roles": ["default-roles-codemie-prod", "offline_access", "uma_authorization", *user.roles]},
        "email_verified": True,
        "name": f"{user.given_name} {user.family_name}",
        "preferred_username": user.username,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "email": user.email,
        "applications": list(user.applications),
        "applications_admin": list(user.applications_admin),
    }


def _service_account_claims(client: Client) -> dict[str, Any]:
    return {
        "sub": str(uuid.uuid5(SERVICE_ACCOUNT_NAMESPACE, client.client_id)),
        "realm_access": {"roles": ["default-roles-codemie-prod", "offline_access", "uma_authorization", "developer"]},
        "clientId": client.client_id,
        "email_verified": False,
        "preferred_username": f"service-account-{client.client_id}",
        "applications": list(client.applications),
        "applications_admin": [],
    }


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        return dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return {}


async def _routing_error(request: Request, exc: Exception) -> Response:
    """Keycloak's own shape for unknown resources and wrong methods (still ``{"error", "error_description"}``)."""
    assert isinstance(exc, HTTPException)
    error = "Unable to find matching target resource method" if exc.status_code == 404 else f"HTTP {exc.status_code} {exc.detail}"
    return JSONAnswer({"error": error, "error_description": "For more on this error consult the server log."},
                      status_code=exc.status_code, headers=exc.headers)


def create_app(settings: MockSettings | None = None, *, key: RealmKey | None = None) -> Starlette:
    """The Keycloak server app (mount it at ``/auth`` for the legacy context path, or serve it at the root)."""
    realm = _Realm(settings or MockSettings(), key or RealmKey())
    contract = ContractDocument("keycloak")

    def known_realm(request: Request) -> str | None:
        name: str = request.path_params["realm"]
        return name if name == realm.name else None

    def no_realm() -> Response:
        return JSONAnswer({"error": "Realm does not exist"}, status_code=404)

    async def token(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        form = await _form(request)
        try:
            answer = realm.token(form, request.headers.get("authorization"), issuer_for(request, realm.settings, name))
        except _TokenError as exc:
            return realm.error(exc)
        return JSONAnswer(answer, headers=NO_STORE)

    async def logout(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        form = await _form(request)
        try:
            realm.logout(form, request.headers.get("authorization"), issuer_for(request, realm.settings, name))
        except _TokenError as exc:
            return realm.error(exc)
        return Response(status_code=204, headers=NO_STORE)

    async def certs(request: Request) -> Response:
        if known_realm(request) is None:
            return no_realm()
        return JSONAnswer(realm.published_jwks(), headers={"Cache-Control": "no-cache"})

    async def discovery(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        return JSONAnswer(realm.discovery(issuer_for(request, realm.settings, name)))

    async def userinfo(request: Request) -> Response:
        name = known_realm(request)
        if name is None:
            return no_realm()
        try:
            answer = realm.userinfo(request.headers.get("authorization"), issuer_for(request, realm.settings, name))
        except _TokenError as exc:
            return JSONAnswer({"error": exc.error, "error_description": exc.description}, status_code=exc.status,
                              headers={"WWW-Authenticate": f'Bearer realm="{name}", error="{exc.error}", '
                                                           f'error_description="{exc.description}"', **NO_STORE})
        return JSONAnswer(answer, headers=NO_STORE)

    oidc = "/realms/{realm}/protocol/openid-connect"
    app = Starlette(
        routes=[
            Route(f"{oidc}/token", token, methods=["POST"]),
            Route(f"{oidc}/logout", logout, methods=["POST"]),
            Route(f"{oidc}/certs", certs, methods=["GET"]),
            Route(f"{oidc}/userinfo", userinfo, methods=["GET", "POST"]),
            Route("/realms/{realm}/.well-known/openid-configuration", discovery, methods=["GET"]),
            Route("/openapi.json", contract.endpoint, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _routing_error},
    )
    app.state.key = realm.key
    app.state.realm = realm
    return app
