"""Two services on one fleet share its vCPUs: one pooled M/M/c queue (Erlang C at λ1 + λ2).

One m5.xlarge (c = 4 vCPUs) serves two Poisson streams, λ1 = 240/s and λ2 = 80/s, both with
exponential work of mean 10 ms (μ = 100/s per vCPU).  Requests of both services wait in the
same FCFS queue for the same 4 servers, so the merged stream (Poisson at λ = 320/s, ρ = 0.8)
sees M/M/4, and by PASTA each service's requests see its time-average state: each service's
mean response time and probability of waiting are those of M/M/4 at the summed rate, and the
fleet's utilization is λ / (c μ).  Were the services queued apart (the bug this guards), each
would look like M/M/4 at its own rate: 11.9 ms and 10.0 ms instead of 17.5 ms.

Statistical policy as in test_fleet_queueing.py: one fixed seed; tolerances fixed in advance
from the model; each test asserts that 3.3 batch-means standard errors fit inside its tolerance.
"""

from __future__ import annotations

import pytest

from simulator import run
from simulator.compute.queueing import erlang_c, mmc_mean_response
from simulator.experiments.stats import batch_means
from simulator.scenario.loader import validate_scenario

C = 4  # m5.xlarge vCPUs, one instance
MEAN_S = 0.01
MU = 1 / MEAN_S
LAM = {"big": 240.0, "small": 80.0}
LAM_TOTAL = sum(LAM.values())  # 320/s: rho = 0.8
HORIZON = 4000.0
MEAN_TOL = 0.03  # relative, on the mean response time
WAIT_TOL = 0.02  # absolute, on a probability of about 0.6
UTIL_TOL = 0.01  # absolute, on a utilization of 0.8


def _scenario(rates: dict[str, float], horizon: float = HORIZON):
    services = {name: {"fleet": "web", "arrivals": {"process": "poisson", "rate": lam},
                       "service_time": {"dist": "exponential", "mean": MEAN_S},
                       "load_balancer": {"policy": "round_robin"}, "slo": 0.05}
                for name, lam in rates.items()}
    data = {"name": "shared", "horizon": horizon,
            "fleets": {"web": {"instance_type": "m5.xlarge", "count": 1, "volume": None}},
            "services": services, "output": {"requests": True, "observe_interval": 1.0}}
    return validate_scenario(data, "shared")


@pytest.fixture(scope="module")
def shared():
    return run(_scenario(LAM), seed=20261123)


def _service(result, name):
    req = result.tables["requests"]
    return req[req["service"] == name].sort_values("arrival_s")


def test_one_instance_serves_both_services(shared):
    req = shared.tables["requests"]
    assert set(req["service"]) == set(LAM)
    assert (req["outcome"] == "served").all()
    assert set(req["instance_id"]) == {"i-web-0000"}
    assert shared.summary["fleet"]["instances"] == 1


@pytest.mark.parametrize("name", list(LAM))
def test_each_service_mean_response_is_erlang_c_at_the_summed_rate(shared, name):
    exact = mmc_mean_response(LAM_TOTAL, MU, C)
    est = batch_means(_service(shared, name)["latency_s"].to_numpy())
    tol = MEAN_TOL * exact
    assert 3.3 * est.se < tol, f"underpowered: se={est.se:.2e}"
    assert abs(est.mean - exact) < tol
    # the bug it guards: a queue of its own would give M/M/4 at the service's own rate
    alone = mmc_mean_response(LAM[name], MU, C)
    assert abs(exact - alone) > 5 * tol
    assert abs(est.mean - alone) > 4 * tol


@pytest.mark.parametrize("name", list(LAM))
def test_each_service_probability_of_waiting_is_erlang_c_at_the_summed_rate(shared, name):
    req = _service(shared, name)
    waited = (req["start_s"] > req["arrival_s"]).to_numpy(dtype=float)
    exact = erlang_c(C, LAM_TOTAL / MU)
    est = batch_means(waited)
    assert 3.3 * est.se < WAIT_TOL, f"underpowered: se={est.se:.2e}"
    assert abs(est.mean - exact) < WAIT_TOL
    alone = erlang_c(C, LAM[name] / MU)
    assert abs(est.mean - alone) > 5 * WAIT_TOL


def test_fleet_utilization_is_the_summed_load(shared):
    exact = LAM_TOTAL / (C * MU)
    si = shared.tables["service_intervals"]
    per = si.groupby("start_s").agg(work=("work_s", "sum"), vcpus=("vcpus", "first"),
                                    end=("end_s", "first"))
    assert (per["vcpus"] == C).all()  # both services see the one instance's 4 vCPUs
    series = per["work"] / (per["vcpus"] * (per["end"] - per.index))
    est = batch_means(series.to_numpy())
    assert 3.3 * est.se < UTIL_TOL, f"underpowered: se={est.se:.2e}"
    utilization = shared.summary["fleet"]["mean_utilization"]
    assert abs(utilization - exact) < UTIL_TOL
    assert shared.summary["fleet"]["by_fleet"]["web"]["mean_utilization"] == utilization
    # the summary is exactly the work over the in-service vCPU-seconds
    assert utilization == pytest.approx(si["work_s"].sum() / (C * HORIZON), rel=1e-9)


def test_control_a_service_alone_is_erlang_c_at_its_own_rate():
    """The same small stream without its neighbour: M/M/4 at 80/s (about 10.0 ms)."""
    result = run(_scenario({"small": LAM["small"]}, horizon=2000.0), seed=20261124)
    exact = mmc_mean_response(LAM["small"], MU, C)
    est = batch_means(_service(result, "small")["latency_s"].to_numpy())
    tol = MEAN_TOL * exact
    assert 3.3 * est.se < tol, f"underpowered: se={est.se:.2e}"
    assert abs(est.mean - exact) < tol
