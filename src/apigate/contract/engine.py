"""One API through schemathesis' engine (the one behind ``st run``): config, schema, events -> :class:`ApiResult`.

Every default check runs (schemathesis 4 enables them all), plus apigate's (:mod:`apigate.contract.checks`), in
the examples, coverage, fuzzing and stateful phases. Known-good ids from the fixtures are pinned as parameter
values, so generated requests reach real resources; a few per-operation settings say what the contract says
but schemathesis cannot read from it (see :data:`CREDENTIAL_OPERATIONS`).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from apigate.contract.auth import CredentialSource, install_auth
from apigate.contract.classify import well_formed_headers
from apigate.contract.documents import Contract
from apigate.contract.probe import curl
from apigate.contract.results import ApiResult, Finding
from apigate.contract.state import active_state
from apigate.errors import DocumentError
from apigate.redact import redact
from apigate.verdict import Severity

__all__ = ["EngineOptions", "run_engine"]

# Operations whose contract documents 400 for a well-formed request carrying credentials or values that do not
# exist (Keycloak's unknown user / inactive refresh token rows; Basejump's failed connection test). Schemathesis
# exempts such 400s itself only when a security scheme names the operation as its tokenUrl; these contracts
# document them in the responses instead, so positive_data_acceptance is told the same thing explicitly.
CREDENTIAL_OPERATIONS: Final[dict[str, tuple[str, ...]]] = {
    "keycloak": ("/realms/{realm}/protocol/openid-connect/token",),
    "basejump": ("/connection/database/",),
}
_POSITIVE_STATUSES: Final = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
# A path item marked with this extension is also matched by another route of the service (FastAPI's router takes
# the first route matching path and method): its answers to methods it does not declare — status and ``Allow``
# header — are that route's, so schemathesis' "undeclared method -> 405 listing the declared ones" does not apply.
OVERLAPPING_ROUTE: Final = "x-apigate-overlapping-route"
_OVERLAP_CHECKS: Final = ("unsupported_method", "allow_header_conformance")


@dataclass(frozen=True)
class EngineOptions:
    max_examples: int
    workers: int = 2
    seed: int | None = None
    request_timeout: float = 30.0
    phases: Sequence[str] = ("examples", "coverage", "fuzzing", "stateful")
    parameters: Mapping[str, Any] = field(default_factory=dict)  # pinned values, "path.realm": "codemie-prod"


def build_config(contract: Contract, base_url: str, options: EngineOptions) -> Any:
    from schemathesis.config import SchemathesisConfig

    data: dict[str, Any] = {
        "base-url": base_url,
        "workers": options.workers,
        "request-timeout": options.request_timeout,
        "cache": {"enabled": False},
        "generation": {"max-examples": options.max_examples, "database": "none"},
        "phases": {name: {"enabled": name in options.phases} for name in ("examples", "coverage", "fuzzing",
                                                                           "stateful")},
        "parameters": dict(options.parameters),
        "operations": [
            {"include-path": path,
             "checks": {"positive_data_acceptance": {"expected-statuses": list(_POSITIVE_STATUSES)}}}
            for path in CREDENTIAL_OPERATIONS.get(contract.api, ())
        ] + [
            {"include-path": path, "checks": {name: {"enabled": False} for name in _OVERLAP_CHECKS}}
            for path, item in (contract.document.get("paths") or {}).items()
            if isinstance(item, dict) and item.get(OVERLAPPING_ROUTE)
        ],
    }
    if options.seed is not None:
        data["seed"] = options.seed
    return SchemathesisConfig.from_dict(data)


def load_schema(contract: Contract, base_url: str, options: EngineOptions, credentials: CredentialSource) -> Any:
    import schemathesis
    from schemathesis.config import ConfigError as SchemathesisConfigError
    from schemathesis.core.errors import InvalidSchema, LoaderError

    import apigate.contract.checks  # noqa: F401 - registers apigate's checks with schemathesis

    try:
        schema = schemathesis.openapi.from_dict(contract.raw(), config=build_config(contract, base_url, options))
    except (LoaderError, InvalidSchema, SchemathesisConfigError) as exc:
        raise DocumentError(f"{contract.source}: schemathesis cannot load it: {redact(str(exc)).splitlines()[0]}") \
            from None
    install_auth(schema, contract, credentials)
    schema.hook("filter_case")(_sendable)
    schema.hook("filter_failure")(_judge_failure)
    return schema


def _check_name(failure: Any) -> str:
    """The name of the check that raised ``failure`` (schemathesis' failure classes name their checks)."""
    title = str(getattr(failure, "title", "") or "")
    custom = re.match(r"Custom check failed: `([^`]+)`", title)
    if custom:
        return custom.group(1)
    names = getattr(failure, "checks", ())
    return str(names[0]) if names else type(failure).__name__


def _judge_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep ``failure`` when it is a failure; a warning (an assumed constraint, an HTTP-layer answer) is recorded
    in the run's state instead and dropped, so that schemathesis goes on exploring the operation."""
    if not _not_an_artifact(context, failure, case, response):
        return False
    found = active_state(case.operation.schema)
    classifier = found[1].classifier if found is not None else None
    if found is None or classifier is None:
        return True
    api, state = found
    check = _check_name(failure)
    classification = classifier.schemathesis(api, check, case, response)
    request = response.request
    finding = Finding(str(case.operation.label), check, _reason(failure),
                      curl=curl(str(request.method), str(request.url), dict(request.headers), request.body),
                      detail=str(failure), severity=classification.severity, note=classification.note)
    if classification.severity is Severity.FAILURE:
        # an accepted known failure is set aside (settled as known after the run), so that schemathesis, which
        # reports one failure per check and status, goes on looking for a new one
        return not state.set_aside(api, finding)
    state.warn(finding)
    return False


def _not_an_artifact(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Drop one schemathesis artifact: a "negative" body that never went on the wire.

    For an operation whose request body is optional, schemathesis may generate a wrong-typed body (e.g. ``null``)
    without a media type and then send no body at all; the server rightly accepts the bodiless request, which
    the contract allows. Everything else is kept.
    """
    if type(failure).__name__ != "AcceptedNegativeData" or response.request.body:
        return True
    from schemathesis.core.parameters import ParameterLocation

    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.BODY):
        return True
    if any(meta.is_negative_at(location) for location in (ParameterLocation.QUERY, ParameterLocation.PATH,
                                                          ParameterLocation.HEADER)):
        return True
    body = case.operation.definition.raw.get("requestBody")
    ref = body.get("$ref") if isinstance(body, dict) else None
    if isinstance(ref, str) and ref.startswith("#/"):
        body = case.operation.schema.raw_schema
        for part in ref[2:].split("/"):
            body = body.get(part) if isinstance(body, dict) else None
    return not (isinstance(body, dict) and body.get("required") is not True)


def _sendable(context: Any, case: Any) -> bool:
    """The case can be sent as a well-formed HTTP request (no generated header that breaks HTTP itself: such a
    request is answered by the server's HTTP layer, never by the service) and means what it says (see below)."""
    declared: set[str] = set()
    found = active_state(case.operation.schema)
    if found is not None and found[1].classifier is not None:
        op = found[1].contract.find_operation(str(case.operation.method), str(case.operation.path))
        declared = found[1].classifier.declared_headers(op) if op is not None else set()
    return well_formed_headers(case.headers or {}, declared) and _semantically_valid(context, case)


# Body fields whose contract documents a meaning JSON Schema cannot state: their value must itself be a valid JSON
# Schema (CodeMie's structured-output schema, checked by the server as Draft 7 whatever its ``$schema``; an invalid
# one is documented to answer 422). Positive cases must be valid per the contract, so generated positive cases
# holding an invalid schema there are dropped.
_SCHEMA_VALUED_FIELDS: Final = ("output_schema", "outputSchema")
# Body fields that are only valid in a context a generated case cannot have: CodeMie's answer to an interactive
# request of an earlier chunk (any other one is a documented 422 "Unknown interactive request_id").
_CONTEXT_BOUND_FIELDS: Final = ("interactive_response", "interactiveResponse")


def _semantically_valid(context: Any, case: Any) -> bool:
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return True
    from jsonschema import Draft7Validator, exceptions

    if any(case.body.get(name) is not None for name in _CONTEXT_BOUND_FIELDS):
        return False
    for name in _SCHEMA_VALUED_FIELDS:
        value = case.body.get(name)
        if isinstance(value, dict):
            try:
                Draft7Validator.check_schema(value)
            except (exceptions.SchemaError, exceptions.UnknownType, RecursionError, TypeError, ValueError):
                return False
    return True


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)


def _reason(failure: Any) -> str:
    title = str(getattr(failure, "title", "") or "")
    message = str(getattr(failure, "message", "") or "")
    if title.startswith("Custom check failed"):  # apigate's own checks: their message is the reason
        return re.sub(r"^`[^`]+`:\s*", "", message.strip())
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    detail = "; ".join(lines[:3])
    return f"{title}: {detail}" if detail and title else (title or detail or type(failure).__name__)


@contextlib.contextmanager
def reproducible_generation() -> Iterator[None]:
    """Generated cases that depend on the contract and the seed only (the same verdict twice).

    No example database (see :func:`build_config`), and Hypothesis' storage in a temporary folder removed
    afterwards, not ``.hypothesis/`` in the working directory (nothing carries over from one run to the next).
    Hypothesis also mixes "local constants" into generated data: literals it collects from the source of every
    module loaded from outside site-packages. They would make the cases depend on how apigate is installed
    (editable or not) and on which modules an earlier API's run happened to load (``--api basejump --seed N``
    would not replay the basejump part of an ``--api all`` run), so they are switched off for the run.
    """
    from hypothesis import configuration
    from hypothesis.internal.conjecture import providers

    previous_home = getattr(configuration, "__hypothesis_home_directory", None)
    local_constants = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    with tempfile.TemporaryDirectory(prefix="apigate-hypothesis-") as home:
        configuration.set_hypothesis_home_dir(home)
        if local_constants is not None:
            providers._get_local_constants = providers.Constants  # type: ignore[attr-defined]  # empty constants
        if cache is not None:
            cache.clear()
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous_home)
            if local_constants is not None:
                providers._get_local_constants = local_constants
            if cache is not None:
                cache.clear()


def run_engine(
    contract: Contract,
    base_url: str,
    options: EngineOptions,
    credentials: CredentialSource,
    result: ApiResult,
    *,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Run schemathesis' phases for ``contract`` against ``base_url`` and record every check into ``result``."""
    from schemathesis.engine import Status, events, from_schema

    schema = load_schema(contract, base_url, options, credentials)
    for op in contract.operations():
        result.operation(op.label)
    started = time.perf_counter()
    interrupted = False
    with reproducible_generation():
        for event in from_schema(schema).execute():
            if isinstance(event, events.Interrupted):  # schemathesis caught Ctrl-C and winds down its phases
                interrupted = True
            elif isinstance(event, events.ScenarioFinished):
                _record_scenario(event, result)
            elif isinstance(event, events.NonFatalError):
                label = event.label if event.label in result.operations else "schemathesis"
                message = redact(str(event.info.format() if hasattr(event.info, "format") else event.value))
                result.operation(label).add_failure_text("schemathesis.error", _first_line(message), message)
            elif isinstance(event, events.PhaseFinished) and progress is not None:
                if event.status != Status.SKIP:
                    progress(f"  {contract.api}: {event.phase.name.value} {event.status.value}"
                             f" ({time.perf_counter() - started:.1f}s)")
            elif isinstance(event, events.FatalError):
                raise event.exception
            elif isinstance(event, events.EngineFinished):
                for failure in event.failures:
                    result.operation("schemathesis").add_failure_text("after_run", _reason(failure), str(failure))
    if interrupted:  # the caller writes what was checked so far and exits 130; no further phases or checks
        raise KeyboardInterrupt


def _record_scenario(event: Any, result: ApiResult) -> None:
    from schemathesis.engine import Status

    recorder = event.recorder
    if event.status == Status.SKIP:
        label = event.label or recorder.label
        op = result.operation(label) if label in result.operations else None
        if op is not None and op.checks == 0 and event.skip_reason:
            op.skipped = str(event.skip_reason)
        return
    for case_id, nodes in recorder.checks.items():
        case_node = recorder.cases.get(case_id)
        label = case_node.value.operation.label if case_node is not None else (event.label or recorder.label)
        op = result.operation(label)
        for node in nodes:
            op.checks += 1
            info = node.failure_info
            if node.status == Status.FAILURE and info is not None:
                curl = info.code_sample or ""
                if info.steps and len(info.steps) > 1:
                    curl = "\n".join(step.curl for step in info.steps)
                op.add_failure_text(node.name, _reason(info.failure), str(info.failure), curl=curl)
            elif node.status == Status.ERROR:
                op.add_failure_text(node.name, "the check crashed", "")
