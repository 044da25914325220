"""Token issuance: Keycloak password and client_credentials grants, Basejump refresh and access tokens.

Every task issues a token (that is what is measured), so these users do not cache logins.
Run alone with ``locust -f load/tokens.py`` or through ``apigate load --scenario tokens``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from locust import FastHttpUser, task

from common import TARGET, BasejumpTokens, keycloak_form, keycloak_grants, measured_post

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
        measured_post(self, self.url, body, _FORM, f"keycloak.token.{grant}", b'"access_token"')

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
        tokens = BasejumpTokens(user=self)
        base = TARGET.basejump.url
        query = urlencode({"user_uuid": tokens.user_uuid})
        self.refresh_url = f"{base}/auth/token/?{query}"
        self.access_url = f"{base}/auth/access_token/?{query}"
        self.key_headers = {"client-secret": TARGET.basejump.api_key.reveal()}
        self.refresh_headers = {"Authorization": f"Bearer {tokens.refresh_token}"}

    @task
    def refresh_token(self) -> None:
        measured_post(self, self.refresh_url, b"", self.key_headers, "basejump.token.refresh", b'"refresh_token"')

    @task
    def access_token(self) -> None:
        measured_post(self, self.access_url, b"", self.refresh_headers, "basejump.token.access", b'"access_token"')
