"""Sweeps: levels, SLO verdicts per level, early stop, bisection, capacity, goodput — with a fake level runner
(``tests/load/test_open_model.py`` runs a real one)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from apigate.errors import UsageError
from apigate.gate import Limit, default_thresholds, evaluate, parse_limit, parse_thresholds
from apigate.history import baseline_from_history, record_run
from apigate.loadrun import LoadOptions, sweep
from apigate.loadrun.runner import LoadResult
from apigate.loadsummary import load_details
from apigate.metrics import summarize
from apigate.summary import load_summary

CAPACITY = 200.0


def p95_at(rate: float) -> float:
    """A server with a capacity of 200 requests/s: flat below it, queueing above it."""
    return 100.0 if rate <= CAPACITY else 100.0 + (rate - CAPACITY) * 20


class FakeLevels:
    """Stands in for run_load: writes a level's summary and samples as the real runner would."""

    def __init__(self, clock: list[float], seconds_per_level: float = 0.0) -> None:
        self.rates: list[float] = []
        self.clock = clock
        self.seconds_per_level = seconds_per_level

    def __call__(self, options: LoadOptions, out_dir: Path, *, mock_origin: str | None,
                 progress: Any = None) -> LoadResult:
        assert options.rate is not None and mock_origin == "http://mock.test"
        self.rates.append(options.rate)
        self.clock[0] += self.seconds_per_level
        n = int(options.rate * options.duration_s)
        p95 = p95_at(options.rate)
        values = [p95 * 0.5] * (n - n // 10) + [p95] * (n // 10)  # 90 % fast, 10 % at the level's p95
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "samples.json.gz").write_bytes(gzip.compress(json.dumps({"codemie.chat": values}).encode()))
        summary = {
            "apigate_version": "0", "started_at": "2026-01-01T00:00:00Z", "duration_s": options.duration_s,
            "target": {}, "settings": options.settings(with_mock=True), "model": "open",
            "metrics": {"codemie.chat": summarize(values)},
            "requests": {"codemie.chat": {"count": n, "failures": 0, "rps": options.rate}},
            "failures": [], "timeline": [[t, int(options.rate), 0] for t in range(int(options.duration_s))],
            "samples": "samples.json.gz",
            "open_model": {"rate": options.rate, "arrivals": "constant", "pool": options.users, "sent": n,
                           "unsent": 0, "late": 0, "late_no_free_user": 0, "late_after_ms": 50.0,
                           "worst_lateness_ms": 1.0},
            "latency_timeline": {"window_s": 1, "metrics": {"codemie.chat": [[0, n, p95 / 2, p95]]}},
        }
        return LoadResult(0, summary, out_dir / "summary.json", 0.0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeLevels:
    clock = [1_000.0]
    levels = FakeLevels(clock)
    monkeypatch.setattr(sweep, "run_load", levels)
    monkeypatch.setattr(sweep, "_mock_origin", lambda options, stack, say: "http://mock.test")
    monkeypatch.setattr(sweep.time, "time", lambda: clock[0])
    return levels


def options(levels: tuple[float, ...], *, refine: int = 2, max_time_s: float | None = None) -> sweep.SweepOptions:
    th = dataclasses.replace(default_thresholds(), limits=(parse_limit("codemie.chat.p95<=300"),))
    return sweep.SweepOptions(LoadOptions(scenario="chat", classes=("CodemieChatUser",), duration_s=5.0),
                              "rate", levels, th, refine=refine, max_time_s=max_time_s)


def test_capacity_is_refined_between_the_last_pass_and_the_first_fail(tmp_path: Path, fake: FakeLevels) -> None:
    result = sweep.run_sweep(options((100, 150, 250, 300)), tmp_path)
    # 250 fails badly (p95 1,100 ms >= 2 x 300): 300 is not run; then 200 (pass) and 225 (fail) refine
    assert fake.rates == [100, 150, 250, 200, 225]
    assert result.exit_code == 0 and "capacity 200 requests/s (passed 200, failed 225)" in result.message
    summary = load_summary(tmp_path)  # what was written reads back, raw samples of the capacity level included
    details = load_details(summary)
    assert details.sweep is not None
    assert [(lv.level, lv.passed, lv.refinement) for lv in details.sweep.levels] == [
        (100, True, False), (150, True, False), (200, True, True), (225, False, True), (250, False, False)]
    assert details.sweep.capacity.value == 200 and details.sweep.stopped_early == "250 req/s failed badly"
    assert summary.metrics["codemie.chat"].count == 1000 and summary.samples_of("codemie.chat") is not None
    assert [p.label for p in details.phases] == ["100 /s", "150 /s", "250 /s", "200 /s (refined)", "225 /s (refined)"]
    assert details.phases[1].start_s == 5 and details.latency["codemie.chat"][1][0] == 5  # levels one after another
    failed = details.sweep.levels[3]
    assert failed.violations and "codemie.chat.p95 <= 300" in failed.violations[0]
    # goodput: requests within 300 ms — all of them below capacity, the fast 90 % at 225/s (p95 600 ms)
    assert details.sweep.levels[0].goodput_share == 1.0 and failed.goodput_share == pytest.approx(0.9, abs=0.01)
    assert failed.goodput_rps == pytest.approx(225 * 0.9, rel=0.01)


def test_no_failing_level_gives_a_lower_bound_and_no_refinement(tmp_path: Path, fake: FakeLevels) -> None:
    result = sweep.run_sweep(options((50, 100)), tmp_path)
    assert fake.rates == [50, 100] and "at least 100 requests/s" in result.message and result.exit_code == 0


def test_a_failing_first_level_means_below_it(tmp_path: Path, fake: FakeLevels) -> None:
    result = sweep.run_sweep(options((260, 400)), tmp_path)
    assert fake.rates == [260] and result.exit_code == 1 and "below 260" in result.message


def test_a_level_that_would_overrun_the_time_budget_is_not_started(tmp_path: Path, fake: FakeLevels) -> None:
    fake.seconds_per_level = 20.0  # 5 s of run time plus start-up and stopping
    result = sweep.run_sweep(options((100, 150, 250), max_time_s=45.0), tmp_path)
    # each level is budgeted 5 s + 15 s of start-up and stopping: 100 (ends at 20 s), 150 (at 40 s); 250 would end
    # at 60 s > 45 s and is not started
    assert fake.rates == [100, 150]
    assert "time budget: 250 req/s and above not run" in result.message


def test_capacity_rule_against_a_baseline_sweep(tmp_path: Path, fake: FakeLevels) -> None:
    sweep.run_sweep(options((100, 150, 250)), tmp_path / "current")
    current = load_summary(tmp_path / "current")
    base_doc = json.loads((tmp_path / "current" / "summary.json").read_text())
    for value, status in ((250.0, "fail"), (215.0, "pass")):
        base_doc["sweep"]["capacity"] = {"value": value, "bound": "between", "last_pass": value,
                                         "first_fail": value + 10}
        (tmp_path / "current" / "base.json").write_text(json.dumps(base_doc))
        baseline = load_summary(tmp_path / "current" / "base.json")
        result = evaluate(current, default_thresholds(), baseline)
        [verdict] = [v for v in result.verdicts if v.kind == "capacity"]
        assert verdict.status == status, verdict.message
        assert not [v for v in result.verdicts if v.kind == "regression"]  # sweeps: capacity, not latencies
    assert "dropped 20.0%" in verdict.message or status == "pass"
    loose = parse_thresholds("[capacity]\nmax_drop_pct = 25\n")
    base_doc["sweep"]["capacity"]["value"] = 250.0
    (tmp_path / "current" / "base.json").write_text(json.dumps(base_doc))
    assert evaluate(current, loose, load_summary(tmp_path / "current" / "base.json")).passed


@pytest.mark.parametrize(("spec", "expected"), [
    ("rate=50,100,200", ("rate", (50.0, 100.0, 200.0))),
    ("rate=200,50,100,100", ("rate", (50.0, 100.0, 200.0))),
    ("rate=50..200/50", ("rate", (50.0, 100.0, 150.0, 200.0))),
    ("users=5,10", ("users", (5.0, 10.0))),
])
def test_levels_are_parsed(spec: str, expected: tuple[str, tuple[float, ...]]) -> None:
    assert sweep.parse_levels(spec) == expected


@pytest.mark.parametrize("spec", ["50,100", "rate=", "rate=0,10", "rate=a,b", "users=2.5", "rps=1,2",
                                  "rate=300..100/50", "rate=1..1000/1"])
def test_bad_levels_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError):
        sweep.parse_levels(spec)


def test_bisection_stops_when_nothing_is_left_between() -> None:
    assert sweep.capacity_between(150, 250, "rate") == 200
    assert sweep.capacity_between(7, 9, "users") == 8
    assert sweep.capacity_between(8, 9, "users") is None


def test_goodput_pairs_one_requests_metrics() -> None:
    summary = {"requests": {"codemie.stream": {"count": 5, "failures": 1}, "codemie.chat": {"count": 3, "failures": 0}}}
    samples = {"codemie.stream.ttfc": [100, 900, 100, 100], "codemie.stream.total": [500, 500, 5000, 500]}
    limits = [Limit("codemie.stream.ttfc", "p95", "<=", 800), Limit("codemie.stream.total", "p99", "<", 1000)]
    rps, share = sweep.goodput(summary, samples, limits, 2.0)
    assert (rps, share) == (2.5, 0.625)  # streams 0 and 3, and the three chats, of 8 requests


def test_what_was_measured_is_kept_when_a_sweep_is_cut_short(tmp_path: Path, fake: FakeLevels,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from apigate.errors import ConfigError

    def crashing(options: LoadOptions, out_dir: Path, **kw: Any) -> LoadResult:
        if options.rate == 150:
            return dataclasses.replace(fake(options, out_dir, **kw), exit_code=2, message="Locust stopped")
        if options.rate == 200:
            raise KeyboardInterrupt
        if options.rate == 300:
            raise ConfigError("the live service refused the credentials")
        return fake(options, out_dir, **kw)

    monkeypatch.setattr(sweep, "run_load", crashing)
    result = sweep.run_sweep(options((100, 150, 250)), tmp_path / "a")
    assert fake.rates == [100, 150] and "150 req/s did not finish: Locust stopped" in result.message
    assert [lv.level for lv in load_details(load_summary(tmp_path / "a")).sweep.levels] == [100, 150]  # type: ignore[union-attr]
    result = sweep.run_sweep(options((100, 200, 250)), tmp_path / "b")
    assert result.exit_code == 130 and result.interrupted and (tmp_path / "b" / "summary.json").is_file()
    with pytest.raises(ConfigError):
        sweep.run_sweep(options((100, 300)), tmp_path / "c")
    assert load_summary(tmp_path / "c").raw["sweep"]["levels"][0]["level"] == 100


def test_capacity_rule_against_the_history(tmp_path: Path, fake: FakeLevels) -> None:
    sweep.run_sweep(options((100, 150, 250)), tmp_path / "current")
    current = load_summary(tmp_path / "current")  # capacity 200
    doc = json.loads((tmp_path / "current" / "summary.json").read_text())
    db = tmp_path / "history.sqlite"

    def record(capacity: float | None, by: str = "rate") -> None:
        doc["sweep"]["by"] = by
        doc["sweep"]["capacity"] = {"value": capacity, "bound": "between", "last_pass": capacity,
                                    "first_fail": None}
        record_run(db, doc, {}, "release", True)

    # sweeps of users, and a sweep that found no capacity, do not count; the rate sweeps' median is 250
    for capacity, by in ((240.0, "rate"), (90.0, "users"), (None, "rate"), (250.0, "rate"), (260.0, "rate")):
        record(capacity, by)
    baseline = baseline_from_history(db, 10)
    assert baseline is not None
    result = evaluate(current, default_thresholds(), baseline)
    [verdict] = [v for v in result.verdicts if v.kind == "capacity"]
    assert verdict.status == "fail", verdict.message
    assert "against the baseline's 250 requests/s (median of 3 sweeps in the history): dropped 20.0%" in \
        verdict.message
    assert not [v for v in result.verdicts if v.kind == "regression"]
    # the last three runs: none found, 250, 260 -> median 255
    last_three = baseline_from_history(db, 3)
    assert last_three is not None and load_details(last_three).sweep is not None
    assert load_details(last_three).sweep.capacity.value == 255.0  # type: ignore[union-attr]
    # when the newest run is a closed-loop run, the baseline is no sweep (its metrics are compared instead)
    record_run(db, {k: v for k, v in doc.items() if k != "sweep"}, {}, "closed", True)
    newest_closed = baseline_from_history(db, 3)
    assert newest_closed is not None and load_details(newest_closed).sweep is None
