"""Schemathesis property tests over every operation of the three contracts, with every default check plus
apigate's (error envelopes, streamed answers), authenticated through the clients' auth flows, known-good ids pinned.

Generated data is valid per the contract for positive cases and invalid for negative ones (schemathesis' modes);
``case.call_and_validate()`` runs all checks on each response. The schemas are loaded at import (parametrization
needs them at collection); the session fixtures then fill in what only a running target knows: its URL, the
pinned known-good ids and the credential sources.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis

from apigate.contract.auth import security_headers
from apigate.contract.documents import Contract, load_contract
from apigate.contract.engine import EngineOptions, load_schema
from apigate.contract.fixtures import Fixture
from apigate.contract.state import RunState

MAX_EXAMPLES = 10
UNSET_BASE_URL = "http://apigate-target-not-started.invalid"


class _Late:
    """Credential sources and pinned parameters known only once the session's target runs."""

    def __init__(self, api: str) -> None:
        self.credentials: dict[str, Callable[[], tuple[str, str]]] = {}
        self.base_url = UNSET_BASE_URL
        self.contract = load_contract(api)
        self.schema = load_schema(self.contract, UNSET_BASE_URL,
                                  EngineOptions(max_examples=MAX_EXAMPLES, seed=1), self.credentials)

    def headers(self, case: schemathesis.Case) -> dict[str, str]:
        """The contract's credentials for this case, unless the case deliberately tests missing/invalid ones.

        (Schemathesis' pytest coverage and examples phases do not apply the schema's auth provider themselves.)
        """
        if case.operation.schema.is_security_param_negated(case):
            return {}
        return security_headers(self.contract, case.operation.method, case.operation.path, self.credentials)

    def bind(self, api_fixture: tuple[Fixture, Contract, RunState]) -> str:
        fixture = api_fixture[0]
        self.credentials.update(fixture.credentials)
        self.schema.config.parameters.update(fixture.parameters)
        self.base_url = fixture.base_url
        return self.base_url


CODEMIE = _Late("codemie")
KEYCLOAK = _Late("keycloak")
BASEJUMP = _Late("basejump")


@pytest.fixture(scope="session")
def codemie_url(codemie: tuple[Fixture, Contract, RunState]) -> str:
    return CODEMIE.bind(codemie)


@pytest.fixture(scope="session")
def keycloak_url(keycloak: tuple[Fixture, Contract, RunState]) -> str:
    return KEYCLOAK.bind(keycloak)


@pytest.fixture(scope="session")
def basejump_url(basejump: tuple[Fixture, Contract, RunState]) -> str:
    return BASEJUMP.bind(basejump)


@CODEMIE.schema.parametrize()
def test_codemie(case: schemathesis.Case, codemie_url: str) -> None:
    case.call_and_validate(base_url=codemie_url, headers=CODEMIE.headers(case))


@KEYCLOAK.schema.parametrize()
def test_keycloak(case: schemathesis.Case, keycloak_url: str) -> None:
    case.call_and_validate(base_url=keycloak_url, headers=KEYCLOAK.headers(case))


@BASEJUMP.schema.parametrize()
def test_basejump(case: schemathesis.Case, basejump_url: str) -> None:
    case.call_and_validate(base_url=basejump_url, headers=BASEJUMP.headers(case))

