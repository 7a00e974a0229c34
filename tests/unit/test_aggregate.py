"""Aggregation: t intervals, paired differences, Pareto front and the goal's answer, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.experiments.aggregate import (
    baseline_cell,
    best_cell,
    cell_stats,
    flatten,
    paired_differences,
    pareto_front,
    run_table,
)
from simulator.experiments.spec import Goal
from simulator.experiments.stats import batch_means, t_interval


def test_t_interval_hand_computed():
    est = t_interval([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, sd 1.29099, se 0.645497, t(0.975, 3) = 3.182446
    assert est.mean == 2.5
    assert est.se == pytest.approx(0.6454972, rel=1e-6)
    assert est.high - est.mean == pytest.approx(3.182446 * 0.6454972, rel=1e-6)


def test_batch_means_of_iid_values_match_the_plain_se():
    x = np.random.default_rng(1).normal(10, 2, 30_000)
    est = batch_means(x, batches=30, warmup=0.0)
    assert est.mean == pytest.approx(x.mean())
    # se of the mean is 2/sqrt(30000) = 0.01155; the batch estimate has 29 df (sd of it ~13%)
    assert 0.6 * 0.01155 < est.se < 1.4 * 0.01155


def _records():
    out = []
    for cell, (count, base_cost) in enumerate([(2, 10.0), (3, 15.0)]):
        for r in range(3):
            out.append({"run_id": f"c{cell}-r{r}", "cell": cell, "replication": r, "seed": 100 + r,
                        "params": {"n": count},
                        "summary": {"cost": {"total_usd": base_cost + r}, "latency": {"p99_s": 1.0 / count + 0.1 * r},
                                    "versions": {"x": "1"}, "seed": 100 + r},
                        "error": None})
    return out


def test_flatten_and_run_table():
    assert flatten({"a": {"b": 1, "c": [0.1, 0.2]}, "d": "x"}) == {"a.b": 1, "a.c.low": 0.1, "a.c.high": 0.2, "d": "x"}
    runs = run_table(_records(), ["n"])
    assert list(runs.columns[:5]) == ["run_id", "cell", "replication", "seed", "n"]
    assert "versions.x" not in runs
    assert runs["cost.total_usd"].tolist() == [10, 11, 12, 15, 16, 17]


def test_cell_stats_and_paired_differences_hand_computed():
    runs = run_table(_records(), ["n"])
    cells = cell_stats(runs, ["n"])
    cost = cells[cells.metric == "cost.total_usd"].set_index("cell")
    assert cost.loc[0, "mean"] == 11 and cost.loc[1, "mean"] == 16
    diffs = paired_differences(runs, ["n"], baseline=0)
    d = diffs[diffs.metric == "cost.total_usd"].iloc[0]
    # every paired difference is exactly 5: zero variance, so the CI collapses on 5
    assert d.mean_diff == 5 and d.ci_low == 5 and d.ci_high == 5
    p = diffs[diffs.metric == "latency.p99_s"].iloc[0]
    assert p.mean_diff == pytest.approx(1 / 3 - 1 / 2)


def test_baseline_by_axis_values():
    runs = run_table(_records(), ["n"])
    assert baseline_cell(runs, ["n"], None) == 0
    assert baseline_cell(runs, ["n"], {"n": 3}) == 1
    with pytest.raises(KeyError):
        baseline_cell(runs, ["n"], {"m": 3})


def test_pareto_front():
    pts = pd.DataFrame({"cost": [1, 2, 3, 4, 2.5], "p99": [5, 3, 4, 1, 3]})
    front = pareto_front(pts, "cost", "p99")
    assert front["cost"].tolist() == [1, 2, 4]


def test_best_cell_meets_constraints_then_minimizes():
    runs = run_table(_records(), ["n"])
    cells = cell_stats(runs, ["n"])
    goal = Goal.model_validate({"minimize": "cost.total_usd",
                                "subject_to": [{"metric": "latency.p99_s", "op": "<=", "value": 0.45}]})
    best = best_cell(cells, ["n"], goal)
    assert best["cell"] == 1 and best["params"] == {"n": 3}
    impossible = Goal.model_validate({"subject_to": [{"metric": "latency.p99_s", "value": 0.0}]})
    assert best_cell(cells, ["n"], impossible)["cell"] is None
