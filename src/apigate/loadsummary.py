"""The load-specific parts of ``summary.json``, typed: the model, arrivals, users over time, latency over time,
phases, sweep levels and capacity — and whether a run held the load it was asked for.

Written by the load runner (``apigate.loadrun``) next to the metrics; read by the reports and the gate through
:func:`load_details` (from :attr:`Summary.raw`, so summaries without these blocks — older runs, contract-only runs —
simply have none). Malformed blocks raise :class:`~apigate.errors.DocumentError` (exit 2).

Blocks (all optional)::

    "model": "open" | "closed"
    "open_model": {"rate", "arrivals", "pool", "sent", "unsent", "late", "late_no_free_user", "late_after_ms",
                   "worst_lateness_ms", "warm_up_s"}
    "users": {"requested", "active_fraction", "timeline": [[t, spawned, active, starting], ...],
              "stopped": [{"user", "reason", "count"}, ...]}
    "latency_timeline": {"window_s", "metrics": {metric: [[t, n, p50, p95], ...]}}
    "phases": [{"label", "start_s", "end_s", "requests", "failures", "rps", "metrics": {metric: {count, p50, ...}}}]
    "sweep": {"by", "unit", "level_duration_s", "slos", "levels": [...], "capacity": {...}, "stopped_early"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from apigate.errors import DocumentError
from apigate.summary import Summary, finite_number, parse_summary

__all__ = [
    "DEFAULT_HOLD",
    "Capacity",
    "HoldPolicy",
    "LoadDetails",
    "OpenModel",
    "Phase",
    "SloLimit",
    "Sweep",
    "SweepLevel",
    "Users",
    "format_level",
    "held_problems",
    "load_details",
]


@dataclass(frozen=True)
class OpenModel:
    rate: float
    arrivals: str
    pool: int
    sent: int
    unsent: int
    late: int  # sent more than late_after_ms after their intended time
    late_no_free_user: int  # ... of which because every user of the pool was busy
    late_after_ms: float
    worst_lateness_ms: float
    warm_up_s: float | None = None  # the arrivals began this long after the test started

    @property
    def due(self) -> int:
        return self.sent + self.unsent


@dataclass(frozen=True)
class StoppedUsers:
    user: str
    reason: str
    count: int


@dataclass(frozen=True)
class Users:
    requested: int
    active_fraction: float | None  # active user-seconds / (active + starting) user-seconds
    timeline: tuple[tuple[float, float, float, float], ...] = ()  # t, spawned, active, starting
    stopped: tuple[StoppedUsers, ...] = ()

    @property
    def stopped_count(self) -> int:
        return sum(s.count for s in self.stopped)


@dataclass(frozen=True)
class Phase:
    """A part of a run (a ramp or step of a shape, a sweep level) with its own results."""

    label: str
    start_s: float
    end_s: float
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    metrics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepLevel:
    level: float
    refinement: bool
    start_s: float
    duration_s: float
    passed: bool
    bad: bool  # failed badly: the sweep stopped here
    held: bool  # the load generator held the level's load
    violations: tuple[str, ...]
    throughput_rps: float
    goodput_rps: float
    goodput_share: float
    summary: Summary  # the level's metrics, requests and failures (``samples_file`` relative to the sweep's folder)


@dataclass(frozen=True)
class Capacity:
    value: float | None  # None: not even the lowest level met the SLOs, or no level could be judged
    # "between" (refined between a pass and a fail), "at least" (no level failed), "below" (none passed),
    # "unknown" (the load generator held no level)
    bound: str
    last_pass: float | None
    first_fail: float | None

    def describe(self, unit: str) -> str:
        if self.bound == "unknown":
            return "not determined (the load generator could not hold any level)"
        if self.value is None:
            return f"below {format_level(self.first_fail)} {unit} (no level met the SLOs)"
        if self.bound == "at least":
            return f"at least {format_level(self.value)} {unit} (every level met the SLOs)"
        if self.bound.startswith("median"):  # a baseline from the history: "median of 3 sweeps"
            return f"{format_level(self.value)} {unit} ({self.bound})"
        passed, failed = format_level(self.last_pass), format_level(self.first_fail)
        return f"{format_level(self.value)} {unit} (passed {passed}, failed {failed})"


@dataclass(frozen=True)
class SloLimit:
    metric: str
    stat: str
    op: str
    value: float


@dataclass(frozen=True)
class Sweep:
    by: str  # "rate" | "users"
    unit: str
    level_duration_s: float
    slos: tuple[str, ...]  # every SLO, as text
    levels: tuple[SweepLevel, ...]
    capacity: Capacity
    stopped_early: str | None = None
    limits: tuple[SloLimit, ...] = ()  # the latency SLOs

    def limits_of(self, metric: str) -> tuple[SloLimit, ...]:
        return tuple(lim for lim in self.limits if lim.metric == metric)

    @property
    def slo_metrics(self) -> list[str]:
        return list(dict.fromkeys(lim.metric for lim in self.limits))


@dataclass(frozen=True)
class LoadDetails:
    model: str = "closed"
    open_model: OpenModel | None = None
    users: Users | None = None
    window_s: float = 0.0
    latency: Mapping[str, tuple[tuple[float, int, float, float], ...]] = field(default_factory=dict)
    phases: tuple[Phase, ...] = ()
    sweep: Sweep | None = None


@dataclass(frozen=True)
class HoldPolicy:
    """When a run counts as having held the load it was asked for (thresholds ``[load]``)."""

    max_late_fraction: float = 0.01  # open model: arrivals sent late or never
    min_active_fraction: float = 0.95  # closed model: share of the users' time they were set up and sending


DEFAULT_HOLD: Final = HoldPolicy()


def held_problems(details: LoadDetails, policy: HoldPolicy = DEFAULT_HOLD, *, count_busy_pool: bool = True) -> list[str]:
    """Why the run did not hold the load it was asked for (empty: it did), one readable sentence each.

    ``count_busy_pool=False`` leaves out open-model arrivals that were late or unsent because every user was busy
    (the server made them wait: a sweep's overloaded level) and keeps what the generator itself could not do.
    """
    problems = []
    users = details.users
    if users is not None and users.stopped:
        reasons = "; ".join(f"{s.user}: {s.reason} (×{s.count})" for s in users.stopped[:3])
        problems.append(f"{users.stopped_count} user(s) stopped before the end: {reasons}")
    om = details.open_model
    if om is not None and om.due:
        behind = om.late + om.unsent if count_busy_pool else om.late - om.late_no_free_user
        if behind / om.due > policy.max_late_fraction:
            causes = []
            if om.late_no_free_user:
                causes.append(f"{om.late_no_free_user} because all {om.pool} users were busy (raise -u)")
            slow = om.late - om.late_no_free_user
            if slow:
                causes.append(f"{slow} because the generator could not keep up (use --workers)")
            if om.unsent:
                causes.append(f"{om.unsent} due but never sent")
            problems.append(f"the generator fell behind: {behind} of {om.due} arrivals late (> {om.late_after_ms:g} ms)"
                            f" or unsent, worst lateness {om.worst_lateness_ms:.0f} ms — " + ", ".join(causes))
    elif users is not None and users.active_fraction is not None and users.active_fraction < policy.min_active_fraction:
        problems.append(f"users were set up and sending only {users.active_fraction:.1%} of their time "
                        f"(at least {policy.min_active_fraction:.0%} asked): set-up kept failing")
    return problems


# ---- parsing --------------------------------------------------------------------------------------------------


def load_details(summary: Summary) -> LoadDetails:
    """The load-specific blocks of ``summary`` (empty defaults for what it lacks)."""
    data = summary.raw
    try:
        return LoadDetails(
            model=str(data.get("model") or summary.settings.get("model") or "closed"),
            open_model=_open_model(data.get("open_model")),
            users=_users(data.get("users")),
            window_s=finite_number((data.get("latency_timeline") or {}).get("window_s", 0.0), "latency_timeline.window_s"),
            latency=_latency(data.get("latency_timeline")),
            phases=tuple(_phase(p, f"phases[{i}]") for i, p in enumerate(_list(data.get("phases"), "phases"))),
            sweep=_sweep(data.get("sweep"), summary.source),
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DocumentError(f"{summary.source}: {exc}") from None


def _open_model(value: Any) -> OpenModel | None:
    if value is None:
        return None
    v = _map(value, "open_model")
    return OpenModel(
        rate=finite_number(v["rate"], "open_model.rate"), arrivals=str(v.get("arrivals", "constant")),
        pool=int(v.get("pool", 0)), sent=int(v.get("sent", 0)), unsent=int(v.get("unsent", 0)),
        late=int(v.get("late", 0)), late_no_free_user=int(v.get("late_no_free_user", 0)),
        late_after_ms=finite_number(v.get("late_after_ms", 10.0), "open_model.late_after_ms"),
        worst_lateness_ms=finite_number(v.get("worst_lateness_ms", 0.0), "open_model.worst_lateness_ms"),
        warm_up_s=None if v.get("warm_up_s") is None else finite_number(v["warm_up_s"], "open_model.warm_up_s"),
    )


def _users(value: Any) -> Users | None:
    if value is None:
        return None
    v = _map(value, "users")
    fraction = v.get("active_fraction")
    timeline = tuple((float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in _list(v.get("timeline"),
                                                                                         "users.timeline"))
    stopped = tuple(StoppedUsers(str(s["user"]), str(s["reason"]), int(s["count"]))
                    for s in _list(v.get("stopped"), "users.stopped"))
    return Users(int(v.get("requested", 0)), None if fraction is None else finite_number(fraction, "users.active_fraction"),
                 timeline, stopped)


def _latency(value: Any) -> dict[str, tuple[tuple[float, int, float, float], ...]]:
    if value is None:
        return {}
    metrics = _map(_map(value, "latency_timeline").get("metrics", {}), "latency_timeline.metrics")
    return {str(m): tuple((float(r[0]), int(r[1]), float(r[2]), float(r[3])) for r in _list(rows, f"latency {m}"))
            for m, rows in metrics.items()}


def _phase(value: Any, where: str) -> Phase:
    v = _map(value, where)
    metrics = {str(m): {str(k): float(x) for k, x in _map(stats, f"{where}.metrics").items()}
               for m, stats in _map(v.get("metrics", {}), f"{where}.metrics").items()}
    return Phase(str(v["label"]), finite_number(v["start_s"], f"{where}.start_s"), finite_number(v["end_s"], f"{where}.end_s"),
                 int(v.get("requests", 0)), int(v.get("failures", 0)), finite_number(v.get("rps", 0.0), f"{where}.rps"),
                 metrics)


def _sweep(value: Any, source: str) -> Sweep | None:
    if value is None:
        return None
    v = _map(value, "sweep")
    levels = []
    for i, raw in enumerate(_list(v.get("levels"), "sweep.levels")):
        lv = _map(raw, f"sweep.levels[{i}]")
        levels.append(SweepLevel(
            level=finite_number(lv["level"], f"sweep.levels[{i}].level"), refinement=bool(lv.get("refinement", False)),
            start_s=finite_number(lv.get("start_s", 0.0), "start_s"), duration_s=finite_number(lv.get("duration_s", 0.0), "duration_s"),
            passed=bool(lv["passed"]), bad=bool(lv.get("bad", False)), held=bool(lv.get("held", True)),
            violations=tuple(str(x) for x in _list(lv.get("violations"), "violations")),
            throughput_rps=finite_number(lv.get("throughput_rps", 0.0), "throughput_rps"),
            goodput_rps=finite_number(lv.get("goodput_rps", 0.0), "goodput_rps"),
            goodput_share=finite_number(lv.get("goodput_share", 0.0), "goodput_share"),
            summary=parse_summary(lv, source=f"{source} level {lv['level']}"),
        ))
    cap = _map(v.get("capacity", {}), "sweep.capacity")
    capacity = Capacity(
        value=None if cap.get("value") is None else finite_number(cap["value"], "sweep.capacity.value"),
        bound=str(cap.get("bound", "between")),
        last_pass=None if cap.get("last_pass") is None else finite_number(cap["last_pass"], "sweep.capacity.last_pass"),
        first_fail=None if cap.get("first_fail") is None else finite_number(cap["first_fail"], "sweep.capacity.first_fail"),
    )
    limits = tuple(SloLimit(str(x["metric"]), str(x["stat"]), str(x["op"]), finite_number(x["value"], "sweep.limits.value"))
                   for x in _list(v.get("limits"), "sweep.limits"))
    return Sweep(str(v.get("by", "rate")), str(v.get("unit", "requests/s")),
                 finite_number(v.get("level_duration_s", 0.0), "sweep.level_duration_s"),
                 tuple(str(s) for s in _list(v.get("slos"), "sweep.slos")), tuple(levels), capacity,
                 None if v.get("stopped_early") is None else str(v["stopped_early"]), limits)


def _map(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object")
    return value


def _list(value: Any, what: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def format_level(value: float | None) -> str:
    """A load level or capacity as people write it: ``200``, ``212.5``; ``–`` when there is none."""
    if value is None:
        return "–"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"
