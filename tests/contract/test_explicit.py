"""apigate's explicit checks against the session's target: what schemathesis does not check by itself.

Every test asserts that its checks ran (not vacuous) and that none failed; the self-test (tests/selftest) proves
the same checks fail on a broken server.
"""

from __future__ import annotations

import httpx
import pytest

from apigate.config import Target
from apigate.contract.auth_probes import probe_auth
from apigate.contract.basejump_probes import probe_basejump
from apigate.contract.codemie_catalogue_probes import probe_catalogue
from apigate.contract.codemie_probes import CHAT_OP, measure_stream, probe_codemie
from apigate.contract.documents import Contract
from apigate.contract.engine import EngineOptions, run_engine
from apigate.contract.fixtures import Fixture
from apigate.contract.keycloak_probes import probe_keycloak
from apigate.contract.probe import Prober
from apigate.contract.results import ApiResult
from apigate.contract.state import RunState, stream_check_for
from apigate.mocks import MockSettings, running_mock

from .conftest import MOCK

ApiFixture = tuple[Fixture, Contract, RunState]


def _failures(result: ApiResult) -> str:
    return "\n".join(f"{f.operation} {f.check}: {f.reason}\n  {f.curl}" for f in result.failures)


@pytest.mark.parametrize("api", ["codemie", "keycloak", "basejump"])
def test_auth_is_enforced_on_every_protected_operation(api: str, request: pytest.FixtureRequest) -> None:
    fixture, contract, state = request.getfixturevalue(api)
    result = ApiResult(api, fixture.base_url)
    # a short fuzzing pass finds one request per operation that succeeds with the suite's credentials
    run_engine(contract, fixture.base_url, EngineOptions(max_examples=8, seed=3, parameters=fixture.parameters,
                                                         phases=("examples", "fuzzing")),
               fixture.credentials, result)
    assert not result.failures, _failures(result)
    probes = ApiResult(api, fixture.base_url)
    with Prober(api, probes) as prober:
        probe_auth(prober, contract, state.good, fixture.kits, probes.notes)
    assert not probes.failures, _failures(probes)
    secured = [op.label for op in contract.operations() if op.secured]
    assert secured
    for label in secured:
        assert probes.operations[label].checks >= 2, f"{label}: auth not probed"
    if api != "basejump":
        assert not probes.notes, probes.notes  # expired and foreign-issuer tokens were obtainable from the mock


def test_keycloak_error_rows_and_complete_tokens(keycloak: ApiFixture, target: Target) -> None:
    result = ApiResult("keycloak", target.keycloak.url)
    with Prober("keycloak", result) as prober:
        probe_keycloak(prober, target)
    assert not result.failures, _failures(result)
    assert result.checks >= 14


def test_codemie_explicit_checks(codemie: ApiFixture, target: Target) -> None:
    fixture, contract, _ = codemie
    result = ApiResult("codemie", target.codemie.url)
    source = fixture.credentials["BearerAuth"]
    with Prober("codemie", result) as prober:
        probe_codemie(prober, target, contract, lambda: dict([source()]))
    assert not result.failures, _failures(result)
    assert result.operations[CHAT_OP].checks >= 9
    assert not result.notes, result.notes


def test_codemie_catalogue_checks(codemie: ApiFixture, target: Target) -> None:
    fixture, _, _ = codemie
    result = ApiResult("codemie", target.codemie.url)
    source = fixture.credentials["BearerAuth"]
    with Prober("codemie", result) as prober:
        probe_catalogue(prober, target, lambda: dict([source()]))
    assert not result.failures, _failures(result)
    assert result.checks == 5 and not result.notes, result.notes


@pytest.mark.slow
def test_codemie_catalogue_checks_fail_on_a_broken_server() -> None:
    """Each catalogue check fails on the break it is for (all five switched on in one mock)."""
    from apigate.config import load_target
    from apigate.contract.idp import TokenSupply

    breaks = {"codemie.assistants.filters_ignored": "assistants.search_filter",
              "codemie.assistants.sort_unchecked": "assistants.unknown_sort_by",
              "codemie.assistants.filters_500": "assistants.filters_not_object",
              "codemie.assistants.negative_page_500": "assistants.negative_page",
              "codemie.assistants.no_slug_route": "assistant.by_slug"}
    with running_mock(MockSettings(breaks=frozenset(breaks))) as server:
        broken_target = load_target(server.origin, env={})
        supply = TokenSupply(broken_target)
        result = ApiResult("codemie", broken_target.codemie.url)
        try:
            with Prober("codemie", result) as prober:
                probe_catalogue(prober, broken_target, lambda: {"Authorization": f"Bearer {supply.valid()}"})
        finally:
            supply.close()
    assert sorted(f.check for f in result.failures) == sorted(breaks.values())


def test_stream_headers_arrive_before_the_first_chunk(codemie: ApiFixture, target: Target) -> None:
    fixture, contract, _ = codemie
    rules = stream_check_for(contract)[CHAT_OP]
    url = f"{target.codemie.url}/v1/assistants/{target.codemie.assistant_id}/model"
    with httpx.Client(timeout=30) as client:
        timings = measure_stream(client, url, dict([fixture.credentials["BearerAuth"]()]),
                                 {"text": "hello", "stream": True}, rules)
    assert timings["chunks"] >= 2
    assert timings["headers_ms"] < timings["first_chunk_ms"]
    if not target.codemie.live:  # the mock writes its first chunk first_chunk_ms after the request arrived
        assert timings["first_chunk_ms"] - timings["headers_ms"] >= MOCK.first_chunk_ms * 0.5, timings


@pytest.mark.slow
def test_sse_framing_passes_the_same_rules(codemie: ApiFixture, target: Target) -> None:
    """The doc page's framing (text/event-stream) is checked by the same rules as the real server's ndjson."""
    if target.codemie.live:
        pytest.skip("needs the embedded mock's --stream-format sse")
    fixture, contract, _ = codemie
    rules = stream_check_for(contract)[CHAT_OP]
    settings = MockSettings(stream_format="sse", first_chunk_ms=20.0, chunk_interval_ms=2.0)
    with running_mock(settings) as server, httpx.Client(timeout=30) as client:
        from apigate.config import load_target
        from apigate.contract.idp import TokenSupply

        sse_target = load_target(server.origin, env={})
        supply = TokenSupply(sse_target)
        try:
            url = f"{sse_target.codemie.url}/v1/assistants/{sse_target.codemie.assistant_id}/model"
            timings = measure_stream(client, url, {"Authorization": f"Bearer {supply.valid()}"},
                                     {"text": "hello", "stream": True}, rules)
        finally:
            supply.close()
    assert timings["chunks"] >= 2
    del fixture


def test_basejump_rules_and_randomized_orderings(basejump: ApiFixture, target: Target) -> None:
    fixture, contract, _ = basejump
    result = ApiResult("basejump", target.basejump.url)
    with Prober("basejump", result) as prober:
        probe_basejump(prober, target, contract, fixture, seed=7)
    assert not result.failures, _failures(result)
    assert result.checks >= 30
