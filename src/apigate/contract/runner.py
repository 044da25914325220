"""``run_contract``: the whole contract suite for a target, API by API.

For each API: fixtures through the clients (known-good ids, tokens), schemathesis' engine over every operation of
the pinned contract with every default check and apigate's checks, then apigate's explicit checks (auth
enforcement of every protected operation, Keycloak's error rows and token completeness, CodeMie's stream over a
real socket, Basejump's role/token rules and randomized quickstart orderings). Reports (``junit.xml``,
``summary.json``) are written even when a later API stops the run with a connection or configuration error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from apigate._version import __version__
from apigate.accept import AcceptList
from apigate.config import Target
from apigate.contract.auth_probes import probe_auth
from apigate.contract.classify import Classifier
from apigate.contract.defaults import DEFAULT_MAX_EXAMPLES, DEFAULT_WORKERS
from apigate.contract.documents import ALL_APIS, load_contract
from apigate.contract.engine import EngineOptions, run_engine
from apigate.contract.fixtures import Fixture, basejump_fixture, codemie_fixture, keycloak_fixture
from apigate.contract.probe import Prober
from apigate.contract.report import write_reports
from apigate.contract.results import ApiResult, ContractResult
from apigate.contract.state import RunState, activate, stream_check_for
from apigate.errors import ConfigError, ContractViolation, ForbiddenError, HTTPError, TransportError, UnauthorizedError
from apigate.redact import redact
from apigate.resources import contract_path, contracts_dir

__all__ = ["ALL_APIS", "DEFAULT_MAX_EXAMPLES", "default_out_dir", "default_seed", "resolve_seed", "run_contract"]

STATEFUL_APIS: Final = frozenset({"basejump"})  # the APIs whose contracts chain operations with OpenAPI links

_FIXTURES: Final[dict[str, Callable[[Target], Fixture]]] = {
    "keycloak": keycloak_fixture,
    "codemie": codemie_fixture,
    "basejump": basejump_fixture,
}


def default_out_dir(now: dt.datetime | None = None) -> Path:
    """``reports/<UTC timestamp>-contract/`` next to the contracts in a checkout, else in the working directory."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    root = contracts_dir().parent / "reports"
    if not root.is_dir():
        root = Path("reports")
    return root / f"{stamp}-contract"


def default_seed() -> int:
    """The property tests' seed when none is given: derived from the apigate version and the pinned contracts'
    bytes, so that the same apigate against the same contracts generates the same cases (the same verdict twice)."""
    digest = hashlib.sha256(f"apigate {__version__}".encode())
    for api in ALL_APIS:
        digest.update(b"\0" + contract_path(api).read_bytes())
    return int.from_bytes(digest.digest()[:4], "big")


def resolve_seed(seed: int | str | None) -> int:
    """``--seed``: an integer replays a run, ``random`` asks for fresh randomness, ``None`` is :func:`default_seed`."""
    if seed == "random":
        return random.SystemRandom().randrange(2**32)
    if seed is None:
        return default_seed()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    raise ConfigError(f"seed must be an integer or 'random', not {seed!r}")


def _base_url(target: Target, api: str) -> str:
    return {"keycloak": target.keycloak.url, "codemie": target.codemie.url, "basejump": target.basejump.url}[api]


def run_contract(
    target: Target,
    apis: Sequence[str] = ALL_APIS,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    out_dir: Path | None = None,
    *,
    seed: int | str | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[str], None] | None = None,
    mock_settings: Any = None,
    strict: bool = False,
    accept: AcceptList | None = None,
) -> ContractResult:
    """Run the contract suite for ``apis`` against ``target``; write reports into ``out_dir`` when given.

    ``seed``: see :func:`resolve_seed`; ``strict``: warnings fail the run; ``accept``: known failures to settle
    each API's findings with. Returns the :class:`ContractResult` (``.passed``, ``.exit_code``, ``.to_summary()``
    for ``summary.json``'s ``contract`` key). Raises :class:`~apigate.errors.ApigateError` for connection or
    configuration errors (the reports of the APIs finished so far are written first).
    """
    unknown = [api for api in apis if api not in ALL_APIS]
    if unknown:
        raise ConfigError(f"unknown API(s): {', '.join(unknown)} (expected {', '.join(ALL_APIS)})")
    seed = resolve_seed(seed)
    started = dt.datetime.now(dt.UTC)
    result = ContractResult(
        started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        target={api: _base_url(target, api) for api in ALL_APIS},
        settings={"apis": list(apis), "max_examples": max_examples, "seed": seed, "workers": workers,
                  "strict": strict, "mock": _mock_dict(mock_settings)},
        strict=strict,
    )
    clock = time.perf_counter()
    try:
        for api in apis:
            if progress is not None:
                progress(f"apigate contract: {api} ({_base_url(target, api)}), seed {seed}")
            api_result = _run_api(api, target, max_examples, seed, workers, progress, accept)
            if accept:
                accept.settle_result(api_result)
            result.apis[api] = api_result
    finally:
        result.duration_s = time.perf_counter() - clock
        if out_dir is not None and result.apis:
            write_reports(result, out_dir)
    return result


def _mock_dict(settings: Any) -> dict[str, Any] | None:
    if settings is None:
        return None
    import dataclasses

    data = dataclasses.asdict(settings)
    data["breaks"] = sorted(data.get("breaks") or ())
    return data


def _run_api(api: str, target: Target, max_examples: int, seed: int, workers: int,
             progress: Callable[[str], None] | None, accept: AcceptList | None = None) -> ApiResult:
    contract = load_contract(api)
    result = ApiResult(api, _base_url(target, api), seed=seed)
    for op in contract.operations():
        result.operation(op.label)
    started = time.perf_counter()
    classifier = Classifier(contract)
    with contextlib.ExitStack() as stack:
        prober = stack.enter_context(Prober(api, result, classifier=classifier))
        fixture = _setup(api, target, result)
        if fixture is None:
            result.duration_s = time.perf_counter() - started
            return result
        stack.callback(fixture.close)
        state = RunState(contract, stream_check_for(contract), classifier, accept=accept or None)
        options = EngineOptions(
            max_examples=max_examples, workers=workers, seed=seed, parameters=fixture.parameters,
            phases=("examples", "coverage", "fuzzing", *(("stateful",) if api in STATEFUL_APIS else ())),
        )
        with activate(api, state):
            run_engine(contract, fixture.base_url, options, fixture.credentials, result, progress=progress)
        # counted by schemathesis as passed checks; recorded here: warnings, and accepted failures (settled later)
        for finding in (*state.warnings, *state.accepted):
            result.operation(finding.operation).add(finding)
        if progress is not None:
            progress(f"  {api}: explicit checks")
        probe_auth(prober, contract, state.good, fixture.kits, result.notes)
        _explicit(api, prober, target, contract, fixture, seed)
    result.notes[:] = list(dict.fromkeys(result.notes))
    result.duration_s = time.perf_counter() - started
    return result


def _setup(api: str, target: Target, result: ApiResult) -> Fixture | None:
    """The API's fixture; ``None`` (with a recorded failure) when the API broke its contract while making it."""
    try:
        return _FIXTURES[api](target)
    except (UnauthorizedError, ForbiddenError) as exc:
        raise ConfigError(f"{api}: the configured credentials were rejected while preparing the run: {exc}") from None
    except (HTTPError, ContractViolation) as exc:
        result.record("fixtures", "fixtures.setup", AssertionError(
            f"preparing known-good state failed: {redact(str(exc))}"))
        return None
    except TransportError as exc:
        raise type(exc)(f"{api} at {_base_url(target, api)}: {exc}", method=exc.method, url=exc.url) from None


def _explicit(api: str, prober: Prober, target: Target, contract: Any, fixture: Fixture, seed: int) -> None:
    if api == "keycloak":
        from apigate.contract.keycloak_probes import probe_keycloak

        probe_keycloak(prober, target, fixture.extras.get("supply"))
    elif api == "codemie":
        from apigate.contract.codemie_probes import probe_codemie

        source = fixture.credentials["BearerAuth"]
        probe_codemie(prober, target, contract, lambda: dict([source()]))
        from apigate.contract.codemie_catalogue_probes import probe_catalogue

        probe_catalogue(prober, target, lambda: dict([source()]))
    elif api == "basejump":
        from apigate.contract.basejump_probes import probe_basejump

        probe_basejump(prober, target, contract, fixture, seed)
