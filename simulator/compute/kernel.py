"""Compiled request data plane: push sorted arrivals through a load-balanced pool of queues.

Each instance of a pool is an FCFS multi-server queue (one server per vCPU, Kiefer-Wolfowitz:
a request takes the server of its instance that frees earliest; start = max(arrival, free);
done = start + service).  A load balancer picks the instance (random, round robin or least
outstanding requests).  The per-request loop runs in numba; the queue state lives in a
:class:`QueueState` that carries across calls, so serving the same arrivals in one call or in
many consecutive chunks gives bit-identical results.  Pure numeric module: no simpy.
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

    - ``free`` (n_inst, cmax) float64: time (s) each server (vCPU) becomes free; ``+inf`` pads
      the servers an instance does not have.
    - ``cpus`` (n_inst,) int64: servers per instance.
    - ``heap`` (n_inst, cap) float64 and ``heap_n`` (n_inst,) int64: per-instance min-heap of
      the completion times of requests in the system.  Entries that are already in the past
      may linger (random and round-robin routing drop them in bulk only when a heap fills),
      so ``heap_n`` is an upper bound; :meth:`in_system` is exact.
    - ``rr`` int64 array of length 1: round-robin / tie-break pointer (next instance to try).
    """

    free: np.ndarray
    cpus: np.ndarray
    heap: np.ndarray
    heap_n: np.ndarray
    rr: np.ndarray

    @classmethod
    def empty(
        cls, cpus: Sequence[int], heap_capacity: int = 64, ready_at: float = 0.0
    ) -> QueueState:
        """A pool of idle instances with ``cpus[i]`` servers each, all free from ``ready_at``."""
        cpus_arr = np.asarray(cpus, dtype=np.int64).reshape(-1)
        if np.any(cpus_arr < 1):
            raise ValueError(f"every instance needs at least 1 vCPU, got cpus={cpus_arr.tolist()}")
        if heap_capacity < 1:
            raise ValueError(f"heap_capacity must be >= 1, got {heap_capacity}")
        n = cpus_arr.size
        cmax = int(cpus_arr.max()) if n else 1
        free = np.full((n, cmax), np.inf)
        for i, c in enumerate(cpus_arr):
            free[i, :c] = ready_at
        heap = np.full((n, int(heap_capacity)), np.inf)
        return cls(free, cpus_arr, heap, np.zeros(n, np.int64), np.zeros(1, np.int64))

    @property
    def n_instances(self) -> int:
        """Number of instances (rows) in the pool."""
        return int(self.cpus.size)

    def add_instance(self, cpus: int, ready_at: float = 0.0) -> int:
        """Append an idle instance with ``cpus`` servers free from ``ready_at``; return its row."""
        if cpus < 1:
            raise ValueError(f"an instance needs at least 1 vCPU, got {cpus}")
        n, cmax = self.free.shape
        if cpus > cmax:
            self.free = np.hstack([self.free, np.full((n, cpus - cmax), np.inf)])
            cmax = cpus
        row = np.full((1, cmax), np.inf)
        row[0, :cpus] = ready_at
        self.free = np.vstack([self.free, row])
        self.cpus = np.append(self.cpus, np.int64(cpus))
        self.heap = np.vstack([self.heap, np.full((1, self.heap.shape[1]), np.inf)])
        self.heap_n = np.append(self.heap_n, np.int64(0))
        return n

    def remove_instance(self, index: int) -> None:
        """Drop row ``index``; its in-flight requests are forgotten here (the engine drains them).

        Later rows shift down by one; the round-robin pointer keeps pointing at the same next
        instance (or wraps to 0 if that was the removed last row).
        """
        n = self.n_instances
        if not 0 <= index < n:
            raise IndexError(f"instance index {index} out of range for a pool of {n}")
        self.free = np.delete(self.free, index, axis=0)
        self.cpus = np.delete(self.cpus, index)
        self.heap = np.delete(self.heap, index, axis=0)
        self.heap_n = np.delete(self.heap_n, index)
        ptr = int(self.rr[0])
        if index < ptr:
            ptr -= 1
        self.rr[0] = ptr % (n - 1) if n > 1 else 0

    def in_system(self, t: float) -> np.ndarray:
        """Per-instance number of requests in the system at ``t`` (completion time > t).

        Exact for any ``t`` not earlier than the latest arrival served (completions before
        that may already have been dropped from the heaps).
        """
        live = np.arange(self.heap.shape[1]) < self.heap_n[:, None]
        return np.count_nonzero(live & (self.heap > t), axis=1).astype(np.int64)

    def copy(self) -> QueueState:
        """An independent deep copy (for what-if runs and tests)."""
        return QueueState(*(a.copy() for a in (self.free, self.cpus, self.heap, self.heap_n,
                                               self.rr)))

    def _grow_heap(self) -> None:
        n, cap = self.heap.shape
        self.heap = np.hstack([self.heap, np.full((n, cap), np.inf)])


@dataclass(frozen=True, eq=False)
class ServeResult:
    """Per-request outcome of :func:`serve`: wait = start - arrival, latency = done - arrival."""

    instance: np.ndarray  # int32, row of the pool at call time
    start: np.ndarray  # float64 seconds, service start
    done: np.ndarray  # float64 seconds, completion


@njit(cache=True)
def _heap_push(heap, heap_n, i, x):
    j = heap_n[i]
    heap_n[i] = j + 1
    while j > 0:
        p = (j - 1) >> 1
        if heap[i, p] <= x:
            break
        heap[i, j] = heap[i, p]
        j = p
    heap[i, j] = x


@njit(cache=True)
def _sift_down(heap, i, n, j, x):
    """Place x at slot j of instance i's heap of size n and restore the heap order below."""
    while True:
        c = 2 * j + 1
        if c >= n:
            break
        if c + 1 < n and heap[i, c + 1] < heap[i, c]:
            c += 1
        if heap[i, c] >= x:
            break
        heap[i, j] = heap[i, c]
        j = c
    heap[i, j] = x


@njit(cache=True)
def _heap_pop_through(heap, heap_n, i, t):
    """Pop every completion time <= t from instance i's heap."""
    n = heap_n[i]
    while n > 0 and heap[i, 0] <= t:
        n -= 1
        x = heap[i, n]
        heap[i, n] = np.inf
        if n > 0:
            _sift_down(heap, i, n, 0, x)
    heap_n[i] = n


@njit(cache=True)
def _heap_compact(heap, heap_n, i, t):
    """Drop every entry <= t from instance i's heap at once and re-heapify: O(capacity)."""
    m = 0
    for j in range(heap_n[i]):
        x = heap[i, j]
        if x > t:
            heap[i, m] = x
            m += 1
    for j in range(m, heap_n[i]):
        heap[i, j] = np.inf
    for j in range(m // 2 - 1, -1, -1):
        _sift_down(heap, i, m, j, heap[i, j])
    heap_n[i] = m


@njit(cache=True)
def _serve_kernel(free, heap, heap_n, rr, arrivals, service, route_u, policy, k0,
                  out_inst, out_start, out_done):
    """Serve requests k0.. in order; return n when done or the index k whose heap must grow.

    Stopping at k leaves the state as if request k had not been seen yet (apart from dropping
    completions <= arrivals[k], which a resumed call repeats as a no-op).  RANDOM and
    ROUND_ROBIN never read the heaps, so they only push and compact a full heap in bulk;
    LEAST_OUTSTANDING pops every heap through t before comparing, so heap_n is then the exact
    in-system count.
    """
    n_inst, cmax = free.shape
    cap = heap.shape[1]
    n = arrivals.shape[0]
    for k in range(k0, n):
        t = arrivals[k]
        if policy == LEAST_OUTSTANDING:
            i = -1
            best = cap + 1
            j = rr[0]
            for _ in range(n_inst):
                _heap_pop_through(heap, heap_n, j, t)
                if heap_n[j] < best:
                    best = heap_n[j]
                    i = j
                j += 1
                if j == n_inst:
                    j = 0
        else:
            i = rr[0]
            if policy == RANDOM:
                i = min(max(int(route_u[k] * n_inst), 0), n_inst - 1)
            if heap_n[i] == cap:
                _heap_compact(heap, heap_n, i, t)
                if 2 * heap_n[i] > cap:  # mostly live: grow, so compaction stays amortised O(1)
                    return k
        if heap_n[i] == cap:
            return k
        srv = 0
        f = free[i, 0]
        for s in range(1, cmax):
            if free[i, s] < f:
                f = free[i, s]
                srv = s
        st = t if t > f else f
        d = st + service[k]
        free[i, srv] = d
        _heap_push(heap, heap_n, i, d)
        out_inst[k] = i
        out_start[k] = st
        out_done[k] = d
        if policy != RANDOM:
            rr[0] = i + 1 if i + 1 < n_inst else 0
    return n


def serve(
    state: QueueState,
    arrivals: np.ndarray,
    service: np.ndarray,
    route_u: np.ndarray | None,
    policy: int,
) -> ServeResult:
    """Route and serve one batch of requests through the pool, updating ``state`` in place.

    ``arrivals`` are sorted float64 seconds (and not earlier than any arrival of a previous
    call on the same state); ``service`` is float64 seconds of work on one vCPU; ``route_u``
    holds uniforms in [0, 1), one per request, used only by RANDOM (instance =
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
    out_inst = np.empty(n, dtype=np.int32)
    out_start = np.empty(n, dtype=np.float64)
    out_done = np.empty(n, dtype=np.float64)
    state.rr[0] %= state.n_instances
    k = 0
    while True:
        k = _serve_kernel(state.free, state.heap, state.heap_n, state.rr, arrivals, service,
                          route_u, policy, k, out_inst, out_start, out_done)
        if k == n:
            break
        state._grow_heap()
    return ServeResult(instance=out_inst, start=out_start, done=out_done)


@njit(cache=True)
def fcfs_multiserver_bare(arrivals, service, c):
    """Completion times of one FCFS queue with ``c`` servers, all idle from time 0 (baseline).

    Same Kiefer-Wolfowitz rule and tie-breaking as :func:`serve`, without routing or state.
    """
    n = arrivals.shape[0]
    free = np.zeros(c)
    done = np.empty(n)
    for k in range(n):
        srv = 0
        f = free[0]
        for s in range(1, c):
            if free[s] < f:
                f = free[s]
                srv = s
        t = arrivals[k]
        st = t if t > f else f
        d = st + service[k]
        free[srv] = d
        done[k] = d
    return done
