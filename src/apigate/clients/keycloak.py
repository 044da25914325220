"""Keycloak OIDC tokens for CodeMie: password, client_credentials and refresh_token grants, with a shared cache.

:class:`KeycloakAuth` caches the token set and renews it ``skew`` seconds (30 by default, at most half the
lifetime) before the access token expires: with the refresh token when there is a live one, falling back to a new
login when the refresh is rejected (400/401 ``invalid_grant``: session expired or revoked). It is safe to share
between threads and gevent greenlets (``threading.Lock`` is patched by gevent): many callers needing a new token
cause exactly one token request. The clock is injectable so tests move time instead of sleeping.

Token requests are retried on 429/502/503/504 and connection failures (they change no server state worth
protecting). Issued tokens are wrapped in :class:`~apigate.redact.Secret` (and thereby registered for redaction).

A refused login (wrong password, unknown or disabled user or client, wrong secret: OAuth ``invalid_grant``,
``invalid_client`` or ``unauthorized_client``) raises :class:`~apigate.errors.UnauthorizedError` whatever the status:
Keycloak 26 answers most of these 400 where older versions answered 401 (``.status`` keeps what was answered).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

import httpx

from apigate.clients._http import HttpSession, RetryPolicy, Timeouts, read_json
from apigate.clients.models import TokenSet
from apigate.config import Target
from apigate.errors import BadRequestError, ConfigError, HTTPError, UnauthorizedError
from apigate.redact import Secret

__all__ = ["Grant", "KeycloakAuth"]

Grant = Literal["password", "client_credentials"]
# OAuth error codes with which Keycloak refuses the credentials of a login (RFC 6749 §5.2)
REFUSED_CREDENTIALS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


def _secret(value: Secret | str | None) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(value)


class KeycloakAuth:
    """Tokens from ``token_url`` (``{server}/realms/{realm}/protocol/openid-connect/token``).

    ``grant`` defaults to ``password`` when a username is given, else ``client_credentials``.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        *,
        client_secret: Secret | str | None = None,
        username: str | None = None,
        password: Secret | str | None = None,
        grant: Grant | None = None,
        scope: str | None = None,
        skew: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = _secret(client_secret)
        self.username = username
        self.password = _secret(password)
        self.grant: Grant = grant or ("password" if username else "client_credentials")
        if self.grant == "password" and (not username or self.password is None):
            raise ConfigError("Keycloak password grant needs a username and a password")
        if self.grant == "client_credentials" and self.client_secret is None:
            raise ConfigError("Keycloak client_credentials grant needs a client secret")
        self.scope = scope
        self.skew = skew
        self.clock = clock
        self.http = HttpSession(
            token_url, service="keycloak", transport=transport, client=client, timeouts=timeouts, retry=retry,
            sleep=sleep, rng=rng,
        )
        self._lock = threading.Lock()
        self._tokens: TokenSet | None = None
        self._generation = 0
        self.requests = 0  # token requests sent by this object (grants, refreshes)

    @classmethod
    def from_target(cls, target: Target, *, grant: Grant | None = None, **kwargs: Any) -> KeycloakAuth:
        """The CodeMie credentials of ``target`` against its Keycloak (``kwargs``: transport, clock, ...)."""
        cm = target.codemie
        return cls(
            target.keycloak.token_url,
            cm.client_id,
            client_secret=cm.client_secret,
            username=cm.username,
            password=cm.password,
            grant=grant or ("password" if cm.username else "client_credentials"),
            **kwargs,
        )

    def __repr__(self) -> str:
        who = f", username={self.username!r}" if self.grant == "password" else ""
        return f"KeycloakAuth({self.token_url!r}, client_id={self.client_id!r}, grant={self.grant!r}{who})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> KeycloakAuth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- cached tokens (TokenProvider) -------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    def token(self) -> str:
        """A valid access token (revealed, for the Authorization header), renewed when it is about to expire."""
        return self.token_set().access_token.reveal()

    def token_set(self) -> TokenSet:
        tokens = self._tokens
        if tokens is not None and self._fresh(tokens):
            return tokens
        with self._lock:
            tokens = self._tokens
            if tokens is not None and self._fresh(tokens):
                return tokens
            return self._renew(tokens)

    def invalidate(self, token: str) -> None:
        with self._lock:
            tokens = self._tokens
            if tokens is not None and tokens.access_token.reveal() == token:
                self._tokens = replace(tokens, expires_at=float("-inf"))

    def login(self) -> TokenSet:
        """A new grant of the configured kind, cached."""
        with self._lock:
            return self._store(self.issue())

    def refresh(self) -> TokenSet:
        """Renew now: the refresh_token grant when possible, else (or when it is rejected) a new login."""
        with self._lock:
            return self._renew(self._tokens)

    def _fresh(self, tokens: TokenSet) -> bool:
        skew = min(self.skew, tokens.lifetime / 2)
        return self.clock() < tokens.expires_at - skew

    def _renew(self, tokens: TokenSet | None) -> TokenSet:
        if tokens is not None and tokens.refresh_token is not None and (
            tokens.refresh_expires_at is None or self.clock() < tokens.refresh_expires_at
        ):
            try:
                return self._store(self.refresh_grant(tokens.refresh_token))
            except (BadRequestError, UnauthorizedError):
                pass  # refresh token expired or revoked: log in again
        return self._store(self.issue())

    def _store(self, tokens: TokenSet) -> TokenSet:
        self._tokens = tokens
        self._generation += 1
        return tokens

    # -- single grants (not cached) ----------------------------------------------------------------------------
    def issue(self) -> TokenSet:
        """One grant of the configured kind, not cached (what a token-issuance benchmark measures)."""
        if self.grant == "password":
            return self.password_grant()
        return self.client_credentials_grant()

    def password_grant(self) -> TokenSet:
        if not self.username or self.password is None:
            raise ConfigError("Keycloak password grant needs a username and a password")
        form = {
            "grant_type": "password",
            "client_id": self.client_id,
            "username": self.username,
            "password": self.password.reveal(),
        }
        return self._grant(form)

    def client_credentials_grant(self) -> TokenSet:
        if self.client_secret is None:
            raise ConfigError("Keycloak client_credentials grant needs a client secret")
        return self._grant({"grant_type": "client_credentials", "client_id": self.client_id})

    def refresh_grant(self, refresh_token: Secret | str) -> TokenSet:
        token = refresh_token.reveal() if isinstance(refresh_token, Secret) else refresh_token
        return self._grant({"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": token})

    def _grant(self, form: dict[str, str]) -> TokenSet:
        if self.client_secret is not None:
            form["client_secret"] = self.client_secret.reveal()
        if self.scope and form["grant_type"] != "refresh_token":
            form["scope"] = self.scope
        issued_at = self.clock()
        self.requests += 1
        try:
            response = self.http.request(
                "POST", self.token_url, form=form, headers={"Accept": "application/json"}, safe=True
            )
        except BadRequestError as exc:
            if form["grant_type"] != "refresh_token" and exc.code in REFUSED_CREDENTIALS:
                raise _as_refused(exc) from exc
            raise
        return TokenSet.from_oidc(read_json(response), issued_at=issued_at, where=f"POST {self.http.url(self.token_url)}")


def _as_refused(exc: HTTPError) -> UnauthorizedError:
    """A login Keycloak refused with 400 (its current status for ``invalid_grant``), as the 401 it used to be."""
    return UnauthorizedError(
        exc.message, status=exc.status, method=exc.method, url=exc.url, body=exc.body, text=exc.text,
        request_id=exc.request_id, retry_after=exc.retry_after, code=exc.code, details=exc.details, help=exc.help,
        service=exc.service, attempts=exc.attempts,
    )
