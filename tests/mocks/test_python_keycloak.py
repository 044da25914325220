"""A real third-party client, python-keycloak, against the mock Keycloak over loopback: it gets tokens by password
and by client credentials and validates them against the JWKS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakPostError

from apigate.config import DEMO
from apigate.mocks import running_mock
from apigate.mocks.serve import MockServer


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with running_mock() as server:
        yield server


def _client(server: MockServer, client_id: str, secret: str | None = None) -> KeycloakOpenID:
    return KeycloakOpenID(server_url=server.urls["keycloak"] + "/", realm_name=DEMO.realm, client_id=client_id,
                          client_secret_key=secret)


def test_password_grant_and_decode_token(server: MockServer) -> None:
    oidc = _client(server, DEMO.public_client)
    tokens = oidc.token(DEMO.username, DEMO.password, scope="openid")
    claims = oidc.decode_token(tokens["access_token"])  # verified against /certs
    assert claims["preferred_username"] == DEMO.username
    assert claims["iss"] == f"{server.urls['keycloak']}/realms/{DEMO.realm}"
    assert oidc.userinfo(tokens["access_token"])["preferred_username"] == DEMO.username
    refreshed = oidc.refresh_token(tokens["refresh_token"])
    assert oidc.decode_token(refreshed["access_token"])["sid"] == claims["sid"]
    assert oidc.well_known()["issuer"] == claims["iss"]


def test_client_credentials_grant_and_decode_token(server: MockServer) -> None:
    oidc = _client(server, DEMO.confidential_client, DEMO.client_secret)
    tokens = oidc.token(grant_type="client_credentials")
    claims = oidc.decode_token(tokens["access_token"])
    assert claims["azp"] == DEMO.confidential_client
    assert "refresh_token" not in tokens


def test_wrong_password_is_a_post_error_as_keycloak_26_answers_it(server: MockServer) -> None:
    # Keycloak 26 refuses a wrong password with 400 invalid_grant (older versions: 401, which python-keycloak
    # raised as KeycloakAuthenticationError); the real-Keycloak tier holds the mock to the real server's answer
    with pytest.raises(KeycloakPostError) as info:
        _client(server, DEMO.public_client).token(DEMO.username, "wrong")
    assert info.value.response_code == 400 and b"invalid_grant" in info.value.response_body
