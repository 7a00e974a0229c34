"""Streaming latency quantiles with a guaranteed relative error (a DDSketch-style sketch).

Millions of request latencies per run cannot all be kept; a :class:`LatencySketch` keeps one
counter per logarithmic bucket instead.  With relative accuracy ``alpha`` and
``gamma = (1 + alpha) / (1 - alpha)``, a value ``x >= min_value`` falls in bucket
``i = ceil(log(x) / log(gamma))`` (so ``gamma**(i-1) < x <= gamma**i``) and is represented by
``2 * gamma**i / (gamma + 1)``, which is within ``alpha * x`` of every value of its bucket.
Values below ``min_value`` (default 1 ns) are counted in a zero bucket represented by 0.0.

Guarantee (tested): for n values and q in [0, 1], let r = floor(q * (n - 1)) and x_(r) the
r-th smallest value, counting from 0 (``np.quantile(values, q, method="lower")``).  Then
``quantile(q)`` returns the representative of the bucket holding x_(r), so
``|quantile(q) - x_(r)| <= alpha * x_(r)`` when x_(r) >= min_value, and ``quantile(q) == 0``
with x_(r) < min_value otherwise.  "<=" holds up to floating-point rounding of log and pow
(measured below 1e-12 relative on alpha at exact bucket bounds; the tests allow 1e-9).
Sketches with the same alpha and min_value merge exactly: merging equals adding all values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    import pandas as pd

ZERO_BUCKET = np.iinfo(np.int64).min  # bucket label of values below min_value in frames


@dataclass(eq=False)
class LatencySketch:
    """Mergeable log-bucket histogram of non-negative values (seconds) with relative accuracy.

    ``counts[j]`` counts bucket ``offset + j``; ``zero_count`` counts values < ``min_value``.
    Mutable accumulator: :meth:`add` and :meth:`merge` update it in place.
    """

    alpha: float = 0.005
    min_value: float = 1e-9
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    offset: int = 0
    zero_count: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if not self.min_value > 0.0:
            raise ValueError(f"min_value must be > 0, got {self.min_value}")
        self.counts = np.asarray(self.counts, dtype=np.int64)

    @property
    def gamma(self) -> float:
        """Ratio between consecutive bucket bounds, (1 + alpha) / (1 - alpha)."""
        return (1.0 + self.alpha) / (1.0 - self.alpha)

    @property
    def count(self) -> int:
        """Number of values added so far."""
        return int(self.zero_count + self.counts.sum())

    def bucket_of(self, values: np.ndarray) -> np.ndarray:
        """Bucket index of each value >= min_value (int64)."""
        x = np.asarray(values, dtype=np.float64)
        return np.ceil(np.log(x) / math.log(self.gamma)).astype(np.int64)

    def bucket_value(self, buckets: np.ndarray) -> np.ndarray:
        """Representative value of each bucket index: 2 * gamma**i / (gamma + 1)."""
        g = self.gamma
        return 2.0 * np.power(g, np.asarray(buckets, dtype=np.float64)) / (g + 1.0)

    def add(self, values: np.ndarray) -> None:
        """Count every value of ``values`` (non-negative seconds); NaN or negative is an error.

        numpy takes the logs (so buckets equal :meth:`bucket_of` bit for bit); two compiled
        passes then find the bucket range and count, with no temporary index arrays.
        """
        x = np.asarray(values, dtype=np.float64).reshape(-1)
        if x.size == 0:
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(x)
        log_gamma = math.log(self.gamma)
        zero, lo, hi, bad = _bucket_range(x, logs, self.min_value, log_gamma)
        if bad & 1:  # checked first, as NaN also fails the finiteness test
            raise ValueError("latency sketch values must be non-negative numbers (no NaN)")
        if bad & 2:
            raise ValueError("latency sketch values must be finite")
        self.zero_count += zero
        if lo <= hi:
            self._cover(lo, hi)
            _count_buckets(x, logs, self.min_value, log_gamma, self.counts, self.offset)

    def merge(self, other: LatencySketch) -> None:
        """Add every value counted by ``other`` (same alpha and min_value) into this sketch."""
        if other.alpha != self.alpha or other.min_value != self.min_value:
            raise ValueError(
                f"cannot merge sketches with alpha/min_value {other.alpha}/{other.min_value} "
                f"into {self.alpha}/{self.min_value}"
            )
        self.zero_count += other.zero_count
        if other.counts.size:
            self._cover(other.offset, other.offset + other.counts.size - 1)
            start = other.offset - self.offset
            self.counts[start:start + other.counts.size] += other.counts

    def quantile(self, q: float) -> float:
        """Estimate of the lower q-quantile x_(floor(q*(n-1))); NaN when the sketch is empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile q must be in [0, 1], got {q}")
        n = self.count
        if n == 0:
            return float("nan")
        rank = math.floor(q * (n - 1))
        if rank < self.zero_count:
            return 0.0
        cum = np.cumsum(self.counts)
        j = int(np.searchsorted(cum, rank - self.zero_count, side="right"))
        return float(self.bucket_value(np.array([self.offset + j]))[0])

    def cdf(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, cumulative fractions) over non-empty buckets, ascending; for plots."""
        frame = self.to_frame()
        n = self.count
        cum = np.cumsum(frame["count"].to_numpy()) / n if n else np.zeros(0)
        return frame["value_s"].to_numpy(), cum

    def to_frame(self) -> pd.DataFrame:
        """Non-empty buckets as a DataFrame: bucket (int64), value_s (float64), count (int64).

        The zero bucket, if non-empty, comes first with bucket ``ZERO_BUCKET`` and value 0.0;
        alpha and min_value travel in ``frame.attrs``.
        """
        import pandas as pd

        nz = np.flatnonzero(self.counts)
        buckets = (nz + self.offset).astype(np.int64)
        values = self.bucket_value(buckets)
        counts = self.counts[nz]
        if self.zero_count:
            buckets = np.concatenate([[ZERO_BUCKET], buckets]).astype(np.int64)
            values = np.concatenate([[0.0], values])
            counts = np.concatenate([[self.zero_count], counts]).astype(np.int64)
        frame = pd.DataFrame({"bucket": buckets, "value_s": values, "count": counts})
        frame.attrs.update(alpha=self.alpha, min_value=self.min_value)
        return frame

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, alpha: float | None = None, min_value: float | None = None
    ) -> LatencySketch:
        """Rebuild a sketch from :meth:`to_frame` output (alpha/min_value default to attrs).

        The value_s column is checked against alpha so a frame is never read with the wrong one.
        """
        alpha = float(frame.attrs.get("alpha", 0.005) if alpha is None else alpha)
        min_value = float(frame.attrs.get("min_value", 1e-9) if min_value is None else min_value)
        sketch = cls(alpha=alpha, min_value=min_value)
        buckets = frame["bucket"].to_numpy(dtype=np.int64)
        counts = frame["count"].to_numpy(dtype=np.int64)
        if np.any(counts < 0):
            raise ValueError("sketch frame has negative counts")
        zero = buckets == ZERO_BUCKET
        sketch.zero_count = int(counts[zero].sum())
        buckets, counts = buckets[~zero], counts[~zero]
        expected = sketch.bucket_value(buckets)
        if not np.allclose(frame["value_s"].to_numpy()[~zero], expected, rtol=1e-9, atol=0.0):
            raise ValueError(f"sketch frame values do not match alpha={alpha}")
        if buckets.size:
            sketch._cover(int(buckets.min()), int(buckets.max()))
            np.add.at(sketch.counts, buckets - sketch.offset, counts)
        return sketch

    def _cover(self, lo: int, hi: int) -> None:
        """Grow ``counts`` so buckets lo..hi are addressable."""
        if self.counts.size == 0:
            self.offset = lo
            self.counts = np.zeros(hi - lo + 1, dtype=np.int64)
            return
        cur_lo, cur_hi = self.offset, self.offset + self.counts.size - 1
        new_lo, new_hi = min(lo, cur_lo), max(hi, cur_hi)
        if new_lo == cur_lo and new_hi == cur_hi:
            return
        grown = np.zeros(new_hi - new_lo + 1, dtype=np.int64)
        grown[cur_lo - new_lo:cur_lo - new_lo + self.counts.size] = self.counts
        self.counts, self.offset = grown, new_lo


@njit(cache=True)
def _bucket_range(x, logs, min_value, log_gamma):
    """(values below min_value, lowest and highest bucket of the others, error bits).

    Error bit 1: a value is negative or NaN; bit 2: a value >= min_value is infinite.
    """
    zero, bad = 0, 0
    lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for k in range(x.size):
        v = x[k]
        if not v >= 0.0:
            bad |= 1
        elif v < min_value:
            zero += 1
        elif v == np.inf:
            bad |= 2
        else:
            b = np.int64(np.ceil(logs[k] / log_gamma))
            lo, hi = min(lo, b), max(hi, b)
    return zero, lo, hi, bad


@njit(cache=True)
def _count_buckets(x, logs, min_value, log_gamma, counts, offset):
    """Add one to ``counts[bucket - offset]`` for every value >= min_value."""
    for k in range(x.size):
        if x[k] >= min_value:
            counts[np.int64(np.ceil(logs[k] / log_gamma)) - offset] += 1
