"""End-to-end properties of the engine: determinism, interval splitting, common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario, run
from simulator.inputs import parse_yaml
from simulator.scenario.loader import dump_scenario, validate_scenario
from tests.conftest import tiny_scenario


def _load(write_scenario, data, overrides=None):
    return load_scenario(write_scenario(data), overrides)


def _busy(policy="random", **extra):
    """3 × m5.large at utilization ~0.85 with lognormal service, a piecewise peak, per-request output."""
    return tiny_scenario(
        horizon="100 s",
        fleets={"web": {"instance_type": "m5.large", "count": 3, "boot_time": "3 s"}},
        services={
            "api": {
                "fleet": "web",
                "arrivals": {"process": "piecewise", "steps": [{"at": 0, "rate": "100/s"}, {"at": "40 s", "rate": "130/s"}]},
                "service_time": {"dist": "lognormal", "mean": "40 ms", "cv": 1.2},
                "response_size": {"dist": "exponential", "mean": "8 KiB"},
                "load_balancer": {"policy": policy},
            }
        },
        output={"requests": True, "observe_interval": "100 s"},
        **extra,
    )


def _frames_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


def test_same_seed_same_tables_and_summary(write_scenario):
    sc = _load(write_scenario, _busy())
    r1, r2 = run(sc, seed=5), run(sc, seed=5)
    _frames_equal(r1.tables, r2.tables)
    s1 = {k: v for k, v in r1.summary.items() if k != "runtime_s"}
    s2 = {k: v for k, v in r2.summary.items() if k != "runtime_s"}
    assert s1 == s2


def test_different_seed_changes_tables(write_scenario):
    sc = _load(write_scenario, _busy())
    a, b = run(sc, seed=5).tables["requests"], run(sc, seed=6).tables["requests"]
    assert len(a) != len(b) or not np.array_equal(a["arrival_s"], b["arrival_s"])


@pytest.mark.parametrize("policy", ["random", "round_robin", "least_outstanding"])
def test_one_or_hundred_intervals_give_identical_latencies(write_scenario, policy):
    one = run(_load(write_scenario, _busy(policy)), seed=3).tables["requests"]
    hundred = run(_load(write_scenario, _busy(policy), ["output.observe_interval=1 s"]), seed=3).tables["requests"]
    pd.testing.assert_frame_equal(one, hundred, check_exact=True)
    assert len(one) > 10_000


def test_routing_policy_change_keeps_every_arrival_and_service_time(write_scenario):
    tables = {p: run(_load(write_scenario, _busy(p)), seed=9).tables["requests"] for p in ("random", "least_outstanding")}
    a, b = tables["random"], tables["least_outstanding"]
    for col in ("arrival_s", "service_s", "response_bytes"):
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy())
    assert not np.array_equal(a["instance_id"].to_numpy(), b["instance_id"].to_numpy())


def test_fleet_size_change_keeps_arrivals(write_scenario):
    a = run(_load(write_scenario, _busy()), seed=9).tables["requests"]
    b = run(_load(write_scenario, _busy(), ["fleets.web.count=5"]), seed=9).tables["requests"]
    assert np.array_equal(a["arrival_s"].to_numpy(), b["arrival_s"].to_numpy())


def test_requests_before_boot_are_rejected_and_counted(write_scenario):
    result = run(_load(write_scenario, _busy()), seed=1)
    si = result.tables["service_intervals"]
    req = result.tables["requests"]
    rejected = req[req["outcome"] == "rejected"]
    assert si["rejected"].sum() == len(rejected) > 0
    assert rejected["arrival_s"].max() < 3.0 <= req.loc[req["outcome"] == "served", "arrival_s"].min()
    assert rejected["instance_id"].isna().all()
    assert si["arrivals"].sum() == si["served"].sum() + si["rejected"].sum() == len(req)
    assert result.summary["requests"]["rejected"] == si["rejected"].sum()
    assert result.summary["requests"]["rejected_fraction"] == pytest.approx(len(rejected) / len(req))


def test_every_interval_closed_and_no_overlap(write_scenario):
    iv = run(_load(write_scenario, _busy()), seed=1).tables["instance_intervals"]
    assert (iv["end_s"] >= iv["start_s"]).all()
    for _, g in iv.sort_values("start_s").groupby("instance_id"):
        assert np.allclose(g["start_s"].to_numpy()[1:], g["end_s"].to_numpy()[:-1])
        assert g["end_s"].max() == 100.0


def test_constant_arrivals_are_exactly_spaced(write_scenario):
    data = tiny_scenario(
        horizon="10 s",
        services={"api": {"fleet": "web", "arrivals": {"process": "constant", "rate": "8/s"},
                          "service_time": {"dist": "fixed", "value": "100 ms"}}},
        output={"requests": True},
    )
    req = run(_load(write_scenario, data), seed=1).tables["requests"]
    assert np.allclose(req["arrival_s"], np.arange(80) / 8)
    assert np.allclose(req["latency_s"], 0.1)  # 2 instances × 2 vCPUs never queue at 8/s × 0.1 s


def test_resolved_scenario_loads_back_equal(write_scenario):
    sc = _load(write_scenario, _busy())
    again = validate_scenario(parse_yaml(dump_scenario(sc), "resolved"), "resolved")
    assert again == sc


def test_api_defaults_to_scenario_seed(write_scenario):
    sc = _load(write_scenario, _busy(seed=4))
    assert run(sc).seed == 4


def test_sketch_percentiles_stay_within_the_stated_relative_error(write_scenario):
    base = _busy()
    exact = run(_load(write_scenario, base), seed=2)
    sketch = run(_load(write_scenario, base, ["output.latency=sketch"]), seed=2)
    lat = np.sort(exact.tables["requests"]["latency_s"].dropna().to_numpy())
    s = sketch.summary["latency"]
    assert s["method"] == "sketch" and s["relative_error"] == 0.005
    assert exact.summary["latency"]["method"] == "exact"
    for key, q in (("p50_s", 0.5), ("p95_s", 0.95), ("p99_s", 0.99)):
        lower = lat[int(np.floor(q * (len(lat) - 1)))]  # the order statistic the sketch bounds
        assert abs(s[key] - lower) <= 0.005 * lower * (1 + 1e-9)
    assert s["mean_s"] == pytest.approx(exact.summary["latency"]["mean_s"], rel=1e-12)
