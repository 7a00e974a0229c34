"""Statistics for simulation output: batch means within a run, t intervals across runs.

Queue outputs are autocorrelated, so the standard error of a within-run mean comes from the
batch-means method (the run cut into contiguous batches whose means are nearly independent);
replications across seeds are independent and take the ordinary Student t interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and a two-sided confidence interval."""

    mean: float
    se: float
    low: float
    high: float
    n: int
    level: float = 0.95

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


def t_interval(values, level: float = 0.95) -> Estimate:
    """Student t confidence interval of the mean of independent values (e.g. replications)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, nan, 0, level)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, float("nan"), float("nan"), float("nan"), 1, level)
    se = float(x.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    return Estimate(mean, se, mean - half, mean + half, n, level)


def batch_means(values, batches: int = 30, warmup: float = 0.1, level: float = 0.95) -> Estimate:
    """Mean of a correlated series with a batch-means standard error and t interval.

    The first `warmup` fraction is discarded; the rest is cut into `batches` equal contiguous
    batches whose means are treated as independent.
    """
    x = np.asarray(values, dtype=float)
    x = x[int(len(x) * warmup) :]
    size = len(x) // batches
    if size < 1:
        raise ValueError(f"need at least {batches} values after warm-up, got {len(x)}")
    means = x[: size * batches].reshape(batches, size).mean(axis=1)
    return t_interval(means, level)
