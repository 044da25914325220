"""Keycloak tokens for the suite: the valid one (the clients' auth flow) and genuinely issued bad ones.

* An *expired* token: issued when the run starts and kept; by the time the probes run it has usually expired
  (the embedded mock started by ``apigate contract`` issues short-lived tokens, and so does the test realm of
  ``tests/keycloak``). If it has not, the probe waits for it up to :data:`MAX_EXPIRY_WAIT` seconds, else the check
  is skipped with a note (a live realm's 300 s). The refresh token issued with it is the *expired refresh token*,
  under the same rule (its lifetime is the realm's SSO session idle timeout).
* A *foreign-issuer* token: signed by the realm's real key but with another ``iss``. Keycloak derives the issuer
  from the request's host unless a fixed hostname is configured, so asking for a token under another name of the
  same server (``Host: localhost:<port>`` for ``127.0.0.1:<port>``) yields one; when the issuer does not change
  the check is skipped with a note.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from apigate.clients import KeycloakAuth
from apigate.clients.models import TokenSet
from apigate.config import Target
from apigate.contract import tokens
from apigate.errors import ConnectError
from apigate.redact import Secret, redact

__all__ = ["MAX_EXPIRY_WAIT", "TokenSupply"]

MAX_EXPIRY_WAIT: Final = 15.0


class TokenSupply:
    """Keycloak access tokens of the target's CodeMie credentials."""

    def __init__(self, target: Target, *, scope: str | None = None,
                 sleep: Any = time.sleep, clock: Any = time.time) -> None:
        self.target = target
        self.auth = KeycloakAuth.from_target(target, scope=scope)
        self._sleep = sleep
        self._clock = clock
        self._early: TokenSet | None = None
        self._foreign: tuple[str | None, str] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.auth.close()

    def valid(self) -> str:
        return self.auth.token()

    def start(self) -> None:
        """Issue the tokens that the expiry checks will use once they have expired (call at the start of a run)."""
        self._early = self.auth.issue()

    def _early_tokens(self) -> TokenSet:
        with self._lock:
            if self._early is None:
                self.start()
            assert self._early is not None
            return self._early

    def expired(self) -> tuple[str | None, str]:
        """The early access token once expired (``None`` and why when that would take too long)."""
        return self._aged(self._early_tokens().access_token.reveal(), "access")

    def expired_refresh(self) -> tuple[str | None, str]:
        """The early refresh token once expired (``None`` and why: none was issued, or it lives too long)."""
        refresh = self._early_tokens().refresh_token
        if refresh is None:
            return None, f"the {self.target.codemie.grant} grant issues no refresh token"
        return self._aged(refresh.reveal(), "refresh")

    def _aged(self, token: str, kind: str) -> tuple[str | None, str]:
        claims = tokens.claims(token)
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            return None, f"the issued {kind} token has no numeric exp claim"
        wait = exp + 1.0 - self._clock()
        if wait > MAX_EXPIRY_WAIT:
            return None, (f"{kind} tokens live {int(exp - claims.get('iat', exp))}s; an expired one would take "
                          f"{wait:.0f}s to obtain (run against a realm with short-lived tokens to check expiry)")
        if wait > 0:
            self._sleep(wait)
        return token, ""

    def foreign_issuer(self) -> tuple[str | None, str]:
        with self._lock:
            if self._foreign is None:
                self._foreign = self._issue_foreign()
            return self._foreign

    def _issue_foreign(self) -> tuple[str | None, str]:
        url = self.target.keycloak.token_url
        parts = urlsplit(url)
        host = parts.hostname or ""
        alias = "localhost" if host in ("127.0.0.1", "::1") else ("127.0.0.1" if host == "localhost" else None)
        if alias is None:
            return None, f"no other name for {host} to obtain a token of another issuer from"
        netloc = f"{alias}:{parts.port}" if parts.port else alias
        cm = self.target.codemie
        form = {"grant_type": cm.grant, "client_id": cm.client_id}
        if cm.grant == "password":
            form["username"] = cm.username or ""
            form["password"] = _reveal(cm.password)
        if cm.client_secret is not None:
            form["client_secret"] = cm.client_secret.reveal()
        try:
            response = httpx.post(url, data=form, headers={"Host": netloc}, timeout=30.0)
        except httpx.ConnectError as exc:
            raise ConnectError(f"cannot connect to {url}: {redact(str(exc))}", method="POST", url=url) from exc
        except httpx.TransportError as exc:
            return None, f"token request under Host {netloc} failed: {type(exc).__name__}"
        if response.status_code != 200:
            return None, f"token request under Host {netloc} answered {response.status_code}"
        token = response.json().get("access_token")
        if not isinstance(token, str):
            return None, "token response under another Host had no access_token"
        Secret(token)  # registered for redaction
        issuer = tokens.claims(token).get("iss")
        if issuer == tokens.claims(self.valid()).get("iss"):
            return None, "the realm issues the same iss under every host name (fixed hostname)"
        return token, ""


def _reveal(secret: Secret | None) -> str:
    return secret.reveal() if secret is not None else ""
