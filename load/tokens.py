"""Token issuance: Keycloak password and client_credentials grants, Basejump refresh and access tokens.

Every task issues a token (that is what is measured), so these users do not cache logins.
Run alone with ``locust -f load/tokens.py`` or through ``apigate load --scenario tokens``.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from locust import FastHttpUser, task

from common import TARGET, BasejumpTokens, fail, keycloak_form, keycloak_grants, ok

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class KeycloakTokenUser(FastHttpUser):
    """Keycloak's token endpoint: the password grant and the client_credentials grant, equally weighted."""

    weight = 1
    services = ("keycloak", "keycloak.tokens")
    host = TARGET.keycloak.url

    def on_start(self) -> None:
        self.url = TARGET.keycloak.token_url
        self.bodies = {grant: urlencode(keycloak_form(grant)).encode() for grant in keycloak_grants()}

    def _token(self, grant: str) -> None:
        body = self.bodies.get(grant)
        if body is None:
            return  # not configured for this target (live service without that client)
        name = f"keycloak.token.{grant}"
        t0 = time.perf_counter()
        with self.client.post(self.url, data=body, headers=_FORM, name=name, catch_response=True) as r:
            ms = (time.perf_counter() - t0) * 1000.0
            if r.status_code == 200 and b'"access_token"' in (r.content or b""):
                r.success()
                ok(name, ms)
            else:
                reason = f"HTTP {r.status_code}" if r.status_code else "connection error"
                r.failure(reason)
                fail(name, reason)

    @task
    def password(self) -> None:
        self._token("password")

    @task
    def client_credentials(self) -> None:
        self._token("client_credentials")


class BasejumpTokenUser(FastHttpUser):
    """Basejump's auth endpoints: a refresh token from the API key, an access token from the refresh token."""

    weight = 1
    services = ("basejump",)
    host = TARGET.basejump.url

    def on_start(self) -> None:
        tokens = BasejumpTokens()
        base = TARGET.basejump.url
        query = urlencode({"user_uuid": tokens.user_uuid})
        self.refresh_url = f"{base}/auth/token/?{query}"
        self.access_url = f"{base}/auth/access_token/?{query}"
        self.key_headers = {"client-secret": TARGET.basejump.api_key.reveal()}
        self.refresh_headers = {"Authorization": f"Bearer {tokens.refresh_token}"}

    def _post(self, url: str, headers: dict[str, str], name: str, key: bytes) -> None:
        t0 = time.perf_counter()
        with self.client.post(url, data=b"", headers=headers, name=name, catch_response=True) as r:
            ms = (time.perf_counter() - t0) * 1000.0
            if r.status_code == 200 and key in (r.content or b""):
                r.success()
                ok(name, ms)
            else:
                reason = f"HTTP {r.status_code}" if r.status_code else "connection error"
                r.failure(reason)
                fail(name, reason)

    @task
    def refresh_token(self) -> None:
        self._post(self.refresh_url, self.key_headers, "basejump.token.refresh", b'"refresh_token"')

    @task
    def access_token(self) -> None:
        self._post(self.access_url, self.refresh_headers, "basejump.token.access", b'"access_token"')
