"""Latency sketch: the documented relative-error guarantee, merging, frames, CDF."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.compute.sketch import ZERO_BUCKET, LatencySketch

SLACK = 1 + 1e-9  # floating-point rounding of log/pow near bucket bounds


def lower(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q, method="lower"))


@pytest.mark.parametrize("alpha", [0.005, 0.01, 0.05])
def test_relative_error_bound_on_lognormal(alpha):
    rng = np.random.default_rng(11)
    x = rng.lognormal(mean=np.log(0.05), sigma=1.2, size=200_000)
    sk = LatencySketch(alpha=alpha)
    sk.add(x)
    assert sk.count == x.size
    for q in np.linspace(0.0, 1.0, 401):
        exact = lower(x, q)
        assert abs(sk.quantile(q) - exact) <= alpha * exact * SLACK, q
    for q in (0.5, 0.9, 0.99, 0.999, 0.9999):
        exact = lower(x, q)
        assert abs(sk.quantile(q) - exact) <= alpha * exact * SLACK


def test_rank_definition_is_floor_q_times_n_minus_1():
    sk = LatencySketch(alpha=0.001)
    sk.add(np.array([1.0, 2.0, 3.0, 4.0]))
    # ranks floor(q*3): q=0 -> 0 (value 1), q=0.5 -> 1 (value 2), q=0.66 -> 1 (value 2,
    # where "linear" would give 2.98), q=0.99 -> 2 (value 3), q=1 -> 3 (value 4)
    for q, exact in [(0.0, 1.0), (0.5, 2.0), (0.66, 2.0), (0.99, 3.0), (1.0, 4.0)]:
        assert abs(sk.quantile(q) - exact) <= 0.001 * exact * SLACK, q


def test_bucket_bounds_and_representative():
    sk = LatencySketch(alpha=0.01)
    g = sk.gamma
    i = sk.bucket_of(np.array([1.0, g * 1.0000001, 0.5]))
    np.testing.assert_array_equal(i[:2], [0, 2])
    v = sk.bucket_value(np.array([5]))[0]
    assert v == pytest.approx(2 * g**5 / (g + 1))
    assert v / g**5 == pytest.approx(1 - 0.01) and v / g**4 == pytest.approx(1 + 0.01)


def test_zero_bucket_and_small_values():
    sk = LatencySketch()
    sk.add(np.array([0.0, 1e-12, 5e-10, 1e-3, 2e-3]))
    assert sk.zero_count == 3 and sk.count == 5
    assert sk.quantile(0.0) == 0.0 and sk.quantile(0.5) == 0.0
    assert sk.quantile(1.0) == pytest.approx(2e-3, rel=sk.alpha)


def test_merge_equals_adding_all():
    rng = np.random.default_rng(5)
    parts = [rng.lognormal(-3, 1, 10_000), rng.lognormal(1, 0.5, 5000), np.zeros(10),
             rng.exponential(1e-6, 100)]
    whole = LatencySketch()
    whole.add(np.concatenate(parts))
    merged = LatencySketch()
    for p in reversed(parts):
        s = LatencySketch()
        s.add(p)
        merged.merge(s)
    pd.testing.assert_frame_equal(merged.to_frame(), whole.to_frame())
    for q in (0.0, 0.1, 0.5, 0.99, 1.0):
        assert merged.quantile(q) == whole.quantile(q)


def test_incremental_add_equals_one_add():
    rng = np.random.default_rng(6)
    x = rng.lognormal(0, 2, 50_000)
    one, many = LatencySketch(), LatencySketch()
    one.add(x)
    for chunk in np.array_split(x, 37):
        many.add(chunk)
    pd.testing.assert_frame_equal(one.to_frame(), many.to_frame())


def test_frame_round_trip_and_columns():
    sk = LatencySketch(alpha=0.02)
    sk.add(np.array([0.0, 0.1, 0.1, 0.2, 3.0]))
    f = sk.to_frame()
    assert list(f.columns) == ["bucket", "value_s", "count"]
    assert f.dtypes.tolist() == [np.int64, np.float64, np.int64]
    assert f["bucket"].iloc[0] == ZERO_BUCKET and f["value_s"].iloc[0] == 0.0
    assert f["count"].sum() == 5
    back = LatencySketch.from_frame(f)
    assert back.alpha == 0.02
    pd.testing.assert_frame_equal(back.to_frame(), f)
    bare = pd.DataFrame({c: f[c] for c in f.columns})  # attrs lost (e.g. via parquet)
    with pytest.raises(ValueError, match="alpha"):
        LatencySketch.from_frame(bare)
    assert LatencySketch.from_frame(bare, alpha=0.02).quantile(0.5) == sk.quantile(0.5)


def test_cdf_is_monotone_and_ends_at_one():
    rng = np.random.default_rng(8)
    sk = LatencySketch()
    sk.add(rng.exponential(0.1, 10_000))
    v, p = sk.cdf()
    assert np.all(np.diff(v) > 0) and np.all(np.diff(p) > 0) and p[-1] == 1.0
    assert v.size == p.size


def test_empty_and_invalid():
    sk = LatencySketch()
    assert sk.count == 0 and np.isnan(sk.quantile(0.5))
    sk.add(np.array([]))
    assert sk.count == 0
    v, p = sk.cdf()
    assert v.size == p.size == 0
    with pytest.raises(ValueError, match="non-negative"):
        sk.add(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="non-negative"):
        sk.add(np.array([np.nan]))
    with pytest.raises(ValueError, match="finite"):
        sk.add(np.array([np.inf]))
    with pytest.raises(ValueError, match="q must be"):
        sk.quantile(1.5)
    with pytest.raises(ValueError, match="merge"):
        sk.merge(LatencySketch(alpha=0.01))
    with pytest.raises(ValueError, match="alpha"):
        LatencySketch(alpha=1.0)


@pytest.mark.parametrize("alpha", [0.001, 0.005, 0.05])
def test_add_counts_equal_bucket_of_at_bucket_bounds(alpha):
    """The compiled add puts every value in the bucket numpy's bucket_of gives, bit for bit,
    also at bucket bounds and their floating-point neighbours, over several calls."""
    sk = LatencySketch(alpha=alpha)
    bounds = sk.gamma ** np.arange(-4000 * 0.005 / alpha, 1500 * 0.005 / alpha)
    x = np.concatenate([bounds, np.nextafter(bounds, 0), np.nextafter(bounds, np.inf),
                        [0.0, 1e-10, sk.min_value]])
    for part in np.array_split(np.random.default_rng(1).permutation(x), 7):
        sk.add(part)
    big = x[x >= sk.min_value]
    idx = sk.bucket_of(big)
    assert sk.zero_count == x.size - big.size and sk.offset == idx.min()
    np.testing.assert_array_equal(sk.counts, np.bincount(idx - idx.min()))


def test_invalid_add_changes_nothing_and_reports_nan_first():
    sk = LatencySketch()
    sk.add(np.array([0.0, 0.5]))
    before = sk.to_frame()
    with pytest.raises(ValueError, match="non-negative"):
        sk.add(np.array([1.0, np.inf, np.nan]))
    with pytest.raises(ValueError, match="finite"):
        sk.add(np.array([1e-12, 2.0, np.inf]))
    pd.testing.assert_frame_equal(sk.to_frame(), before)
