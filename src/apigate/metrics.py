"""Exact load-test metrics: raw samples, request counts, failures by reason, per-second timelines of requests and
of users, users stopped before the end, and counters.

A :class:`Recording` holds everything one process measured. Processes send slices of it to each other
(:meth:`Recording.drain` + :meth:`Recording.to_wire` on a worker, :meth:`Recording.from_wire` + :meth:`Recording.merge`
on the master) and merging is exact: sample lists are concatenated and counts added, so a merged recording is the
same as if one process had measured everything.

Percentiles are computed from the raw samples (float milliseconds, never bucketed) by **linear interpolation
between closest ranks** — NumPy's default ``method="linear"`` (Hyndman & Fan type 7): for ``n`` sorted samples
``x[0..n-1]`` and ``q`` in [0, 1], ``h = (n - 1) * q`` and ``P(q) = x[⌊h⌋] + (h - ⌊h⌋) * (x[⌊h⌋ + 1] - x[⌊h⌋])``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "METRICS",
    "PERCENTILES",
    "UNITS",
    "ActivityClock",
    "Recording",
    "build_summary",
    "percentile",
    "summarize",
]

# every metric the load scenarios record, in milliseconds
METRICS: Final = (
    "keycloak.token.password",
    "keycloak.token.client_credentials",
    "basejump.token.refresh",
    "basejump.token.access",
    "codemie.chat",
    "basejump.chat",
    "codemie.stream.ttfc",
    "codemie.stream.ttft",
    "codemie.stream.inter_chunk",
    "codemie.stream.total",
)
PERCENTILES: Final = (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99))
# metrics that are not durations
UNITS: Final = {"codemie.stream.chunks": "chunks", "codemie.stream.chunks_per_s": "chunks/s"}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 <= q <= 1) of already sorted values, by linear interpolation between closest ranks."""
    n = len(sorted_values)
    if n == 0:
        raise ValueError("percentile of no samples")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], not {q}")
    h = (n - 1) * q
    lo = math.floor(h)
    if lo >= n - 1:
        return float(sorted_values[-1])
    frac = h - lo
    a = sorted_values[lo]
    return float(a + frac * (sorted_values[lo + 1] - a))


def summarize(values: Iterable[float], unit: str = "ms") -> dict[str, Any]:
    """``{"unit", "count", "min", "mean", "p50", "p90", "p95", "p99", "max"}`` of raw samples (ms by default)."""
    data = sorted(values)
    if not data:
        return {"unit": unit, "count": 0}
    out: dict[str, Any] = {
        "unit": unit,
        "count": len(data),
        "min": _round(data[0]),
        "mean": _round(math.fsum(data) / len(data)),
    }
    for key, q in PERCENTILES:
        out[key] = _round(percentile(data, q))
    out["max"] = _round(data[-1])
    return out


def _round(value: float) -> float:
    return round(value, 3)  # microsecond resolution: far below what any measurement here can resolve


@dataclass
class Recording:
    """What one process (or a merge of many) measured. Plain data: safe to pickle, JSON and send between nodes.

    * ``samples``: metric -> raw samples in ms;
    * ``requests``: request name -> [count, failures];
    * ``failures``: (request name, reason) -> count;
    * ``timeline``: unix second -> [requests, failures] (all request names together);
    * ``sample_seconds``: metric -> runs ``[unix second, n]``: the seconds its samples were recorded in, in the
      samples' order (second 0: not known), for latency over time;
    * ``activity``: unix second -> [active user-seconds, starting user-seconds] (:class:`ActivityClock`);
    * ``stops``: (user class, reason) -> users that stopped before the end of the run;
    * ``counters``: name -> count (added up when merged; e.g. the open model's arrivals).
    """

    samples: dict[str, list[float]] = field(default_factory=dict)
    requests: dict[str, list[int]] = field(default_factory=dict)
    failures: dict[tuple[str, str], int] = field(default_factory=dict)
    timeline: dict[int, list[int]] = field(default_factory=dict)
    sample_seconds: dict[str, list[list[int]]] = field(default_factory=dict)
    activity: dict[int, list[float]] = field(default_factory=dict)
    stops: dict[tuple[str, str], int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    # ---- recording (hot path: keep it cheap) --------------------------------------------------------------
    def add_sample(self, metric: str, ms: float, when: float | None = None) -> None:
        """One sample of ``metric`` recorded at unix time ``when`` (now by default)."""
        second = int(time.time() if when is None else when)
        bucket = self.samples.get(metric)
        if bucket is None:
            self.samples[metric] = [ms]
            self.sample_seconds[metric] = [[second, 1]]
            return
        bucket.append(ms)
        runs = self.sample_seconds[metric]
        last = runs[-1]
        if last[0] == second:
            last[1] += 1
        else:
            runs.append([second, 1])

    def add_request(self, name: str, when: float, reason: str | None = None) -> None:
        """One finished request at unix time ``when``; ``reason`` is None on success, else the failure's reason."""
        failed = reason is not None
        row = self.requests.get(name)
        if row is None:
            self.requests[name] = [1, int(failed)]
        else:
            row[0] += 1
            row[1] += failed
        second = int(when)
        slot = self.timeline.get(second)
        if slot is None:
            self.timeline[second] = [1, int(failed)]
        else:
            slot[0] += 1
            slot[1] += failed
        if reason is not None:
            key = (name, reason)
            self.failures[key] = self.failures.get(key, 0) + 1

    def add_activity(self, second: int, active_user_s: float, starting_user_s: float) -> None:
        slot = self.activity.setdefault(second, [0.0, 0.0])
        slot[0] += active_user_s
        slot[1] += starting_user_s

    def add_stop(self, user_class: str, reason: str) -> None:
        key = (user_class, reason)
        self.stops[key] = self.stops.get(key, 0) + 1

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    # ---- combining ----------------------------------------------------------------------------------------
    def merge(self, other: Recording) -> None:
        """Add everything ``other`` measured to this recording (exact: concatenation and sums)."""
        for metric, values in other.samples.items():
            self.samples.setdefault(metric, []).extend(values)
            runs = other.sample_seconds.get(metric)
            if runs is None or sum(n for _, n in runs) != len(values):
                runs = [[0, len(values)]]  # when these were recorded is not known
            self.sample_seconds.setdefault(metric, []).extend([s, n] for s, n in runs)
        for name, (count, failed) in other.requests.items():
            row = self.requests.setdefault(name, [0, 0])
            row[0] += count
            row[1] += failed
        for key, count in other.failures.items():
            self.failures[key] = self.failures.get(key, 0) + count
        for second, (count, failed) in other.timeline.items():
            slot = self.timeline.setdefault(second, [0, 0])
            slot[0] += count
            slot[1] += failed
        for second, (active, starting) in other.activity.items():
            self.add_activity(second, active, starting)
        for key, count in other.stops.items():
            self.stops[key] = self.stops.get(key, 0) + count
        for name, count in other.counters.items():
            self.count(name, count)

    def drain(self) -> Recording:
        """Everything recorded so far, leaving this recording empty (a batch to send or write)."""
        out = Recording(self.samples, self.requests, self.failures, self.timeline, self.sample_seconds,
                        self.activity, self.stops, self.counters)
        self.samples, self.requests, self.failures, self.timeline = {}, {}, {}, {}
        self.sample_seconds, self.activity, self.stops, self.counters = {}, {}, {}, {}
        return out

    def is_empty(self) -> bool:
        return not (self.samples or self.requests or self.activity or self.stops or self.counters)

    def totals(self) -> dict[str, Any]:
        """Counts only: ``{"samples": {metric: n}, "requests": {name: [count, failures]}}`` (cheap to compare)."""
        return {
            "samples": {m: len(v) for m, v in self.samples.items()},
            "requests": {n: list(r) for n, r in self.requests.items()},
        }

    # ---- wire format (JSON-safe) --------------------------------------------------------------------------
    def to_wire(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "requests": self.requests,
            "failures": [[name, reason, count] for (name, reason), count in self.failures.items()],
            "timeline": [[second, c, f] for second, (c, f) in self.timeline.items()],
            "seconds": self.sample_seconds,
            "activity": [[second, a, s] for second, (a, s) in self.activity.items()],
            "stops": [[user, reason, count] for (user, reason), count in self.stops.items()],
            "counters": self.counters,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Recording:
        try:
            return cls(
                samples={str(m): [float(x) for x in v] for m, v in data.get("samples", {}).items()},
                requests={str(n): [int(r[0]), int(r[1])] for n, r in data.get("requests", {}).items()},
                failures={(str(n), str(reason)): int(c) for n, reason, c in data.get("failures", [])},
                timeline={int(s): [int(c), int(f)] for s, c, f in data.get("timeline", [])},
                sample_seconds={str(m): [[int(s), int(n)] for s, n in runs]
                                for m, runs in data.get("seconds", {}).items()},
                activity={int(s): [float(a), float(st)] for s, a, st in data.get("activity", [])},
                stops={(str(u), str(reason)): int(c) for u, reason, c in data.get("stops", [])},
                counters={str(k): int(v) for k, v in data.get("counters", {}).items()},
            )
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ValueError(f"malformed recording: {exc}") from None


class ActivityClock:
    """How many users are in each state, integrated over time into user-seconds per unix second.

    States: ``active`` (set up, sending) and ``starting`` (setting up, or waiting to retry a failed set-up).
    :meth:`move` records a user's change of state; :meth:`drain_into` adds the user-seconds so far to a recording.
    """

    STATES: Final = ("active", "starting")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(self.STATES, 0)
        self._since: float | None = None
        self._pending: dict[int, list[float]] = {}

    def move(self, old: str | None, new: str | None, now: float | None = None) -> None:
        """One user left state ``old`` (None: it was not counted) for ``new`` (None: it is gone)."""
        self._advance(time.time() if now is None else now)
        if old is not None:
            self.counts[old] -= 1
        if new is not None:
            self.counts[new] += 1

    def drain_into(self, recording: Recording, now: float | None = None) -> None:
        self._advance(time.time() if now is None else now)
        for second, (active, starting) in self._pending.items():
            recording.add_activity(second, active, starting)
        self._pending.clear()

    def _advance(self, now: float) -> None:
        t = self._since
        self._since = now
        active, starting = self.counts["active"], self.counts["starting"]
        if t is None or not (active or starting):
            return
        while t < now:
            second = int(t)
            end = min(now, second + 1.0)
            slot = self._pending.setdefault(second, [0.0, 0.0])
            slot[0] += active * (end - t)
            slot[1] += starting * (end - t)
            t = end


def build_summary(
    recording: Recording,
    *,
    started_at: float,
    duration_s: float,
    apigate_version: str,
    target: Mapping[str, str],
    settings: Mapping[str, Any],
    samples_file: str | None = "samples.json.gz",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``summary.json`` document (format in the interfaces note) for ``recording``.

    ``started_at`` is the unix time the test started (the timeline counts seconds from it); ``duration_s`` divides
    request counts into req/s.
    """
    import datetime as _dt

    start_second = int(started_at)
    metrics = {m: summarize(recording.samples[m], UNITS.get(m, "ms")) for m in sorted(recording.samples, key=_metric_order)}
    span = max(duration_s, 1e-9)
    requests = {
        name: {"count": count, "failures": failed, "rps": round(count / span, 3)}
        for name, (count, failed) in sorted(recording.requests.items())
    }
    failures = [
        {"name": name, "reason": reason, "count": count}
        for (name, reason), count in sorted(recording.failures.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    timeline: list[list[int]] = []
    if recording.timeline:
        last = max(recording.timeline)
        for second in range(start_second, max(last, start_second) + 1):
            count, failed = recording.timeline.get(second, (0, 0))
            timeline.append([second - start_second, count, failed])
        early = [s for s in recording.timeline if s < start_second]  # clock skew between nodes: keep the counts
        for second in early:
            timeline[0][1] += recording.timeline[second][0]
            timeline[0][2] += recording.timeline[second][1]
    summary: dict[str, Any] = {
        "apigate_version": apigate_version,
        "started_at": _dt.datetime.fromtimestamp(started_at, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(duration_s, 3),
        "target": dict(target),
        "settings": dict(settings),
        "metrics": metrics,
        "requests": requests,
        "failures": failures,
        "timeline": timeline,
    }
    if samples_file is not None:
        summary["samples"] = samples_file
    if extra:
        summary.update(extra)
    return summary


def _metric_order(name: str) -> tuple[int, str]:
    return (METRICS.index(name) if name in METRICS else len(METRICS), name)
