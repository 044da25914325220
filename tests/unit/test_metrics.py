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
