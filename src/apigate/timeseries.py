"""A run over time: latency percentiles per window, per-phase results, users per second — for ``summary.json``.

All of it comes from a :class:`~apigate.metrics.Recording`: its samples carry the second they were recorded in
(``sample_seconds``), its requests and user activity are counted per second. Times in the output are seconds since
the run started; percentiles are exact (linear interpolation, as everywhere in apigate).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from apigate.metrics import UNITS, Recording, percentile, summarize

__all__ = ["WINDOWS_S", "latency_windows", "phase_results", "stopped_users", "timed_metrics", "users_timeline",
           "window_for"]

WINDOWS_S: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300)
MAX_WINDOWS: Final = 60
_DIAGNOSTIC: Final = ("truth.", "client.")  # the load generator's self-checks: not plotted over time


def window_for(duration_s: float) -> int:
    """The window (s) for latency over time: the shortest of :data:`WINDOWS_S` giving at most 60 windows."""
    return next((w for w in WINDOWS_S if duration_s / w <= MAX_WINDOWS), WINDOWS_S[-1])


def timed_metrics(recording: Recording) -> list[str]:
    """The latency metrics worth following over time (ms; not the generator's diagnostics), in recorded order."""
    return [m for m in recording.samples if UNITS.get(m, "ms") == "ms" and not m.startswith(_DIAGNOSTIC)]


def _by_second(recording: Recording, metric: str, start_second: int) -> dict[int, list[float]]:
    """The samples of ``metric`` grouped by the second (since ``start_second``) they were recorded in."""
    out: dict[int, list[float]] = {}
    values = recording.samples.get(metric, [])
    i = 0
    for second, n in recording.sample_seconds.get(metric, []):
        if second > 0:  # 0: not known
            out.setdefault(max(second - start_second, 0), []).extend(values[i:i + n])
        i += n
    return out


def latency_windows(recording: Recording, start_second: int, window_s: int) -> dict[str, list[list[float]]]:
    """metric -> rows ``[window start (s), n, p50, p95]`` for every window holding samples (others are left out)."""
    out: dict[str, list[list[float]]] = {}
    for metric in timed_metrics(recording):
        windows: dict[int, list[float]] = {}
        for second, values in _by_second(recording, metric, start_second).items():
            windows.setdefault(second // window_s, []).extend(values)
        rows = []
        for index in sorted(windows):
            data = sorted(windows[index])
            rows.append([index * window_s, len(data), round(percentile(data, 0.5), 3), round(percentile(data, 0.95), 3)])
        if rows:
            out[metric] = rows
    return out


def phase_results(recording: Recording, start_second: int, phases: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each phase (``{"label", "start_s", "end_s", ...}``) with its own requests, failures, req/s and percentiles.

    A sample or request belongs to the phase its second falls in (second resolution: a request that started at the
    end of one phase and finished in the next counts in the next).
    """
    grouped = {m: _by_second(recording, m, start_second) for m in timed_metrics(recording)}
    out = []
    for phase in phases:
        lo, hi = math.floor(float(phase["start_s"])), math.ceil(float(phase["end_s"]))

        def inside(second: int, lo: int = lo, hi: int = hi) -> bool:
            return lo <= second < hi

        metrics = {}
        for metric, by_second in grouped.items():
            values = [v for second, vs in by_second.items() if inside(second) for v in vs]
            if values:
                metrics[metric] = _short(summarize(values))
        rows = [(second - start_second, c, f) for second, (c, f) in recording.timeline.items()]
        count = sum(c for s, c, _ in rows if inside(s))
        failures = sum(f for s, _, f in rows if inside(s))
        span = max(hi - lo, 1)
        out.append({**phase, "requests": count, "failures": failures, "rps": round(count / span, 3),
                    "metrics": metrics})
    return out


def _short(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: stats[k] for k in ("count", "p50", "p95", "p99", "max")}


def users_timeline(recording: Recording, start_second: int, end_second: int,
                   spawned: Mapping[int, int]) -> list[list[float]]:
    """Rows ``[t (s), users spawned, users active, users starting]`` per second of the run.

    ``spawned``: unix second -> users Locust had started (the run's request). Active and starting are averages over
    the second (user-seconds), so a user that became active half-way through counts 0.5.
    """
    rows = []
    last = 0
    for second in range(start_second, max(end_second, start_second) + 1):
        last = spawned.get(second, last)
        active, starting = recording.activity.get(second, (0.0, 0.0))
        rows.append([second - start_second, last, round(active, 2), round(starting, 2)])
    return rows


def stopped_users(recording: Recording) -> list[dict[str, Any]]:
    """Users that stopped before the end, by user class and reason, the most frequent first."""
    items: Iterable[tuple[tuple[str, str], int]] = sorted(recording.stops.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"user": user, "reason": reason, "count": count} for (user, reason), count in items]
