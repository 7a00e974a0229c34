"""Engine throughput: requests/s end to end, and control-plane events/s, against baselines.

Figures measured in one run (so ratios are stable on a noisy machine):
1. End-to-end requests/s of a fixed fleet of 16 instances × 4 vCPUs at utilization 0.8
   (generation, routing, queueing, latency recording through ``simulator.run``) for each
   load-balancer policy, against (a) a bare compiled FCFS multi-server loop over the same
   arrivals (16 independent queues, no routing or recording) — target ≥ 0.5× — and (b) a
   per-request SimPy model with ``simpy.Resource`` — target ≥ 100× faster.
2. Control-plane events/s of the World (instances cycling through their lifecycle on
   schedules) against bare SimPy timeouts with 1,000 processes — target ≥ 0.5×.
"""

from __future__ import annotations

import time

import numpy as np
import simpy

from benchmarks.timing import best_of
from simulator.compute.kernel import fcfs_multiserver_bare
from simulator.engine.runner import run
from simulator.engine.streams import Streams
from simulator.engine.world import CountingEnvironment, World
from simulator.scenario.loader import validate_scenario

N_INST, VCPUS, RHO, MEAN_S = 16, 4, 0.8, 0.01
RATE = RHO * N_INST * VCPUS / MEAN_S  # 5,120 requests/s
HORIZON = 600.0  # about 3.1 million requests


def _fleet_scenario(policy: str, horizon: float = HORIZON) -> dict:
    return {
        "name": f"bench-{policy}",
        "horizon": horizon,
        "fleets": {"web": {"instance_type": "m5.xlarge", "count": N_INST, "volume": None}},
        "services": {
            "api": {
                "fleet": "web",
                "arrivals": {"process": "poisson", "rate": RATE},
                "service_time": {"dist": "exponential", "mean": MEAN_S},
                "load_balancer": {"policy": policy},
            }
        },
    }


def pooled_loop_rate(n: int, seed: int = 1) -> float:
    """Requests/s of the bare compiled FCFS loop over the same arrivals, the fleet's 64 vCPUs
    as one multi-server queue (no generation, routing or recording)."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / RATE, n))
    service = rng.exponential(MEAN_S, n)
    fcfs_multiserver_bare(arrivals[:10], service[:10], N_INST * VCPUS)  # compile
    return n / best_of(lambda: fcfs_multiserver_bare(arrivals, service, N_INST * VCPUS))


def bare_loop_rate(n: int, seed: int = 1) -> float:
    """Requests/s of the bare compiled loop over n requests split into 16 independent queues."""
    rng = np.random.default_rng(seed)
    per = n // N_INST
    queues = [
        (np.cumsum(rng.exponential(N_INST / RATE, per)), rng.exponential(MEAN_S, per))
        for _ in range(N_INST)
    ]
    fcfs_multiserver_bare(queues[0][0][:10], queues[0][1][:10], VCPUS)  # compile
    seconds = best_of(lambda: [fcfs_multiserver_bare(a, s, VCPUS) for a, s in queues])
    return per * N_INST / seconds


def simpy_resource_rate(n: int, seed: int = 1) -> float:
    """Requests/s of a per-request SimPy model: one process per request, simpy.Resource per instance."""
    rng = np.random.default_rng(seed)
    inter = rng.exponential(1 / RATE, n)
    service = rng.exponential(MEAN_S, n)
    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=VCPUS) for _ in range(N_INST)]
    latencies = np.empty(n)

    def request(i, res):
        arrived = env.now
        with res.request() as req:
            yield req
            yield env.timeout(service[i])
        latencies[i] = env.now - arrived

    def source():
        for i in range(n):
            yield env.timeout(inter[i])
            env.process(request(i, servers[i % N_INST]))

    env.process(source())
    t = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - t)


def engine_rate(policy: str) -> tuple[float, int]:
    """End-to-end requests/s of simulator.run on the benchmark fleet (best of 3)."""
    scenario = validate_scenario(_fleet_scenario(policy), "bench")
    run(validate_scenario(_fleet_scenario(policy, 60.0), "warm-up"))  # compile and warm caches
    best, count = float("inf"), 0
    for _ in range(3):
        t = time.perf_counter()
        result = run(scenario, seed=1)
        best = min(best, time.perf_counter() - t)
        count = result.summary["latency"]["requests"]
    return count / best, count


def bare_simpy_events(processes: int = 1000, events: int = 300_000, env_type=simpy.Environment) -> float:
    """Events/s of `processes` processes each yielding timeouts (bare SimPy by default)."""
    env = env_type()
    per = events // processes

    def proc(i):
        for _ in range(per):
            yield env.timeout(1.0 + (i % 7) * 0.1)

    for i in range(processes):
        env.process(proc(i))
    t = time.perf_counter()
    env.run(until=float("inf")) if env_type is not simpy.Environment else env.run()
    return per * processes / (time.perf_counter() - t)


def simpy_lifecycle_floor(instances: int = 1000, windows: int = 60) -> float:
    """Events/s of the same start/boot/stop cycles in plain SimPy with no recording at all."""
    env = simpy.Environment()
    procs: list = [None] * instances

    def inst():
        try:
            yield env.timeout(20)
            yield env.event()
        except simpy.Interrupt:
            pass

    def schedule():
        for k in range(windows):
            yield env.timeout(k * 90 - env.now)
            for i in range(instances):
                procs[i] = env.process(inst())
            yield env.timeout(60)
            for i in range(instances):
                procs[i].interrupt("stop")

    env.process(schedule())
    t = time.perf_counter()
    env.run()
    return 4 * instances * windows / (time.perf_counter() - t)


def control_plane_events() -> tuple[float, int]:
    """Events/s of the World's control plane: 1,000 instances cycling on 60 s / 30 s schedules."""
    windows = [{"start": k * 90, "stop": k * 90 + 60} for k in range(60)]
    data = {
        "name": "bench-control",
        "horizon": 60 * 90,
        "fleets": {
            f"f{i}": {"instance_type": "m5.large", "count": 100, "boot_time": 20, "schedule": windows}
            for i in range(10)
        },
    }
    scenario = validate_scenario(data, "bench")
    best, events = float("inf"), 0
    for _ in range(3):
        world = World.build(scenario, Streams(1))
        t = time.perf_counter()
        world.env.run(until=scenario.horizon)  # the event loop alone; tables and billing excluded
        best = min(best, time.perf_counter() - t)
        events = world.events
    return events / best, events


def main() -> None:
    bare = pooled_loop_rate(3_000_000)
    split = bare_loop_rate(3_000_000)
    simpy_rate = simpy_resource_rate(100_000)
    print(f"fleet 16 × 4 vCPU, utilization {RHO}, Poisson {RATE:,.0f}/s, exponential {MEAN_S * 1e3:g} ms")
    print(f"  (a) bare compiled FCFS loop, 64 servers, same arrivals: {bare / 1e6:8.2f} M requests/s")
    print(f"      (for scale: 16 separate bare 4-server loops:         {split / 1e6:8.2f} M requests/s)")
    print(f"  (b) per-request SimPy model with simpy.Resource:        {simpy_rate / 1e6:8.3f} M requests/s")
    for policy in ("round_robin", "random", "least_outstanding"):
        rate, count = engine_rate(policy)
        print(
            f"  dcsim end to end, {policy:17s}:  {rate / 1e6:8.2f} M requests/s "
            f"({count:,} requests) = {rate / bare:4.2f}× (a) (target ≥ 0.5), "
            f"{rate / simpy_rate:4.0f}× (b) (target ≥ 100)"
        )
    base = bare_simpy_events()
    loop = bare_simpy_events(env_type=CountingEnvironment)
    floor = simpy_lifecycle_floor()
    ours, events = control_plane_events()
    print("control plane")
    print(f"  bare SimPy, 1,000 processes of timeouts (baseline): {base:10,.0f} events/s")
    print(f"  dcsim event loop, same 1,000 processes:            {loop:10,.0f} events/s = {loop / base:4.2f}× (target ≥ 0.5)")
    print(f"  plain SimPy instance lifecycles, no recording:     {floor:10,.0f} events/s = {floor / base:4.2f}×")
    print(
        f"  dcsim World, 1,000 instances cycling on schedules: {ours:10,.0f} events/s = {ours / base:4.2f}× "
        f"({events:,} events; recording, typed causes, listeners)"
    )


if __name__ == "__main__":
    main()
