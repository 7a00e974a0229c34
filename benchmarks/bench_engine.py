"""Control plane and engine: lifecycles/s with and without services, the cost of an
observation interval, and the event loop, each against a baseline measured in the same run.

1. Control-plane lifecycles/s of the World (1,000 instances started and stopped by run
   windows, without and with a service on every fleet) against plain SimPy doing the same
   lifecycles with a process per instance, under the same collector policy, each the best of
   3, alternated — target ≥ 0.5× with services.
2. The cost of one observation interval: the quick start's fleet and service over an hour
   with 1 s intervals against the same with 60 s intervals, per extra interval, each the
   best of 5, alternated (an interval's end is only marked; its requests are counted in
   bulk at the next advance, so the extra interval costs its counting, p99 and rows).
3. The event loop alone: dcsim's counting loop against bare SimPy on the same processes of
   timeouts (no goal: it holds no model code).
"""

from __future__ import annotations

import gc
import sys
import time

import simpy

from benchmarks.table import Row, render
from simulator.engine.streams import Streams
from simulator.engine.world import CountingEnvironment, World
from simulator.gcpolicy import rare_collections
from simulator.scenario.loader import validate_scenario


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


def control_plane_scenario(services: bool, n_windows: int = LIFECYCLE_WINDOWS):
    """1,000 instances (10 fleets of 100) started and stopped by 60 run windows (60 s on, 30 s
    off, 20 s boot); with services, one per fleet as the quick start's (Poisson 10/s,
    lognormal 40 ms service, lognormal 32 KiB responses, round robin)."""
    windows = [{"start": k * 90, "stop": k * 90 + 60} for k in range(n_windows)]
    data = {
        "name": "bench-control",
        "horizon": n_windows * 90,
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


def control_plane(repeats: int = 3, windows: int = LIFECYCLE_WINDOWS
                  ) -> dict[str, tuple[float, int]]:
    """Lifecycles/s (and events) of plain SimPy and of the World without and with services,
    each the best of `repeats`, the three alternated within each repeat.

    The World runs as a user's run does (``World.run``: the event loop, then the open
    intervals closed; tables and billing excluded); SimPy runs under the same collector
    policy (``rare_collections``), which doubles its rate: a baseline left to the default
    collector would flatter the figure."""
    cases = {"simpy": None, "bare": control_plane_scenario(False, windows),
             "services": control_plane_scenario(True, windows)}
    best = dict.fromkeys(cases, float("inf"))
    events = dict.fromkeys(cases, 0)
    for _ in range(repeats):
        for name, scenario in cases.items():
            gc.collect()
            if scenario is None:
                with rare_collections():
                    t = time.perf_counter()
                    simpy_lifecycles(windows=windows)
                    best[name] = min(best[name], time.perf_counter() - t)
                continue
            world = World.build(scenario, Streams(1))
            t = time.perf_counter()
            world.run()
            best[name] = min(best[name], time.perf_counter() - t)
            events[name] = world.events
    n = LIFECYCLE_INSTANCES * windows
    return {name: (n / best[name], events[name]) for name in cases}


def interval_scenario(observe_s: float, horizon: float):
    """The quick start's fleet and service (8 × 4 vCPUs, 400 requests/s) without its peak."""
    return validate_scenario({
        "name": "bench-intervals", "horizon": horizon,
        "fleets": {"web": {"instance_type": "m5.xlarge", "count": 8}},
        "services": {"api": {
            "fleet": "web", "arrivals": {"process": "poisson", "rate": 400.0},
            "service_time": {"dist": "lognormal", "mean": 0.04, "cv": 1.0},
            "response_size": {"dist": "lognormal", "mean": 32768, "cv": 1.0},
            "load_balancer": {"policy": "least_outstanding"}}},
        "output": {"observe_interval": observe_s, "latency": "sketch"},
    }, "bench")


def interval_cost(horizon: float = 3600.0, repeats: int = 5) -> float:
    """Seconds per extra observation interval (1 s against 60 s intervals, best of `repeats`
    each, alternated)."""
    cases = {1.0: interval_scenario(1.0, horizon), 60.0: interval_scenario(60.0, horizon)}
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeats):
        for key, scenario in cases.items():
            gc.collect()
            world = World.build(scenario, Streams(1))
            t = time.perf_counter()
            world.run()
            best[key] = min(best[key], time.perf_counter() - t)
    return (best[1.0] - best[60.0]) / (horizon / 1.0 - horizon / 60.0)


def rows(quick: bool = False) -> list[Row]:
    windows = 20 if quick else LIFECYCLE_WINDOWS
    rates = control_plane(5, windows)
    floor = rates["simpy"][0]
    out = []
    for name, label in (("bare", "no service"), ("services", "a service per fleet")):
        ours, events = rates[name]
        out.append(Row("control plane", f"World lifecycles, 1,000 instances × {windows} windows, "
                       f"{label}", ours, "lifecycles/s",
                       "plain SimPy, the same lifecycles", floor,
                       min_ratio=0.5 if name == "services" else None, note=f"{events:,} events"))
    per = interval_cost(3600.0)  # an hour in both: 3,540 extra intervals, above the noise
    out.append(Row("control plane", "one observation interval (quick-start service)", per * 1e6,
                   "µs", max_value=20.0,
                   note="1 s against 60 s intervals; includes its rows"))
    base = bare_simpy_events()
    loop = bare_simpy_events(env_type=CountingEnvironment)
    out.append(Row("event loop", "dcsim counting loop, 1,000 processes of timeouts", loop,
                   "events/s", "bare SimPy, the same processes", base))
    return out


def main() -> None:
    print(render(rows("--quick" in sys.argv)))


if __name__ == "__main__":
    main()
