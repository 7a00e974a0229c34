"""The load balancer's target group of one fleet: targets that join and leave, and their queues.

Every service on a fleet routes to the same targets (the fleet's instances), so their
requests queue for the same vCPUs: one ``QueueState`` for the fleet, fed with the merged,
time-ordered requests of all its services.  Membership is explicit, as in AWS:

* an instance that enters running is *registered* (target state ``initial``); it is *in
  service* (``healthy``) after ``healthy_threshold`` passing health checks every
  ``interval`` (the first one interval after registration), or at once without checks;
* ``deregister`` takes a target out of service at once (``draining``): it receives no new
  request and finishes those it holds; it returns when its instance may end, the earlier of
  its last completion and now + ``deregistration_delay``;
* an instance that leaves running (terminated after draining, stopped, failed) cuts the work
  it still holds: those requests are counted as failed.

Requests are drawn and routed whenever something they depend on changes (``advance``):
arrivals while no target is in service are rejected; routed requests stay *in flight* until
the data plane's cursor passes their completion, and are then counted as served, or as
failed if their instance ended first.  No request is a SimPy event.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
import simpy

from simulator.compute.dataplane import ServiceStats
from simulator.compute.instances import Instance
from simulator.compute.kernel import POLICIES, QueueState, route
from simulator.compute.workload import (
    BLOCK_REQUESTS,
    GRID_S,
    RequestBatch,
    RequestSource,
    peak_rate,
)
from simulator.engine.recorder import Recorder
from simulator.records import EndCause, Request, ServiceInterval, TargetInterval, Transfer
from simulator.scenario.schema import LoadBalancer

SERVED, FAILED, REJECTED = 0, 1, 2
_DRAINED, _INSTANCE_LEFT = EndCause.DRAINED.value, EndCause.INSTANCE_LEFT.value
_FLIGHT = ("arrival", "start", "done", "service", "size", "svc", "inst")
_COUNTED = ("arrival", "done", "size", "svc")  # what counting a served request reads


@dataclass(eq=False, slots=True)
class _Target:
    """Registration state of one instance in the target group (engine state, mutable)."""

    instance: Instance
    state: str
    since: float
    drained_at: float = np.inf


class TargetGroup:
    """Targets, queues and request routing of the services of one fleet."""

    def __init__(self, env: simpy.Environment, recorder: Recorder, fleet: str, lb: LoadBalancer,
                 services: list[tuple[ServiceStats, RequestSource]], *, keep_requests: bool,
                 start: float = 0.0):
        self.env = env
        self.recorder = recorder
        self.name = fleet
        self.lb = lb
        self.policy = POLICIES[lb.policy]
        self.stats = [s for s, _ in services]
        self.sources = [src for _, src in services]
        self._peak_rate = sum(peak_rate(src.spec.arrivals) for src in self.sources)
        self._grid_s = min((src.grid_s for src in self.sources), default=GRID_S)
        self.keep_requests = keep_requests
        self.members: list[Instance] = []  # in service, in queue-row order
        self._numbers = np.empty(64, np.int64)  # their registry numbers (first len(members))
        self._rows: dict[int, int] = {}  # queue row by instance number
        self._vcpus = 0  # of the members
        self.targets: dict[int, _Target] = {}  # by instance number
        self.queues = QueueState.empty([])
        self._ops: list[int] = []  # queue changes not yet applied: vCPUs to add, ~row to remove
        self._ops_at = start  # the instant they happened at
        self._marks: list[float] = []  # interval ends not yet closed (after the cursor)
        self.cursor = start
        self._flight = {k: np.empty(0, np.int16 if k == "svc" else np.int64 if k == "inst"
                                    else np.float64) for k in _FLIGHT}
        self._cap_since = start
        self._next_done = np.inf  # the first completion in flight
        self._inst_s = self._vcpu_s = 0.0
        self._log = recorder.appender(TargetInterval)
        recorder.declare(ServiceInterval)
        recorder.declare(Transfer)
        if keep_requests:
            recorder.declare(Request)

    # ---------------------------------------------------------------- membership

    def on_instance_change(self, inst: Instance, old: str, new: str) -> None:
        """Instance listener: register on entering running; cut its work when it leaves."""
        if new == "running":
            self.register(inst)
        elif old == "running":
            self._instance_left(inst)

    def register(self, inst: Instance) -> None:
        """Register a running instance; it is in service after its health checks pass."""
        if inst.number in self.targets:
            return
        check = self.lb.health_check
        if check is None:  # in service at once: no initial stay
            self.targets[inst.number] = _Target(inst, "healthy", self.env.now)
            self._join(inst)
        else:
            target = self.targets[inst.number] = _Target(inst, "initial", self.env.now)
            self.env.process(self._health_checks(target, check.interval * check.healthy_threshold))

    def _health_checks(self, target: _Target, delay: float):
        yield self.env.timeout(delay)
        if self.targets.get(target.instance.number) is target and target.state == "initial":
            self._set(target, "healthy", EndCause.HEALTHY)
            self._join(target.instance)

    def deregister(self, inst: Instance) -> float:
        """Take a target out of service now; return when its instance may end.

        That is the earlier of its last in-flight completion and now + deregistration delay
        (now, when it holds nothing).  Work still running then is cut when the instance ends.
        """
        now = self.env.now
        target = self.targets.get(inst.number)
        if target is None:
            return now
        if target.state == "draining":
            return target.drained_at
        last = now
        if target.state == "healthy":
            self.advance(now)
            self._apply()
            row = self._leave(inst)
            # requests on a server run back to back: its last completion is its free time
            last = max(now, float(self.queues.free[row, : int(self.queues.cpus[row])].max()))
            self._queue(~row, now)
        target.drained_at = min(last, now + self.lb.deregistration_delay)
        self._set(target, "draining", EndCause.DEREGISTERED)
        return target.drained_at

    def _instance_left(self, inst: Instance) -> None:
        target = self.targets.pop(inst.number, None)
        if target is None:
            return
        now = self.env.now
        if now > self.cursor:
            self.advance(now)
        state = target.state
        if state == "healthy":
            self._queue(~self._leave(inst), now)
        self._log(TargetInterval(self.name, inst.id, state, target.since, now,
                                 _DRAINED if state == "draining" else _INSTANCE_LEFT))
        if len(self._flight["inst"]):
            self._cut(inst.number, now)

    def _set(self, target: _Target, state: str, cause: EndCause) -> None:
        # every stay is kept, even one of no length (healthy and deregistered at one instant)
        now = self.env.now
        self._log(TargetInterval(self.name, target.instance.id, target.state, target.since, now,
                                 cause.value))
        target.state, target.since = state, now

    def _join(self, inst: Instance) -> None:
        now = self.env.now
        if now > self.cursor:
            self.advance(now)
        if now > self._cap_since:
            self._integrate(now)
        vcpus = inst.type.vcpus
        row = len(self.members)
        self._queue(vcpus, now)
        if row == self._numbers.shape[0]:
            self._numbers = np.concatenate([self._numbers, np.empty_like(self._numbers)])
        self._numbers[row] = inst.number
        self._rows[inst.number] = row
        self.members.append(inst)
        self._vcpus += vcpus

    def _queue(self, op: int, now: float) -> None:
        """Note a change of the queues (vCPUs of a new last row, or ~row of one to remove),
        applied with the others of the same instant before the queues are next used: the
        instances that join or leave together cost one array operation, not one each."""
        if self._ops and now != self._ops_at:
            self._apply()
        self._ops.append(op)
        self._ops_at = now

    def _apply(self) -> None:
        """Apply the noted changes to the queues, in order (runs of joins and of leaves in bulk)."""
        if not self._ops:
            return
        ops = np.array(self._ops, np.int64)
        self._ops.clear()
        joins = ops > 0
        cuts = [0, *(np.flatnonzero(joins[1:] != joins[:-1]) + 1).tolist(), len(ops)]
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            if joins[lo]:
                self.queues.add_instances(ops[lo:hi], self._ops_at)
            else:
                self.queues.remove_instances(~ops[lo:hi])

    def _leave(self, inst: Instance) -> int:
        """Stop routing to inst (after advancing to now); return its queue row.

        The caller removes the row from the queues (``_queue(~row)``), which moves the last row
        into its place: the members move the same way here.
        """
        now = self.env.now
        if now > self._cap_since:
            self._integrate(now)
        row = self._rows.pop(inst.number)
        last = self.members.pop()
        if last is not inst:
            self.members[row] = last
            self._numbers[row] = last.number
            self._rows[last.number] = row
        self._vcpus -= inst.type.vcpus
        return row

    def _integrate(self, now: float) -> None:
        dt = now - self._cap_since
        if dt > 0 and self.members:
            self._inst_s += len(self.members) * dt
            self._vcpu_s += self._vcpus * dt
        self._cap_since = now

    # ---------------------------------------------------------------- requests

    def _window(self, t0: float, t1: float) -> tuple[RequestBatch, np.ndarray | None]:
        """The merged requests of every service in [t0, t1), and each one's service index."""
        batches = [src.window(t0, t1) for src in self.sources]
        if len(batches) == 1:
            return batches[0], None
        svc = np.concatenate([np.full(len(b), i, dtype=np.int16) for i, b in enumerate(batches)])
        arrival = np.concatenate([b.arrival for b in batches])
        order = np.argsort(arrival, kind="stable")
        merged = RequestBatch(arrival[order], *(np.concatenate([getattr(b, f) for b in batches])[order]
                                                for f in ("service", "size", "route_u")))
        return merged, svc[order]

    def advance(self, t: float) -> None:
        """Route every request that arrived in [cursor, t); settle those completed before t.

        A window over more than one block of the request grid is routed block by block:
        the drawn blocks are used in place (never concatenated), and memory stays bounded by
        a block whatever the rate.  The queue state carries across, so the decisions are those
        of one call; only the sums of an interval are added block by block (their last bits
        may differ from one sum over a concatenated window)."""
        self._apply()
        if t <= self.cursor:
            return
        g = self._grid_s
        if (self._peak_rate * (t - self.cursor) > BLOCK_REQUESTS
                or self.cursor // g < math.ceil(t / g) - 1):
            cuts = sorted({b for src in self.sources for b in src.boundaries(self.cursor, t)})
            for cut in cuts:
                self._advance(cut)
        self._advance(t)

    def _advance(self, t: float) -> None:
        """Route the requests of [cursor, t), settle those done before t, and close the
        observation intervals that end by t (their ends were marked by ``observe``).

        The window is routed in one call whatever the intervals in it; its requests are then
        counted into their intervals in bulk: arrivals by arrival time, served requests by
        completion, in_system at each end as arrived minus done."""
        if t <= self.cursor:
            return
        batch, svc = self._window(self.cursor, t)
        self.cursor = t
        marks = self._due(t)
        n = len(batch)
        if not n and not marks:
            self._settle(t)
            return
        if svc is None:
            svc = np.zeros(n, np.int16)
        flight, new = self._flight, None
        if n and self.members:
            res = route(self.queues, batch.arrival, batch.service, batch.route_u, self.policy)
            new = {"arrival": batch.arrival, "start": res.start, "done": res.done,
                   "service": batch.service, "size": batch.size, "svc": svc,
                   "inst": self._numbers[res.instance]}
        elif n and self.keep_requests:
            nan = np.full(n, np.nan)
            self._record(batch.arrival, nan, nan, batch.service, batch.size, svc,
                         np.full(n, -1), REJECTED)
        # what completes before t, of the flight and of the new requests; the rest flies on
        fields = _FLIGHT if self.keep_requests else _COUNTED
        parts, staying = [], []
        late = flight["done"] >= t if t > self._next_done else None
        if late is None:
            staying.append(flight)
        else:
            parts.append({k: flight[k][~late] for k in fields})
            staying.append({k: v[late] for k, v in flight.items()})
        if new is not None:
            late = new["done"] >= t
            if late.any():
                # arrivals are sorted, so the late gather at the end: mask from the first only
                j = int(np.argmax(late))
                late = late[j:]
                parts.append({k: np.concatenate([new[k][:j], new[k][j:][~late]]) for k in fields})
                staying.append({k: v[j:][late] for k, v in new.items()})
            else:
                parts.append(new)
        done = parts[0] if len(parts) == 1 else (
            {k: np.concatenate([p[k] for p in parts]) for k in fields} if parts else None)
        if done is not None and self.keep_requests:
            self._record(done["arrival"], done["start"], done["done"], done["service"],
                         done["size"], done["svc"], done["inst"], SERVED)
        if not marks or marks[0] >= t:  # one interval: at most t ends it
            self._count_whole(batch.service, svc, new is None, done)
            self._keep_flying(staying[0] if len(staying) == 1 else
                              {k: np.concatenate([p[k] for p in staying]) for k in _FLIGHT})
            if marks:
                self._close(t, self._in_flight())
            return
        k = len(marks)
        per_service = []
        for i, stats in enumerate(self.stats):
            mine = None if len(self.stats) == 1 else i
            arrivals, work = _pick(batch.arrival, svc, mine), _pick(batch.service, svc, mine)
            a_edges = _edges(arrivals, marks, "left")
            a_count = np.diff(a_edges)
            a_work = (_segment_sums(work, a_edges) if new is not None
                      else np.zeros(k + 1))
            if done is not None:
                d = _pick(done["done"], done["svc"], mine)
                lat = d - _pick(done["arrival"], done["svc"], mine)
                size = _pick(done["size"], done["svc"], mine)
                # the interval each completes in: how many marked ends are not after it
                idx = np.searchsorted(marks, d, side="right") if k and len(d) else None
                if idx is not None and not (idx == idx[0]).all():
                    counts = np.bincount(idx, minlength=k + 1)
                    s_edges = np.concatenate([[0], np.cumsum(counts)])
                    slow = stats.count(lat)
                    # sums in one pass each; the latencies grouped by interval for its p99
                    sums = (np.bincount(idx, lat, k + 1), np.bincount(idx, size, k + 1),
                            np.bincount(idx[slow], minlength=k + 1))
                    key = idx.astype(np.int16) if k < 32767 else idx  # radix sorted
                    lat = lat[np.argsort(key, kind="stable")]
                else:  # all in one interval (as when the only end marked is t)
                    one = int(idx[0]) if idx is not None else 0
                    s_edges = np.array([0] * (one + 1) + [len(lat)] * (k + 1 - one))
                    slow = stats.count(lat)
                    sums = (_segment_sums(lat, s_edges), _segment_sums(size, s_edges),
                            _segment_sums(slow, s_edges))
                served = (lat, s_edges, *sums)
            else:
                served = None
            in_system = None
            if k:
                held = int(np.count_nonzero(flight["svc"] == i)) if mine is not None else len(
                    flight["svc"])
                arrived_by = np.cumsum(a_count)[:k] if new is not None else np.zeros(k, np.int64)
                done_by = (np.cumsum(np.diff(served[1]))[:k] if served is not None
                           else np.zeros(k, np.int64))
                in_system = held + arrived_by - done_by
            per_service.append((a_count, a_work, served, in_system))
        rejecting = new is None
        for j in range(k + 1):
            for i, (a_count, a_work, served, _) in enumerate(per_service):
                stats = self.stats[i]
                if a_count[j]:
                    stats.arrived(int(a_count[j]), float(a_work[j]))
                    if rejecting:
                        stats.reject(int(a_count[j]))
                if served is not None:
                    lat, edges, lat_sums, bytes_, slow = served
                    lo, hi = edges[j], edges[j + 1]
                    if hi > lo:
                        stats.serve(lat[lo:hi], float(bytes_[j]), float(lat_sums[j]),
                                    int(slow[j]))
            if j < k:
                self._close(marks[j], [int(p[3][j]) for p in per_service])
        if len(staying) == 1:
            self._keep_flying(staying[0])
        else:
            self._keep_flying({k: np.concatenate([p[k] for p in staying]) for k in _FLIGHT})

    def _count_whole(self, work: np.ndarray, svc: np.ndarray, rejected: bool,
                     done: dict | None) -> None:
        """Count arrivals (their work, or rejected) and completions all in the open interval."""
        for i, sel in self._per_service(svc):
            stats = self.stats[i]
            w = work[sel]
            if len(w):
                stats.arrived(len(w), 0.0 if rejected else float(w.sum()))
                if rejected:
                    stats.reject(len(w))
        if done is not None:
            for i, sel in self._per_service(done["svc"]):
                lat = (done["done"] - done["arrival"])[sel]
                self.stats[i].serve(lat, float(done["size"][sel].sum()))

    def _due(self, t: float) -> list[float]:
        """The marked interval ends not later than t, taken off the marks."""
        j = bisect.bisect_right(self._marks, t)
        due, self._marks = self._marks[:j], self._marks[j:]
        return due

    def _per_service(self, svc: np.ndarray | None):
        """(service index, selector) pairs: a slice for one service, masks for several."""
        if svc is None or len(self.stats) == 1:
            return [(0, slice(None))]
        return [(i, svc == i) for i in range(len(self.stats))]

    def _keep_flying(self, flight: dict) -> None:
        """Make `flight` the requests in flight (and note its first completion)."""
        self._flight = flight
        done = flight["done"]
        self._next_done = float(done.min()) if len(done) else np.inf

    def _settle(self, t: float) -> None:
        """Count in-flight requests that completed before t as served.

        Strictly before: a completion at exactly t belongs to the interval that starts at t
        (intervals are [start, end)), and the World closes an interval before anything else
        happens at its end.
        """
        if t <= self._next_done:
            return
        flight = self._flight
        late = flight["done"] >= t
        if late.all():
            return
        self._finish(flight, ~late, SERVED)
        self._keep_flying({k: v[late] for k, v in flight.items()})

    def _cut(self, number: int, now: float) -> None:
        """The instance ended at now: what it completes at now is served, the rest fails."""
        flight = self._flight
        if not len(flight["inst"]):
            return
        mine = flight["inst"] == number
        if mine.any():
            finished = mine & (flight["done"] <= now)
            if finished.any():
                self._finish(flight, finished, SERVED)
            self._finish(flight, mine & ~finished, FAILED, cut_at=now)
            self._keep_flying({k: v[~mine] for k, v in flight.items()})

    def _finish(self, flight: dict, sel, outcome: int, cut_at: float = np.nan) -> None:
        """Count the selected requests (arrays of `flight`; sel a mask or slice(None)) as served
        at their completion or failed at cut_at."""
        svc, done = flight["svc"], flight["done"]
        whole = isinstance(sel, slice)
        for i, s in self._per_service(svc):
            m = s if whole else sel if isinstance(s, slice) else sel & s
            if outcome == FAILED:
                self.stats[i].fail(int(np.count_nonzero(m)) if not isinstance(m, slice) else len(done))
            elif isinstance(m, slice):
                self.stats[i].serve(done - flight["arrival"], float(flight["size"].sum()))
            else:
                self.stats[i].serve((done - flight["arrival"])[m],
                                    float(np.sum(flight["size"], where=m)))
        if self.keep_requests:
            part = {k: (v if whole or v is None else v[sel]) for k, v in flight.items()}
            n = len(part["done"])
            done = part["done"] if outcome == SERVED else np.full(n, cut_at)
            self._record(part["arrival"], part["start"], done, part["service"], part["size"],
                         part["svc"] if part["svc"] is not None else np.zeros(n, np.int16),
                         part["inst"], outcome)

    def _record(self, arrival, start, done, service, size, svc, inst, outcome: int) -> None:
        n = len(arrival)
        codes = np.asarray([s.number for s in self.stats], dtype=np.int16)[svc]
        latency = done - arrival if outcome == SERVED else np.full(n, np.nan)
        self.recorder.add_columns(Request, {
            "service": codes, "arrival_s": arrival, "instance_id": inst.astype(np.int64),
            "start_s": start, "done_s": done, "latency_s": latency, "service_s": service,
            "response_bytes": size if outcome == SERVED else np.zeros(n),
            "outcome": np.full(n, outcome, dtype=np.int8),
        })

    # ---------------------------------------------------------------- intervals

    def observe(self, now: float, final: bool = False) -> None:
        """Mark the end of the observation interval at now for every service of the fleet.

        The interval is closed when the requests reach now (at the next advance: a change of
        membership, a grid block's worth of marks, or the end), so a short interval costs its
        row, not a routing call.  With final (the end of the run) everything is closed now and
        requests still in flight are settled: served at their completion, unless a draining
        instance's delay ends first (then failed).
        """
        if not final:
            if now <= self.cursor:  # the requests are there already
                self._close(now, self._in_flight())
            else:
                self._marks.append(now)
                if now - self.cursor >= self._grid_s:
                    self.advance(now)
            return
        self.advance(now)
        for target in list(self.targets.values()):
            if target.state == "draining" and target.drained_at < np.inf:
                flight = self._flight
                cut = (flight["inst"] == target.instance.number) & (flight["done"] > target.drained_at)
                if cut.any():
                    self._finish(flight, cut, FAILED, cut_at=target.drained_at)
                    self._keep_flying({k: v[~cut] for k, v in flight.items()})
        self._settle(np.inf)
        self._close(now, self._in_flight())

    def _in_flight(self) -> list[int]:
        """Requests in flight now, per service."""
        svc = self._flight["svc"]
        if len(self.stats) == 1:
            return [len(svc)]
        return [int(np.count_nonzero(svc == i)) for i in range(len(self.stats))]

    def _close(self, now: float, in_system: list[int]) -> None:
        """Close the interval ending now of every service (its requests counted already)."""
        self._integrate(now)
        for i, stats in enumerate(self.stats):
            length = now - stats._interval_start
            if length <= 0:
                continue
            row, transfer = stats.close_interval(now, self._inst_s / length, self._vcpu_s / length,
                                                 in_system[i])
            self.recorder.add(row)
            if transfer is not None:
                self.recorder.add(transfer)
        self._inst_s = self._vcpu_s = 0.0

    def close(self) -> None:
        """Record the open target intervals at the end of the run; end the sources' workers."""
        for src in self.sources:
            src.close()
        now = self.env.now
        for target in self.targets.values():
            if now > target.since:
                self._log(TargetInterval(self.name, target.instance.id, target.state,
                                         target.since, now, EndCause.END_OF_RUN.value))


def _pick(values: np.ndarray, svc: np.ndarray, mine: int | None) -> np.ndarray:
    """The values of service `mine` (all of them when the group has one service: None)."""
    return values if mine is None else values[svc == mine]


def _edges(sorted_values: np.ndarray, marks: list[float], side: str) -> np.ndarray:
    """Bounds [0, positions of the marks, n] splitting sorted values at the marks."""
    n = len(sorted_values)
    if not marks:
        return np.array([0, n])
    return np.concatenate([[0], np.searchsorted(sorted_values, marks, side=side), [n]])


def _segment_sums(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The sums of values[edges[j]:edges[j + 1]] (0 for an empty segment; booleans count)."""
    filled = np.flatnonzero(edges[1:] > edges[:-1])
    dtype = np.int64 if values.dtype == bool else values.dtype
    sums = np.zeros(len(edges) - 1, dtype)
    if len(filled) == 1:  # one segment holds them all: numpy's pairwise sum
        sums[filled[0]] = values.sum()
    elif len(filled):  # the segments that hold values tile them: reduceat over their starts
        sums[filled] = np.add.reduceat(values, edges[:-1][filled], dtype=dtype)
    return sums
