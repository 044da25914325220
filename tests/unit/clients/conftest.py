"""Fixtures of the client tests: a strict respx router injected as the transport, a clock, a fake sleep."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from ._support import Clock, Sleeper


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def transport(router: respx.MockRouter) -> httpx.BaseTransport:
    return httpx.MockTransport(router.handler)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()
