"""Engine throughput: requests/s end to end, and control-plane events/s, against baselines.

Figures measured in one run (so ratios are stable on a noisy machine):
1. End-to-end requests/s of a fixed fleet of 16 instances × 4 vCPUs at utilization 0.8
   (generation, routing, queueing, latency recording through ``simulator.run``) for each
   load-balancer policy, against (a) a bare compiled FCFS multi-server loop over the same
   arrivals (16 independent queues, no routing or recording) — target ≥ 0.5× — and (b) a
   per-request SimPy model with ``simpy.Resource`` — target ≥ 100× faster.
2. Control-plane lifecycles/s of the World (1,000 instances started and stopped by run
   windows, without and with a service on every fleet) against plain SimPy doing the same
   lifecycles with a process per instance, under the same collector policy, each the best of
   3, alternated — target ≥ 0.5× with services; and, for the event loop alone, dcsim's
   counting loop against bare SimPy on the same processes of timeouts (no target: it holds no
   model code).
"""

from __future__ import annotations

import gc
import time

import numpy as np
import simpy

from benchmarks.timing import best_of
from simulator.compute.kernel import fcfs_multiserver_bare
from simulator.engine.runner import run
from simulator.engine.streams import Streams
from simulator.engine.world import CountingEnvironment, World
from simulator.gcpolicy import rare_collections
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


LIFECYCLE_INSTANCES, LIFECYCLE_WINDOWS = 1000, 60  # 10 fleets of 100, windows of 60 s every 90 s


def simpy_lifecycles(instances: int = LIFECYCLE_INSTANCES, windows: int = LIFECYCLE_WINDOWS) -> None:
    """The same start/boot/stop cycles in plain SimPy with no recording: per window a process
    per instance, pending 20 s, running until interrupted at the stop (the way a SimPy model
    is usually written)."""
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
    env.run()


def control_plane_scenario(services: bool):
    """1,000 instances (10 fleets of 100) started and stopped by 60 run windows (60 s on, 30 s
    off, 20 s boot); with services, one per fleet as the quick start's (Poisson 10/s,
    lognormal 40 ms service, lognormal 32 KiB responses, round robin)."""
    windows = [{"start": k * 90, "stop": k * 90 + 60} for k in range(LIFECYCLE_WINDOWS)]
    data = {
        "name": "bench-control",
        "horizon": LIFECYCLE_WINDOWS * 90,
        "fleets": {
            f"f{i}": {"instance_type": "m5.large", "count": LIFECYCLE_INSTANCES // 10,
                      "boot_time": 20, "schedule": windows}
            for i in range(10)
        },
    }
    if services:
        data["services"] = {
            f"s{i}": {"fleet": f"f{i}", "arrivals": {"process": "poisson", "rate": 10.0},
                      "service_time": {"dist": "lognormal", "mean": 0.04, "cv": 1.0},
                      "response_size": {"dist": "lognormal", "mean": 32768, "cv": 1.0}}
            for i in range(10)
        }
    return validate_scenario(data, "bench")


def control_plane(repeats: int = 3) -> dict[str, tuple[float, int]]:
    """Lifecycles/s (and events) of plain SimPy and of the World without and with services,
    each the best of `repeats`, the three alternated within each repeat.

    The World runs as a user's run does (``World.run``: the event loop, then the open
    intervals closed; tables and billing excluded); SimPy runs under the same collector
    policy (``rare_collections``), which doubles its rate: a baseline left to the default
    collector would flatter the figure."""
    cases = {"simpy": None, "bare": control_plane_scenario(False),
             "services": control_plane_scenario(True)}
    best = dict.fromkeys(cases, float("inf"))
    events = dict.fromkeys(cases, 0)
    for _ in range(repeats):
        for name, scenario in cases.items():
            gc.collect()
            if scenario is None:
                with rare_collections():
                    t = time.perf_counter()
                    simpy_lifecycles()
                    best[name] = min(best[name], time.perf_counter() - t)
                continue
            world = World.build(scenario, Streams(1))
            t = time.perf_counter()
            world.run()
            best[name] = min(best[name], time.perf_counter() - t)
            events[name] = world.events
    n = LIFECYCLE_INSTANCES * LIFECYCLE_WINDOWS
    return {name: (n / best[name], events[name]) for name in cases}


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
    rates = control_plane()
    floor = rates["simpy"][0]
    print("control plane")
    print(f"  event loop alone: dcsim's counting loop {loop:10,.0f} events/s against bare SimPy "
          f"{base:10,.0f} events/s = {loop / base:4.2f}× (1,000 processes of timeouts; "
          "no dcsim model code)")
    print(f"  plain SimPy instance lifecycles, no recording (baseline): {floor:9,.0f} "
          f"lifecycles/s (a process each, interrupted at the stop)")
    for name, label in (("bare", "no service"), ("services", "a service per fleet")):
        ours, events = rates[name]
        print(f"  dcsim World, the same {LIFECYCLE_INSTANCES:,} instances × {LIFECYCLE_WINDOWS} "
              f"windows, {label}: {ours:9,.0f} lifecycles/s = {ours / floor:4.2f}× "
              f"(target ≥ 0.5; {events:,} events)")


if __name__ == "__main__":
    main()
