"""Honest statistics for experiment cells, with scipy: intervals, paired differences, ranks.

- A pass rate gets the Wilson score interval (`scipy.stats.binomtest(...).proportion_ci`),
  which stays inside [0, 1] and is sound for small n and rates near 0 or 1.
- A mean score gets a percentile bootstrap interval (`scipy.stats.bootstrap`, seeded, so a
  summary is reproducible); constant data gives a zero-width interval.
- Two frameworks compared on the same inputs and seeds get the paired bootstrap interval of
  the mean difference; the difference is *distinguishable* only when that interval excludes
  zero. With fewer than two samples (or pairs) there is no interval: one sample is never a
  comparison.
- A ranking ties what cannot be told apart (`rank_with_ties`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20261202  # bootstrap resampling is seeded: the same results give the same summary


@dataclass(frozen=True)
class Interval:
    """A confidence interval."""

    low: float
    high: float

    def excludes_zero(self) -> bool:
        """Whether zero lies outside the interval."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Estimate:
    """A mean (or rate) over n samples, with its 95 % interval (None below two samples)."""

    n: int
    mean: float | None
    ci: Interval | None


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of a measurement (None when there is no sample)."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None


@dataclass(frozen=True)
class Difference:
    """A paired comparison: mean of (a - b) over matched samples, its interval, its verdict."""

    a: str
    b: str
    pairs: int
    mean: float | None
    ci: Interval | None

    @property
    def distinguishable(self) -> bool:
        """Whether the difference stands out from the noise at this n (interval excludes 0)."""
        return self.ci is not None and self.ci.excludes_zero()


def pass_rate(passed: Sequence[bool]) -> Estimate:
    """The share of passes, with the Wilson score interval."""
    n = len(passed)
    if n == 0:
        return Estimate(0, None, None)
    k = sum(bool(p) for p in passed)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return Estimate(n, k / n, Interval(float(ci.low), float(ci.high)) if n >= 2 else None)


def mean_score(scores: Sequence[float]) -> Estimate:
    """The mean of scores, with a percentile bootstrap interval."""
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        return Estimate(0, None, None)
    return Estimate(int(values.size), float(values.mean()), _bootstrap((values,), _mean))


def spread(values: Sequence[float]) -> Spread:
    """Median and the quartiles of values."""
    if not values:
        return Spread(0, None, None, None)
    q1, median, q3 = (float(q) for q in np.percentile(np.asarray(values, float), [25, 50, 75]))
    return Spread(len(values), median, q1, q3)


def paired_difference(a: str, b: str, pairs: Sequence[tuple[float, float]]) -> Difference:
    """Mean of (a - b) over matched pairs (same input and seed), with its bootstrap interval."""
    if not pairs:
        return Difference(a, b, 0, None, None)
    left = np.asarray([p[0] for p in pairs], dtype=float)
    right = np.asarray([p[1] for p in pairs], dtype=float)
    ci = _bootstrap((left, right), _mean_difference, paired=True)
    return Difference(a, b, len(pairs), float((left - right).mean()), ci)


def rank_with_ties(
    means: Mapping[str, float], differ: Callable[[str, str], Difference]
) -> list[tuple[int, str]]:
    """Names ranked by mean, best (highest) first, tying what cannot be told apart.

    A name not distinguishable from the first of the group above it shares that group's
    rank (competition ranking: 1, 1, 3).
    """
    order = sorted(means, key=lambda name: (-means[name], name))
    ranked: list[tuple[int, str]] = []
    leader = None
    for position, name in enumerate(order, start=1):
        if leader is not None and not differ(leader[1], name).distinguishable:
            ranked.append((leader[0], name))
            continue
        leader = (position, name)
        ranked.append(leader)
    return ranked


def median(values: Sequence[float]) -> float | None:
    """The median, or None without values."""
    return statistics.median(values) if values else None


def _mean(sample: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(sample, axis=axis)


def _mean_difference(left: np.ndarray, right: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(left - right, axis=axis)


def _bootstrap(
    data: tuple[np.ndarray, ...], statistic: Callable, paired: bool = False
) -> Interval | None:
    """The percentile bootstrap interval of `statistic` (None below two samples)."""
    if data[0].size < 2:
        return None
    if all(np.ptp(d) == 0 for d in data) or (paired and np.ptp(data[0] - data[1]) == 0):
        value = float(statistic(*data))
        return Interval(value, value)  # no spread: resampling cannot move the statistic
    result = stats.bootstrap(
        data,
        statistic,
        paired=paired,
        vectorized=True,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        random_state=np.random.default_rng(SEED),
    )
    return Interval(float(result.confidence_interval.low), float(result.confidence_interval.high))
