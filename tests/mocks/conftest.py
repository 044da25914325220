"""Fixtures of the mock tests: one RSA key for the session (generating it is the slow part), in-process clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apigate.mocks.app import build_app
from apigate.mocks.keycloak import RealmKey
from apigate.mocks.settings import MockSettings

from ._asgi import FAST, ORIGIN, ASGIClient, password_token


@pytest.fixture(scope="session")
def realm_key() -> RealmKey:
    return RealmKey()


@pytest.fixture
def settings() -> MockSettings:
    return MockSettings(**FAST)  # type: ignore[arg-type]


@pytest.fixture
def make_mock(realm_key: RealmKey) -> Callable[..., ASGIClient]:
    """``make_mock(**settings)``: the combined origin in-process (instant timings unless overridden)."""

    def make(**values: object) -> ASGIClient:
        return ASGIClient(build_app(MockSettings(**{**FAST, **values}), key=realm_key), ORIGIN)  # type: ignore[arg-type]

    return make


@pytest.fixture
def mock(make_mock: Callable[..., ASGIClient]) -> ASGIClient:
    return make_mock()


@pytest.fixture
def token(mock: ASGIClient) -> str:
    return password_token(mock)
