"""Experiment statistics against values computed independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.stats import (
    Difference,
    mean_score,
    paired_difference,
    pass_rate,
    rank_with_ties,
    spread,
)


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval, by its formula."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(7, 10), (0, 5), (5, 5), (1, 3), (30, 90)])
def test_pass_rate_is_the_share_with_the_wilson_interval(k: int, n: int) -> None:
    """K passes of n: rate k/n and the Wilson interval, inside [0, 1]."""
    estimate = pass_rate([True] * k + [False] * (n - k))
    low, high = _wilson(k, n)
    assert estimate.n == n and estimate.mean == pytest.approx(k / n)
    assert estimate.ci is not None
    assert (estimate.ci.low, estimate.ci.high) == (pytest.approx(low), pytest.approx(high))
    assert 0 <= estimate.ci.low <= estimate.ci.high <= 1


def test_one_sample_has_no_interval() -> None:
    """A single run gives a value but no interval: one sample is not a comparison."""
    assert pass_rate([True]).ci is None and mean_score([0.5]).ci is None
    assert paired_difference("a", "b", [(1.0, 0.0)]).ci is None
    assert not paired_difference("a", "b", [(1.0, 0.0)]).distinguishable


def test_mean_score_interval_agrees_with_the_t_interval_on_a_normal_sample() -> None:
    """On 200 normal draws the bootstrap interval is close to the textbook t interval."""
    sample = np.random.default_rng(7).normal(0.6, 0.1, 200)
    estimate = mean_score(list(sample))
    half = 1.9719565 * sample.std(ddof=1) / math.sqrt(sample.size)  # t(0.975, 199)
    assert estimate.mean == pytest.approx(sample.mean())
    assert estimate.ci is not None
    assert estimate.ci.low == pytest.approx(sample.mean() - half, abs=0.004)
    assert estimate.ci.high == pytest.approx(sample.mean() + half, abs=0.004)


def test_bootstrap_is_seeded_and_constant_data_has_a_point_interval() -> None:
    """The same scores give the same interval; identical scores give [v, v]."""
    scores = [0.2, 0.9, 0.4, 0.7, 0.5]
    assert mean_score(scores).ci == mean_score(scores).ci
    constant = mean_score([0.5, 0.5, 0.5])
    assert constant.ci is not None and (constant.ci.low, constant.ci.high) == (0.5, 0.5)


def test_a_consistent_paired_lead_is_distinguishable_and_noise_is_not() -> None:
    """Every pair +1: distinguishable; pairs that swing both ways around 0: not."""
    lead = paired_difference("a", "b", [(2.0, 1.0), (3.0, 2.0), (1.5, 0.5)])
    assert lead.mean == pytest.approx(1.0) and lead.distinguishable
    noise = paired_difference("a", "b", [(1.0, 0.0), (0.0, 1.0), (0.6, 0.5), (0.4, 0.5)])
    assert noise.ci is not None and noise.ci.low < 0 < noise.ci.high
    assert not noise.distinguishable


def test_ranking_ties_what_cannot_be_told_apart() -> None:
    """X leads y and z clearly; y and z cannot be told apart: ranks 1, 2, 2."""
    apart = {("x", "y"), ("x", "z")}

    def differ(a: str, b: str) -> Difference:
        ci = (0.1, 0.3) if (a, b) in apart else (-0.1, 0.2)
        from experiments.stats import Interval

        return Difference(a, b, 5, 0.1, Interval(*ci))

    assert rank_with_ties({"y": 0.5, "x": 0.9, "z": 0.45}, differ) == [(1, "x"), (2, "y"), (2, "z")]


def test_spread_gives_median_and_quartiles() -> None:
    """Median and quartiles as numpy's linear percentiles give them."""
    result = spread([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (result.median, result.q1, result.q3) == (3.0, 2.0, 4.0)
    assert spread([]).median is None
