"""The CI gate: contract results, absolute limits, failure rates and a noise-robust baseline comparison → verdicts.

Thresholds come from a TOML file (the packaged defaults, ``thresholds.default.toml``, document every key); a user
file overrides them key by key (``false`` removes a default limit). :func:`evaluate` turns a :class:`Summary`, the
thresholds and an optional baseline summary into a :class:`GateResult`: one :class:`Verdict` per check, each
``pass``, ``fail`` or ``skip`` (not measured / nothing to compare), and the exit code (0 pass, 1 any failure).

Regression rule (decided here, documented in the defaults file): for each compared statistic (p50 and p95 by default)
the current run regresses when it is slower than the baseline by more than ``tolerance_pct`` percent **and** by more
than ``min_delta_ms`` **and** the slowdown is significant at ``alpha``: p50 by a one-sided Mann–Whitney U test, tail
percentiles by a one-sided bootstrap of the quantile difference (a rank test says nothing about the tail). p50 catches
a shifted distribution, p95 a fattened tail. Without raw samples on both sides only the tolerance is applied, and the
verdict says so.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from apigate.errors import ConfigError
from apigate.loadsummary import DEFAULT_HOLD, HoldPolicy, LoadDetails, held_problems, load_details
from apigate.redact import redact
from apigate.stats import bootstrap_quantile_diff, mann_whitney_u, subsample
from apigate.summary import STATS, ApiContract, Summary, finite_number

__all__ = [
    "Comparison",
    "GateResult",
    "Limit",
    "RegressionPolicy",
    "Thresholds",
    "Verdict",
    "compare_metric",
    "compared_by_default",
    "default_thresholds",
    "default_thresholds_text",
    "evaluate",
    "format_p",
    "load_thresholds",
    "parse_limit",
    "parse_thresholds",
    "render_table",
    "verdict_line",
]

Status = Literal["pass", "fail", "skip"]
# error: a run step did not finish; load: the run held the load asked for; capacity: a sweep's against the baseline's
Kind = Literal["contract", "limit", "failure_rate", "regression", "error", "load", "capacity"]

_OPS: Final = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}
_DIAGNOSTIC_PREFIXES: Final = ("truth.", "client.")  # the load scenarios' self-checks (see load/stream.py)
_QUANTILES: Final = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
_LIMIT_TEXT: Final = re.compile(r"^\s*(<=|<|>=|>)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


# ---- thresholds -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    metric: str
    stat: str
    op: str
    value: float

    @property
    def name(self) -> str:
        return f"{self.metric}.{self.stat} {self.op} {self.value:g}"


@dataclass(frozen=True)
class RegressionPolicy:
    statistics: tuple[str, ...] = ("p50", "p95")
    tolerance_pct: float = 10.0
    min_delta_ms: float = 2.0
    alpha: float = 0.01
    metrics: tuple[str, ...] = ()  # empty: every API latency in both runs (see :func:`compared_by_default`)
    max_samples: int = 50000
    bootstrap_resamples: int = 4000
    seed: int = 0


@dataclass(frozen=True)
class Thresholds:
    contract_must_pass: bool = True
    limits: tuple[Limit, ...] = ()
    failure_rate: Mapping[str, float] = field(default_factory=dict)  # request name (or "*") -> max fraction
    regression: RegressionPolicy = RegressionPolicy()
    source: str = "defaults"
    load_must_hold: bool = True  # [load]: a run that could not hold the load asked for fails
    hold: HoldPolicy = DEFAULT_HOLD
    capacity_max_drop_pct: float | None = 10.0  # [capacity]: a sweep's capacity against the baseline's (None: off)

    def failure_rate_for(self, request: str) -> float | None:
        return self.failure_rate.get(request, self.failure_rate.get("*"))


def default_thresholds_text() -> str:
    return resources.files("apigate").joinpath("thresholds.default.toml").read_text(encoding="utf-8")


def default_thresholds() -> Thresholds:
    return parse_thresholds(default_thresholds_text(), source="defaults", defaults=None)


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """The packaged defaults, overridden by the TOML file at ``path`` if given (ConfigError when unreadable/bad)."""
    if path is None:
        return default_thresholds()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"thresholds file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read thresholds file {file}: {exc}") from None
    return parse_thresholds(text, source=str(file))


def parse_thresholds(
    text: str, *, source: str = "thresholds", defaults: Thresholds | Literal["packaged"] | None = "packaged"
) -> Thresholds:
    """Parse thresholds TOML; keys not given keep ``defaults`` (the packaged defaults unless ``None``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    base = default_thresholds() if defaults == "packaged" else defaults
    try:
        return _build(data, base, source)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _build(data: dict[str, Any], base: Thresholds | None, source: str) -> Thresholds:
    unknown = set(data) - {"contract", "limits", "failure_rate", "regression", "load", "capacity"}
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(sorted(unknown))} (expected contract, limits, failure_rate,"
                         " regression, load, capacity)")
    contract = _table(data, "contract")
    _only(contract, {"must_pass"}, "contract")
    must_pass = base.contract_must_pass if base else True
    if "must_pass" in contract:
        must_pass = _bool(contract["must_pass"], "contract.must_pass")

    limits: dict[tuple[str, str], Limit] = {(lim.metric, lim.stat): lim for lim in base.limits} if base else {}
    for key, value in _flatten(_table(data, "limits")).items():
        metric, _, stat = key.rpartition(".")
        if not metric or stat not in STATS:
            raise ValueError(f"limits: {key!r} must be '<metric>.<statistic>' with statistic one of {', '.join(STATS)}")
        if value is False:
            limits.pop((metric, stat), None)
            continue
        op, number = _limit_value(value, key)
        limits[(metric, stat)] = Limit(metric, stat, op, number)

    failure_rate = dict(base.failure_rate) if base else {}
    for key, value in _flatten(_table(data, "failure_rate")).items():
        if value is False:
            failure_rate.pop(key, None)
            continue
        rate = finite_number(value, f"failure_rate.{key}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"failure_rate.{key} must be a fraction between 0 and 1 (0.01 = 1 %), not {value!r}")
        failure_rate[key] = rate

    policy = base.regression if base else RegressionPolicy()
    reg = _table(data, "regression")
    _only(reg, {"statistics", "tolerance_pct", "min_delta_ms", "alpha", "metrics", "max_samples",
                "bootstrap_resamples", "seed"}, "regression")
    statistics = tuple(_strings(reg.get("statistics", list(policy.statistics)), "regression.statistics"))
    bad = [s for s in statistics if s not in _QUANTILES]
    if bad or not statistics:
        raise ValueError(f"regression.statistics must be a non-empty list of {', '.join(_QUANTILES)}")
    alpha = finite_number(reg.get("alpha", policy.alpha), "regression.alpha")
    if not 0.0 < alpha < 0.5:
        raise ValueError("regression.alpha must be between 0 and 0.5 (e.g. 0.01)")
    policy = RegressionPolicy(
        statistics=statistics,
        tolerance_pct=_nonneg(reg.get("tolerance_pct", policy.tolerance_pct), "regression.tolerance_pct"),
        min_delta_ms=_nonneg(reg.get("min_delta_ms", policy.min_delta_ms), "regression.min_delta_ms"),
        alpha=alpha,
        metrics=tuple(_strings(reg.get("metrics", list(policy.metrics)), "regression.metrics")),
        max_samples=_positive_int(reg.get("max_samples", policy.max_samples), "regression.max_samples"),
        bootstrap_resamples=_positive_int(reg.get("bootstrap_resamples", policy.bootstrap_resamples),
                                          "regression.bootstrap_resamples"),
        seed=_int(reg.get("seed", policy.seed), "regression.seed"),
    )
    must_hold, hold, max_drop = _load_sections(data, base)
    return Thresholds(must_pass, tuple(limits.values()), failure_rate, policy, source, must_hold, hold, max_drop)


def _load_sections(data: Mapping[str, Any], base: Thresholds | None) -> tuple[bool, HoldPolicy, float | None]:
    """``[load]`` (must_hold, max_late_fraction, min_active_fraction) and ``[capacity]`` (max_drop_pct)."""
    defaults = base or Thresholds()
    load = _table(data, "load")
    _only(load, {"must_hold", "max_late_fraction", "min_active_fraction"}, "load")
    must_hold = _bool(load["must_hold"], "load.must_hold") if "must_hold" in load else defaults.load_must_hold
    fractions = {}
    for key in ("max_late_fraction", "min_active_fraction"):
        value = finite_number(load.get(key, getattr(defaults.hold, key)), f"load.{key}")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"load.{key} must be a fraction between 0 and 1, not {value!r}")
        fractions[key] = value
    capacity = _table(data, "capacity")
    _only(capacity, {"max_drop_pct"}, "capacity")
    max_drop = defaults.capacity_max_drop_pct
    if "max_drop_pct" in capacity:
        max_drop = None if capacity["max_drop_pct"] is False else _nonneg(capacity["max_drop_pct"],
                                                                          "capacity.max_drop_pct")
    return must_hold, HoldPolicy(**fractions), max_drop


_LIMIT_EXPR: Final = re.compile(r"^\s*([^\s<>=]+)\.([a-z0-9]+)\s*((?:<=|<|>=|>)\s*[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
                                r"\s*$")


def parse_limit(text: str) -> Limit:
    """A limit written ``<metric>.<statistic> <op> <value>`` (``codemie.chat.p95<=300``), e.g. from ``--slo``."""
    match = _LIMIT_EXPR.match(text)
    if not match or match.group(2) not in STATS:
        raise ConfigError(f"{text!r} is not a limit like 'codemie.chat.p95 <= 300' (statistic one of "
                          f"{', '.join(STATS)})")
    op, value = _limit_value(match.group(3), f"{match.group(1)}.{match.group(2)}")
    return Limit(match.group(1), match.group(2), op, value)


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f"[{name}] must be a table")
    return value


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"codemie": {"stream": {"ttfc": {"p95": 800}}}}`` (unquoted dotted keys) -> ``{"codemie.stream.ttfc.p95": 800}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _only(table: Mapping[str, Any], allowed: set[str], section: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) in [{section}]: {', '.join(sorted(unknown))}")


def _limit_value(value: Any, key: str) -> tuple[str, float]:
    if isinstance(value, str):
        match = _LIMIT_TEXT.match(value)
        if not match:
            raise ValueError(f"limits.{key}: {value!r} is not a limit like 800 or '<= 800'")
        return match.group(1), float(match.group(2))
    return "<=", _nonneg(value, f"limits.{key}")


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false")
    return value


def _nonneg(value: Any, what: str) -> float:
    number = finite_number(value, what)
    if number < 0:
        raise ValueError(f"{what} must not be negative")
    return number


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, not {value!r}")
    return value


def _positive_int(value: Any, what: str) -> int:
    number = _int(value, what)
    if number < 1:
        raise ValueError(f"{what} must be at least 1")
    return number


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    return list(value)


# ---- verdicts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One statistic of one metric, current vs baseline."""

    metric: str
    stat: str
    baseline: float
    current: float
    p_value: float | None  # None: no raw samples on one side -> tolerance only
    method: str  # "Mann–Whitney U" | "bootstrap" | "tolerance only"
    exceeds_tolerance: bool
    regressed: bool

    @property
    def delta_ms(self) -> float:
        return self.current - self.baseline

    @property
    def delta_pct(self) -> float:
        if self.baseline > 0:
            return self.delta_ms / self.baseline * 100.0
        return 0.0 if self.delta_ms == 0 else math.copysign(math.inf, self.delta_ms)

    def describe(self, alpha: float) -> str:
        text = (f"{self.stat} {self.delta_ms:+.1f} ms ({_pct(self.delta_pct)}; {_num(self.baseline)} → "
                f"{_num(self.current)} ms)")
        if self.p_value is not None:
            text += f", {format_p(self.p_value)} ({self.method})"
        if self.regressed:
            return text + ": REGRESSION" + ("" if self.p_value is not None else " (no raw samples: tolerance only)")
        if not self.exceeds_tolerance:
            return text + ": within tolerance"
        return text + f": above tolerance but not significant (α={alpha:g})"


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    name: str
    status: Status
    message: str
    metric: str = ""
    comparisons: tuple[Comparison, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status != "fail"


@dataclass(frozen=True)
class GateResult:
    verdicts: tuple[Verdict, ...]
    baseline: str | None = None  # where the baseline came from, when there was one
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.status == "fail")

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def regressions(self) -> tuple[Comparison, ...]:
        return tuple(c for v in self.verdicts for c in v.comparisons if c.regressed)


def evaluate(
    summary: Summary,
    thresholds: Thresholds | None = None,
    baseline: Summary | None = None,
    *,
    notes: Sequence[str] = (),
    strict: bool = False,
) -> GateResult:
    """Judge ``summary`` against ``thresholds`` (packaged defaults when ``None``) and, if given, ``baseline``.

    ``strict``: contract warnings (assumed constraints, HTTP-layer answers) fail the gate too.
    """
    thresholds = thresholds or default_thresholds()
    verdicts: list[Verdict] = []
    all_notes = list(notes)
    verdicts.extend(_contract_verdicts(summary, thresholds, strict=strict))
    verdicts.extend(_limit_verdicts(summary, thresholds))
    verdicts.extend(_failure_rate_verdicts(summary, thresholds))
    details = load_details(summary)
    verdicts.extend(_load_verdicts(details, thresholds))
    base_details = load_details(baseline) if baseline is not None else None
    if baseline is not None and base_details is not None and details.sweep and base_details.sweep:
        # two sweeps: each run's metrics are those of its own capacity level, at different loads — compare the
        # capacities, not the latencies
        verdicts.extend(_capacity_verdicts(details, base_details, thresholds))
        all_notes.append("both runs are sweeps: compared by capacity, not by per-metric latency")
    elif baseline is not None:
        verdicts.extend(_regression_verdicts(summary, baseline, thresholds.regression))
        if summary.metrics and (summary.samples is None or baseline.samples is None):
            missing = [s for s, side in (("current", summary), ("baseline", baseline)) if side.samples is None]
            reasons = "; ".join(f"{side}: {s.samples_note or 'no samples'}" for side, s in
                                (("current", summary), ("baseline", baseline)) if s.samples is None)
            all_notes.append(f"no raw samples for the {' and '.join(missing)} run ({reasons}): "
                             "regressions judged by tolerance only")
    return GateResult(tuple(verdicts), baseline.source if baseline is not None else None, tuple(all_notes))


def _contract_verdicts(summary: Summary, thresholds: Thresholds, *, strict: bool) -> list[Verdict]:
    if not thresholds.contract_must_pass or summary.contract is None:
        return []
    out: list[Verdict] = []
    for api in summary.contract.values():
        extras = _contract_extras(api, strict=strict)
        failing = api.failing(strict=strict)
        if not failing and (api.passed or api.warnings or api.known or api.accept_entries):
            out.append(Verdict("contract", f"contract {api.api}", "pass", f"{api.checks} checks passed{extras}"))
            continue
        n = len(failing)
        first = failing[0] if failing else None
        detail = f": {first.operation} {first.check}: {first.reason}" if first else ""
        more = f" (+{n - 1} more)" if n > 1 else ""
        text = f"{n} failing check{'s' if n != 1 else ''} of {api.checks}{detail}{more}{extras}"
        out.append(Verdict("contract", f"contract {api.api}", "fail", redact(text)))
    return out


def _contract_extras(api: ApiContract, *, strict: bool) -> str:
    """``; 3 warnings, 1 known failure accepted, 1 accept entry fixed`` (what did not fail, or failed only when
    strict)."""
    def count(n: int, word: str, plural: str = "") -> str:
        return f"{n} {word if n == 1 else plural or word + 's'}"

    parts = []
    if api.warnings:
        parts.append(count(len(api.warnings), "warning") + (" (--strict: failing)" if strict else ""))
    if api.known:
        parts.append(count(len(api.known), "known failure") + " accepted")
    if api.fixed:
        parts.append(count(len(api.fixed), "accept entry", "accept entries") + " fixed (no longer occurring)")
    return "; " + ", ".join(parts) if parts else ""


def _limit_verdicts(summary: Summary, thresholds: Thresholds) -> list[Verdict]:
    out: list[Verdict] = []
    if not summary.metrics:
        return out
    for limit in thresholds.limits:
        metric = summary.metrics.get(limit.metric)
        value = metric.stat(limit.stat) if metric is not None else None
        if value is None:
            out.append(Verdict("limit", limit.name, "skip", "not measured in this run", limit.metric))
            continue
        unit = metric.unit if metric is not None else "ms"
        if _OPS[limit.op](value, limit.value):
            out.append(Verdict("limit", limit.name, "pass", f"{_num(value)} {unit}", limit.metric))
            continue
        over = value - limit.value
        pct = f" ({_pct(over / limit.value * 100)})" if limit.value > 0 else ""
        out.append(Verdict("limit", limit.name, "fail",
                           f"{_num(value)} {unit}: breaks the limit by {abs(over):.1f} {unit}{pct}", limit.metric))
    return out


def _failure_rate_verdicts(summary: Summary, thresholds: Thresholds) -> list[Verdict]:
    out: list[Verdict] = []
    for request in summary.requests.values():
        allowed = thresholds.failure_rate_for(request.name)
        if allowed is None:
            continue
        name = f"failure rate {request.name} <= {allowed * 100:g}%"
        text = f"{request.failures} of {request.count} failed ({request.failure_rate * 100:.2f}%)"
        if request.failure_rate <= allowed:
            out.append(Verdict("failure_rate", name, "pass", text))
            continue
        reasons = sorted((f for f in summary.failures if f.name == request.name), key=lambda f: -f.count)
        if reasons:
            text += f"; most common: {reasons[0].reason} ({reasons[0].count})"
        out.append(Verdict("failure_rate", name, "fail", redact(text)))
    return out


def _load_verdicts(details: LoadDetails, thresholds: Thresholds) -> list[Verdict]:
    """Whether the run held the load it was asked for (only for summaries of load runs that say so)."""
    if not thresholds.load_must_hold or (details.users is None and details.open_model is None and not details.sweep):
        return []
    if details.sweep is not None:
        problems = [f"{_num(lv.level)} {details.sweep.unit}: {v.removeprefix('load not held: ')}"
                    for lv in details.sweep.levels if not lv.held for v in lv.violations
                    if v.startswith("load not held: ")]
    else:
        problems = held_problems(details, thresholds.hold)
    if problems:
        return [Verdict("load", "load held", "fail", redact("could not hold the requested load: " + "; ".join(problems)))]
    return [Verdict("load", "load held", "pass", _held_text(details))]


def _held_text(details: LoadDetails) -> str:
    om, users = details.open_model, details.users
    if details.sweep is not None:
        return f"the generator held every level of the sweep ({len(details.sweep.levels)})"
    if om is not None:
        return (f"{om.sent} of {om.due} arrivals sent, {om.late} late (> {om.late_after_ms:g} ms), "
                f"worst lateness {om.worst_lateness_ms:.1f} ms")
    assert users is not None
    share = f", set up and sending {users.active_fraction:.1%} of their time" if users.active_fraction is not None else ""
    return f"{users.requested} users{share}, none stopped"


def _capacity_verdicts(current: LoadDetails, baseline: LoadDetails, thresholds: Thresholds) -> list[Verdict]:
    """A sweep's capacity must not drop by more than ``[capacity] max_drop_pct`` against the baseline sweep's."""
    assert current.sweep is not None and baseline.sweep is not None
    if thresholds.capacity_max_drop_pct is None:
        return []
    limit = thresholds.capacity_max_drop_pct
    cur, base = current.sweep, baseline.sweep
    name = f"capacity drop <= {limit:g}%"
    unit = cur.unit
    if cur.by != base.by:
        return [Verdict("capacity", name, "skip", f"the sweeps are by {cur.by} and by {base.by}: not comparable")]
    if base.capacity.value is None:
        return [Verdict("capacity", name, "skip", "the baseline sweep found no capacity (no level met its SLOs)")]
    floor = base.capacity.value * (1 - limit / 100)
    text = f"{cur.capacity.describe(unit)} against the baseline's {base.capacity.describe(unit)}"
    if cur.capacity.value is None:
        return [Verdict("capacity", name, "fail", redact(f"capacity {text}"))]
    drop = (base.capacity.value - cur.capacity.value) / base.capacity.value * 100
    if cur.capacity.value >= floor:
        change = (cur.capacity.value - base.capacity.value) / base.capacity.value * 100
        return [Verdict("capacity", name, "pass", redact(f"capacity {text} ({_pct(change)})"))]
    if cur.capacity.bound == "at least":
        return [Verdict("capacity", name, "skip",
                        redact(f"capacity {text}: the sweep stopped below the baseline's capacity, raise its levels"))]
    return [Verdict("capacity", name, "fail", redact(f"capacity {text}: dropped {drop:.1f}% (more than {limit:g}%)"))]


def _regression_verdicts(summary: Summary, baseline: Summary, policy: RegressionPolicy) -> list[Verdict]:
    names = policy.metrics or tuple(m for m, stats in summary.metrics.items() if compared_by_default(m, stats.unit))
    out: list[Verdict] = []
    for metric in names:
        current = summary.metrics.get(metric)
        base = baseline.metrics.get(metric)
        if current is None or current.count == 0:
            if policy.metrics:
                out.append(Verdict("regression", f"regression {metric}", "skip", "not measured in this run", metric))
            continue
        if base is None or base.count == 0:
            out.append(Verdict("regression", f"regression {metric}", "skip", "not in the baseline", metric))
            continue
        comparisons = compare_metric(summary, baseline, metric, policy)
        regressed = [c for c in comparisons if c.regressed]
        ordered = regressed + [c for c in comparisons if not c.regressed]
        if any(c.exceeds_tolerance for c in comparisons):
            message = "; ".join(c.describe(policy.alpha) for c in ordered)
        else:  # the common case: say it briefly
            changes = ", ".join(f"{c.stat} {c.delta_ms:+.1f} ms ({_pct(c.delta_pct)})" for c in comparisons)
            message = f"{changes}: within tolerance ({policy.tolerance_pct:g}% / {policy.min_delta_ms:g} ms)"
        out.append(Verdict("regression", f"regression {metric}", "fail" if regressed else "pass", message, metric,
                           tuple(comparisons)))
    return out


def compared_by_default(metric: str, unit: str) -> bool:
    """Whether an empty ``regression.metrics`` compares ``metric``: the API's latencies, not counts
    (``codemie.stream.chunks``) nor the load generator's own diagnostics (``truth.*``, ``client.*``), whose changes
    say something about the machine that ran the test, not about the API."""
    return unit == "ms" and not metric.startswith(_DIAGNOSTIC_PREFIXES)


def compare_metric(current: Summary, baseline: Summary, metric: str, policy: RegressionPolicy) -> list[Comparison]:
    """Current vs baseline for each of ``policy.statistics`` of ``metric`` (both runs must have the metric)."""
    cur_stats, base_stats = current.metrics[metric], baseline.metrics[metric]
    cur_samples = current.samples_of(metric)
    base_samples = baseline.samples_of(metric)
    have_samples = cur_samples is not None and base_samples is not None
    x: list[float] = []
    y: list[float] = []
    if cur_samples is not None and base_samples is not None:
        x = subsample(cur_samples, policy.max_samples, seed=policy.seed)
        y = subsample(base_samples, policy.max_samples, seed=policy.seed + 1)
    out: list[Comparison] = []
    for stat in policy.statistics:
        cur_value, base_value = cur_stats.stat(stat), base_stats.stat(stat)
        if cur_value is None or base_value is None:
            continue
        delta = cur_value - base_value
        pct = delta / base_value * 100.0 if base_value > 0 else (math.inf if delta > 0 else 0.0)
        exceeds = delta > policy.min_delta_ms and pct > policy.tolerance_pct
        p_value: float | None = None
        method = "tolerance only"
        if have_samples:
            if stat == "p50":
                p_value = mann_whitney_u(x, y, "greater").p_value
                method = "Mann–Whitney U"
            else:
                p_value = bootstrap_quantile_diff(x, y, _QUANTILES[stat], resamples=policy.bootstrap_resamples,
                                                  confidence=1 - 2 * policy.alpha, seed=policy.seed).p_value
                method = "bootstrap"
            regressed = exceeds and p_value < policy.alpha
        else:
            regressed = exceeds
        out.append(Comparison(metric, stat, base_value, cur_value, p_value, method, exceeds, regressed))
    return out


# ---- text -----------------------------------------------------------------------------------------------------


def format_p(p: float) -> str:
    return "p<0.0001" if p < 0.0001 else f"p={p:.2g}" if p >= 0.01 else f"p={p:.4f}"


def _num(value: float) -> str:
    return f"{value:.0f}" if value == int(value) and abs(value) >= 100 else f"{value:.1f}"


def _pct(value: float) -> str:
    return f"{value:+.1f}%" if math.isfinite(value) else ("+∞%" if value > 0 else "-∞%")


_MARK: Final = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}


def render_table(result: GateResult, *, show_skipped: bool = False) -> str:
    """A short plain-text verdict table for the terminal (redacted), ending with the overall verdict line."""
    rows = [v for v in result.verdicts if show_skipped or v.status != "skip"]
    width = max((len(v.name) for v in rows), default=10)
    lines = [f"{'':4}  {'check':{width}}  detail"]
    for v in rows:
        lines.append(f"{_MARK[v.status]:4}  {v.name:{width}}  {v.message}")
    skipped = sum(1 for v in result.verdicts if v.status == "skip")
    if skipped and not show_skipped:
        lines.append(f"({skipped} check{'s' if skipped != 1 else ''} skipped: not measured or not in the baseline)")
    if result.baseline:
        lines.append(f"baseline: {result.baseline}")
    lines.extend(f"note: {n}" for n in result.notes)
    lines.append(verdict_line(result))
    return redact("\n".join(lines)) + "\n"


def verdict_line(result: GateResult) -> str:
    judged = sum(1 for v in result.verdicts if v.status != "skip")
    if result.passed:
        return f"gate: PASSED ({judged} checks)"
    failed = result.failed
    names = ", ".join(v.name for v in failed[:3]) + (", ..." if len(failed) > 3 else "")
    return f"gate: FAILED ({len(failed)} of {judged} checks failed: {names})"
