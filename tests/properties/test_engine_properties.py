"""Invariants of whole runs over random small scenarios (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine.runner import run
from simulator.scenario.loader import validate_scenario

POLICIES = ["random", "round_robin", "least_outstanding"]


@st.composite
def scenarios(draw):
    horizon = draw(st.integers(30, 240))
    count = draw(st.integers(1, 4))
    boot = draw(st.sampled_from([0, 5, 20]))
    windows = draw(st.sampled_from([None, [{"start": 0, "stop": horizon // 3}, {"start": horizon // 2}]]))
    fleet = {"instance_type": draw(st.sampled_from(["m5.large", "c5.xlarge", "t3.micro"])),
             "count": count, "boot_time": boot}
    if windows:
        fleet["schedule"] = windows
    service_time = draw(st.sampled_from([
        {"dist": "exponential", "mean": "30 ms"},
        {"dist": "lognormal", "mean": "50 ms", "cv": 2.0},
        {"dist": "fixed", "value": "20 ms"},
    ]))
    data = {
        "name": "prop",
        "horizon": horizon,
        "fleets": {"web": fleet},
        "services": {"api": {
            "fleet": "web",
            "arrivals": {"process": "poisson", "rate": draw(st.integers(1, 150))},
            "service_time": service_time,
            "response_size": {"dist": "exponential", "mean": "4 KiB"},
            "load_balancer": {"policy": draw(st.sampled_from(POLICIES))},
        }},
        "output": {"requests": True, "observe_interval": draw(st.sampled_from([7, 30, 60]))},
    }
    return validate_scenario(data, "property"), draw(st.integers(0, 2**31))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_run_invariants(case):
    scenario, seed = case
    result = run(scenario, seed)
    t = result.tables
    horizon = scenario.horizon

    # every instance interval is closed, ordered and contiguous from launch to the horizon
    iv = t["instance_intervals"]
    assert (iv["end_s"] >= iv["start_s"]).all()
    for _, g in iv.groupby("instance_id"):
        g = g.sort_values("start_s")
        assert np.allclose(g["start_s"].to_numpy()[1:], g["end_s"].to_numpy()[:-1])
        assert g["end_s"].iloc[-1] == horizon

    # requests: conservation, causality, FCFS per server never over capacity
    si, every = t["service_intervals"], t["requests"]
    assert si["arrivals"].sum() == si["served"].sum() + si["rejected"].sum() + si["failed"].sum() == len(every)
    assert (every["outcome"] == "served").sum() == si["served"].sum()
    req = every[every["outcome"] == "served"]
    assert (req["start_s"] >= req["arrival_s"]).all()
    assert np.allclose(req["done_s"] - req["start_s"], req["service_s"])
    vcpus = {i: n for i, n in zip(iv["instance_id"], iv["instance_type"].map(
        {"m5.large": 2, "c5.xlarge": 4, "t3.micro": 2}), strict=True)}
    for inst, g in req.groupby("instance_id", observed=True):
        # at any service start, at most vCPU-many requests are in service on that instance
        starts, dones = np.sort(g["start_s"].to_numpy()), np.sort(g["done_s"].to_numpy())
        busy = np.arange(1, len(starts) + 1) - np.searchsorted(dones, starts, side="right")
        assert busy.max() <= vcpus[inst]

    # requests are only served by instances that were running when they arrived
    running = iv[iv["state"] == "running"]
    for inst, g in req.groupby("instance_id", observed=True):
        spans = running[running["instance_id"] == inst][["start_s", "end_s"]].to_numpy()
        a = g["arrival_s"].to_numpy()
        inside = np.zeros(len(a), dtype=bool)
        for lo, hi in spans:
            inside |= (a >= lo) & (a < hi)
        assert inside.all()

    # billing: every running entry pays at least the 60 s minimum, never less than used
    cost = result.summary["cost"]
    assert cost["total_usd"] >= cost["by_service"]["ec2"] >= 0
    entries = len(running.groupby("instance_id").size())
    assert cost["by_service"]["ec2"] > 0 or entries == 0

    # same seed, same summary
    again = run(scenario, seed).summary
    assert {k: v for k, v in again.items() if k != "runtime_s"} == {
        k: v for k, v in result.summary.items() if k != "runtime_s"}
