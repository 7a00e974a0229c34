"""The indexed least-outstanding kernel decides exactly as the scan it replaces at scale."""

from __future__ import annotations

import numpy as np

from simulator.compute.kernel import (
    LEAST_OUTSTANDING,
    WEIGHTED_RANDOM,
    QueueState,
    _serve_indexed,
    _serve_lor,
    serve,
)


def _run(kernel, cpus, ready, chunks):
    state = QueueState.empty(cpus, heap_capacity=1)
    state.ready[:] = ready
    for j, c in enumerate(cpus):
        state.free[j, :c] = ready[j]
    outs = []
    for a, s in chunks:
        out = (np.empty(len(a), np.int32), np.empty(len(a)), np.empty(len(a)))
        k = 0
        while (k := kernel(state.free, state.cpus, state.ready, state.wait_start,
                           state.wait_inst, state.wait_n, state.waiting, state.rr, a, s,
                           np.empty(0), LEAST_OUTSTANDING, k, *out)) < len(a):
            state._grow_heap()
        outs.append(out)
    return [np.concatenate(x) for x in zip(*outs, strict=True)]


def test_index_gives_the_decisions_of_the_scan():
    rng = np.random.default_rng(11)
    for _ in range(150):
        n = int(rng.integers(1, 40))
        cpus = rng.integers(1, 7, n).tolist()
        ready = rng.choice([0.0, 0.5, 2.0], n)
        size = int(rng.integers(0, 300))
        a = np.sort(rng.uniform(0, 10, size))
        if rng.random() < 0.3:
            a = np.round(a, 1)  # simultaneous arrivals
        s = rng.exponential(0.5 * np.mean(cpus) * n / 30, size)
        if rng.random() < 0.3:
            s[rng.random(size) < 0.3] = 0.0
        cuts = [0, *np.sort(rng.integers(0, size + 1, 3)).tolist(), size]
        chunks = [(a[lo:hi], s[lo:hi]) for lo, hi in zip(cuts, cuts[1:], strict=False)]
        for x, y in zip(_run(_serve_lor, cpus, ready, chunks),
                        _run(_serve_indexed, cpus, ready, chunks), strict=True):
            np.testing.assert_array_equal(x, y)


def test_weighted_random_follows_vcpu_shares():
    state = QueueState.empty([1, 2, 5])
    u = np.array([0.0, 0.124, 0.125, 0.374, 0.375, 0.999])
    r = serve(state, np.zeros(6), np.zeros(6), u, WEIGHTED_RANDOM)
    np.testing.assert_array_equal(r.instance, [0, 0, 1, 1, 2, 2])
