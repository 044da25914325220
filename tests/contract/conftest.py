"""The target of the contract tests: live services named by ``APIGATE_*``, else the embedded mock served from a
thread of this process (real sockets: streams are timed). One fixture per API with its known-good state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apigate.config import Target, load_target
from apigate.contract.documents import Contract, load_contract
from apigate.contract.fixtures import Fixture, basejump_fixture, codemie_fixture, keycloak_fixture
from apigate.contract.state import RunState, activate, stream_check_for
from apigate.mocks import MockSettings, running_mock

# Short-lived Keycloak tokens (an expired one exists by the time the auth tests run); quick answers; a first
# chunk late enough that "headers before the first chunk" is measurable.
MOCK = MockSettings(access_token_lifetime_s=5, refresh_token_lifetime_s=6, first_chunk_ms=100.0,
                    chunk_interval_ms=5.0, chat_latency_ms=0.0, basejump_message_latency_ms=0.0)


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    configured = load_target()
    if not configured.needs_mock:
        yield configured
        return
    with running_mock(MOCK) as server:
        yield load_target(server.origin)


def _fixture(api: str, target: Target) -> Iterator[tuple[Fixture, Contract, RunState]]:
    make = {"keycloak": keycloak_fixture, "codemie": codemie_fixture, "basejump": basejump_fixture}[api]
    fixture = make(target)
    contract = load_contract(api)
    try:
        with activate(api, RunState(contract, stream_check_for(contract))) as state:
            yield fixture, contract, state
    finally:
        fixture.close()


@pytest.fixture(scope="session")
def codemie(target: Target) -> Iterator[tuple[Fixture, Contract, RunState]]:
    yield from _fixture("codemie", target)


@pytest.fixture(scope="session")
def keycloak(target: Target) -> Iterator[tuple[Fixture, Contract, RunState]]:
    yield from _fixture("keycloak", target)


@pytest.fixture(scope="session")
def basejump(target: Target) -> Iterator[tuple[Fixture, Contract, RunState]]:
    yield from _fixture("basejump", target)
