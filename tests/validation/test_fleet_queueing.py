"""The whole engine (scenario -> World -> tables) against queueing closed forms.

Statistical policy: one fixed seed per test; the tolerance is fixed in advance from the model
(never from what a seed gave) and each test also asserts that 3.3 batch-means standard errors
fit inside it, so a correct model fails less than 1 time in 1,000 and an underpowered test
cannot pass silently.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator import load_scenario, run
from simulator.compute.queueing import erlang_c, mmc_mean_response
from simulator.experiments.stats import batch_means
from tests.conftest import tiny_scenario

N, C = 4, 4  # 4 × m5.xlarge (4 vCPUs each)
MEAN_S = 0.01
MU = 1 / MEAN_S
RHO = 0.8
LAM_TOTAL = RHO * N * C * MU  # 1280 requests/s
HORIZON = 3000.0


def _scenario(write_scenario, policy: str, **extra):
    data = tiny_scenario(
        horizon=HORIZON,
        fleets={"web": {"instance_type": "m5.xlarge", "count": N, "volume": None}},
        services={
            "api": {
                "fleet": "web",
                "arrivals": {"process": "poisson", "rate": LAM_TOTAL},
                "service_time": {"dist": "exponential", "mean": MEAN_S},
                "load_balancer": {"policy": policy},
                "slo": 0.05,
            }
        },
        output={"requests": True, "observe_interval": 1.0},
        **extra,
    )
    return load_scenario(write_scenario(data))


@pytest.fixture(scope="module")
def random_run(tmp_path_factory):
    import yaml

    path = tmp_path_factory.mktemp("rand") / "s.yaml"

    def write(data):
        path.write_text(yaml.safe_dump(data))
        return path

    return run(_scenario(write, "random"), seed=20261122)


def test_random_routing_mean_response_is_erlang_c(random_run):
    req = random_run.tables["requests"].sort_values("arrival_s")
    exact = mmc_mean_response(LAM_TOTAL / N, MU, C)
    est = batch_means(req["latency_s"].to_numpy())
    tol = 0.03 * exact
    assert 3.3 * est.se < tol, f"underpowered: se={est.se:.2e}"
    assert abs(est.mean - exact) < tol


def test_random_routing_probability_of_waiting_is_erlang_c(random_run):
    req = random_run.tables["requests"].sort_values("arrival_s")
    waited = (req["start_s"] > req["arrival_s"]).to_numpy(dtype=float)
    exact = erlang_c(C, LAM_TOTAL / N / MU)
    est = batch_means(waited)
    tol = 0.02  # absolute, on a probability of about 0.6
    assert 3.3 * est.se < tol, f"underpowered: se={est.se:.2e}"
    assert abs(est.mean - exact) < tol


def test_littles_law_on_the_output(random_run):
    """L (requests in system sampled every second) = λ W (measured arrivals and latencies)."""
    si = random_run.tables["service_intervals"]
    lam = si["arrivals"].sum() / HORIZON
    w = random_run.summary["latency"]["mean_s"]
    est = batch_means(si["in_system"].to_numpy())
    tol = 0.04 * lam * w
    assert 3.3 * est.se < tol, f"underpowered: se={est.se:.3f}"
    assert abs(est.mean - lam * w) < tol


def test_summary_matches_the_request_table(random_run):
    req = random_run.tables["requests"]
    lat = random_run.summary["latency"]
    assert lat["requests"] == len(req)
    assert lat["mean_s"] == pytest.approx(req["latency_s"].mean(), rel=1e-9)
    assert lat["p99_s"] == pytest.approx(np.quantile(req["latency_s"], 0.99), rel=1e-12)
    assert lat["slo_violation_fraction"] == pytest.approx((req["latency_s"] > 0.05).mean(), rel=1e-12)


@pytest.mark.parametrize("policy", ["least_outstanding", "power_of_two_choices"])
def test_informed_routing_lies_between_pooled_and_split(write_scenario, policy):
    """Routing that looks at the queues does better than a random split and no better than
    one pooled queue: pooled M/M/16 <= policy < four M/M/4 (strictly: by 3.3 standard
    errors, so a policy no better than random fails)."""
    result = run(_scenario(write_scenario, policy), seed=7)
    req = result.tables["requests"].sort_values("arrival_s")
    est = batch_means(req["latency_s"].to_numpy())
    pooled = mmc_mean_response(LAM_TOTAL, MU, N * C)
    split = mmc_mean_response(LAM_TOTAL / N, MU, C)
    assert 3.3 * est.se < 0.02 * pooled
    assert pooled - 3.3 * est.se < est.mean < split - 3.3 * est.se
