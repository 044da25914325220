"""The open model's arrival schedules: intended send times, and the arrivals nobody took."""

from __future__ import annotations

import itertools
import statistics

import pytest

from apigate.loadrun.arrivals import ArrivalSchedule


def test_constant_arrivals_are_evenly_spaced_from_the_first_take() -> None:
    schedule = ArrivalSchedule(4.0)
    times = [schedule.take(100.0 + k * 0.01) for k in range(9)]  # users ask whenever; the schedule decides
    assert times == pytest.approx([100.0 + k * 0.25 for k in range(9)])
    assert schedule.start == 100.0 and schedule.taken == 9


def test_constant_spacing_does_not_drift() -> None:
    schedule = ArrivalSchedule(3.0)
    for _ in range(300_000):
        last = schedule.take(0.0)
    assert last == pytest.approx((300_000 - 1) / 3.0, abs=1e-9)


def test_poisson_gaps_average_one_over_the_rate_and_are_seeded() -> None:
    def times(seed: int) -> list[float]:
        schedule = ArrivalSchedule(50.0, "poisson", seed=seed)
        return [schedule.take(0.0) for _ in range(20_000)]

    first = times(7)
    assert first == times(7) and first != times(8)
    gaps = [b - a for a, b in itertools.pairwise(first)]
    assert statistics.fmean(gaps) == pytest.approx(1 / 50, rel=0.03)
    assert statistics.pstdev(gaps) == pytest.approx(1 / 50, rel=0.05)  # exponential: sd == mean


def test_untaken_counts_due_arrivals_nobody_took() -> None:
    schedule = ArrivalSchedule(10.0)
    assert schedule.untaken(5.0) == 0  # not started
    for _ in range(3):
        schedule.take(0.0)  # 0.0, 0.1, 0.2 handed out; the next is due at 0.3
    assert schedule.untaken(0.25) == 0
    assert schedule.untaken(0.3) == 1
    assert schedule.untaken(1.0) == 8  # 0.3 .. 1.0
    assert schedule.taken == 3  # counting consumes nothing


def test_poisson_untaken_replays_the_schedule_without_consuming_it() -> None:
    schedule = ArrivalSchedule(20.0, "poisson", seed=3)
    schedule.take(0.0)
    due = schedule.untaken(2.0)
    twin = ArrivalSchedule(20.0, "poisson", seed=3)
    twin.take(0.0)
    expected = 0
    while twin.take(0.0) <= 2.0:
        expected += 1
    assert due == expected > 20
    assert schedule.untaken(2.0) == due


@pytest.mark.parametrize(("rate", "kind"), [(0.0, "constant"), (float("inf"), "constant"), (1.0, "burst")])
def test_bad_schedules_are_refused(rate: float, kind: str) -> None:
    with pytest.raises(ValueError):
        ArrivalSchedule(rate, kind)  # type: ignore[arg-type]
