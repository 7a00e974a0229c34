"""Request accounting of one service: what arrived, was rejected, served or failed, and how fast.

A ``ServiceStats`` is fed by its fleet's target group (``compute.targets``), which routes the
requests through the compiled queues: arrivals, rejections and accepted work when requests
arrive; served requests (with their latencies) and failures (work cut when an instance
ended) when they complete.  It keeps the run's latencies exactly or in a sketch, and closes
one ``ServiceInterval`` per observation interval.  No SimPy here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.compute.sketch import LatencySketch
from simulator.records import LatencyStats, ServiceInterval, SketchBucket, Transfer
from simulator.scenario.schema import Service

INTERVAL_EXACT = 1 << 20
"""Most latencies an observation interval keeps for its exact p99; beyond, the interval's
p99 comes from a sketch of it (memory bounded by this, not by the arrival rate)."""
LATENCY_COLUMNS = list(LatencyStats._fields)
"""Columns of the `latency` table (one row per service and one row 'all')."""


class ServiceStats:
    """Counters, latencies and interval records of one service."""

    def __init__(self, name: str, fleet: str, spec: Service, number: int, *, keep_exact: bool,
                 sketch_alpha: float, start: float = 0.0):
        self.name = name
        self.fleet = fleet
        self.spec = spec
        self.number = number  # the service's code in the requests table
        self.slo = spec.slo
        self.keep_exact = keep_exact
        self._sketch = LatencySketch(alpha=sketch_alpha)
        self._latencies = np.empty(1024 if keep_exact else 0)
        self.arrivals = self.served = self.rejected = self.failed = 0
        self.latency_sum = 0.0
        self._slow = 0  # served slower than the SLO
        self._interval_start = start
        self._reset_interval()

    def _reset_interval(self) -> None:
        self._i_arrivals = self._i_served = self._i_rejected = self._i_failed = 0
        self._i_lat_sum = self._i_work = self._i_bytes = 0.0
        self._i_slow = 0
        self._i_latencies: list[np.ndarray] = []
        self._i_held = 0  # values in _i_latencies
        self._i_sketch: LatencySketch | None = None  # the interval's, once it held too many
        self._folded = 0  # how many of _i_latencies the sketch and the slow counts hold

    def _fold(self, values: np.ndarray | None = None) -> None:
        """Count the latencies served since the last fold into the sketch and the SLO counts
        (once per interval, not per batch: counts do not depend on how values are grouped).
        `values`: those latencies already concatenated, when the caller has them."""
        pending = self._i_latencies[self._folded:]
        if not pending:
            return
        if values is None:
            values = pending[0] if len(pending) == 1 else np.concatenate(pending)
        slow = int(np.count_nonzero(values > self.slo))
        self._slow += slow
        self._i_slow += slow
        self._sketch.add(values)
        self._folded = len(self._i_latencies)

    def _spill(self) -> None:
        """The interval holds more than INTERVAL_EXACT latencies: count them into the run's
        and an interval sketch and let them go, so that memory is bounded whatever the rate
        (the interval's p99 then has the sketch's relative error)."""
        self._fold()
        if self._i_sketch is None:
            self._i_sketch = LatencySketch(alpha=self._sketch.alpha)
        for values in self._i_latencies:
            self._i_sketch.add(values)
        self._i_latencies, self._i_held, self._folded = [], 0, 0

    @property
    def sketch(self) -> LatencySketch:
        """The latency sketch of every request served so far."""
        self._fold()
        return self._sketch

    @property
    def slow(self) -> int:
        """Requests served so far slower than the SLO."""
        self._fold()
        return self._slow

    # ---------------------------------------------------------------- feeding

    def arrived(self, n: int, work_s: float) -> None:
        """n requests arrived; work_s of them was accepted by in-service targets."""
        self.arrivals += n
        self._i_arrivals += n
        self._i_work += work_s

    def reject(self, n: int) -> None:
        """n requests found no target in service (AWS answers 503)."""
        self.rejected += n
        self._i_rejected += n

    def fail(self, n: int) -> None:
        """n accepted requests were cut when their instance ended."""
        self.failed += n
        self._i_failed += n

    def serve(self, latency: np.ndarray, response_bytes: float, latency_sum: float | None = None,
              slow: int | None = None) -> None:
        """Requests completed with these latencies, sending response_bytes in all.

        A caller that counted them already passes their sum and their number slower than the
        SLO, having added them to the run's sketch (``count``): the target group does so for
        a block of intervals at a time."""
        n = len(latency)
        if n == 0:
            return
        lat_sum = float(latency.sum()) if latency_sum is None else latency_sum
        self.served += n
        self.latency_sum += lat_sum
        self._i_served += n
        self._i_lat_sum += lat_sum
        self._i_bytes += response_bytes
        if slow is not None:  # counted: keep the folded ones a prefix of the interval's
            self._fold()
            self._slow += slow
            self._i_slow += slow
        self._i_latencies.append(latency)  # else counted in the sketch at the interval's end
        if slow is not None:
            self._folded = len(self._i_latencies)
        self._i_held += n
        if self._i_held > INTERVAL_EXACT:
            self._spill()
        if self.keep_exact:
            start, end = self.served - n, self.served
            if end > len(self._latencies):
                grown = np.empty(max(end, 2 * len(self._latencies)))
                grown[:start] = self._latencies[:start]
                self._latencies = grown
            self._latencies[start:end] = latency

    def count(self, latency: np.ndarray) -> np.ndarray:
        """Add latencies to the run's sketch ahead of ``serve(..., slow=)``; return which are
        slower than the SLO."""
        self._sketch.add(latency)
        return latency > self.slo

    # ---------------------------------------------------------------- intervals

    def close_interval(self, now: float, instances: float, vcpus: float, in_system: int):
        """The records of the interval ending now: its ServiceInterval and Transfer (or None)."""
        start, length = self._interval_start, now - self._interval_start
        if length <= 0:
            return None, None
        lat = self._i_latencies
        p99 = float("nan")
        if self._i_sketch is not None:
            self._spill()
            p99 = self._i_sketch.quantile(0.99)
        elif lat:
            values = lat[0].copy() if len(lat) == 1 else np.concatenate(lat)
            self._fold(values if self._folded == 0 else None)
            p99 = quantiles_in_place(values, (0.99,))[0]
        row = ServiceInterval(
            self.name, self.fleet, start, now, self._i_arrivals, self._i_served,
            self._i_rejected, self._i_failed, self._i_lat_sum, p99,
            self._i_slow + self._i_rejected + self._i_failed, self._i_work, instances, vcpus,
            in_system, self._i_bytes,
        )
        transfer = (Transfer(self.name, "internet_out", self._i_bytes, start, now)
                    if self._i_bytes > 0 else None)
        self._interval_start = now
        self._reset_interval()
        return row, transfer

    # ---------------------------------------------------------------- results

    def latencies(self) -> np.ndarray | None:
        """Every served request's latency (exact mode, in no particular order), else None."""
        return self._latencies[: self.served] if self.keep_exact else None

    def latency_row(self) -> dict:
        """This service's row of the latency table."""
        return latency_stats(self.name, self.arrivals, self.served, self.rejected, self.failed,
                             self.latency_sum, self.slow, self.slo, self.latencies(), self.sketch)


def latency_stats(service: str, arrivals: int, served: int, rejected: int, failed: int,
                  total: float, slow: int, slo: float, exact: np.ndarray | None,
                  sketch: LatencySketch) -> dict:
    """One row of the `latency` table.

    Percentiles and the mean are over served requests; the SLO-violation fraction is over
    arrivals: (served slower than the SLO + rejected + failed) / arrivals.
    """
    qs = (0.5, 0.95, 0.99)
    if served == 0:
        values = [float("nan")] * 3
    elif exact is not None:
        values = quantiles_in_place(exact, qs)
    else:
        values = [sketch.quantile(q) for q in qs]
    return {
        "service": service, "arrivals": int(arrivals), "requests": int(served),
        "rejected": int(rejected), "failed": int(failed),
        "mean_s": total / served if served else float("nan"),
        "p50_s": values[0], "p95_s": values[1], "p99_s": values[2], "slo_s": float(slo),
        "slo_violation_fraction": (slow + rejected + failed) / arrivals if arrivals else float("nan"),
        "method": "exact" if exact is not None else "sketch",
        "relative_error": 0.0 if exact is not None else float(sketch.alpha),
    }


def quantiles_in_place(values: np.ndarray, qs) -> list[float]:
    """Quantiles by linear interpolation (numpy's default method), partitioning values in place.

    Avoids the copy np.quantile makes of a multi-million-element array; reorders `values`.
    """
    n = len(values)
    pos = [(n - 1) * q for q in qs]
    kth = sorted({int(np.floor(h)) for h in pos} | {min(int(np.floor(h)) + 1, n - 1) for h in pos})
    values.partition(kth)
    out = []
    for h in pos:
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        a, b, t = float(values[lo]), float(values[hi]), h - lo
        out.append(a + t * (b - a) if t < 0.5 else b - (b - a) * (1 - t))
    return out


def latency_table(stats: list[ServiceStats]) -> pd.DataFrame:
    """The `latency` table: one row per service and one row 'all' over every request."""
    rows = [s.latency_row() for s in stats]
    if len(stats) == 1:
        rows.append(rows[0] | {"service": "all"})
    elif stats:
        exact = [s.latencies() for s in stats]
        merged = LatencySketch(alpha=stats[0].sketch.alpha)
        for s in stats:
            merged.merge(s.sketch)
        slos = {s.slo for s in stats}
        rows.append(latency_stats(
            "all", sum(s.arrivals for s in stats), sum(s.served for s in stats),
            sum(s.rejected for s in stats), sum(s.failed for s in stats),
            sum(s.latency_sum for s in stats), sum(s.slow for s in stats),
            slos.pop() if len(slos) == 1 else float("nan"),
            np.concatenate(exact) if all(e is not None for e in exact) else None, merged,
        ))
    return pd.DataFrame(rows, columns=LATENCY_COLUMNS)


def sketch_table(stats: list[ServiceStats]) -> pd.DataFrame:
    """The `latency_sketch` table: every service's non-empty sketch buckets."""
    frames = [s.sketch.to_frame().assign(service=s.name) for s in stats]
    columns = list(SketchBucket._fields)
    if not frames:
        return pd.DataFrame({c: [] for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]
