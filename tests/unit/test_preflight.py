"""Preflight estimates: counts computed by hand and counted in real short runs; the refusals."""

from __future__ import annotations

import pytest

from simulator import load_scenario, run
from simulator.preflight import (
    SWEEP_LIMIT_S,
    Estimate,
    check,
    estimate,
    estimate_many,
)
from simulator.scenario.loader import validate_scenario
from tests.conftest import SCENARIOS

GiB = 2**30


def scenario(fleet: dict | None = None, service: dict | None = None, horizon: float = 60.0,
             **output):
    fleet = {"instance_type": "c5.xlarge", "count": 2, "boot_time": 5.0} | (fleet or {})
    service = {"fleet": "web", "arrivals": {"process": "constant", "rate": 100},
               "service_time": {"dist": "fixed", "value": 0.001}} | (service or {})
    return validate_scenario({"name": "pre", "horizon": horizon, "fleets": {"web": fleet},
                              "services": {"api": service}, "output": output}, "test")


def rows(result) -> dict[str, int]:
    return {k: len(v) for k, v in result.tables.items()}


def test_constant_rate_requests_and_rows_match_a_run():
    sc = scenario(requests=True, observe_interval=10.0)
    est = estimate(sc)
    assert est.requests == pytest.approx(6000)
    assert est.rows["requests"] == pytest.approx(6000)
    assert est.rows["service_intervals"] == 6
    got = run(sc)
    assert got.summary["requests"]["arrivals"] == 6000
    for table in ("requests", "service_intervals", "instance_intervals", "volume_intervals",
                  "target_intervals", "scaling_activities", "latency"):
        assert est.rows[table] == rows(got)[table], table


def test_requests_rows_only_when_every_request_is_kept():
    assert estimate(scenario()).rows["requests"] == 0


def test_scheduled_actions_give_exact_launches_and_terminations():
    actions = [{"at": 100, "desired": 5}, {"at": 200, "desired": 1}, {"at": 300, "desired": 3}]
    sc = scenario({"scheduled_actions": actions, "max_size": 8},
                  {"load_balancer": {"deregistration_delay": 0}}, horizon=400.0)
    est = estimate(sc)
    assert (est.launches, est.terminations) == (2 + 3 + 2, 4)
    got = run(sc)
    iv = got.tables["instance_intervals"]
    assert iv["instance_id"].nunique() == est.launches
    assert int((iv["end_cause"] == "scaled_in").sum()) == est.terminations
    for table in ("instance_intervals", "volume_intervals", "scaling_activities",
                  "target_intervals"):
        assert est.rows[table] == rows(got)[table], table


def test_cron_actions_and_health_checks_match_a_run():
    actions = [{"recurrence": "0 * * * *", "desired": 4}, {"recurrence": "30 * * * *",
                                                           "desired": 2}]
    sc = scenario({"scheduled_actions": actions},
                  {"load_balancer": {"health_check": {"interval": 10, "healthy_threshold": 2},
                                     "deregistration_delay": 0}}, horizon=3 * 3600.0)
    est = estimate(sc)
    got = run(sc)
    assert est.launches == got.tables["instance_intervals"]["instance_id"].nunique() == 2 + 2 * 3
    for table in ("instance_intervals", "scaling_activities", "target_intervals"):
        assert est.rows[table] == rows(got)[table], table


def test_run_windows_match_a_run():
    windows = [{"start": 0, "stop": 100}, {"start": 200, "stop": 300}, {"start": 400}]
    sc = scenario({"schedule": windows}, horizon=500.0)
    est = estimate(sc)
    assert (est.launches, est.terminations) == (2, 4)
    got = run(sc)
    for table in ("instance_intervals", "volume_intervals", "scaling_activities",
                  "target_intervals"):
        assert est.rows[table] == rows(got)[table], table


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_bundled_scenario_counts_match_a_test_run(path):
    sc = load_scenario(path, test=True)
    est = estimate(sc)
    got = run(sc)
    arrivals = got.summary["requests"]["arrivals"]
    assert est.requests == pytest.approx(arrivals, rel=0.01)
    assert est.launches == got.tables["instance_intervals"]["instance_id"].nunique()
    for table in ("instance_intervals", "volume_intervals", "scaling_activities",
                  "service_intervals", "latency"):
        assert est.rows[table] == rows(got)[table], table
    assert rows(got)["target_intervals"] / 3 <= est.rows["target_intervals"] \
        <= 3 * rows(got)["target_intervals"]


def test_check_refuses_memory_over_80_percent_of_ram():
    est = Estimate(1e9, 10, 0, 10, {}, peak_bytes=9 * GiB, seconds=10.0)
    problems = check(est, ram_bytes=10 * GiB)
    assert len(problems) == 1
    text = str(problems[0])
    assert "9.0 GiB" in text and "--force" in text and "sketch" in text and "horizon" in text
    assert check(est, ram_bytes=12 * GiB) == []
    assert check(est, ram_bytes=10 * GiB, force=True) == []


def test_check_refuses_over_the_time_limit():
    est = Estimate(1e9, 10, 0, 10, {}, peak_bytes=GiB, seconds=7200.0)
    (problem,) = check(est, ram_bytes=64 * GiB)
    assert "2.0 h" in str(problem) and "--force" in str(problem)
    assert check(est, ram_bytes=64 * GiB, limit_s=SWEEP_LIMIT_S) == []
    assert check(est, ram_bytes=64 * GiB, force=True) == []


def test_a_huge_scenario_is_refused_without_running():
    sc = scenario({"count": 2000}, {"arrivals": {"process": "poisson", "rate": 1e7}},
                  horizon=30 * 86400.0)
    assert len(check(estimate(sc), ram_bytes=24 * GiB)) == 2


def test_estimate_many_sums_a_grid():
    a, b = scenario(), scenario(horizon=120.0)
    grid = estimate_many([a, b, b])
    ea, eb = estimate(a), estimate(b)
    assert grid.runs == 3
    assert grid.requests == pytest.approx(ea.requests + 2 * eb.requests)
    assert grid.seconds == pytest.approx(ea.seconds + 2 * eb.seconds)
    assert grid.peak_bytes == max(ea.peak_bytes, eb.peak_bytes)
    assert grid.rows["service_intervals"] == ea.rows["service_intervals"] + 2 * eb.rows[
        "service_intervals"]
    assert "3 runs" in grid.describe()
    big = Estimate(1, 1, 0, 1, {}, GiB, 2 * SWEEP_LIMIT_S, runs=50)
    (problem,) = check(big, ram_bytes=64 * GiB, limit_s=SWEEP_LIMIT_S)
    assert "sweep" in str(problem) and "replications" in str(problem)


def test_describe_names_every_figure():
    text = estimate(scenario(requests=True)).describe()
    for word in ("6,000 requests", "control events", "launches", "rows:", "requests 6,000",
                 "peak memory", "wall time"):
        assert word in text, word
    assert len(text.splitlines()) <= 4


def test_preflight_knows_where_the_kernel_stops_scanning():
    from simulator import preflight
    from simulator.compute import kernel

    assert preflight.SCAN_MAX == kernel.SCAN_MAX
