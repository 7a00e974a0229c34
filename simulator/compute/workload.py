"""Request streams drawn as NumPy arrays on a fixed time grid (common random numbers).

Arrivals, service demands, response sizes and routing uniforms of a service are drawn per grid
block of ``GRID_S`` seconds, each block from its own named chunk stream.  The requests of any
time window are therefore the same whatever the window boundaries, the control events or the
routing policy: changing a policy or splitting a run into more intervals never changes a seed's
arrivals.  No SimPy here.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from simulator.distributions import build
from simulator.engine.streams import Streams
from simulator.scenario.schema import (
    ConstantArrivals,
    PiecewiseArrivals,
    PoissonArrivals,
    Service,
)

GRID_S = 60.0
"""Length of one block of the request grid, in seconds; fixed so seeds mean the same always."""


def _segments(arrivals, t0: float = 0.0, t1: float = math.inf) -> list[tuple[float, float, float]]:
    """The arrival rate as (start, end, rate) pieces covering [t0, t1) (periodic schedules
    unrolled over the periods that window touches)."""
    if not isinstance(arrivals, PiecewiseArrivals):
        return [(t0, t1, arrivals.rate)]
    starts = [s.at for s in arrivals.steps]
    period = arrivals.period
    ends = starts[1:] + [period if period is not None else math.inf]
    pieces = list(zip(starts, ends, (s.rate for s in arrivals.steps), strict=True))
    if period is None:
        shifted = [(0.0, pieces)]
    else:
        if math.isinf(t1):
            raise ValueError("a periodic schedule needs a finite window")
        first, last = int(t0 // period), int(math.ceil(t1 / period))
        shifted = [(k * period, pieces) for k in range(first, last)]
    out = []
    for offset, part in shifted:
        for a, b, rate in part:
            lo, hi = max(a + offset, t0), min(b + offset, t1)
            if hi > lo:
                out.append((lo, hi, rate))
    return out


def expected_arrivals(arrivals, horizon: float) -> float:
    """Expected number of arrivals in [0, horizon)."""
    return sum(r * (b - a) for a, b, r in _segments(arrivals, 0.0, horizon))


def peak_rate(arrivals) -> float:
    """The highest arrival rate of a process, in requests/s."""
    if isinstance(arrivals, PiecewiseArrivals):
        return max((step.rate for step in arrivals.steps), default=0.0)
    return float(arrivals.rate)


def sorted_uniforms(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """n uniform points on [lo, hi), in order: the order statistics of n uniforms, drawn in
    O(n) as the partial sums of n + 1 standard exponentials over their total (Renyi's
    representation: exactly the distribution of n sorted uniforms, without sorting them)."""
    if n == 0:
        return np.empty(0)
    sums = np.cumsum(rng.standard_exponential(n + 1))
    times = sums[:n]
    times *= (hi - lo) / sums[n]
    times += lo
    np.minimum(times, np.nextafter(hi, lo), out=times)  # rounding must not reach hi
    return times


def block_arrival_times(arrivals, rng: np.random.Generator, t0: float, t1: float) -> np.ndarray:
    """Sorted arrival times in [t0, t1) of one grid block, drawn from that block's generator:
    per piece of constant rate, a Poisson count and that many sorted uniforms."""
    if isinstance(arrivals, ConstantArrivals):
        rate = arrivals.rate
        first, last = math.ceil(t0 * rate - 1e-9), math.ceil(t1 * rate - 1e-9)
        return np.arange(first, last, dtype=np.float64) / rate
    assert isinstance(arrivals, PoissonArrivals | PiecewiseArrivals)
    parts = []
    for lo, hi, rate in _segments(arrivals, t0, t1):  # in time order, so the parts are too
        if rate == 0:
            continue
        parts.append(sorted_uniforms(rng, lo, hi, rng.poisson(rate * (hi - lo))))
    if not parts:
        return np.empty(0)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


@dataclass(frozen=True)
class RequestBatch:
    """The requests of one time window, as parallel arrays."""

    arrival: np.ndarray
    service: np.ndarray
    size: np.ndarray
    route_u: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival)


BLOCK_REQUESTS = 1 << 20
"""Most expected requests in one block of a service's grid: a grid block whose expected count
is larger is drawn as 2, 4, 8, ... equal sub-blocks, each from its own chunk stream, so that
memory is bounded by a block, not by the arrival rate (32 MiB of drawn arrays a block)."""


class RequestSource:
    """Draws the requests of any time window of one service from its chunked streams.

    Grid block ``k`` covers [k * grid_s, (k + 1) * grid_s).  A block expected to hold more than
    ``BLOCK_REQUESTS`` requests is split into ``parts(k)`` equal sub-blocks (a power of two,
    from the block's peak rate); sub-block ``j`` is drawn from chunk ``(k, j)``.  Blocks of one
    part keep today's chunk ``k``, so a service that never needs splitting draws exactly what
    it always drew.

    Drawing is most of the per-request work outside the routing kernel, and numpy draws without
    holding the interpreter lock: so when a block is first used, the next one (before
    `until_s`) is drawn ahead on a worker thread while the kernel (also lock-free) routes this
    one, on a second core if there is one.  A block is a pure function of its chunk
    generators, made here on the calling thread, so what is drawn never depends on timing.
    ``close()`` ends the worker (the run's end does).
    """

    def __init__(self, name: str, spec: Service, streams: Streams, grid_s: float = GRID_S, *,
                 until_s: float = math.inf):
        self.name = name
        self.spec = spec
        self.streams = streams
        self.grid_s = grid_s
        self.service_time = build(spec.service_time)
        """Distribution of the work per request, in seconds (built once)."""
        self.response_size = build(spec.response_size)
        """Distribution of the bytes sent back per request (built once)."""
        self.until_s = until_s
        self._blocks: dict[tuple[int, int], RequestBatch] = {}
        self._ahead: dict[tuple[int, int], Future] = {}
        self._worker: ThreadPoolExecutor | None = None
        self._parts: dict[int, int] = {}
        self._names = tuple(f"service.{name}.{part}" for part in
                            ("arrivals", "service_time", "response_size", "routing"))

    def parts(self, k: int) -> int:
        """How many equal sub-blocks grid block k is drawn as (1 unless its peak rate would
        put more than BLOCK_REQUESTS requests in it)."""
        parts = self._parts.get(k)
        if parts is None:
            t0 = k * self.grid_s
            peak = max((r for _, _, r in _segments(self.spec.arrivals, t0, t0 + self.grid_s)),
                       default=0.0)
            parts = 1
            while peak * self.grid_s / parts > BLOCK_REQUESTS:
                parts *= 2
            self._parts[k] = parts
        return parts

    def boundaries(self, t0: float, t1: float) -> list[float]:
        """The (sub-)block boundaries strictly inside (t0, t1), in order."""
        out, g = [], self.grid_s
        for k in range(int(t0 // g), int(math.ceil(t1 / g))):
            parts = self.parts(k)
            for j in range(parts + 1):
                b = k * g + j * g / parts
                if t0 < b < t1 and (not out or b > out[-1]):
                    out.append(b)
        return out

    def _block(self, k: int, j: int = 0) -> RequestBatch:
        block = self._blocks.get((k, j))
        if block is None:
            ahead = self._ahead.pop((k, j), None)
            block = ahead.result() if ahead is not None else _draw(*self._plan(k, j))
            self._blocks[(k, j)] = block
            self._draw_ahead(*((k, j + 1) if j + 1 < self.parts(k) else (k + 1, 0)))
        return block

    def _plan(self, k: int, j: int) -> tuple:
        """What drawing sub-block j of block k takes: its span and its four chunk generators
        (made here: Streams is not shared across threads), with the distributions."""
        chunk, names = self.streams.chunk, self._names
        parts = self.parts(k)
        index = (k,) if parts == 1 else (k, j)
        t0 = k * self.grid_s + j * self.grid_s / parts
        t1 = (k + 1) * self.grid_s if j == parts - 1 else t0 + self.grid_s / parts
        return (self.spec.arrivals, t0, t1, self.service_time, self.response_size,
                *(chunk(name, *index) for name in names))

    def _draw_ahead(self, k: int, j: int) -> None:
        """Start drawing sub-block j of block k on the worker, if it lies before until_s."""
        if (k, j) in self._blocks or (k, j) in self._ahead or \
                k * self.grid_s + j * self.grid_s / self.parts(k) >= self.until_s:
            return
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"dcsim-draw-{self.name}")
        self._ahead[(k, j)] = self._worker.submit(_draw, *self._plan(k, j))

    def close(self) -> None:
        """End the worker thread (blocks drawn ahead and not used are dropped)."""
        worker, self._worker = self._worker, None
        self._ahead.clear()
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)

    def window(self, t0: float, t1: float) -> RequestBatch:
        """The requests arriving in [t0, t1); blocks before t0 are forgotten (time only moves on)."""
        if t1 <= t0:
            return RequestBatch(*(np.empty(0) for _ in range(4)))
        g = self.grid_s
        k0, k1 = int(t0 // g), int(math.ceil(t1 / g))
        # the sub-block holding t0, or the one before it when rounding puts t0 at its edge
        j0 = max(0, int((t0 - k0 * g) // (g / self.parts(k0))) - 1)
        for key in [key for key in self._blocks if key < (k0, j0)]:
            del self._blocks[key]
        parts = []
        for k in range(k0, k1):
            n_parts = self.parts(k)
            lo_j = j0 if k == k0 else 0
            hi_j = n_parts if k < k1 - 1 else min(n_parts,
                                                  int(math.ceil((t1 - k * g) / (g / n_parts))))
            for j in range(lo_j, hi_j):
                b = self._block(k, j)
                lo, hi = np.searchsorted(b.arrival, [t0, t1], side="left")
                if hi > lo:
                    parts.append((b, lo, hi))
        if not parts:
            return RequestBatch(*(np.empty(0) for _ in range(4)))
        if len(parts) == 1:
            b, lo, hi = parts[0]
            return RequestBatch(b.arrival[lo:hi], b.service[lo:hi], b.size[lo:hi], b.route_u[lo:hi])
        return RequestBatch(
            *(
                np.concatenate([getattr(b, f)[lo:hi] for b, lo, hi in parts])
                for f in ("arrival", "service", "size", "route_u")
            )
        )


def _draw(arrivals, t0: float, t1: float, service_time, response_size, arrivals_rng,
          service_rng, size_rng, routing_rng) -> RequestBatch:
    """The requests of one (sub-)block from its four chunk generators (pure: any thread)."""
    times = block_arrival_times(arrivals, arrivals_rng, t0, t1)
    n = len(times)
    return RequestBatch(arrival=times, service=service_time.sample(service_rng, n),
                        size=response_size.sample(size_rng, n), route_u=routing_rng.random(n))
