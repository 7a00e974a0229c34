"""Common random numbers across scaling plans: the plan changes who serves, never what arrives.

The same scenario and seed run under two different scheduled-action plans must see the same
requests (arrival times, work and response sizes are drawn on a fixed time grid from their
own streams) and the same boot time for the same launch number (drawn per launch number from
the fleet's own stream), whatever the plan launches, when and in which AZ.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator import run
from simulator.scenario.loader import validate_scenario

SEED = 424242
HORIZON = "30 min"

PLAN_A = [{"name": "up", "at": "5 min", "desired": 6},
          {"name": "down", "at": "20 min", "desired": 3}]
PLAN_B = [{"name": "up", "at": "2 min", "desired": 4},
          {"name": "down", "at": "7 min", "desired": 1},
          {"name": "every-ten", "recurrence": "*/10 * * * *", "start": "9 min", "desired": 8}]


def _scenario(plan: list[dict], count: int):
    data = {
        "name": "crn",
        "horizon": HORIZON,
        "fleets": {"web": {"instance_type": "m5.large", "count": count, "max_size": 10,
                           "volume": None,
                           "boot_time": {"dist": "lognormal", "mean": "60 s", "cv": 0.5},
                           "scheduled_actions": plan}},
        "services": {
            "api": {"fleet": "web", "arrivals": {"process": "poisson", "rate": "120/s"},
                    "service_time": {"dist": "lognormal", "mean": "30 ms", "cv": 1.5},
                    "response_size": {"dist": "exponential", "mean": "8 KiB"},
                    "load_balancer": {"policy": "random",
                                      "health_check": {"interval": "5 s", "healthy_threshold": 2},
                                      "deregistration_delay": "20 s"}},
            "batch": {"fleet": "web", "arrivals": {"process": "poisson", "rate": "30/s"},
                      "service_time": {"dist": "exponential", "mean": "80 ms"},
                      "load_balancer": {"policy": "random",
                                        "health_check": {"interval": "5 s", "healthy_threshold": 2},
                                        "deregistration_delay": "20 s"}},
        },
        "output": {"requests": True, "observe_interval": "1 min"},
    }
    return validate_scenario(data, "crn")


@pytest.fixture(scope="module")
def pair():
    return run(_scenario(PLAN_A, 2), SEED), run(_scenario(PLAN_B, 3), SEED)


def test_the_plans_really_differ(pair):
    a, b = pair
    ia, ib = a.tables["instance_intervals"], b.tables["instance_intervals"]
    assert ia["instance_id"].nunique() != ib["instance_id"].nunique()
    ra, rb = a.tables["requests"], b.tables["requests"]
    # different plans route differently: requests land on different instances
    assert not (ra["instance_id"].astype(str).to_numpy()
                == rb["instance_id"].astype(str).to_numpy()).all()


def test_requests_are_the_same_under_both_plans(pair):
    ra, rb = (r.tables["requests"].sort_values(["arrival_s", "service"], kind="stable")
              for r in pair)
    assert len(ra) == len(rb) > 0
    for column in ("arrival_s", "service_s"):
        np.testing.assert_array_equal(ra[column].to_numpy(), rb[column].to_numpy())
    np.testing.assert_array_equal(ra["service"].astype(str).to_numpy(),
                                  rb["service"].astype(str).to_numpy())


def test_response_sizes_are_the_same_under_both_plans(pair):
    ra, rb = (r.tables["requests"].sort_values(["arrival_s", "service"], kind="stable")
              .reset_index(drop=True) for r in pair)
    served = ((ra["outcome"] == "served") & (rb["outcome"] == "served")).to_numpy()
    assert served.sum() > 0.5 * len(ra)
    np.testing.assert_array_equal(ra["response_bytes"].to_numpy()[served],
                                  rb["response_bytes"].to_numpy()[served])
    # the api service draws sizes; a request not served sends nothing back
    for r in (ra, rb):
        assert (r.loc[r["outcome"] != "served", "response_bytes"] == 0).all()


def test_boot_time_depends_on_the_launch_number_only(pair):
    def boots(result):
        iv = result.tables["instance_intervals"]
        pending = iv[(iv["state"] == "pending") & (iv["end_cause"] == "booted")]
        return {int(k): e - s for k, s, e in zip(pending["launch"], pending["start_s"],
                                                  pending["end_s"], strict=True)}

    ba, bb = (boots(r) for r in pair)
    common = sorted(set(ba) & set(bb))
    assert len(common) >= 4
    for k in common:
        assert ba[k] == pytest.approx(bb[k], rel=1e-12, abs=1e-9), f"launch {k}"
    # boot times vary from launch to launch (a distribution, not one value)
    assert len({round(ba[k], 9) for k in common}) == len(common)
