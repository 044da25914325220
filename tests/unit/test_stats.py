from __future__ import annotations

import itertools
import math
import random

import pytest

from apigate.metrics import percentile
from apigate.stats import bootstrap_quantile_diff, mann_whitney_u, median, normal_sf, subsample


def test_normal_sf_known_values() -> None:
    assert normal_sf(0.0) == pytest.approx(0.5)
    assert normal_sf(1.959963984540054) == pytest.approx(0.025, rel=1e-9)
    assert normal_sf(-1.6448536269514722) == pytest.approx(0.95, rel=1e-9)


def test_mann_whitney_textbook_example() -> None:
    # SciPy's documented example (Conover): mannwhitneyu(males, females, method="asymptotic") -> U1=17, p=0.1113...
    males = [19, 22, 16, 29, 24]
    females = [20, 11, 17, 12]
    res = mann_whitney_u(males, females, "two-sided")
    assert res.u == 17
    assert res.p_value == pytest.approx(0.11134688653314041, rel=1e-9)
    greater = mann_whitney_u(males, females, "greater")
    assert greater.p_value == pytest.approx(0.11134688653314041 / 2, rel=1e-9)
    less = mann_whitney_u(males, females, "less")
    assert less.p_value > 0.9
    assert greater.effect == pytest.approx(17 / 20)


def _permutation_moments(x: list[float], y: list[float]) -> tuple[float, float]:
    """Exact mean and variance of U1 over every relabelling of the pooled sample (average ranks for ties)."""
    pooled = x + y
    order = sorted(pooled)
    last = {v: len(order) - 1 - order[::-1].index(v) for v in set(pooled)}
    ranks = {v: (order.index(v) + last[v]) / 2 + 1 for v in set(pooled)}  # average 1-based rank
    n1 = len(x)
    us = []
    for combo in itertools.combinations(range(len(pooled)), n1):
        us.append(sum(ranks[pooled[i]] for i in combo) - n1 * (n1 + 1) / 2)
    mean = sum(us) / len(us)
    return mean, sum((u - mean) ** 2 for u in us) / len(us)


def test_mann_whitney_tie_correction_matches_exact_permutation_variance() -> None:
    x = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0]
    y = [2.0, 3.0, 3.0, 4.0, 5.0]
    mean, variance = _permutation_moments(x, y)
    res = mann_whitney_u(x, y, "greater")
    assert mean == pytest.approx(len(x) * len(y) / 2)
    assert res.z == pytest.approx((res.u - mean - 0.5) / math.sqrt(variance), rel=1e-12)
    assert res.p_value == pytest.approx(normal_sf(res.z))


def test_mann_whitney_all_equal_is_no_evidence() -> None:
    assert mann_whitney_u([3.0] * 5, [3.0] * 7, "greater").p_value == 1.0


def test_mann_whitney_detects_a_shift_and_not_noise() -> None:
    rng = random.Random(7)
    base = [rng.gauss(100, 10) for _ in range(300)]
    same = [rng.gauss(100, 10) for _ in range(300)]
    slower = [rng.gauss(110, 10) for _ in range(300)]
    assert mann_whitney_u(slower, base, "greater").p_value < 1e-6
    assert mann_whitney_u(same, base, "greater").p_value > 0.01
    with pytest.raises(ValueError, match="at least one"):
        mann_whitney_u([], base)


def test_bootstrap_is_seeded_and_finds_a_tail_shift() -> None:
    rng = random.Random(3)
    base = [rng.lognormvariate(4.0, 0.3) for _ in range(2000)]
    slower = [v * 1.3 for v in (rng.lognormvariate(4.0, 0.3) for _ in range(2000))]
    a = bootstrap_quantile_diff(slower, base, 0.95, resamples=1000, seed=5)
    b = bootstrap_quantile_diff(slower, base, 0.95, resamples=1000, seed=5)
    assert a == b
    assert a.diff == pytest.approx(percentile(sorted(slower), 0.95) - percentile(sorted(base), 0.95))
    assert 0 < a.low <= a.diff <= a.high
    assert a.p_value < 0.01
    same = [rng.lognormvariate(4.0, 0.3) for _ in range(2000)]
    c = bootstrap_quantile_diff(same, base, 0.95, resamples=1000, seed=5)
    assert c.low < 0 < c.high
    assert c.p_value > 0.01


def test_direct_order_statistic_bootstrap_matches_the_resampling_bootstrap() -> None:
    rng = random.Random(11)
    x = [rng.expovariate(1 / 50) for _ in range(150)]
    y = [rng.expovariate(1 / 50) for _ in range(120)]
    fast = bootstrap_quantile_diff(x, y, 0.9, resamples=3000, confidence=0.9, seed=1)
    sx, sy = sorted(x), sorted(y)
    naive = sorted(
        percentile(sorted(rng.choices(sx, k=len(sx))), 0.9) - percentile(sorted(rng.choices(sy, k=len(sy))), 0.9)
        for _ in range(3000)
    )
    spread = percentile(naive, 0.95) - percentile(naive, 0.05)
    assert fast.low == pytest.approx(percentile(naive, 0.05), abs=0.15 * spread)
    assert fast.high == pytest.approx(percentile(naive, 0.95), abs=0.15 * spread)


def test_bootstrap_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_quantile_diff([], [1.0], 0.5)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_quantile_diff([1.0], [1.0], 0.5, confidence=1.0)


def test_median_and_subsample() -> None:
    assert median([3.0, 1.0, 2.0, 10.0]) == 2.5
    values = [float(i) for i in range(1000)]
    assert subsample(values, 2000) == values
    picked = subsample(values, 100, seed=4)
    assert len(picked) == 100 and len(set(picked)) == 100 and picked == subsample(values, 100, seed=4)
