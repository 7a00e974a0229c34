"""Invariants of runs whose population changes while they run (hypothesis).

Random small scenarios: a fleet scaled by scheduled actions (one-time and a cron recurrence),
optional health checks, a random deregistration delay and routing policy, one or two services
sharing the fleet, every request recorded.  Whatever the plan, every request ends exactly one
way, is only taken by an instance in service, and instances live one contiguous life.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine.runner import run
from simulator.scenario.loader import validate_scenario

POLICIES = ["random", "round_robin", "least_outstanding"]
MAX_SIZE = 5
EPS = 1e-9


@st.composite
def scenarios(draw):
    horizon = draw(st.integers(60, 300))
    count = draw(st.integers(0, 3))
    cron = draw(st.sampled_from([None, "*/1 * * * *", "*/2 * * * *"]))
    # one-time actions at distinct times, never on a whole minute when a cron runs (collisions)
    times = draw(st.lists(st.integers(1, horizon - 1).filter(lambda t: cron is None or t % 60),
                          max_size=5, unique=True))
    actions = [{"at": f"{t} s", "desired": draw(st.integers(0, MAX_SIZE))} for t in sorted(times)]
    if cron is not None:
        actions.append({"name": "cron", "recurrence": cron, "start": "1 s",
                        "desired": draw(st.integers(0, MAX_SIZE))})
    if not actions:
        actions = [{"at": f"{horizon // 2} s", "desired": draw(st.integers(0, MAX_SIZE))}]
    boot = draw(st.sampled_from([0, 3, 12.5, {"dist": "lognormal", "mean": "10 s", "cv": 0.5}]))
    fleet = {"instance_type": draw(st.sampled_from(["m5.large", "c5.xlarge", "t3.micro"])),
             "count": count, "max_size": MAX_SIZE, "boot_time": boot, "volume": None,
             "scheduled_actions": actions}
    lb = {"policy": draw(st.sampled_from(POLICIES)),
          "deregistration_delay": f"{draw(st.integers(0, 60))} s"}
    if draw(st.booleans()):
        lb["health_check"] = {"interval": f"{draw(st.integers(1, 10))} s",
                              "healthy_threshold": draw(st.integers(1, 3))}
    service_time = draw(st.sampled_from([
        {"dist": "exponential", "mean": "30 ms"},
        {"dist": "lognormal", "mean": "200 ms", "cv": 2.0},
        {"dist": "fixed", "value": "1 s"},
    ]))
    services = {"api": {"fleet": "web",
                        "arrivals": {"process": "poisson", "rate": draw(st.integers(1, 150))},
                        "service_time": service_time,
                        "response_size": {"dist": "exponential", "mean": "4 KiB"},
                        "load_balancer": lb}}
    if draw(st.booleans()):
        services["other"] = {"fleet": "web",
                             "arrivals": {"process": "poisson", "rate": draw(st.integers(1, 50))},
                             "service_time": {"dist": "exponential", "mean": "50 ms"},
                             "load_balancer": lb}
    data = {"name": "population", "horizon": horizon, "fleets": {"web": fleet},
            "services": services,
            "output": {"requests": True, "observe_interval": draw(st.sampled_from([7, 30, 60]))}}
    return validate_scenario(data, "property"), draw(st.integers(0, 2**31))


def _spans(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {str(i): g[["start_s", "end_s"]].to_numpy() for i, g in frame.groupby("instance_id")}


def _inside(t: np.ndarray, spans: np.ndarray) -> np.ndarray:
    hit = np.zeros(len(t), dtype=bool)
    for lo, hi in spans:
        hit |= (t >= lo) & (t < hi)
    return hit


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_population_invariants(case):
    scenario, seed = case
    result = run(scenario, seed)
    t = result.tables
    horizon = scenario.horizon
    lb = next(iter(scenario.services.values())).load_balancer
    iv, tg = t["instance_intervals"], t["target_intervals"]
    req, si = t["requests"], t["service_intervals"]

    # every request ends exactly one way, and the counts match the interval table
    assert set(req["outcome"].astype(str)) <= {"served", "failed", "rejected"}
    assert si["arrivals"].sum() == len(req)
    for outcome, column in (("served", "served"), ("failed", "failed"), ("rejected", "rejected")):
        assert (req["outcome"] == outcome).sum() == si[column].sum()
    # per service, arrivals and rejections by arrival interval [start, end); served and failed
    # by the interval in which they complete or are cut (the last one also takes what settles
    # after the horizon; one completing exactly on a boundary may count on either side of it)
    for name in scenario.services:
        mine = req[req["service"] == name]
        rows = si[si["service"] == name].sort_values("start_s")
        assert rows["arrivals"].sum() == len(mine)
        assert rows["served"].sum() + rows["rejected"].sum() + rows["failed"].sum() == len(mine)
        edges = np.append(rows["start_s"].to_numpy(), np.inf)
        arrived = np.histogram(mine["arrival_s"], bins=edges)[0]
        assert (rows["arrivals"].to_numpy() == arrived).all()
        rej = mine[mine["outcome"] == "rejected"]
        assert (rows["rejected"].to_numpy() == np.histogram(rej["arrival_s"], bins=edges)[0]).all()
        inner = rows["end_s"].to_numpy()[:-1]
        for outcome in ("served", "failed"):
            done = mine.loc[mine["outcome"] == outcome, "done_s"].to_numpy()
            got = rows[outcome].to_numpy()
            on_edge = np.isin(done, inner)
            strict = np.bincount(np.searchsorted(inner, done[~on_edge]), minlength=len(rows))
            # edge[k]: completions on the boundary between intervals k - 1 and k
            edge = np.bincount(np.searchsorted(inner, done[on_edge]) + 1, minlength=len(rows) + 1)
            assert got.sum() == len(done), outcome
            assert (strict <= got).all() and (got <= strict + edge[:-1] + edge[1:]).all(), outcome
    summary = result.summary["requests"]
    assert (summary["arrivals"], summary["served"], summary["rejected"], summary["failed"]) == (
        len(req), (req["outcome"] == "served").sum(), (req["outcome"] == "rejected").sum(),
        (req["outcome"] == "failed").sum())

    # every instance lives one closed, contiguous life from launch to termination or the horizon
    assert (iv["end_s"] >= iv["start_s"]).all()
    launch_times = set(t["scaling_activities"]["time_s"])
    ended: dict[str, float] = {}
    for inst, g in iv.groupby("instance_id"):
        g = g.sort_values("start_s", kind="stable")  # ties (0 s boot) in record order
        assert g["start_s"].iloc[0] in launch_times, inst
        assert g["state"].iloc[0] == "pending"
        assert (g["start_s"].to_numpy()[1:] == g["end_s"].to_numpy()[:-1]).all(), inst
        assert list(g["state"]) in (["pending"], ["pending", "running"]), inst
        last = g.iloc[-1]
        if last["end_cause"] == "end_of_run":
            assert last["end_s"] == horizon
        else:
            assert last["end_cause"] == "scaled_in", inst
            assert last["end_s"] < horizon
            ended[str(inst)] = float(last["end_s"])

    # health checks: in service exactly interval × threshold after running (or at once)
    running = iv[iv["state"] == "running"].set_index("instance_id")
    healthy = tg[tg["state"] == "healthy"]
    assert tg["instance_id"].isin(running.index).all()
    first_healthy = healthy.groupby("instance_id")["start_s"].min()
    for inst, t0 in first_healthy.items():
        delay = 0.0 if lb.health_check is None else (lb.health_check.interval
                                                     * lb.health_check.healthy_threshold)
        assert abs(t0 - (running.loc[inst, "start_s"] + delay)) < EPS, inst
    assert (tg["end_s"] >= tg["start_s"]).all()

    # no request was taken by an instance that was not in service when it arrived
    in_service = _spans(healthy)
    accepted = req[req["outcome"] != "rejected"]
    for inst, g in accepted.groupby("instance_id", observed=True):
        assert str(inst) in in_service, inst
        assert _inside(g["arrival_s"].to_numpy(), in_service[str(inst)]).all(), inst
    # and a request was rejected only when no target was in service
    rejected = req[req["outcome"] == "rejected"]
    assert rejected["instance_id"].isna().all()
    every = np.concatenate(list(in_service.values())) if in_service else np.empty((0, 2))
    assert not _inside(rejected["arrival_s"].to_numpy(), every).any()

    # scale-in of a running instance deregisters it; it ends at min(last completion it holds,
    # deregistration + delay), or at once when it holds nothing
    for inst, end in ended.items():
        stays = tg[tg["instance_id"] == inst].sort_values("start_s", kind="stable")
        if inst not in running.index:
            assert stays.empty, inst  # ended while pending: never a target
            continue
        assert len(stays) > 0 and stays["end_s"].iloc[-1] == end, inst
        # deregistered when it started draining (a stay of no length may be left out)
        drain = stays[stays["state"] == "draining"]
        assert len(drain) <= 1 and (stays["state"] != "draining").iloc[:-1].all(), inst
        t_dereg = drain["start_s"].iloc[0] if len(drain) else end
        if len(drain) == 0:
            assert stays["end_cause"].iloc[-1] == "deregistered", inst
        mine = accepted[accepted["instance_id"] == inst]
        last = max([t_dereg, *(mine["start_s"] + mine["service_s"])])
        expected = min(last, t_dereg + lb.deregistration_delay)
        assert abs(end - expected) < EPS * max(1.0, end), inst

    # a terminated instance completed every request it served by its termination
    served = req[req["outcome"] == "served"]
    assert (served["start_s"] >= served["arrival_s"]).all()
    assert np.allclose(served["done_s"] - served["start_s"], served["service_s"])
    for inst, g in served.groupby("instance_id", observed=True):
        if str(inst) in ended:
            assert (g["done_s"] <= ended[str(inst)]).all(), inst

    # failed requests were cut when their instance ended, before they would have completed
    failed = req[req["outcome"] == "failed"]
    draining_at_end = tg[(tg["state"] == "draining") & (tg["end_cause"] == "end_of_run")]
    for inst, g in failed.groupby("instance_id", observed=True):
        would_finish = (g["start_s"] + g["service_s"]).to_numpy()
        cut = g["done_s"].to_numpy()
        assert (cut < would_finish).all(), inst
        if str(inst) in ended:
            assert (cut == ended[str(inst)]).all(), inst
        else:
            # still draining at the horizon: cut when its deregistration delay runs out
            mine = draining_at_end[draining_at_end["instance_id"] == inst]
            assert len(mine) == 1, inst
            assert np.allclose(cut, mine["start_s"].iloc[0] + lb.deregistration_delay), inst

    # same seed, same summary
    again = run(scenario, seed).summary
    assert {k: v for k, v in again.items() if k != "runtime_s"} == {
        k: v for k, v in result.summary.items() if k != "runtime_s"}
