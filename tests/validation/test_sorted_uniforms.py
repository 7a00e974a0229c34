"""Arrival times are drawn as sorted uniforms in O(n) (Renyi's representation: partial sums
of n + 1 exponentials over their total).  Validated against the closed forms of uniform
order statistics: U_(k) of n is Beta(k, n + 1 - k), mean k / (n + 1), variance
k (n + 1 - k) / ((n + 1)^2 (n + 2)); and the pooled points are uniform (Kolmogorov-Smirnov)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from simulator.compute.workload import sorted_uniforms


def test_order_statistics_have_their_beta_means_and_variances():
    rng = np.random.default_rng(20261202)
    n, reps, lo, hi = 7, 40_000, 3.0, 5.0
    u = (np.stack([sorted_uniforms(rng, lo, hi, n) for _ in range(reps)]) - lo) / (hi - lo)
    k = np.arange(1, n + 1)
    mean = k / (n + 1)
    var = k * (n + 1 - k) / ((n + 1) ** 2 * (n + 2))
    # sample means within 3.3 standard errors; sample variances within 3.3 of theirs
    # (var of a sample variance ~ (mu4 - var^2) / reps, mu4 from the Beta's kurtosis)
    assert np.all(np.abs(u.mean(axis=0) - mean) < 3.3 * np.sqrt(var / reps))
    a, b = k, n + 1 - k
    kurt = 6 * ((a - b) ** 2 * (a + b + 1) - a * b * (a + b + 2)) / (a * b * (a + b + 2) * (a + b + 3))
    mu4 = (kurt + 3) * var**2
    assert np.all(np.abs(u.var(axis=0) - var) < 3.3 * np.sqrt((mu4 - var**2) / reps))


def test_points_are_sorted_in_range_and_uniform():
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 1000, 200_000):
        t = sorted_uniforms(rng, 60.0, 120.0, n)
        assert len(t) == n and np.all(np.diff(t) >= 0)
        assert n == 0 or (t[0] >= 60.0 and t[-1] < 120.0)
    pooled = np.concatenate([sorted_uniforms(rng, 0.0, 1.0, 50) for _ in range(4000)])
    assert stats.kstest(pooled, "uniform").pvalue > 0.001


def test_rounding_never_reaches_the_end_of_the_block():
    class Last:  # the last exponential vanishes: the n-th point would round to hi
        def standard_exponential(self, size):
            e = np.ones(size)
            e[-1] = 1e-300
            return e

    t = sorted_uniforms(Last(), 0.0, 60.0, 5)
    assert t[-1] < 60.0 and np.all(np.diff(t) >= 0)
