"""The request data plane of one service: arrays of requests pushed through compiled queues.

No request is a SimPy event.  The data plane keeps a cursor in simulated time; whenever the
control plane is about to change something the requests depend on (an instance enters or
leaves running) or an observation interval ends, it ``advance``s: draws the requests that
arrived since the cursor from the service's ``RequestSource`` and pushes them through the load
balancer and the instances' FCFS multi-server queues with the numba kernel, whose queue state
carries over.  Splitting a run into more intervals therefore changes no request's latency.
An instance that leaves running leaves the load balancer at once and finishes the requests it
already accepted (connection draining); if it rejoins, its servers stay busy with that work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.compute.instances import Instance
from simulator.compute.kernel import POLICIES, QueueState, serve
from simulator.compute.sketch import LatencySketch
from simulator.compute.workload import RequestSource
from simulator.engine.recorder import Recorder
from simulator.records import ServiceInterval, Transfer
from simulator.scenario.schema import Service

REQUEST_COLUMNS = {
    "service": np.int16, "arrival_s": np.float64, "instance_id": np.int32, "start_s": np.float64,
    "done_s": np.float64, "latency_s": np.float64, "service_s": np.float64,
    "response_bytes": np.float64,
}
"""Columns of the optional `requests` table as the data plane records them (the World turns
the service and instance numbers into categorical names)."""


class ServiceDataPlane:
    """Load balancer, queues and latency accounting of one service."""

    def __init__(
        self,
        name: str,
        spec: Service,
        source: RequestSource,
        recorder: Recorder,
        *,
        keep_exact: bool,
        keep_requests: bool,
        sketch_alpha: float,
        start: float = 0.0,
        service_number: int = 0,
    ):
        self.name = name
        self.service_number = service_number
        self.spec = spec
        self.source = source
        self.recorder = recorder
        self.policy = POLICIES[spec.load_balancer.policy]
        self.members: list[Instance] = []
        self._draining: dict[str, np.ndarray] = {}  # server free times of instances that left
        self.queues = QueueState.empty([])
        self.cursor = start
        self.keep_exact = keep_exact
        self.keep_requests = keep_requests
        self.sketch = LatencySketch(alpha=sketch_alpha)
        self._latencies = np.empty(1024 if keep_exact else 0)
        self._total = 0
        self._sum = 0.0
        self._violations = 0
        self._interval_start = start
        self._cap_since = start
        self._reset_interval()

    # ---------------------------------------------------------------- membership

    def on_instance_change(self, inst: Instance, old: str, new: str) -> None:
        """Listener for instance state changes: join on running, leave when running ends."""
        now = inst.env.now
        if new == "running" and inst not in self.members:
            self.advance(now)
            self._integrate_capacity(now)
            self.members.append(inst)
            self.queues.add_instance(inst.vcpus, now, self._draining.pop(inst.id, None))
        elif old == "running" and inst in self.members:
            self.advance(now)
            self._integrate_capacity(now)
            index = self.members.index(inst)
            self.members.pop(index)
            self._draining[inst.id] = self.queues.free[index, : inst.vcpus].copy()
            self.queues.remove_instance(index)

    def _integrate_capacity(self, now: float) -> None:
        dt = now - self._cap_since
        if dt > 0:
            self._inst_s += len(self.members) * dt
            self._vcpu_s += sum(m.vcpus for m in self.members) * dt
        self._cap_since = now

    # ---------------------------------------------------------------- requests

    def _reset_interval(self) -> None:
        self._arrivals = 0
        self._served = 0
        self._dropped = 0
        self._lat_sum = 0.0
        self._interval_latencies: list[np.ndarray] = []
        self._slo_viol = 0
        self._work = 0.0
        self._bytes = 0.0
        self._inst_s = 0.0
        self._vcpu_s = 0.0

    def advance(self, t: float) -> None:
        """Serve every request that arrived in [cursor, t) with the current instances."""
        if t <= self.cursor:
            return
        batch = self.source.window(self.cursor, t)
        self.cursor = t
        n = len(batch)
        if n == 0:
            return
        self._arrivals += n
        if not self.members:
            self._dropped += n
            return
        res = serve(self.queues, batch.arrival, batch.service, batch.route_u, self.policy)
        latency = res.done - batch.arrival
        lat_sum = float(latency.sum())
        violations = int(np.count_nonzero(latency > self.spec.slo))
        self._served += n
        self._lat_sum += lat_sum
        self._interval_latencies.append(latency)
        self._slo_viol += violations
        self._work += float(batch.service.sum())
        self._bytes += float(batch.size.sum())
        self._total += n
        self._sum += lat_sum
        self._violations += violations
        self.sketch.add(latency)
        if self.keep_exact:
            start = self._total - n
            if self._total > len(self._latencies):
                grown = np.empty(max(self._total, 2 * len(self._latencies)))
                grown[:start] = self._latencies[:start]
                self._latencies = grown
            self._latencies[start : self._total] = latency
        if self.keep_requests:
            numbers = np.array([m.number for m in self.members], dtype=np.int32)
            self.recorder.add_columns(
                "requests",
                {
                    "service": np.full(n, self.service_number, dtype=np.int16),
                    "arrival_s": batch.arrival,
                    "instance_id": numbers[res.instance],
                    "start_s": res.start,
                    "done_s": res.done,
                    "latency_s": latency,
                    "service_s": batch.service,
                    "response_bytes": batch.size,
                },
            )

    def observe(self, now: float) -> None:
        """Close the observation interval ending now: record its statistics and transfer."""
        self.advance(now)
        self._integrate_capacity(now)
        start, length = self._interval_start, now - self._interval_start
        if length <= 0:
            return
        in_system = int(self.queues.in_system(now).sum()) if self.members else 0
        lat = self._interval_latencies
        p99 = quantiles_in_place(np.concatenate(lat), (0.99,))[0] if lat else float("nan")
        self.recorder.add(
            ServiceInterval(
                self.name, start, now, self._arrivals, self._served, self._dropped,
                self._lat_sum, p99, self._slo_viol, self._work, self._inst_s / length,
                self._vcpu_s / length, in_system, self._bytes,
            )
        )
        if self._bytes > 0:
            self.recorder.add(Transfer(self.name, "internet_out", self._bytes, start, now))
        self._interval_start = now
        self._reset_interval()

    # ---------------------------------------------------------------- results

    def latencies(self) -> np.ndarray | None:
        """Every served request's latency (exact mode, in no particular order), else None."""
        return self._latencies[: self._total] if self.keep_exact else None

    def latency_row(self) -> dict:
        """This service's latency statistics (exact or from the sketch)."""
        return latency_stats(
            self.name, self._total, self._sum, self._violations, self.spec.slo,
            self.latencies(), self.sketch,
        )


def latency_stats(
    service: str,
    count: int,
    total: float,
    violations: int,
    slo: float,
    exact: np.ndarray | None,
    sketch: LatencySketch,
) -> dict:
    """One row of the `latency` table: count, mean, p50/p95/p99, SLO violations, method."""
    row = {"service": service, "requests": int(count), "mean_s": total / count if count else float("nan")}
    qs = (0.5, 0.95, 0.99)
    if count == 0:
        values = [float("nan")] * 3
    elif exact is not None:
        values = quantiles_in_place(exact, qs)
    else:
        values = [sketch.quantile(q) for q in qs]
    row.update({"p50_s": values[0], "p95_s": values[1], "p99_s": values[2]})
    row.update(
        {
            "slo_s": float(slo),
            "slo_violation_fraction": violations / count if count else float("nan"),
            "method": "exact" if exact is not None else "sketch",
            "relative_error": 0.0 if exact is not None else float(sketch.alpha),
        }
    )
    return row


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


def latency_table(planes: list[ServiceDataPlane]) -> pd.DataFrame:
    """The `latency` table: one row per service and one row 'all' over every request."""
    rows = [p.latency_row() for p in planes]
    if len(planes) == 1:
        rows.append(rows[0] | {"service": "all"})
    elif planes:
        exact = [p.latencies() for p in planes]
        merged = LatencySketch(alpha=planes[0].sketch.alpha)
        for p in planes:
            merged.merge(p.sketch)
        slos = {p.spec.slo for p in planes}
        rows.append(
            latency_stats(
                "all",
                sum(p._total for p in planes),
                sum(p._sum for p in planes),
                sum(p._violations for p in planes),
                slos.pop() if len(slos) == 1 else float("nan"),
                np.concatenate(exact) if all(e is not None for e in exact) else None,
                merged,
            )
        )
    return pd.DataFrame(
        rows,
        columns=["service", "requests", "mean_s", "p50_s", "p95_s", "p99_s", "slo_s",
                 "slo_violation_fraction", "method", "relative_error"],
    )
