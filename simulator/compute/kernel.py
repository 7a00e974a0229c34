"""Compiled request data plane: push sorted arrivals through a load-balanced pool of queues.

Each instance of a pool is an FCFS multi-server queue (one server per vCPU, Kiefer-Wolfowitz:
a request takes the server of its instance that frees earliest; start = max(arrival, free);
done = start + service).  A load balancer picks the instance (random, round robin or least
outstanding requests).  The per-request loop runs in numba; the queue state lives in a
:class:`QueueState` that carries across calls, so serving the same arrivals in one call or in
many consecutive chunks gives bit-identical results.  Pure numeric module: no simpy.
Requests on a server run back to back, so at any t not earlier than the latest arrival a
ready instance holds one request in service per server with free > t, plus its waiting
requests (start > t): the only requests the state remembers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

RANDOM = 0
ROUND_ROBIN = 1
LEAST_OUTSTANDING = 2
POLICIES: dict[str, int] = {"random": RANDOM, "round_robin": ROUND_ROBIN,
                            "least_outstanding": LEAST_OUTSTANDING}


@dataclass(eq=False)
class QueueState:
    """Queue state of ONE load-balanced pool of instances, carried from call to call.

    Deliberately mutable: this is engine state updated in place by :func:`serve`, not a record.
    Row ``i`` describes instance ``i`` (rows are renumbered by :meth:`remove_instance`).

    - ``free`` (n_inst, cmax) float64: times (s) the servers (vCPUs) of each instance become
      free, in no fixed order (only the multiset matters); ``+inf`` pads missing servers.
    - ``cpus`` (n_inst,) int64 servers and ``ready`` (n_inst,) float64 ready_at per instance.
    - ``wait_start`` / ``wait_inst`` (cap,): (start time, instance) of the requests that had to
      wait, in the first ``wait_n[0]`` slots.  Started entries may linger until the buffer
      fills (random, round robin) or the next arrival (least outstanding, which keeps it a
      min-heap); ``waiting`` (n_inst,) int64 counts the entries of each instance.
    - ``rr`` int64 array of length 1: round-robin / tie-break pointer (next instance to try).
    """

    free: np.ndarray
    cpus: np.ndarray
    ready: np.ndarray
    wait_start: np.ndarray
    wait_inst: np.ndarray
    wait_n: np.ndarray
    waiting: np.ndarray
    rr: np.ndarray

    @classmethod
    def empty(cls, cpus: Sequence[int], heap_capacity: int = 64,
              ready_at: float = 0.0) -> QueueState:
        """A pool of idle instances with ``cpus[i]`` servers each, all free from ``ready_at``.

        ``heap_capacity``: initial wait-buffer slots per instance (the buffer grows as needed).
        """
        cpus_arr = np.asarray(cpus, dtype=np.int64).reshape(-1)
        if np.any(cpus_arr < 1):
            raise ValueError(f"every instance needs at least 1 vCPU, got cpus={cpus_arr.tolist()}")
        if heap_capacity < 1:
            raise ValueError(f"heap_capacity must be >= 1, got {heap_capacity}")
        n = cpus_arr.size
        cmax = int(cpus_arr.max()) if n else 1
        free = np.where(np.arange(cmax) < cpus_arr[:, None], float(ready_at), np.inf)
        cap = int(heap_capacity) * max(n, 1)
        return cls(free, cpus_arr, np.full(n, float(ready_at)), np.full(cap, np.inf),
                   np.zeros(cap, np.int64), np.zeros(1, np.int64), np.zeros(n, np.int64),
                   np.zeros(1, np.int64))

    @property
    def n_instances(self) -> int:
        """Number of instances (rows) in the pool."""
        return int(self.cpus.size)

    def add_instance(self, cpus: int, ready_at: float = 0.0) -> int:
        """Append an instance with ``cpus`` servers free from ``ready_at``; return its row."""
        if cpus < 1:
            raise ValueError(f"an instance needs at least 1 vCPU, got {cpus}")
        n, cmax = self.free.shape
        if cpus > cmax:
            self.free = np.hstack([self.free, np.full((n, cpus - cmax), np.inf)])
            cmax = cpus
        row = np.full((1, cmax), np.inf)
        row[0, :cpus] = ready_at
        self.free = np.vstack([self.free, row])
        self.cpus, self.ready, self.waiting = (np.append(self.cpus, np.int64(cpus)),
                                               np.append(self.ready, float(ready_at)),
                                               np.append(self.waiting, np.int64(0)))
        return n

    def remove_instance(self, index: int) -> None:
        """Drop row ``index``; its in-flight requests are forgotten here (the engine settles them).

        Later rows shift down by one; the round-robin pointer keeps pointing at the same next
        instance (or wraps to 0 if that was the removed last row).
        """
        n = self.n_instances
        if not 0 <= index < n:
            raise IndexError(f"instance index {index} out of range for a pool of {n}")
        self.free, self.cpus, self.ready, self.waiting = (
            np.delete(a, index, axis=0) for a in (self.free, self.cpus, self.ready, self.waiting))
        keep = np.flatnonzero(self.wait_inst[:self.wait_n[0]] != index)
        inst = self.wait_inst[keep]  # the buffer's order does not matter (a heap is rebuilt)
        self.wait_start[:keep.size] = self.wait_start[keep]
        self.wait_inst[:keep.size] = inst - (inst > index)
        self.wait_n[0] = keep.size
        ptr = int(self.rr[0]) - (index < self.rr[0])
        self.rr[0] = ptr % (n - 1) if n > 1 else 0

    def in_system(self, t: float) -> np.ndarray:
        """Per-instance number of requests in the system at ``t`` (completion time > t).

        Exact for any ``t`` not earlier than the latest arrival served (requests started by
        then may already have left the wait buffer).
        """
        busy = np.count_nonzero(self.free > t, axis=1) - (self.free.shape[1] - self.cpus)
        m = int(self.wait_n[0])
        waiting = np.bincount(self.wait_inst[:m][self.wait_start[:m] > t],
                              minlength=self.n_instances)
        return (np.where(self.ready > t, 0, busy) + waiting).astype(np.int64)

    def copy(self) -> QueueState:
        """An independent deep copy (for what-if runs and tests)."""
        return QueueState(*(a.copy() for a in vars(self).values()))

    def _grow_heap(self) -> None:
        cap = self.wait_start.size
        self.wait_start = np.concatenate([self.wait_start, np.full(cap, np.inf)])
        self.wait_inst = np.concatenate([self.wait_inst, np.zeros(cap, np.int64)])


@dataclass(frozen=True, eq=False)
class ServeResult:
    """Per-request outcome of :func:`serve`: wait = start - arrival, latency = done - arrival."""

    instance: np.ndarray  # int32, row of the pool at call time
    start: np.ndarray  # float64 seconds, service start
    done: np.ndarray  # float64 seconds, completion


@njit(cache=True)
def _sift_down(hs, hi, m, j, x, xi):
    """Place (x, xi) at slot j of the heap of size m and restore the heap order below it."""
    while 2 * j + 1 < m:
        c = 2 * j + 1
        if c + 1 < m and hs[c + 1] < hs[c]:
            c += 1
        if hs[c] >= x:
            break
        hs[j], hi[j], j = hs[c], hi[c], c
    hs[j], hi[j] = x, xi


@njit(cache=True)
def _serve_fixed(free, cpus, ready, hs, hi, wait_n, waiting, rr, arrivals, service, route_u,
                 policy, k0, out_inst, out_start, out_done):
    """RANDOM / ROUND_ROBIN: serve requests k0..; return n, or the k where the buffer must grow.

    A request is written to the wait buffer without a branch; the size grows only if it
    waits.  A full buffer drops started entries in bulk and asks to grow when mostly live,
    so this stays amortised O(1).  Stopping at k leaves the state as if k was not seen yet.
    """
    n_inst, cmax = free.shape
    cap, m, r, k = hs.shape[0], wait_n[0], rr[0], k0
    while k < arrivals.shape[0]:
        t = arrivals[k]
        i = min(max(int(route_u[k] * n_inst), 0), n_inst - 1) if policy == RANDOM else r
        srv, f = 0, free[i, 0]
        for s in range(1, cmax):
            if free[i, s] < f:
                srv, f = s, free[i, s]
        st = t if t > f else f
        if m == cap:
            live = 0
            for j in range(m):
                if hs[j] > t:
                    hs[live], hi[live], live = hs[j], hi[j], live + 1
                else:
                    waiting[hi[j]] -= 1
            m = live
            if 2 * m > cap:
                break
        hs[m], hi[m] = st, i
        m += st > t
        waiting[i] += st > t
        free[i, srv] = out_done[k] = st + service[k]
        out_inst[k], out_start[k] = i, st
        if policy != RANDOM:
            r = i + 1 if i + 1 < n_inst else 0
        k += 1
    wait_n[0], rr[0] = m, r
    return k


@njit(cache=True)
def _idle4(ft, s, j, t):
    """Servers of column j free by t among rows s..s+3."""
    return (ft[s, j] <= t) + (ft[s + 1, j] <= t) + (ft[s + 2, j] <= t) + (ft[s + 3, j] <= t)


@njit(cache=True)
def _key(count, j, r, bits):
    """Least count first; among equals, columns from the pointer r on, then the lowest."""
    return (count << (bits + 1)) | (np.int64(j < r) << bits) | j


@njit(cache=True)
def _serve_lor(free, cpus, ready, hs, hi, wait_n, waiting, rr, arrivals, service, route_u,
               policy, k0, out_inst, out_start, out_done):
    """LEAST_OUTSTANDING: serve requests k0..; return n, or the k where the heap must grow.

    Works on ``ft``: ``free`` server-major, each instance's column sorted (row 0 frees first;
    a request re-inserts its done time), padded with ``+inf`` (never idle) to 4-row blocks
    and 16-column tiles so the loops vectorise.  Per arrival t: pop the wait heap through t;
    count = waiting + servers - idle (free <= t, a prefix of each column: row blocks stop
    at the first without any); one min over keys takes the least count, ties in round-robin
    order.  Stopping at k leaves the state as if request k was not seen yet.
    """
    n_inst, cmax = free.shape
    rows, cols = -(-cmax // 4) * 4, -(-n_inst // 16) * 16
    ft = np.full((rows, cols), np.inf)
    for j in range(n_inst):
        ft[:cmax, j] = np.sort(free[j])
    lag = np.full(cols, -(1 << 40), np.int64)  # count = waiting - lag - idle; padding: huge
    base = np.zeros(cols, np.int64)
    base[:n_inst] = waiting
    cnt = np.empty(cols, np.int64)
    bits = 1 + int(np.log2(cols))  # 2**bits > cols: room for a column index
    rmax, stale = ready.max(), True  # before rmax, an instance is not ready: none busy
    cap, m, r, k = hs.shape[0], wait_n[0], rr[0], k0
    for j in range(m // 2 - 1, -1, -1):
        _sift_down(hs, hi, m, j, hs[j], hi[j])
    while k < arrivals.shape[0]:
        t = arrivals[k]
        while m > 0 and hs[0] <= t:
            base[hi[0]] -= 1
            m -= 1
            _sift_down(hs, hi, m, 0, hs[m], hi[m])
        if t < rmax or stale:
            stale = t < rmax
            for j in range(n_inst):
                lag[j] = 0 if ready[j] > t else -cpus[j]
        key = np.iinfo(np.int64).max
        if rows == 4:  # up to 4 vCPUs: one block, fused with the keys
            for j in range(cols):
                key = min(key, _key(base[j] - lag[j] - _idle4(ft, 0, j, t), j, r, bits))
        else:
            for j in range(cols):
                cnt[j] = base[j] - lag[j]
            s, idle = 0, 1
            while idle and s < rows:
                idle = 0
                for j in range(cols):
                    c = _idle4(ft, s, j, t)
                    cnt[j] -= c
                    idle |= c
                s += 4
            for j in range(cols):
                key = min(key, _key(cnt[j], j, r, bits))
        i = key & ((1 << bits) - 1)
        st = t if t > ft[0, i] else ft[0, i]
        if st > t:  # it waits: push its start on the heap
            if m == cap:
                break
            j, m = m, m + 1
            while j > 0 and hs[(j - 1) >> 1] > st:
                hs[j], hi[j], j = hs[(j - 1) >> 1], hi[(j - 1) >> 1], (j - 1) >> 1
            hs[j], hi[j] = st, i
            base[i] += 1
        d = st + service[k]
        for s in range(cmax - 1):  # drop row 0 and insert d in order, without branches
            ft[s, i] = min(ft[s + 1, i], max(ft[s, i], d) if s else d)
        ft[cmax - 1, i] = max(ft[cmax - 1, i], d) if cmax > 1 else d
        out_done[k] = d
        out_inst[k], out_start[k] = i, st
        r = i + 1 if i + 1 < n_inst else 0
        k += 1
    free[:, :] = ft[:cmax, :n_inst].T
    waiting[:] = base[:n_inst]
    wait_n[0], rr[0] = m, r
    return k


def serve(state: QueueState, arrivals: np.ndarray, service: np.ndarray,
          route_u: np.ndarray | None, policy: int) -> ServeResult:
    """Route and serve one batch of requests through the pool, updating ``state`` in place.

    ``arrivals`` are sorted float64 seconds (and not earlier than any arrival of a previous
    call on the same state); ``service`` is float64 seconds (>= 0) of work on one vCPU;
    ``route_u`` holds uniforms in [0, 1), one per request, used only by RANDOM (instance =
    int(u * n_inst)); it may be None for the other policies.  Raises ValueError when the pool
    has no instance: dropping requests is the engine's decision, not the kernel's.
    """
    arrivals = np.ascontiguousarray(arrivals, dtype=np.float64)
    service = np.ascontiguousarray(service, dtype=np.float64)
    if arrivals.ndim != 1 or service.shape != arrivals.shape:
        raise ValueError(f"arrivals {arrivals.shape} and service {service.shape} must be 1-D "
                         "and of equal length")
    n = arrivals.shape[0]
    if policy not in (RANDOM, ROUND_ROBIN, LEAST_OUTSTANDING):
        raise ValueError(f"unknown routing policy {policy!r}; expected one of {POLICIES}")
    if route_u is None:
        if policy == RANDOM:
            raise ValueError("RANDOM routing needs route_u (one uniform per request)")
        route_u = np.empty(0)
    else:
        route_u = np.ascontiguousarray(route_u, dtype=np.float64)
        if route_u.shape != (n,):
            raise ValueError(f"route_u has shape {route_u.shape}, expected ({n},)")
    if state.n_instances == 0:
        raise ValueError("cannot serve requests: the pool has no instance")
    if n > 1 and np.any(arrivals[1:] < arrivals[:-1]):
        raise ValueError("arrivals must be sorted in non-decreasing order")
    if not np.all(service >= 0.0):  # requests on a server then run back to back, in order
        raise ValueError("service times must be non-negative numbers (no NaN)")
    out = (np.empty(n, dtype=np.int32), np.empty(n), np.empty(n))
    state.rr[0] %= state.n_instances
    kernel, s, k = _serve_lor if policy == LEAST_OUTSTANDING else _serve_fixed, state, 0
    # both kernels take the same arguments; each returns where the wait buffer must grow
    while (k := kernel(s.free, s.cpus, s.ready, s.wait_start, s.wait_inst, s.wait_n, s.waiting,
                       s.rr, arrivals, service, route_u, policy, k, *out)) < n:
        state._grow_heap()
    return ServeResult(*out)


@njit(cache=True)
def fcfs_multiserver_bare(arrivals, service, c):
    """Completion times of one FCFS queue with ``c`` servers, all idle from time 0 (baseline).

    Same Kiefer-Wolfowitz rule and tie-breaking as :func:`serve`, without routing or state.
    """
    free = np.zeros(c)
    done = np.empty(arrivals.shape[0])
    for k in range(done.shape[0]):
        srv, f, t = 0, free[0], arrivals[k]
        for s in range(1, c):
            if free[s] < f:
                srv, f = s, free[s]
        free[srv] = done[k] = (t if t > f else f) + service[k]
    return done
