"""Throughput of the request data-plane kernel: each routing policy, and least outstanding
(and power of two choices) as pools grow to 10,000 instances.

Every pool is instances × 4 vCPUs at utilisation 0.8 with exponential service (mean 0.1 s)
and Poisson arrivals; compilation is excluded (one warm-up call each); each figure is the best
of 3 on the same arrays.

1. Each policy on 16 × 4 vCPUs, beside the bare compiled loop over the same arrivals split
   into 16 random streams (``fcfs_multiserver_bare``: no routing, no state): a reference for
   the kernel's overhead, with no goal (round robin and least outstanding route differently
   from the split).
2. Least outstanding at 8 instances through the scan (the reference: ``serve`` scans pools
   of up to ``SCAN_MAX``) and through the index, then through the index at 1,000 and 10,000
   instances: goal ≥ 0.3× of the scan's rate at 8.
3. Power of two choices at the same sizes.
"""

from __future__ import annotations

import sys

import numpy as np

from benchmarks.table import Row, render
from benchmarks.timing import best_of
from simulator.compute import kernel
from simulator.compute.kernel import POLICIES, QueueState, fcfs_multiserver_bare, serve

CPUS, RHO, MEAN_SERVICE_S = 4, 0.8, 0.1


def pool_arrays(n_inst: int, n: int, seed: int = 1):
    """Arrivals, service times and routing uniforms of n requests for a pool of n_inst."""
    rng = np.random.default_rng(seed)
    lam = RHO * n_inst * CPUS / MEAN_SERVICE_S
    return (np.cumsum(rng.exponential(1.0 / lam, n)), rng.exponential(MEAN_SERVICE_S, n),
            rng.random(n))


def rate(n_inst: int, policy: int, arrays, index: bool | None = None) -> float:
    """Requests/s of serve() on a fresh pool, best of 3; index forces the least-outstanding
    path (True: the index, False: the scan) whatever the pool's size."""
    a, s, u = arrays
    saved = kernel.SCAN_MAX
    if index is not None:
        kernel.SCAN_MAX = 0 if index else 1 << 30
    try:
        serve(QueueState.empty([CPUS] * n_inst), a[:10], s[:10], u[:10], policy)  # compile
        return a.size / best_of(lambda: serve(QueueState.empty([CPUS] * n_inst), a, s, u, policy))
    finally:
        kernel.SCAN_MAX = saved


def rows(quick: bool = False) -> list[Row]:
    n = 500_000 if quick else 2_000_000
    out = []
    arrays = pool_arrays(16, n)
    a, s, u = arrays
    which = np.minimum((u * 16).astype(np.int64), 15)
    streams = [(a[which == i].copy(), s[which == i].copy()) for i in range(16)]
    fcfs_multiserver_bare(a[:10], s[:10], CPUS)
    bare = n / best_of(lambda: [fcfs_multiserver_bare(x, y, CPUS) for x, y in streams])
    for name, policy in POLICIES.items():
        out.append(Row("kernel", f"serve, {name}, 16 × 4 vCPUs", rate(16, policy, arrays) / 1e6,
                       "M req/s", "bare loop, 16 random streams", bare / 1e6))
    lor, p2c = POLICIES["least_outstanding"], POLICIES["power_of_two_choices"]
    eight = pool_arrays(8, n)
    scan8 = rate(8, lor, eight, index=False)
    out.append(Row("routing", "least outstanding, 8 instances, scan (reference)", scan8 / 1e6,
                   "M req/s"))
    out.append(Row("routing", "least outstanding, 8 instances, index", rate(8, lor, eight, True)
                   / 1e6, "M req/s", "scan at 8", scan8 / 1e6,
                   note="serve() scans at this size"))
    for n_inst in (1_000, 10_000):
        arrays = pool_arrays(n_inst, n)
        out.append(Row("routing", f"least outstanding, {n_inst:,} instances, index",
                       rate(n_inst, lor, arrays) / 1e6, "M req/s", "scan at 8", scan8 / 1e6,
                       min_ratio=0.3 if n_inst == 10_000 else None))
        out.append(Row("routing", f"power of two choices, {n_inst:,} instances",
                       rate(n_inst, p2c, arrays) / 1e6, "M req/s", "scan at 8", scan8 / 1e6))
    return out


def main() -> None:
    print(render(rows("--quick" in sys.argv)))


if __name__ == "__main__":
    main()
