"""Observation intervals closed in bulk give the intervals of closing each one at its end.

A target group only marks an interval's end and counts its requests at the next advance
(compute.targets: ``observe``, ``_advance``).  The reference closes every interval at once,
advancing the group at each end as the World used to.  Random scenarios (hypothesis): one
or two services on a fleet, a second fleet, run windows, scheduled scale-out and scale-in
with health checks and draining, periods with no target in service, requests completing
exactly at an interval's end, intervals shorter and longer than the request grid.  Counts, in_system and p99 must be equal; sums equal up to
the order they were added in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine.streams import Streams
from simulator.engine.world import World
from simulator.scenario.loader import validate_scenario

SUMS = {"latency_sum_s", "work_s", "response_bytes", "instances", "vcpus", "bytes", "mean_s"}


@st.composite
def scenarios(draw):
    horizon = draw(st.sampled_from([95, 150, 200]))
    web = {"instance_type": draw(st.sampled_from(["m5.large", "c5.xlarge", "t3.micro"])),
           "count": draw(st.integers(0, 3)), "boot_time": draw(st.sampled_from([0, 3, 11])),
           "scheduled_actions": [{"at": draw(st.integers(5, 60)), "desired": draw(st.integers(0, 4))},
                                 {"at": draw(st.integers(61, 140)), "desired": draw(st.integers(0, 4))}]}
    batch = {"instance_type": "m5.large", "count": draw(st.integers(1, 2)), "boot_time": 2,
             "schedule": [{"start": 0, "stop": horizon // 3}, {"start": horizon // 2}]}
    check = draw(st.sampled_from([None, {"interval": 2, "healthy_threshold": 2}]))
    lb = {"policy": draw(st.sampled_from(["random", "round_robin", "least_outstanding"])),
          "deregistration_delay": draw(st.sampled_from([0, 1.5, 40]))}
    if check:
        lb["health_check"] = check

    def service(fleet, rate, mean):
        return {"fleet": fleet, "arrivals": {"process": "poisson", "rate": rate},
                "service_time": {"dist": "lognormal", "mean": mean, "cv": 1.5},
                "response_size": {"dist": "exponential", "mean": "4 KiB"},
                "load_balancer": lb, "slo": "100 ms"}

    services = {"api": service("web", draw(st.integers(5, 120)), "60 ms"),
                "tick": service("web", 0, "0 s") | {  # completions exactly at interval ends
                    "arrivals": {"process": "constant", "rate": draw(st.sampled_from([4, 10]))},
                    "service_time": {"dist": "fixed", "value": draw(st.sampled_from([0.5, 1]))}},
                "jobs": service("batch", 20, "30 ms")}
    if draw(st.booleans()):
        services["img"] = service("web", draw(st.integers(1, 40)), "200 ms")
    data = {"name": "marks", "horizon": horizon, "fleets": {"web": web, "batch": batch},
            "services": services,
            "output": {"requests": True, "latency": draw(st.sampled_from(["exact", "sketch"])),
                       "observe_interval": draw(st.sampled_from([1, 1.3, 3, 7, 45, 60, 61]))}}
    return validate_scenario(data, "property"), draw(st.integers(0, 2**31))


def tables(scenario, seed: int, eager: bool) -> dict[str, pd.DataFrame]:
    world = World.build(scenario, Streams(seed))
    if eager:  # the reference: advance to every interval's end and close it there
        def at_once(observe):
            def observe_now(now: float, final: bool = False) -> None:
                observe.__self__.advance(now)
                observe(now, final)
            return observe_now
        world.observers[:] = [at_once(observe) for observe in world.observers]
    world.run()
    return world.tables()


def same(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b), name
    for column in a.columns:
        if column in SUMS:
            np.testing.assert_allclose(a[column].to_numpy(), b[column].to_numpy(), rtol=1e-9,
                                       atol=1e-9, err_msg=f"{name}.{column}")
        else:
            pd.testing.assert_series_equal(a[column], b[column], check_exact=True,
                                           obj=f"{name}.{column}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_intervals_closed_in_bulk_are_those_closed_one_by_one(case):
    scenario, seed = case
    bulk, eager = tables(scenario, seed, False), tables(scenario, seed, True)
    key = ["service", "start_s"]
    same(bulk["service_intervals"].sort_values(key, ignore_index=True),
         eager["service_intervals"].sort_values(key, ignore_index=True), "service_intervals")
    same(bulk["transfer"].sort_values(key, ignore_index=True),
         eager["transfer"].sort_values(key, ignore_index=True), "transfer")
    for name in ("latency", "requests", "target_intervals", "instance_intervals"):
        same(bulk[name], eager[name], name)
    assert bulk["service_intervals"]["arrivals"].sum() > 0
