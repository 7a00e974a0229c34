"""Throughput of the request data plane kernel: routed pool vs bare independent queues.

16 instances x 4 vCPUs at utilisation 0.8, ~2 million Poisson requests with exponential
service.  ``serve`` is timed for each routing policy on the whole stream; the baseline splits
the same arrivals into 16 random streams (the RANDOM routing split) and runs
``fcfs_multiserver_bare`` on each, i.e. 16 independent single-queue runs with no routing, heap
or state.  Then least-outstanding routing on other pool shapes (same utilisation and mean
service), whose cost grows with instances x vCPUs.  Compilation is excluded (one warm-up call
each); best of ``repeats`` timings.
Run: ``python -m benchmarks.bench_kernel`` or ``python benchmarks/bench_kernel.py``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.timing import best_of
from simulator.compute.kernel import POLICIES, QueueState, fcfs_multiserver_bare, serve

N_INST, CPUS, RHO, MEAN_SERVICE_S = 16, 4, 0.8, 0.1
N_REQ = 2_000_000
LOR_SHAPES = [(64, 2), (16, 16), (8, 48)]  # (instances, vCPUs each)


def main(n_requests: int = N_REQ, repeats: int = 3, seed: int = 1) -> dict[str, float]:
    """Print and return requests/s of each policy and of the bare baseline, measured now."""
    rng = np.random.default_rng(seed)
    lam = RHO * N_INST * CPUS / MEAN_SERVICE_S
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n_requests))
    service = rng.exponential(MEAN_SERVICE_S, n_requests)
    route_u = rng.random(n_requests)
    which = np.minimum((route_u * N_INST).astype(np.int64), N_INST - 1)
    streams = [(arrivals[which == i].copy(), service[which == i].copy()) for i in range(N_INST)]

    def bare() -> None:
        for a, s in streams:
            fcfs_multiserver_bare(a, s, CPUS)

    def routed(policy: int):
        return lambda: serve(QueueState.empty([CPUS] * N_INST), arrivals, service, route_u,
                             policy)

    def lor(pool: list[int], a: np.ndarray, s: np.ndarray):
        return lambda: serve(QueueState.empty(pool), a, s, None, POLICIES["least_outstanding"])

    fcfs_multiserver_bare(arrivals[:10], service[:10], CPUS)  # compile / load cache
    serve(QueueState.empty([CPUS] * 2), arrivals[:10], service[:10], route_u[:10], 0)

    rates = {"bare_16_streams": n_requests / best_of(bare, repeats)}
    for name, policy in POLICIES.items():
        rates[name] = n_requests / best_of(routed(policy), repeats)

    print(f"{n_requests:,} requests, {N_INST} instances x {CPUS} vCPUs, utilisation {RHO}")
    base = rates["bare_16_streams"]
    print(f"  {'bare (16 independent queues)':32s} {base / 1e6:8.2f} M req/s   1.00x")
    for name in POLICIES:
        print(f"  {'serve ' + name:32s} {rates[name] / 1e6:8.2f} M req/s   "
              f"{rates[name] / base:.2f}x of bare")
    for n_inst, cpus in LOR_SHAPES:
        lam = RHO * n_inst * cpus / MEAN_SERVICE_S
        a = np.cumsum(rng.exponential(1.0 / lam, n_requests // 4))
        s = rng.exponential(MEAN_SERVICE_S, a.size)
        rate = a.size / best_of(lor([cpus] * n_inst, a, s), repeats)
        rates[f"least_outstanding_{n_inst}x{cpus}"] = rate
        print(f"  {f'least_outstanding {n_inst} x {cpus} vCPUs':32s} {rate / 1e6:8.2f} M req/s")
    return rates


if __name__ == "__main__":
    main()
