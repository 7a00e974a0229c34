"""Compile dcsim's numba kernels into numba's on-disk cache, once, at install.

``make demo`` and ``make test`` run ``python -m simulator.warmup`` when they create the virtual
environment, so a user's first ``dcsim run`` loads compiled kernels (about 0.3 s) instead of
compiling them (about 8 s on a 2-core machine).  It runs a small quickstart-like scenario for a simulated
minute with every routing policy and both latency recorders, in process and without writing
anything: the kernels are compiled for exactly the argument types a run uses.
"""

from __future__ import annotations

import time


def scenario(policy: str, latency: str) -> dict:
    """A minute of two m5.xlarge behind a load balancer (the quickstart's shape, smaller)."""
    return {
        "name": "warmup",
        "horizon": "1 min",
        "fleets": {"web": {"instance_type": "m5.xlarge", "count": 2, "boot_time": "5 s"}},
        "services": {"api": {
            "fleet": "web",
            "arrivals": {"process": "piecewise",
                         "steps": [{"at": "0 s", "rate": "100/s"}, {"at": "30 s", "rate": "150/s"}]},
            "service_time": {"dist": "lognormal", "mean": "40 ms", "cv": 1.0},
            "response_size": {"dist": "lognormal", "mean": "32 KiB", "cv": 1.0},
            "load_balancer": {"policy": policy},
        }},
        "output": {"latency": latency, "observe_interval": "20 s"},
    }


def warm() -> None:
    """Run every kernel once (compiling it, or loading it from the cache): at install, and in
    every sweep worker before its first run is timed."""
    import numpy as np

    from simulator.compute.kernel import POLICIES, QueueState, serve
    from simulator.engine.runner import run
    from simulator.scenario.loader import validate_scenario

    for policy in POLICIES:
        for latency in ("exact", "sketch"):
            run(validate_scenario(scenario(policy, latency), "warmup"))
    # an instance leaving while requests wait (the warm-up scenario scales no fleet in)
    state = QueueState.empty([1, 1])
    serve(state, np.zeros(4), np.ones(4), None, POLICIES["round_robin"])
    state.remove_instance(0)


def load_kernels() -> None:
    """Load every compiled kernel a run with services calls (from numba's cache, or compile
    them) with SIGINT and SIGTERM held, then take any that came.

    numba loads a kernel at its first call, through callbacks from native code, where a
    signal turned into an exception cannot propagate (see simulator.signals).  Loading them
    all first, about 0.3 s with a warm cache, most of it numba's start that the run would
    pay anyway, keeps that window out of the run.  With a cold cache (no `make demo`
    install) the signals wait for the compilation.
    """
    import numpy as np

    from simulator.signals import held

    with held():  # importing numba starts its JIT, through the same callbacks
        from simulator.compute.kernel import POLICIES, QueueState, serve
        from simulator.compute.sketch import LatencySketch

        for policy in POLICIES.values():
            state = QueueState.empty([1, 1])
            serve(state, np.zeros(4), np.ones(4), np.full(4, 0.5), policy)
            state.remove_instance(0)
        LatencySketch(alpha=0.01).add(np.ones(4))


def main() -> None:
    started = time.perf_counter()
    warm()
    print(f"dcsim: numba kernels compiled and cached in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
