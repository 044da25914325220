"""``apigate load --sweep``: a series of load levels, each judged on the SLOs, and the capacity they imply.

Each level is a load run of its own (``levels/NN-<by>-<level>/``: summary, raw samples, Locust files) against one
embedded mock that lives for the whole sweep (or the live target): a **rate** (the open model, requests/s) or a
number of **users** (the closed model). A level *passes* when every SLO holds — the thresholds file's latency limits
(``[limits]``, plus ``--slo``) and failure rates (``[failure_rate]``) — and the load generator held its load.

* The levels run in ascending order. The sweep stops early at a level that **fails badly** (a latency at twice its
  limit or more, a failure rate at twice its allowance and at least 5 %), and never starts a level that would not
  end within ``max_time_s``. A level the load generator could not produce (its own lateness, not a pool the
  server kept busy) is neither a pass nor a fail: it says nothing about the server.
* **Capacity** is the highest level below the first failing one that passed, refined by bisection between it and
  the first failing level (``refine`` more levels); when no level failed it is "at least" the highest level, when
  the first one failed it is "below" it.
* **Goodput** per level: requests per second that succeeded and met every per-request latency bound (each latency
  limit's value, e.g. 300 ms for ``codemie.chat.p95 <= 300``), and their share of all requests.

``summary.json`` of the sweep holds every level (its metrics, requests, failures, SLO verdicts, goodput and the path
of its raw samples) under ``sweep``, the capacity, and — so that reports, gate and history read it like any run —
the metrics of the capacity level (or of the first level when none passed) at the top, with the levels' time series
one after the other and each level as a phase.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from apigate import config
from apigate._version import __version__
from apigate.errors import ApigateError, UsageError
from apigate.gate import Limit, Thresholds, evaluate
from apigate.loadrun.options import LoadOptions, open_model_pool
from apigate.loadrun.runner import LoadResult, run_load
from apigate.loadsummary import Capacity, format_level, held_problems, load_details
from apigate.summary import Summary, load_samples, parse_summary

__all__ = ["LEVEL_OVERHEAD_S", "SweepOptions", "capacity_between", "goodput", "parse_levels", "run_sweep"]

SweepBy = Literal["rate", "users"]
LEVEL_OVERHEAD_S: Final = 15.0  # starting Locust, its users' set-up and stopping: added to a level's run time
BAD_FACTOR: Final = 2.0
BAD_MIN_FAILURE_RATE: Final = 0.05
MAX_LEVELS: Final = 50
_RANGE: Final = re.compile(r"^\s*([0-9.]+)\s*\.\.\s*([0-9.]+)\s*/\s*([0-9.]+)\s*$")

Progress = Callable[[str], None]


def parse_levels(spec: str) -> tuple[SweepBy, tuple[float, ...]]:
    """``rate=50,100,200`` / ``users=5,10,20`` / ``rate=50..300/50`` (from..to/step) -> (by, ascending levels)."""
    by, sep, rest = spec.partition("=")
    by = by.strip()
    if not sep or by not in ("rate", "users"):
        raise UsageError(f"--sweep must look like rate=50,100,200 or users=5,10,20 (or rate=50..300/50), not {spec!r}")
    match = _RANGE.match(rest)
    try:
        if match:
            lo, hi, step = (float(g) for g in match.groups())
            if step <= 0 or hi < lo:
                raise ValueError
            levels = [lo + k * step for k in range(math.floor((hi - lo) / step + 1e-9) + 1)]
        else:
            levels = [float(x) for x in rest.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--sweep {spec!r}: levels must be positive numbers") from None
    if not levels or any(not 0 < v < math.inf for v in levels):
        raise UsageError(f"--sweep {spec!r}: levels must be positive numbers")
    if by == "users" and any(v != int(v) for v in levels):
        raise UsageError(f"--sweep {spec!r}: user counts must be whole numbers")
    unique = tuple(sorted(set(levels)))
    if len(unique) > MAX_LEVELS:
        raise UsageError(f"--sweep {spec!r}: at most {MAX_LEVELS} levels")
    return by, unique  # type: ignore[return-value]


@dataclass(frozen=True)
class SweepOptions:
    base: LoadOptions  # scenario/classes, level duration, workers, arrivals, mock; its rate/users are replaced
    by: SweepBy
    levels: tuple[float, ...]
    thresholds: Thresholds
    refine: int = 2
    max_time_s: float | None = None
    pool: int | None = None  # open model: users per level (None: open_model_pool of the level's rate)

    def __post_init__(self) -> None:
        if not self.levels:
            raise UsageError("a sweep needs at least one level")
        if not 0 <= self.refine <= 10:
            raise UsageError("--refine must be between 0 and 10")
        if self.max_time_s is not None and self.max_time_s < self.base.duration_s:
            raise UsageError("--max-time must be at least one level's duration (-t)")
        if self.base.shape != "steady":
            raise UsageError("--sweep runs steady levels: it cannot be combined with --shape")

    @property
    def unit(self) -> str:
        return "requests/s" if self.by == "rate" else "users"

    def level_options(self, level: float) -> LoadOptions:
        if self.by == "rate":
            users = self.pool or open_model_pool(level, len(self.base.user_classes), self.base.workers)
            return dataclasses.replace(self.base, rate=level, users=users, spawn_rate=float(users))
        users = int(level)
        return dataclasses.replace(self.base, rate=None, users=users, spawn_rate=float(users))

    def label(self, level: float) -> str:
        return f"{format_level(level)} {'req/s' if self.by == 'rate' else 'users'}"


def capacity_between(last_pass: float, first_fail: float, by: SweepBy) -> float | None:
    """The next level to try between a passing and a failing one (None: nothing left to tell apart)."""
    mid = (last_pass + first_fail) / 2
    mid = float(math.floor(mid)) if by == "users" else round(mid, 1)
    return mid if last_pass < mid < first_fail else None


def goodput(summary: Mapping[str, Any], samples: Mapping[str, Sequence[float]], limits: Sequence[Limit],
            duration_s: float) -> tuple[float, float]:
    """(good requests per second, share of all requests): succeeded and within every per-request latency bound
    (set-up calls are not the load: they are left out).

    A latency limit ``<metric>.<stat> <= X`` bounds each request of the request name the metric belongs to (the
    longest request name that is the metric or a prefix of it) at X ms. Samples of one request's metrics are
    recorded together, in the same order; if their counts differ the stricter per-metric count is used.
    """
    requests = {str(n): (int(r["count"]), int(r["failures"])) for n, r in _load_requests(summary).items()}
    bounds: dict[str, list[tuple[str, float]]] = {}
    for lim in limits:
        if lim.op not in ("<=", "<") or lim.stat == "mean":
            continue
        owner = max((n for n in requests if lim.metric == n or lim.metric.startswith(n + ".")), key=len, default=None)
        if owner is not None and lim.metric in samples:
            bounds.setdefault(owner, []).append((lim.metric, lim.value))
    good = 0
    total = 0
    for name, (count, failed) in requests.items():
        total += count
        ok = count - failed
        checks = bounds.get(name)
        if not checks:
            good += ok
            continue
        series = [(samples[m], v) for m, v in checks]
        if len({len(s) for s, _ in series}) == 1:
            n = len(series[0][0])
            good += sum(1 for i in range(n) if all(s[i] <= v for s, v in series))
        else:
            good += min(sum(1 for x in s if x <= v) for s, v in series)
    span = max(duration_s, 1e-9)
    return round(good / span, 3), round(good / total, 4) if total else 0.0


def _load_requests(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The summary's requests without the users' set-up calls (``basejump.setup``)."""
    return {n: r for n, r in summary.get("requests", {}).items() if not str(n).endswith(".setup")}


@dataclass
class _Level:
    level: float
    refinement: bool
    folder: str
    result: LoadResult
    started_at: float  # seconds since the sweep started
    passed: bool = False
    bad: bool = False
    held: bool = True
    violations: tuple[str, ...] = ()
    goodput_rps: float = 0.0
    goodput_share: float = 0.0

    @property
    def summary(self) -> dict[str, Any]:
        return self.result.summary

    @property
    def halts(self) -> bool:
        """Interrupted, or Locust stopped before the level's end: no level after this one, refinements neither."""
        return self.result.interrupted or self.result.exit_code == 2


def _judge(level: _Level, options: SweepOptions, out_dir: Path) -> None:
    doc = level.summary
    summary = parse_summary(doc, source=level.folder)
    gate = evaluate(summary, dataclasses.replace(options.thresholds, contract_must_pass=False))
    violations = [] if level.result.exit_code != 2 else [f"the run did not finish: {level.result.message}"]
    bad = False
    for v in gate.verdicts:
        if v.status != "fail" or v.kind not in ("limit", "failure_rate"):
            continue
        violations.append(f"{v.name}: {v.message}")
        bad = bad or _fails_badly(v.name, v.kind, summary, options.thresholds)
    # the generator itself could not produce the level (an overloaded server exhausting the pool is not that)
    not_held = held_problems(load_details(summary), options.thresholds.hold, count_busy_pool=False)
    level.held = not not_held and level.result.exit_code != 2  # a cut-short level says nothing either way
    violations += [f"load not held: {p}" for p in not_held]
    level.violations = tuple(violations)
    level.passed = not violations and level.result.exit_code in (0, 1) and bool(summary.requests)
    level.bad = bad
    samples_path = out_dir / level.folder / "samples.json.gz"
    samples = load_samples(samples_path) if samples_path.exists() else {}
    level.goodput_rps, level.goodput_share = goodput(doc, samples, options.thresholds.limits,
                                                     float(doc.get("duration_s") or 0.0))


def _fails_badly(name: str, kind: str, summary: Summary, thresholds: Thresholds) -> bool:
    if kind == "limit":
        lim = next((x for x in thresholds.limits if x.name == name), None)
        value = summary.metrics[lim.metric].stat(lim.stat) if lim and lim.metric in summary.metrics else None
        if lim is None or value is None:
            return False
        if lim.op in ("<=", "<"):
            return value >= BAD_FACTOR * lim.value if lim.value > 0 else value > 0
        return value <= lim.value / BAD_FACTOR
    for request in summary.requests.values():
        allowed = thresholds.failure_rate_for(request.name)
        if allowed is not None and request.failure_rate >= max(BAD_FACTOR * allowed, BAD_MIN_FAILURE_RATE):
            return True
    return False


def run_sweep(options: SweepOptions, out_dir: Path, *, progress: Progress | None = None) -> LoadResult:
    """Run the levels (and refinements) and write the sweep's ``summary.json``; the result of the whole sweep."""
    say = progress or (lambda _line: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    done: list[_Level] = []
    stopped_early: str | None = None
    interrupted = False
    with contextlib.ExitStack() as stack:
        origin = _mock_origin(options, stack, say)

        def budget_allows() -> bool:
            if options.max_time_s is None:
                return True
            return time.time() - started + options.base.duration_s + LEVEL_OVERHEAD_S <= options.max_time_s

        def run(level: float, refinement: bool) -> _Level:
            folder = f"levels/{len(done) + 1:02d}-{options.by}-{format_level(level)}"
            say(f"apigate load: sweep level {len(done) + 1}: {options.label(level)}"
                f"{' (refinement)' if refinement else ''} for {options.base.duration_s:g} s")
            at = time.time() - started
            result = run_load(options.level_options(level), out_dir / folder, mock_origin=origin,
                              progress=lambda line: say(f"  {line}"))
            lv = _Level(level, refinement, folder, result, at)
            _judge(lv, options, out_dir)
            done.append(lv)
            verdict = "PASS" if lv.passed else "FAIL badly" if lv.bad else "FAIL" if lv.held else "NOT HELD"
            say(f"apigate load: sweep level {options.label(level)}: {verdict}; goodput {lv.goodput_rps:.1f}/s "
                f"({lv.goodput_share:.1%})" + (f"; {lv.violations[0]}" if lv.violations else ""))
            return lv

        capacity = _capacity(done, options)
        error: ApigateError | None = None
        try:
            for level in options.levels:
                if not budget_allows():
                    stopped_early = f"time budget: {options.label(level)} and above not run (--max-time)"
                    break
                lv = run(level, refinement=False)
                if lv.halts:
                    break
                if lv.bad:
                    stopped_early = f"{options.label(level)} failed badly"
                    break
            capacity = _capacity(done, options)
            refined = 0
            while done and not done[-1].halts and refined < options.refine and capacity["bound"] == "between":
                nxt = capacity_between(capacity["last_pass"], capacity["first_fail"], options.by)
                if nxt is None:
                    break
                if not budget_allows():
                    stopped_early = stopped_early or "time budget: refinement cut short (--max-time)"
                    break
                run(nxt, refinement=True)
                refined += 1
                capacity = _capacity(done, options)
        except KeyboardInterrupt:
            interrupted = True
        except ApigateError as exc:  # written below first: the levels already measured are kept
            error = exc
        capacity = _capacity(done, options)
        last = done[-1] if done else None
        if last is not None and last.result.exit_code == 2:
            stopped_early = f"{options.label(last.level)} did not finish: {last.result.message}"
        interrupted = interrupted or (last is not None and last.result.interrupted)
        if interrupted:
            stopped_early = "interrupted"
    summary = _sweep_summary(done, options, capacity, stopped_early, started, interrupted)
    tmp = out_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out_dir / "summary.json")
    if error is not None:
        raise error
    cap_text = _describe(capacity, options.unit)
    if interrupted:
        code, message = 130, f"interrupted; capacity so far: {cap_text}"
    elif not done:
        code, message = 2, "no level was run"
    elif capacity["value"] is None:
        code, message = 1, f"capacity {cap_text}"
    else:
        code, message = 0, f"capacity {cap_text}"
    if stopped_early and not interrupted:
        message += f"; sweep stopped early: {stopped_early}"
    return LoadResult(code, summary, out_dir / "summary.json", 0.0, message, interrupted)


def _mock_origin(options: SweepOptions, stack: contextlib.ExitStack, say: Progress) -> str | None:
    """One embedded mock for every level (its capacity and stall clock must not restart between levels)."""
    target = config.load_target("http://127.0.0.1:9")
    if not target.needs_mock:
        return None
    from apigate.mocks import MockProcess

    mock = stack.enter_context(MockProcess(options.base.mock))
    say(f"apigate load: embedded mock at {mock.origin} (for the whole sweep)")
    return mock.origin


def _capacity(done: Sequence[_Level], options: SweepOptions) -> dict[str, Any]:
    # a level the generator could not produce says nothing about the server: it is neither a pass nor a fail
    ordered = sorted((lv for lv in done if lv.held), key=lambda lv: lv.level)
    first_fail = next((lv.level for lv in ordered if not lv.passed), None)
    passed = [lv.level for lv in ordered if lv.passed and (first_fail is None or lv.level < first_fail)]
    last_pass = max(passed, default=None)
    if not ordered:
        return {"value": None, "bound": "unknown", "last_pass": None, "first_fail": None}
    if first_fail is None:
        return {"value": last_pass, "bound": "at least", "last_pass": last_pass, "first_fail": None}
    if last_pass is None:
        return {"value": None, "bound": "below", "last_pass": None, "first_fail": first_fail}
    return {"value": last_pass, "bound": "between", "last_pass": last_pass, "first_fail": first_fail}


def _describe(capacity: Mapping[str, Any], unit: str) -> str:
    return Capacity(capacity["value"], capacity["bound"], capacity["last_pass"], capacity["first_fail"]).describe(unit)


def _level_entry(lv: _Level) -> dict[str, Any]:
    doc = lv.summary
    return {
        "level": lv.level,
        "refinement": lv.refinement,
        "start_s": round(lv.started_at, 3),
        "duration_s": doc.get("duration_s", 0.0),
        "dir": lv.folder,
        "passed": lv.passed,
        "bad": lv.bad,
        "held": lv.held,
        "violations": list(lv.violations),
        "throughput_rps": round(sum(r["count"] for r in _load_requests(doc).values())
                                / max(float(doc.get("duration_s") or 0.0), 1e-9), 3),
        "goodput_rps": lv.goodput_rps,
        "goodput_share": lv.goodput_share,
        "metrics": doc.get("metrics", {}),
        "requests": doc.get("requests", {}),
        "failures": doc.get("failures", []),
        "samples": f"{lv.folder}/samples.json.gz",
        "open_model": doc.get("open_model"),
    }


def _sweep_summary(done: Sequence[_Level], options: SweepOptions, capacity: Mapping[str, Any],
                   stopped_early: str | None, started: float, interrupted: bool) -> dict[str, Any]:
    chosen = next((lv for lv in done if lv.level == capacity["value"]), done[0] if done else None)
    doc: dict[str, Any] = {"apigate_version": __version__, "started_at": "", "duration_s": 0.0, "target": {},
                           "metrics": {}, "requests": {}, "failures": [], "timeline": []}
    if chosen is not None:
        keep = ("apigate_version", "started_at", "target", "metrics", "requests", "failures", "model", "open_model",
                "locust")
        doc.update({k: chosen.summary[k] for k in keep if k in chosen.summary})
        doc["samples"] = f"{chosen.folder}/samples.json.gz"
        doc["started_at"] = done[0].summary.get("started_at", "")
    doc["duration_s"] = round(time.time() - started, 3)
    settings = dict(done[0].summary.get("settings", {})) if done else {}
    levels = ",".join(format_level(v) for v in options.levels)
    settings.update({"sweep": f"{options.by}={levels}", "refine": options.refine, "max_time_s": options.max_time_s,
                     "duration_s": options.base.duration_s})
    doc["settings"] = settings
    doc["complete"] = not interrupted
    if interrupted:
        doc["interrupted"] = True
    doc.update(_joined_series(done))
    measured = {m for lv in done for m in lv.summary.get("metrics", {})}
    requests = {n for lv in done for n in lv.summary.get("requests", {})}
    slos = [lim.name for lim in options.thresholds.limits if lim.metric in measured]
    slos += [f"failure rate {n} <= {rate * 100:g}%" for n in sorted(requests)
             if (rate := options.thresholds.failure_rate_for(n)) is not None]
    doc["sweep"] = {
        "by": options.by,
        "unit": options.unit,
        "level_duration_s": options.base.duration_s,
        "slos": slos,
        "limits": [{"metric": lim.metric, "stat": lim.stat, "op": lim.op, "value": lim.value}
                   for lim in options.thresholds.limits if lim.metric in measured],
        "levels": [_level_entry(lv) for lv in sorted(done, key=lambda lv: lv.level)],
        "capacity": dict(capacity),
        "stopped_early": stopped_early,
        "summary_level": None if chosen is None else chosen.level,
    }
    users_stopped = [s for lv in done for s in lv.summary.get("users", {}).get("stopped", [])]
    problems = [f"{options.label(lv.level)}: {v.removeprefix('load not held: ')}" for lv in done if not lv.held
                for v in lv.violations if v.startswith("load not held: ")]
    doc["load"] = {"held": not problems, "problems": problems}
    if users_stopped:
        doc.setdefault("users", {"requested": 0, "timeline": []})["stopped"] = users_stopped
    return doc


def _joined_series(done: Sequence[_Level]) -> dict[str, Any]:
    """The levels' time series one after the other (in the order they ran), each level a phase."""
    timeline: list[list[int]] = []
    latency: dict[str, list[list[float]]] = {}
    users: list[list[float]] = []
    phases = []
    offset = 0
    window = 0
    for lv in done:
        doc = lv.summary
        rows = doc.get("timeline", [])
        timeline += [[t + offset, c, f] for t, c, f in rows]
        lt = doc.get("latency_timeline", {})
        window = window or int(lt.get("window_s", 0) or 0)
        for metric, mrows in lt.get("metrics", {}).items():
            latency.setdefault(metric, []).extend([r[0] + offset, *r[1:]] for r in mrows)
        users += [[r[0] + offset, *r[1:]] for r in doc.get("users", {}).get("timeline", [])]
        length = max(len(rows), math.ceil(float(doc.get("duration_s") or 0.0)))
        label = f"{format_level(lv.level)}{' /s' if doc.get('model') == 'open' else ' users'}"
        phases.append({"label": label + (" (refined)" if lv.refinement else ""), "start_s": offset,
                       "end_s": offset + length, "requests": sum(r["count"] for r in doc.get("requests", {}).values()),
                       "failures": sum(r["failures"] for r in doc.get("requests", {}).values()),
                       "rps": round(sum(r["count"] for r in doc.get("requests", {}).values()) / max(length, 1), 3),
                       "metrics": {m: {k: v[k] for k in ("count", "p50", "p95", "p99", "max") if k in v}
                                   for m, v in doc.get("metrics", {}).items() if v.get("count")}})
        offset += length
    out: dict[str, Any] = {"timeline": timeline, "phases": phases}
    if latency:
        out["latency_timeline"] = {"window_s": window or 1, "metrics": latency}
    if users:
        out["users"] = {"requested": 0, "active_fraction": None, "timeline": users, "stopped": []}
    return out
