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
POWER_OF_TWO = 3
WEIGHTED_RANDOM = 4
POLICIES: dict[str, int] = {"random": RANDOM, "round_robin": ROUND_ROBIN,
                            "least_outstanding": LEAST_OUTSTANDING,
                            "power_of_two_choices": POWER_OF_TWO,
                            "weighted_random": WEIGHTED_RANDOM}
NEEDS_UNIFORM = (RANDOM, POWER_OF_TWO, WEIGHTED_RANDOM)
"""Policies that draw their decision from the request's routing uniform."""
HORIZON = 4.0
"""The departure calendar of :func:`_serve_indexed` covers this many mean service times."""
BUCKET_ARRIVALS = 2.0
"""A calendar bucket is this many mean inter-arrival times of the batch long."""
SCAN_MAX = 32
"""Least-outstanding pools of at most this many instances are routed by scanning every
instance (vectorised, fastest when small); larger pools through the index.  Both give the
same decisions."""


class QueueState:
    """Queue state of ONE load-balanced pool of instances, carried from call to call.

    Deliberately mutable: this is engine state updated in place by :func:`serve`, not a record.
    Row ``i`` describes instance ``i``.  Rows live in arrays with spare capacity, so adding an
    instance writes one row and removing one moves the last row into its place (O(1)
    amortised, no array copies per change); the attributes below are views of the live rows.

    - ``free`` (n_inst, cmax) float64: times (s) the servers (vCPUs) of each instance become
      free, in no fixed order (only the multiset matters); ``+inf`` pads missing servers.
    - ``cpus`` (n_inst,) int64 servers and ``ready`` (n_inst,) float64 ready_at per instance.
    - ``wait_start`` / ``wait_inst`` (cap,): (start time, instance) of the requests that had to
      wait, in the first ``wait_n[0]`` slots.  Started entries may linger until the buffer
      fills (random, round robin) or the next arrival (least outstanding, which keeps it a
      min-heap); ``waiting`` (n_inst,) int64 counts the entries of each instance.
    - ``rr`` int64 array of length 1: round-robin / tie-break pointer (next instance to try).
    """

    __slots__ = ("_free", "_cpus", "_ready", "_waiting", "wait_start", "wait_inst", "wait_n",
                 "rr", "_n")

    def __init__(self, free: np.ndarray, cpus: np.ndarray, ready: np.ndarray,
                 wait_start: np.ndarray, wait_inst: np.ndarray, wait_n: np.ndarray,
                 waiting: np.ndarray, rr: np.ndarray):
        self._n = int(cpus.shape[0])
        self._free, self._cpus, self._ready, self._waiting = free, cpus, ready, waiting
        self.wait_start, self.wait_inst, self.wait_n, self.rr = wait_start, wait_inst, wait_n, rr

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

    free = property(lambda self: self._free[:self._n], doc="(n_inst, cmax) server free times")
    cpus = property(lambda self: self._cpus[:self._n], doc="(n_inst,) servers per instance")
    ready = property(lambda self: self._ready[:self._n], doc="(n_inst,) ready_at per instance")
    waiting = property(lambda self: self._waiting[:self._n],
                       doc="(n_inst,) wait-buffer entries per instance")

    @property
    def n_instances(self) -> int:
        """Number of instances (rows) in the pool."""
        return self._n

    def add_instance(self, cpus: int, ready_at: float = 0.0) -> int:
        """Add an instance with ``cpus`` servers free from ``ready_at`` as the last row; return it."""
        return self.add_instances(np.array([cpus], np.int64), ready_at)

    def add_instances(self, cpus: np.ndarray, ready_at: float = 0.0) -> int:
        """Add instances with ``cpus[i]`` servers each, free from ``ready_at``, as the last rows
        in that order (as many ``add_instance`` calls would); return the first new row."""
        cpus = np.asarray(cpus, dtype=np.int64).reshape(-1)
        k, n = cpus.shape[0], self._n
        if k == 0:
            return n
        if cpus.min() < 1:
            raise ValueError(f"an instance needs at least 1 vCPU, got {int(cpus.min())}")
        rows, cmax = self._free.shape
        widest = int(cpus.max())
        if widest > cmax or n + k > rows:
            self._reserve(max(rows, 2 * n, n + k, 8) if n + k > rows else rows, max(cmax, widest))
        self._free[n:n + k] = np.where(np.arange(self._free.shape[1]) < cpus[:, None],
                                       ready_at, np.inf)
        self._cpus[n:n + k], self._ready[n:n + k], self._waiting[n:n + k] = cpus, ready_at, 0
        self._n = n + k
        return n

    def remove_instance(self, index: int) -> None:
        """Drop row ``index``; its in-flight requests are forgotten here (the engine settles them).

        The last row moves into its place (the other rows keep their numbers), so the order
        the pool's instances are tried in changes at a removal.  The round-robin pointer keeps
        pointing at the same next instance; if that was the removed one, at the instance now in
        its row (or wraps to 0 when it was the last row).
        """
        self.remove_instances(np.array([index], np.int64))

    def remove_instances(self, rows: np.ndarray) -> None:
        """``remove_instance`` of each of ``rows`` in turn (each a row number at its own turn,
        after the removals before it), in one compiled pass over the wait buffer."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        n = self._n
        for j, index in enumerate(rows.tolist()):
            if not 0 <= index < n - j:
                raise IndexError(f"instance index {index} out of range for a pool of {n - j}")
        self._n = _remove_rows(self._free, self._cpus, self._ready, self._waiting,
                               self.wait_start, self.wait_inst, self.wait_n, self.rr, n, rows)

    def in_system(self, t: float) -> np.ndarray:
        """Per-instance number of requests in the system at ``t`` (completion time > t).

        Exact for any ``t`` not earlier than the latest arrival served (requests started by
        then may already have left the wait buffer).
        """
        free, cpus = self.free, self.cpus
        busy = np.count_nonzero(free > t, axis=1) - (free.shape[1] - cpus)
        m = int(self.wait_n[0])
        waiting = np.bincount(self.wait_inst[:m][self.wait_start[:m] > t],
                              minlength=self._n)
        return (np.where(self.ready > t, 0, busy) + waiting).astype(np.int64)

    def copy(self) -> QueueState:
        """An independent deep copy (for what-if runs and tests)."""
        return QueueState(self.free.copy(), self.cpus.copy(), self.ready.copy(),
                          self.wait_start.copy(), self.wait_inst.copy(), self.wait_n.copy(),
                          self.waiting.copy(), self.rr.copy())

    def _reserve(self, rows: int, cmax: int) -> None:
        n = self._n
        free = np.full((rows, cmax), np.inf)
        free[:n, :self._free.shape[1]] = self._free[:n]
        self._free = free
        for name, dtype in (("_cpus", np.int64), ("_ready", np.float64), ("_waiting", np.int64)):
            grown = np.zeros(rows, dtype)
            grown[:n] = getattr(self, name)[:n]
            setattr(self, name, grown)

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
def _compact(hs, hi, m, waiting, t):
    """Drop the wait-buffer entries started by t (rare: when the buffer is full); return the
    number left."""
    live = 0
    for j in range(m):
        if hs[j] > t:
            hs[live], hi[live], live = hs[j], hi[j], live + 1
        else:
            waiting[hi[j]] -= 1
    return live


@njit(cache=True)
def _remove_rows(free, cpus, ready, waiting, hs, hi, wait_n, rr, n, rows):
    """Remove ``rows`` one after the other (the last row moves into each removed one's place,
    the pointer follows as in ``QueueState.remove_instance``), then forget the wait-buffer
    entries of the removed instances and relabel those of moved ones in one pass; return the
    new number of rows."""
    label = np.arange(n)  # original row -> its row now, or -1 once removed
    origin = np.arange(n)  # row now -> its original row
    for j in range(rows.shape[0]):
        index, last = rows[j], n - 1
        label[origin[index]] = -1
        if index != last:
            free[index, :] = free[last, :]
            cpus[index], ready[index], waiting[index] = cpus[last], ready[last], waiting[last]
            label[origin[last]] = index
            origin[index] = origin[last]
        ptr = rr[0]
        rr[0] = index if ptr == last else ptr
        if rr[0] >= last:
            rr[0] = 0
        n = last
    live = 0
    for j in range(wait_n[0]):
        i = label[hi[j]]
        if i >= 0:
            hs[live], hi[live], live = hs[j], i, live + 1
    wait_n[0] = live
    return n


@njit(cache=True, nogil=True)  # the next block is drawn meanwhile
def _serve_fixed(free, cpus, ready, hs, hi, wait_n, waiting, rr, arrivals, service, route_u,
                 policy, k0, out_inst, out_start, out_done):
    """RANDOM / ROUND_ROBIN / WEIGHTED_RANDOM: serve k0..; return n, or where the buffer must grow.

    A request is written to the wait buffer without a branch; the size grows only if it
    waits.  A full buffer drops started entries in bulk and asks to grow when mostly live,
    so this stays amortised O(1).  Stopping at k leaves the state as if k was not seen yet.
    """
    n_inst, cmax = free.shape
    cap, m, r, k = hs.shape[0], wait_n[0], rr[0], k0
    cum = np.cumsum(cpus) if policy == WEIGHTED_RANDOM else cpus
    while k < arrivals.shape[0]:
        t = arrivals[k]
        if policy == ROUND_ROBIN:
            i = r
        elif policy == RANDOM:
            i = min(max(int(route_u[k] * n_inst), 0), n_inst - 1)
        else:  # the first instance whose cumulative vCPUs exceed u * total
            i = min(int(np.searchsorted(cum, route_u[k] * cum[-1], side="right")), n_inst - 1)
        srv, f = 0, free[i, 0]
        for s in range(1, cmax):
            if free[i, s] < f:
                srv, f = s, free[i, s]
        st = t if t > f else f
        if m == cap:
            m = _compact(hs, hi, m, waiting, t)
            if 2 * m > cap:
                break
        hs[m], hi[m] = st, i
        m += st > t
        waiting[i] += st > t
        free[i, srv] = out_done[k] = st + service[k]
        out_inst[k], out_start[k] = i, st
        if policy == ROUND_ROBIN:
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


@njit(cache=True, nogil=True)  # the next block is drawn meanwhile
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


_DEBRUIJN = 0x03F79D71B4CB0A89
_CTZ = np.zeros(64, np.int64)
_CTZ[[((_DEBRUIJN << b) & 0xFFFFFFFFFFFFFFFF) >> 58 for b in range(64)]] = np.arange(64)
_INST = (1 << 24) - 1
"""The instance field of a departure calendar link (pools of up to 16,777,216 instances)."""
_LEVELS = 64
"""Count levels held as bitsets by the least-outstanding index: [least, least + 64)."""


@njit(cache=True)
def _ctz(x):
    """Index of the lowest set bit of a non-zero int64 (de Bruijn multiplication)."""
    return _CTZ[(((x & -x) * _DEBRUIJN) >> 58) & 63]


@njit(cache=True)
def _dep_push(dt, di, m, d, i):
    """Push departure (d, i) on the min-heap of size m (capacity checked by the caller)."""
    j = m
    while j > 0 and dt[(j - 1) >> 1] > d:
        dt[j], di[j], j = dt[(j - 1) >> 1], di[(j - 1) >> 1], (j - 1) >> 1
    dt[j], di[j] = d, i


@njit(cache=True, nogil=True)  # the next block is drawn meanwhile
def _serve_indexed(free, cpus, ready, hs, hi, wait_n, waiting, rr, arrivals, service, route_u,
                   policy, k0, out_inst, out_start, out_done):
    """LEAST_OUTSTANDING and POWER_OF_TWO through indexes: O(1) amortised per request.

    The number of requests in system of instance i at t is the number of its requests with
    done > t (in service or waiting).  Those done times (departures), built on entry from the
    state (see :func:`_departures`), wait in a calendar: a ring of buckets of about two
    inter-arrival times each, covering several mean service times ahead (later ones in a
    min-heap); each arrival first takes out the departures it has passed.

    Least outstanding keeps the instances in levels by count: level c is a bitset of the
    instances with c requests in system, with a summary bit per non-empty word, for the 64
    counts from the least one up (an instance further above is only counted, and put back
    by a scan of the counts when the least count comes within 64 of it: needed only while
    counts spread by 64 or more).  The least count's first instance from the round-robin
    pointer on (then from 0) is found by a few word operations: exactly the decisions of
    :func:`_serve_lor`'s scan.  POWER_OF_TWO keeps the counts only.  Each instance's server
    free times are kept as a sorted row (the first frees first).  The wait buffer is kept as
    :func:`_serve_fixed` keeps it.  Stopping at k leaves the state as if request k was not
    seen yet.  The level updates are written out in the loop: a call of a compiled function
    with array arguments costs more than the update itself.
    """
    n_inst, cmax = free.shape
    n = arrivals.shape[0]
    if k0 >= n:
        return k0
    t0 = arrivals[k0]
    fs = free.copy()
    for j in range(n_inst):
        fs[j].sort()
    cap, m, r, k = hs.shape[0], wait_n[0], rr[0], k0
    count, dt, di, nd = _departures(fs, cpus, ready, hs, hi, m, t0)
    lor = policy == LEAST_OUTSTANDING
    nw = (n_inst + 63) >> 6
    bits = np.zeros((_LEVELS, nw), np.int64)
    summ = np.zeros((_LEVELS, (nw + 63) >> 6), np.int64)
    lsize = np.zeros(_LEVELS, np.int64)
    lo, over = count.min(), 0  # least count; instances above the levels
    if lor:
        for j in range(n_inst):
            c = count[j]
            if c - lo < _LEVELS:
                w = j >> 6
                summ[c & 63, w >> 6] |= 1 << (w & 63)
                bits[c & 63, w] |= 1 << (j & 63)
                lsize[c & 63] += 1
            else:
                over += 1
    # calendar: bucket b holds departures x with int((x - t0) * rate) == b (monotone in x, so
    # a departure <= t is never in a bucket after t's); ring of nb buckets from bucket cur
    span = arrivals[n - 1] - t0
    rate = (n - k0) / span / BUCKET_ARRIVALS if span > 0 else 1.0  # buckets per second
    mean_s = service[k0:].mean()
    nb = 1024
    while nb < min(HORIZON * rate * mean_s, 1 << 20):
        nb *= 2
    mask = nb - 1
    head = np.full(nb, -1, np.int32)
    size = max(2 * nd, 1024)
    # node p: its time at nt[2p], its next node and instance at link[2p + 1] = next << 24 | i
    # (one cache line for both); -1 ends a list
    nt = np.empty(2 * size)
    link = nt.view(np.int64)
    spare, top = -1, 0  # free-node stack, first never-used node
    ot, oi, on = np.empty(64), np.empty(64, np.int64), 0  # the overflow heap
    gone = np.empty(size + 64, np.int64)  # instances whose requests left, to update
    cur = 0
    for e in range(nd + n - k0):
        if e < nd:  # the departures of the state first, then one per request
            d, i = dt[e], di[e]
        else:
            t = arrivals[k]
            bt, ng = int((t - t0) * rate), 0
            if bt - cur >= nb:  # a long gap: the whole ring is behind t
                cur = bt - nb
            while cur < bt:  # buckets wholly before t
                p = head[cur & mask]
                while p >= 0:
                    x = link[2 * p + 1]
                    gone[ng], ng = x & _INST, ng + 1
                    link[2 * p + 1], spare, p = spare << 24, p, x >> 24
                head[cur & mask] = -1
                cur += 1
            p, prev = head[cur & mask], -1  # t's own bucket: only departures <= t
            while p >= 0:
                x = link[2 * p + 1]
                q = x >> 24
                if nt[2 * p] <= t:
                    gone[ng], ng = x & _INST, ng + 1
                    if prev < 0:
                        head[cur & mask] = q
                    else:
                        link[2 * prev + 1] = (q << 24) | (link[2 * prev + 1] & _INST)
                    link[2 * p + 1], spare = spare << 24, p
                else:
                    prev = p
                p = q
            while on > 0 and ot[0] <= t:
                gone[ng], ng = oi[0], ng + 1
                on -= 1
                _sift_down(ot, oi, on, 0, ot[on], oi[on])
            for g in range(ng):
                j = gone[g]
                c = count[j]
                count[j] = c - 1
                if not lor:
                    continue
                if c - lo < _LEVELS:  # out of level c
                    w = j >> 6
                    bits[c & 63, w] &= ~(1 << (j & 63))
                    if bits[c & 63, w] == 0:
                        summ[c & 63, w >> 6] &= ~(1 << (w & 63))
                    lsize[c & 63] -= 1
                else:
                    over -= 1
                c -= 1
                if c < lo:  # a new least count: the top level leaves the ring
                    lo = c
                    if lsize[c & 63]:
                        over += lsize[c & 63]
                        bits[c & 63, :] = 0
                        summ[c & 63, :] = 0
                        lsize[c & 63] = 0
                if c - lo < _LEVELS:  # into level c
                    w = j >> 6
                    summ[c & 63, w >> 6] |= 1 << (w & 63)
                    bits[c & 63, w] |= 1 << (j & 63)
                    lsize[c & 63] += 1
                else:
                    over += 1
            if lor:  # the first instance of the least level from r on, else from 0
                s, i, j = lo & 63, -1, r
                while i < 0:
                    w = j >> 6
                    x = bits[s, w] & (-1 << (j & 63))
                    if x:
                        i = (w << 6) | _ctz(x)
                        break
                    w += 1
                    while w < nw:
                        sw = w >> 6
                        y = summ[s, sw] & (-1 << (w & 63))
                        if y:
                            w = (sw << 6) | _ctz(y)
                            i = (w << 6) | _ctz(bits[s, w])
                            break
                        w = (sw + 1) << 6
                    j = 0  # none from r on: wrap (the least level is never empty)
            else:  # two instances drawn from one uniform: its leading digits, then the next
                x = route_u[k] * n_inst
                a = min(max(int(x), 0), n_inst - 1)
                b = min(max(int((x - a) * n_inst), 0), n_inst - 1)
                i = b if count[b] < count[a] else a
            st = t if t > fs[i, 0] else fs[i, 0]
            if m == cap:
                m = _compact(hs, hi, m, waiting, t)
                if 2 * m > cap:
                    break
            hs[m], hi[m] = st, i
            m += st > t
            waiting[i] += st > t
            d = st + service[k]
            for s in range(cmax - 1):  # drop the first and insert d in order, branch-free
                fs[i, s] = min(fs[i, s + 1], max(fs[i, s], d) if s else d)
            fs[i, cmax - 1] = max(fs[i, cmax - 1], d) if cmax > 1 else d
            c = count[i]
            count[i] = c + 1
            if lor:  # from the least level (i is in it) to the next
                w = i >> 6
                bits[c & 63, w] &= ~(1 << (i & 63))
                if bits[c & 63, w] == 0:
                    summ[c & 63, w >> 6] &= ~(1 << (w & 63))
                lsize[c & 63] -= 1
                c += 1
                summ[c & 63, w >> 6] |= 1 << (w & 63)
                bits[c & 63, w] |= 1 << (i & 63)
                lsize[c & 63] += 1
                if lsize[lo & 63] == 0:  # the least level emptied: the least count rises
                    lo += 1
                    if over > 0:
                        c = lo + _LEVELS - 1
                        for j in range(n_inst):
                            if count[j] == c:
                                w = j >> 6
                                summ[c & 63, w >> 6] |= 1 << (w & 63)
                                bits[c & 63, w] |= 1 << (j & 63)
                                lsize[c & 63] += 1
                                over -= 1
                r = i + 1 if i + 1 < n_inst else 0
            out_done[k] = d
            out_inst[k], out_start[k] = i, st
            k += 1
        bd = (d - t0) * rate
        if bd - cur >= nb:  # beyond the ring (also +inf): the overflow heap
            if on == ot.shape[0]:
                ot, oi = _grow(ot, oi)
                gone = np.empty(nt.shape[0] // 2 + ot.shape[0], np.int64)
            _dep_push(ot, oi, on, d, i)
            on += 1
            continue
        if spare >= 0:
            p, spare = spare, link[2 * spare + 1] >> 24
        else:
            if 2 * top == nt.shape[0]:
                grown = np.empty(2 * nt.shape[0])
                grown[:nt.shape[0]] = nt
                nt, link = grown, grown.view(np.int64)
                gone = np.empty(nt.shape[0] // 2 + ot.shape[0], np.int64)
            p, top = top, top + 1
        b = int(bd) & mask
        nt[2 * p], link[2 * p + 1], head[b] = d, (head[b] << 24) | i, p
    free[:, :] = fs
    wait_n[0], rr[0] = m, r
    return k


@njit(cache=True)
def _grow(dt, di):
    """The departure heap's arrays at twice their capacity."""
    t2, i2 = np.empty(2 * dt.shape[0]), np.empty(2 * dt.shape[0], np.int64)
    t2[:dt.shape[0]], i2[:dt.shape[0]] = dt, di
    return t2, i2


@njit(cache=True)
def _departures(fs, cpus, ready, hs, hi, m, t):
    """Per-instance requests in system at t, and their done times as a min-heap.

    t is not earlier than any arrival served.  On a server, the requests after t run back to
    back: each waiting one starts when the one before it is done, and the last is done when
    the server is free.  So the done times of a ready instance's requests are its free times
    > t and its wait starts > t.  On an instance not ready at t every request waits, the
    first on each server starting at ready: its done times are its wait starts and free
    times > ready, plus ready once for every request left over (a request done at ready).
    """
    n_inst = fs.shape[0]
    count = np.zeros(n_inst, np.int64)  # waiting, then in system
    above = np.zeros(n_inst, np.int64)  # done times pushed so far
    size = 1024 + m
    for j in range(n_inst):
        size += cpus[j]
    dt, di, nd = np.empty(size), np.empty(size, np.int64), 0
    for j in range(m):
        i = hi[j]
        if hs[j] > t:
            count[i] += 1
            if hs[j] > ready[i]:
                dt[nd], di[nd], nd = hs[j], i, nd + 1
                above[i] += 1
    for i in range(n_inst):
        lim = ready[i] if ready[i] > t else t
        for s in range(cpus[i]):
            if fs[i, s] > lim:
                dt[nd], di[nd], nd = fs[i, s], i, nd + 1
                above[i] += 1
        if ready[i] > t:
            for _ in range(count[i] - above[i]):
                if nd == dt.shape[0]:
                    dt, di = _grow(dt, di)
                dt[nd], di[nd], nd = ready[i], i, nd + 1
        else:
            count[i] = above[i]
    for j in range(nd // 2 - 1, -1, -1):
        _sift_down(dt, di, nd, j, dt[j], di[j])
    return count, dt, di, nd


def serve(state: QueueState, arrivals: np.ndarray, service: np.ndarray,
          route_u: np.ndarray | None, policy: int) -> ServeResult:
    """Route and serve one batch of requests through the pool, updating ``state`` in place.

    ``arrivals`` are sorted float64 seconds (and not earlier than any arrival of a previous
    call on the same state); ``service`` is float64 seconds (>= 0) of work on one vCPU;
    ``route_u`` holds uniforms in [0, 1), one per request, used by the policies that draw
    (RANDOM: instance int(u * n_inst); WEIGHTED_RANDOM: the instance whose share of the
    pool's vCPUs holds u; POWER_OF_TWO: see :func:`_serve_indexed`); it may be None for the
    others.  Raises ValueError when the pool
    has no instance: dropping requests is the engine's decision, not the kernel's.
    """
    arrivals = np.ascontiguousarray(arrivals, dtype=np.float64)
    service = np.ascontiguousarray(service, dtype=np.float64)
    if arrivals.ndim != 1 or service.shape != arrivals.shape:
        raise ValueError(f"arrivals {arrivals.shape} and service {service.shape} must be 1-D "
                         "and of equal length")
    n = arrivals.shape[0]
    if policy not in POLICIES.values():
        raise ValueError(f"unknown routing policy {policy!r}; expected one of {POLICIES}")
    if route_u is None:
        if policy in NEEDS_UNIFORM:
            name = next(k for k, v in POLICIES.items() if v == policy)
            raise ValueError(f"{name} routing needs route_u (one uniform per request)")
        route_u = np.empty(0)
    else:
        route_u = np.ascontiguousarray(route_u, dtype=np.float64)
        if route_u.shape != (n,):
            raise ValueError(f"route_u has shape {route_u.shape}, expected ({n},)")
    if state.n_instances == 0:
        raise ValueError("cannot serve requests: the pool has no instance")
    if state.n_instances > _INST + 1:
        raise ValueError(f"a pool holds at most {_INST + 1:,} instances, got "
                         f"{state.n_instances:,}")
    if n > 1 and np.any(arrivals[1:] < arrivals[:-1]):
        raise ValueError("arrivals must be sorted in non-decreasing order")
    if not np.all(service >= 0.0):  # requests on a server then run back to back, in order
        raise ValueError("service times must be non-negative numbers (no NaN)")
    return route(state, arrivals, service, route_u, policy)


def route(state: QueueState, arrivals: np.ndarray, service: np.ndarray, route_u: np.ndarray,
          policy: int) -> ServeResult:
    """:func:`serve` without its checks, for the engine: inputs it drew itself are valid by
    construction (contiguous float64, sorted, non-negative, a uniform per request or an empty
    array, a pool with an instance); a call costs a few microseconds less."""
    n = arrivals.shape[0]
    out = (np.empty(n, dtype=np.int32), np.empty(n), np.empty(n))
    s, k = state, 0
    n_inst = s.n_instances
    s.rr[0] %= n_inst
    if policy == POWER_OF_TWO or (policy == LEAST_OUTSTANDING and n_inst > SCAN_MAX):
        kernel = _serve_indexed
    else:
        kernel = _serve_lor if policy == LEAST_OUTSTANDING else _serve_fixed
    # the kernels take the same arguments; each returns where the wait buffer must grow
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
