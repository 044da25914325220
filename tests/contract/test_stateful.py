"""Basejump's quickstart chained through the contract's OpenAPI links: schemathesis stateful testing.

The state machine walks create user → refresh token → access token → team → connection → chat → message along
the links, with every check on every step. Its credentials are the session user's, so steps that act on a
user the links just created answer with their documented refusals (401 for another user's token, 403 for a team
the user has not joined) — those are checked against the contract too.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis

from apigate.contract.auth import security_headers
from apigate.contract.documents import Contract, load_contract
from apigate.contract.engine import EngineOptions, load_schema
from apigate.contract.fixtures import Fixture
from apigate.contract.state import RunState


def test_quickstart_chain_via_links(basejump: tuple[Fixture, Contract, RunState]) -> None:
    fixture, _, _ = basejump
    contract = load_contract("basejump")
    # no pinned ids here: every id comes from the previous step's answer, as the links say
    schema = load_schema(contract, fixture.base_url, EngineOptions(max_examples=5, seed=11), fixture.credentials)
    steps: list[str] = []

    class Quickstart(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            if case.operation.schema.is_security_param_negated(case):
                return {}
            return {"headers": security_headers(contract, case.operation.method, case.operation.path,
                                                fixture.credentials)}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            steps.append(f"{case.operation.label} -> {response.status_code}")

    Quickstart.run(settings=hypothesis.settings(
        max_examples=6, stateful_step_count=8, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck), phases=[hypothesis.Phase.generate],
    ))
    walked = {step.split(" -> ")[0] for step in steps}
    assert "POST /account/user/" in walked
    assert len(walked) >= 3, steps
