"""Exact percentiles, recording and merging (apigate.metrics)."""

from __future__ import annotations

import json
import random

import pytest

from apigate.metrics import Recording, build_summary, percentile, summarize


def numpy_linear(values: list[float], q: float) -> float:
    """Reference: NumPy's default method="linear" written out."""
    data = sorted(values)
    h = (len(data) - 1) * q
    lo = int(h)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (h - lo) * (data[hi] - data[lo])


def test_percentile_interpolates_linearly() -> None:
    data = [10.0, 20.0, 30.0, 40.0]
    assert percentile(data, 0.0) == 10.0
    assert percentile(data, 1.0) == 40.0
    assert percentile(data, 0.5) == 25.0
    assert percentile(data, 0.9) == pytest.approx(37.0)
    assert percentile([7.5], 0.99) == 7.5


@pytest.mark.parametrize("seed", range(5))
def test_percentile_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    values = sorted(rng.uniform(0, 500) for _ in range(rng.randint(1, 300)))
    for q in (0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0):
        assert percentile(values, q) == pytest.approx(numpy_linear(values, q))


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 0.5)
    with pytest.raises(ValueError, match="quantile"):
        percentile([1.0], 1.5)


def test_summarize_keeps_sub_millisecond_resolution() -> None:
    s = summarize([150.1234, 150.2, 150.3])
    assert s["count"] == 3 and s["unit"] == "ms"
    assert s["min"] == 150.123 and s["max"] == 150.3 and s["p50"] == 150.2
    assert summarize([]) == {"unit": "ms", "count": 0}


def test_merge_is_exact_whatever_the_split() -> None:
    rng = random.Random(1)
    whole = Recording()
    parts = [Recording() for _ in range(3)]
    for i in range(1000):
        when = 1_700_000_000 + i / 100
        ms = rng.uniform(1, 100)
        reason = "HTTP 503" if i % 97 == 0 else None
        for rec in (whole, parts[i % 3]):
            if reason is None:
                rec.add_sample("codemie.chat", ms)
            rec.add_request("codemie.chat", when, reason)
    merged = Recording()
    for part in parts:
        # through the wire format, as between a worker and the master
        merged.merge(Recording.from_wire(json.loads(json.dumps(part.drain().to_wire()))))
        assert part.is_empty()
    assert sorted(merged.samples["codemie.chat"]) == sorted(whole.samples["codemie.chat"])
    assert merged.requests == whole.requests
    assert merged.failures == whole.failures == {("codemie.chat", "HTTP 503"): 11}
    assert merged.timeline == whole.timeline
    assert merged.totals()["requests"]["codemie.chat"] == [1000, 11]


def test_from_wire_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="malformed"):
        Recording.from_wire({"requests": {"x": "nope"}})


def test_build_summary_shape() -> None:
    rec = Recording()
    t0 = 1_800_000_000.0
    for i in range(10):
        rec.add_sample("codemie.stream.ttfc", 150.0 + i)
        rec.add_request("codemie.stream", t0 + i * 0.3)
    rec.add_request("codemie.stream", t0 + 2.5, "no terminal chunk")
    rec.add_sample("codemie.stream.chunks", 9.0)
    s = build_summary(rec, started_at=t0, duration_s=3.0, apigate_version="0.1.0",
                      target={"codemie": "http://x"}, settings={"scenario": "stream"})
    assert s["started_at"] == "2027-01-15T08:00:00Z"
    assert s["metrics"]["codemie.stream.ttfc"]["p50"] == 154.5
    assert s["metrics"]["codemie.stream.chunks"]["unit"] == "chunks"
    assert s["requests"]["codemie.stream"] == {"count": 11, "failures": 1, "rps": pytest.approx(11 / 3, abs=1e-3)}
    assert s["failures"] == [{"name": "codemie.stream", "reason": "no terminal chunk", "count": 1}]
    assert s["timeline"] == [[0, 4, 0], [1, 3, 0], [2, 4, 1]]
    assert s["samples"] == "samples.json.gz"


def test_sample_seconds_follow_every_merge_exactly() -> None:
    """Samples keep the second they were recorded in through drain, the wire and merges (for latency over time)."""
    from apigate.timeseries import latency_windows

    rng = random.Random(2)
    t0 = 1_700_000_000
    whole, parts = Recording(), [Recording() for _ in range(3)]
    for i in range(600):
        when = t0 + i / 60  # 10 s
        ms = 10.0 + (i // 60) * 5 + rng.random()  # each second slower than the one before
        whole.add_sample("codemie.chat", ms, when)
        parts[rng.randrange(3)].add_sample("codemie.chat", ms, when)
    merged = Recording()
    for part in parts:
        for _ in range(2):  # drained twice: the second batch is empty
            merged.merge(Recording.from_wire(json.loads(json.dumps(part.drain().to_wire()))))
    assert sum(n for _, n in merged.sample_seconds["codemie.chat"]) == 600
    assert latency_windows(merged, t0, 2) == latency_windows(whole, t0, 2)
    rows = latency_windows(whole, t0, 2)["codemie.chat"]
    assert [r[0] for r in rows] == [0, 2, 4, 6, 8] and all(r[1] == 120 for r in rows)
    assert rows[0][2] < 16 < rows[1][2] and rows[-1][3] > 50  # p50 of 0-2 s, p95 of 8-10 s


def test_samples_of_unknown_time_are_kept_but_not_placed() -> None:
    old = Recording.from_wire({"samples": {"codemie.chat": [1.0, 2.0]}})  # a journal line without "seconds"
    rec = Recording()
    rec.merge(old)
    rec.add_sample("codemie.chat", 3.0, 1_700_000_005.5)
    assert rec.samples["codemie.chat"] == [1.0, 2.0, 3.0]
    assert rec.sample_seconds["codemie.chat"] == [[0, 2], [1_700_000_005, 1]]


def test_activity_clock_integrates_user_seconds_per_second() -> None:
    from apigate.metrics import ActivityClock

    clock = ActivityClock()
    t0 = 1_700_000_000.0
    clock.move(None, "starting", t0 + 0.5)
    clock.move(None, "starting", t0 + 0.5)
    clock.move("starting", "active", t0 + 1.0)  # one user set up after 0.5 s
    clock.move("starting", "active", t0 + 2.25)  # the other after 1.75 s (its set-up was retried)
    clock.move("active", None, t0 + 3.0)  # stopped
    rec = Recording()
    clock.drain_into(rec, t0 + 3.5)
    assert rec.activity == {
        int(t0): [0.0, 1.0],  # 2 users starting for 0.5 s
        int(t0) + 1: [1.0, 1.0],
        int(t0) + 2: [1.75, 0.25],
        int(t0) + 3: [0.5, 0.0],  # one user active the last half second
    }
    clock.drain_into(rec, t0 + 4.0)
    assert rec.activity[int(t0) + 3] == [1.0, 0.0]


def test_stops_and_counters_add_up_over_the_wire() -> None:
    a, b = Recording(), Recording()
    a.add_stop("BasejumpChatUser", "set-up: HTTP 403")
    b.add_stop("BasejumpChatUser", "set-up: HTTP 403")
    a.count("arrivals.sent", 5)
    b.count("arrivals.sent", 2)
    merged = Recording()
    for rec in (a, b):
        merged.merge(Recording.from_wire(json.loads(json.dumps(rec.to_wire()))))
    assert merged.stops == {("BasejumpChatUser", "set-up: HTTP 403"): 2}
    assert merged.counters == {"arrivals.sent": 7}
    assert not merged.is_empty() and a.drain().stops and a.is_empty()
