"""The state of one API's run that apigate's schemathesis checks and probes share.

Schemathesis calls checks as plain functions; :func:`activate` makes a :class:`RunState` visible to them for the
API whose schema (tagged ``x-apigate-api``) is being run. The state remembers, per operation, one request that
succeeded with the suite's credentials: the auth-enforcement probes replay it with each kind of bad credential.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from apigate.contract.documents import API_KEY, Contract
from apigate.contract.streams import ChunkValidator, StreamCheck

if TYPE_CHECKING:
    from apigate.accept import AcceptList
    from apigate.contract.classify import Classifier
    from apigate.contract.results import Finding

__all__ = ["RecordedRequest", "RunState", "activate", "active_state", "route_missed", "stream_check_for"]


@dataclass(frozen=True)
class RecordedRequest:
    """A request as it went on the wire (credentials included: never print it unredacted)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    streamed: bool


@dataclass
class RunState:
    contract: Contract
    streams: dict[str, StreamCheck]  # operation label -> its stream rules
    classifier: Classifier | None = None  # what a check that did not pass means (failure or warning)
    good: dict[str, RecordedRequest] = field(default_factory=dict)  # operation label -> a 2xx request
    warnings: list[Finding] = field(default_factory=list)  # checks schemathesis counts as passed: only warnings
    accept: AcceptList | None = None  # known failures: set aside during the run, so the search goes on
    accepted: list[Finding] = field(default_factory=list)  # failures schemathesis counts as passed: accepted ones
    lock: threading.Lock = field(default_factory=threading.Lock)

    def warn(self, finding: Finding) -> None:
        with self.lock:
            self.warnings.append(finding)

    def set_aside(self, api: str, finding: Finding) -> bool:
        """Keep ``finding`` (a failure) aside when the accept list accepts it; whether it did."""
        if self.accept is None or not self.accept.accepts(api, finding.operation, finding.check, finding.reason,
                                                          finding.curl):
            return False
        with self.lock:
            self.accepted.append(finding)
        return True

    def remember(self, label: str, request: RecordedRequest) -> None:
        with self.lock:
            known = self.good.get(label)
            # prefer a plain (non-streamed) exchange: the probes replay it several times
            if known is None or (known.streamed and not request.streamed):
                self.good[label] = request


_ACTIVE: dict[str, RunState] = {}
_ACTIVE_LOCK = threading.Lock()


@contextmanager
def activate(api: str, state: RunState) -> Iterator[RunState]:
    with _ACTIVE_LOCK:
        _ACTIVE[api] = state
    try:
        yield state
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.pop(api, None)


def active_state(schema: Any) -> tuple[str, RunState] | None:
    """(api, state) when ``schema`` is one of apigate's and its API's run is active."""
    raw = getattr(schema, "raw_schema", None)
    api = raw.get(API_KEY) if isinstance(raw, dict) else None
    if not isinstance(api, str):
        return None
    state = _ACTIVE.get(api)
    return (api, state) if state is not None else None


def _chunk_validator(validator: Any) -> ChunkValidator:
    def errors(obj: dict[str, Any]) -> Iterable[str]:
        return [str(error.message) for error in validator.iter_errors(obj)]

    return errors


def stream_check_for(contract: Contract) -> dict[str, StreamCheck]:
    """Operation label -> stream rules, for every operation whose 200 answer documents a stream media type."""
    out: dict[str, StreamCheck] = {}
    for op in contract.operations():
        kinds = contract.stream_media_types(op)
        if not kinds:
            continue
        validators = {kind: _chunk_validator(contract.validator(schema)) for kind, schema in kinds.items()}
        out[op.label] = StreamCheck(frozenset(kinds), validators)
    return out


def route_missed(path_parameters: dict[str, Any] | None) -> bool:
    """True when a path parameter's value cannot match a single path segment (the framework's router misses), or
    holds a line break (a path-type parameter, ``{name:path}``, does not match one)."""
    for value in (path_parameters or {}).values():
        text = unquote(str(value))  # schemathesis hands some cases over already percent-encoded
        if "/" in text or text in ("", ".", "..") or any(ch in text for ch in "?#\x00\n"):
            return True
    return False
