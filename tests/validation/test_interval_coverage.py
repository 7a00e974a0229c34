"""Coverage of the sweep's 95% confidence intervals, tested on its own.

600 independent repetitions (the issue asks for at least 400) of an M/M/c experiment
(1 × m5.xlarge = 4 servers, ρ = 0.5), each of 4 replications whose mean response times give a
Student t interval with the same function the sweep aggregation uses.  A correct interval covers
the Erlang C mean in 95% of repetitions; the fraction observed over 600 has standard error
sqrt(0.95 × 0.05 / 600) = 0.0089, so the band [0.92, 0.98], fixed in advance, is ±3.4 standard
errors (a correct model fails less than 1 time in 1,000; with 400 repetitions it would be only
±2.7).  Warm-up bias is negligible: the relaxation time at ρ = 0.5 is a few service times
against a 200 s horizon with about 4,000 requests per replication.
"""

from __future__ import annotations

import numpy as np

from simulator.compute.queueing import mmc_mean_response
from simulator.engine.runner import run
from simulator.experiments.spec import replication_seed
from simulator.experiments.stats import t_interval
from simulator.scenario.loader import validate_scenario

REPETITIONS, REPLICATIONS = 600, 4
LAM, MU, C = 20.0, 10.0, 4


def test_95_percent_intervals_cover_the_erlang_c_mean():
    scenario = validate_scenario(
        {
            "name": "mmc",
            "horizon": 200,
            "fleets": {"w": {"instance_type": "m5.xlarge", "count": 1, "volume": None}},
            "services": {"a": {"fleet": "w", "arrivals": {"process": "poisson", "rate": LAM},
                               "service_time": {"dist": "exponential", "mean": 1 / MU}}},
        },
        "coverage",
    )
    exact = mmc_mean_response(LAM, MU, C)
    means = np.array([
        run(scenario, replication_seed(20261122, i)).summary["latency"]["mean_s"]
        for i in range(REPETITIONS * REPLICATIONS)
    ]).reshape(REPETITIONS, REPLICATIONS)
    covered = [t_interval(row).covers(exact) for row in means]
    fraction = float(np.mean(covered))
    assert 0.92 <= fraction <= 0.98, f"coverage {fraction:.3f}"
