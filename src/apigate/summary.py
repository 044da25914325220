"""A load/contract run's ``summary.json`` (and its raw samples file) as typed, validated data.

The format is fixed in the interfaces note (written by the load runner and ``apigate contract``/``apigate run``);
reports, the gate and the history read it only through :func:`load_summary` / :func:`parse_summary`. A summary may
lack ``metrics`` (contract-only run) or ``contract`` (load-only run). The raw samples file (gzip'd JSON
``{metric: [ms, ...]}``) is optional: when it is named but missing, :attr:`Summary.samples` is ``None`` and
:attr:`Summary.samples_note` says why, so the gate can fall back to tolerance-only comparisons and say so.

Anything unreadable or malformed raises :class:`apigate.errors.DocumentError` (exit code 2) with a one-line message.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from apigate.errors import DocumentError
from apigate.verdict import Severity

__all__ = [
    "STATS",
    "STREAM_METRICS",
    "ApiContract",
    "ContractFinding",
    "FailureReason",
    "MetricStats",
    "RequestStats",
    "Summary",
    "finite_number",
    "load_samples",
    "load_summary",
    "parse_summary",
]

# the statistics a metric carries in summary.json, in display order
STATS: Final = ("count", "min", "mean", "p50", "p90", "p95", "p99", "max")
# the streamed-answer figures the reports show together: metric -> what it measures
STREAM_METRICS: Final = {
    "codemie.stream.ttfc": "time to first chunk (of either kind)",
    "codemie.stream.ttft": "time to first answer text (first token)",
    "codemie.stream.inter_chunk": "gap between consecutive chunks",
    "codemie.stream.chunks_per_s": "chunks per second of a stream",
    "codemie.stream.total": "time to the whole answer",
    "codemie.stream.chunks": "chunks per answer",
}


@dataclass(frozen=True)
class MetricStats:
    """One metric's statistics (ms). ``None`` when the metric has no samples (``count == 0``)."""

    name: str
    unit: str = "ms"
    count: int = 0
    min: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None

    def stat(self, name: str) -> float | None:
        """The statistic ``name`` (one of :data:`STATS`) or ``None``."""
        if name not in STATS:
            raise KeyError(name)
        value = getattr(self, name)
        return None if value is None else float(value)


@dataclass(frozen=True)
class RequestStats:
    """Requests of one name (e.g. ``codemie.stream``): how many, how many failed, throughput."""

    name: str
    count: int
    failures: int
    rps: float

    @property
    def failure_rate(self) -> float:
        return self.failures / self.count if self.count else 0.0


@dataclass(frozen=True)
class FailureReason:
    name: str
    reason: str
    count: int


@dataclass(frozen=True)
class ContractFinding:
    """A contract check that did not pass, and what it means for the verdict (:class:`~apigate.verdict.Severity`)."""

    operation: str
    check: str
    reason: str
    curl: str = ""
    severity: Severity = Severity.FAILURE
    note: str = ""  # the assumptions involved, the accept entry's reason, the expiry


@dataclass(frozen=True)
class ApiContract:
    """The contract suite's result for one API.

    ``failures`` fail the run (``failure``, ``expired``); ``warnings`` fail it only when strict; ``known`` are
    accepted failures; ``accept_entries`` are accept entries that matched nothing (``fixed``, or ``expired``).
    """

    api: str
    passed: bool
    checks: int
    failures: tuple[ContractFinding, ...] = ()
    warnings: tuple[ContractFinding, ...] = ()
    known: tuple[ContractFinding, ...] = ()
    accept_entries: tuple[ContractFinding, ...] = ()
    seed: int | None = None

    def failing(self, *, strict: bool = False) -> tuple[ContractFinding, ...]:
        """What fails this API: failures, warnings when ``strict``, expired accept entries."""
        return tuple(f for f in (*self.failures, *self.warnings, *self.accept_entries)
                     if f.severity.fails(strict=strict))

    @property
    def fixed(self) -> tuple[ContractFinding, ...]:
        return tuple(f for f in self.accept_entries if f.severity is Severity.FIXED)


@dataclass(frozen=True)
class Summary:
    """Everything a report, the gate or the history needs from one run."""

    source: str  # where it came from (a path, "history: last 5 passing runs", ...)
    apigate_version: str = ""
    started_at: str = ""
    duration_s: float = 0.0
    target: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, MetricStats] = field(default_factory=dict)
    requests: Mapping[str, RequestStats] = field(default_factory=dict)
    failures: tuple[FailureReason, ...] = ()
    timeline: tuple[tuple[int, int, int], ...] = ()
    samples_file: str | None = None
    contract: Mapping[str, ApiContract] | None = None
    samples: Mapping[str, Sequence[float]] | None = None
    samples_note: str = ""  # why ``samples`` is None, when it is
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def contract_passed(self) -> bool | None:
        """True/False when the summary has contract results, ``None`` when it has none."""
        if self.contract is None:
            return None
        return all(api.passed for api in self.contract.values())

    def stream_metrics(self) -> list[tuple[str, MetricStats]]:
        """The measured streamed-answer figures (:data:`STREAM_METRICS`), in that order: (what, statistics)."""
        return [(what, self.metrics[name]) for name, what in STREAM_METRICS.items()
                if name in self.metrics and self.metrics[name].count]

    def samples_of(self, metric: str) -> Sequence[float] | None:
        if self.samples is None:
            return None
        values = self.samples.get(metric)
        return values if values else None


# ---- loading --------------------------------------------------------------------------------------------------


def load_summary(path: str | Path, *, with_samples: bool = True) -> Summary:
    """Read ``path`` (a ``summary.json`` or a report folder holding one) and, if named and wanted, its samples."""
    file = Path(path)
    if file.is_dir():
        file = file / "summary.json"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError(f"summary not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"cannot read summary {file}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"summary {file} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    summary = parse_summary(data, source=str(file))
    if not with_samples or summary.samples_file is None:
        note = "" if summary.samples_file is not None else "the summary names no samples file"
        return _replace(summary, samples_note=note or "raw samples not loaded")
    samples_path = file.parent / summary.samples_file
    if not samples_path.exists():
        return _replace(summary, samples_note=f"samples file {samples_path} is missing")
    return _replace(summary, samples=load_samples(samples_path))


def load_samples(path: str | Path) -> dict[str, list[float]]:
    """Read a gzip'd (or plain) JSON ``{metric: [ms, ...]}`` samples file."""
    file = Path(path)
    try:
        raw = file.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise DocumentError(f"samples file not found: {file}") from None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentError(f"cannot read samples file {file}: {_one_line(exc)}") from None
    if not isinstance(data, dict):
        raise DocumentError(f"samples file {file} must hold a JSON object {{metric: [ms, ...]}}")
    out: dict[str, list[float]] = {}
    for metric, values in data.items():
        if not isinstance(values, list):
            raise DocumentError(f"samples file {file}: {metric!r} must be a list of numbers")
        try:
            floats = [float(v) for v in values]
        except (TypeError, ValueError):
            raise DocumentError(f"samples file {file}: {metric!r} holds a value that is not a number") from None
        if any(not math.isfinite(v) for v in floats):
            raise DocumentError(f"samples file {file}: {metric!r} holds a non-finite value")
        out[str(metric)] = floats
    return out


def parse_summary(
    data: Any, *, source: str = "summary", samples: Mapping[str, Sequence[float]] | None = None
) -> Summary:
    """Validate a decoded ``summary.json`` document (``samples``: its raw samples, if the caller has them)."""
    where = source
    if not isinstance(data, dict):
        raise DocumentError(f"{where}: a summary must be a JSON object")
    try:
        metrics = {
            str(name): _metric(str(name), value) for name, value in _mapping(data.get("metrics", {}), "metrics").items()
        }
        requests = {
            str(name): RequestStats(
                str(name),
                _int(value.get("count", 0), f"requests.{name}.count"),
                _int(value.get("failures", 0), f"requests.{name}.failures"),
                finite_number(value.get("rps", 0.0), f"requests.{name}.rps"),
            )
            for name, value in _mapping(data.get("requests", {}), "requests").items()
            if _mapping(value, f"requests.{name}") is not None
        }
        failures = tuple(
            FailureReason(str(f.get("name", "")), str(f.get("reason", "")), _int(f.get("count", 0), "failures.count"))
            for f in _list(data.get("failures", []), "failures")
            if _mapping(f, "failures[]") is not None
        )
        timeline = tuple(_timeline_row(row) for row in _list(data.get("timeline", []), "timeline"))
        contract = None
        if data.get("contract") is not None:
            contract = {
                str(api): _contract(str(api), value)
                for api, value in _mapping(data["contract"], "contract").items()
            }
        samples_file = data.get("samples")
        if samples_file is not None and not isinstance(samples_file, str):
            raise ValueError("samples must be a file name")
        target = {str(k): str(v) for k, v in _mapping(data.get("target", {}), "target").items()}
        settings = dict(_mapping(data.get("settings") or {}, "settings"))
        duration = finite_number(data.get("duration_s", 0.0), "duration_s")
    except ValueError as exc:
        raise DocumentError(f"{where}: {exc}") from None
    return Summary(
        source=source,
        apigate_version=str(data.get("apigate_version", "")),
        started_at=str(data.get("started_at", "")),
        duration_s=duration,
        target=target,
        settings=settings,
        metrics=metrics,
        requests=requests,
        failures=failures,
        timeline=timeline,
        samples_file=samples_file,
        contract=contract,
        samples=samples,
        raw=data,
    )


def _replace(summary: Summary, **changes: Any) -> Summary:
    import dataclasses

    return dataclasses.replace(summary, **changes)


def _metric(name: str, value: Any) -> MetricStats:
    value = _mapping(value, f"metrics.{name}")
    count = _int(value.get("count", 0), f"metrics.{name}.count")
    stats: dict[str, float | None] = {}
    for key in STATS[1:]:
        raw = value.get(key)
        stats[key] = None if raw is None or count == 0 else finite_number(raw, f"metrics.{name}.{key}")
    return MetricStats(name=name, unit=str(value.get("unit", "ms")), count=count, **stats)


# summary.json's contract sections -> the severities a finding there may have (the first when it names none)
_SECTIONS: Final[dict[str, tuple[Severity, ...]]] = {
    "failures": (Severity.FAILURE, Severity.EXPIRED),
    "warnings": (Severity.ASSUMPTION, Severity.HTTP_LAYER),
    "known": (Severity.KNOWN,),
    "accept_entries": (Severity.FIXED, Severity.EXPIRED),
}


def _contract(api: str, value: Any) -> ApiContract:
    value = _mapping(value, f"contract.{api}")
    passed = value.get("passed")
    if not isinstance(passed, bool):
        raise ValueError(f"contract.{api}.passed must be true or false")
    seed = value.get("seed")
    if seed is not None:
        seed = _int(seed, f"contract.{api}.seed")
    sections = {name: _findings(api, name, value.get(name, []), allowed) for name, allowed in _SECTIONS.items()}
    return ApiContract(api, passed, _int(value.get("checks", 0), f"contract.{api}.checks"), seed=seed, **sections)


def _findings(api: str, section: str, value: Any, allowed: tuple[Severity, ...]) -> tuple[ContractFinding, ...]:
    out = []
    for f in _list(value, f"contract.{api}.{section}"):
        f = _mapping(f, f"contract.{api}.{section}[]")
        try:
            severity = Severity(f.get("severity", allowed[0]))
        except ValueError:
            raise ValueError(f"contract.{api}.{section}[]: unknown severity {f.get('severity')!r}") from None
        if severity not in allowed:
            raise ValueError(f"contract.{api}.{section}[]: severity {severity} does not belong here")
        out.append(ContractFinding(str(f.get("operation", "")), str(f.get("check", "")), str(f.get("reason", "")),
                                   str(f.get("curl", "")), severity, str(f.get("note", ""))))
    return tuple(out)


def _timeline_row(row: Any) -> tuple[int, int, int]:
    if not isinstance(row, list) or len(row) != 3:
        raise ValueError("timeline rows must be [t_s, requests, failures]")
    return (_int(row[0], "timeline.t"), _int(row[1], "timeline.requests"), _int(row[2], "timeline.failures"))


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def finite_number(value: Any, what: str) -> float:
    """``value`` as a float when it is a finite JSON/TOML number (not a boolean); ``ValueError`` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, not {value!r}")
    return float(value)


def _int(value: Any, what: str) -> int:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or value != int(value) or value < 0):
        raise ValueError(f"{what} must be a non-negative integer, not {value!r}")
    return int(value)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
