"""Sweep files expand into validated cells before any run; bad sweeps fail naming the axis."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import InputError
from simulator.experiments.spec import load_sweep, replication_seed
from tests.conftest import SCENARIOS, tiny_scenario


@pytest.fixture
def sweep_file(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny_scenario()))

    def write(**fields) -> str:
        data = {"name": "s", "base": "base.yaml"} | fields
        path = tmp_path / "sweep.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return str(path)

    return write


def test_cartesian_and_zipped_axes(sweep_file):
    sw = load_sweep(sweep_file(
        axes={"fleets.web.count": [1, 2, 3], "services.api.load_balancer.policy": ["random", "round_robin"]},
        zip=[{"fleets.web.instance_type": ["m5.large", "c5.xlarge"], "services.api.slo": ["100 ms", "200 ms"]}],
        replications=3,
    ))
    assert len(sw.cells) == 3 * 2 * 2
    assert len(sw.runs()) == 36
    pairs = {(c.scenario.fleets["web"].instance_type, c.scenario.services["api"].slo) for c in sw.cells}
    assert pairs == {("m5.large", 0.1), ("c5.xlarge", 0.2)}  # zipped, not crossed
    assert sw.axis_names == ["fleets.web.count", "services.api.load_balancer.policy",
                             "fleets.web.instance_type", "services.api.slo"]


def test_replication_r_has_the_same_seed_in_every_cell(sweep_file):
    sw = load_sweep(sweep_file(axes={"fleets.web.count": [1, 2]}, replications=4, seed=9))
    runs = sw.runs()
    by_cell = {}
    for r in runs:
        by_cell.setdefault(r.cell, []).append(r.seed)
    assert by_cell[0] == by_cell[1]
    assert len(set(by_cell[0])) == 4
    assert by_cell[0] == [replication_seed(9, r) for r in range(4)]


def test_set_applies_to_every_cell(sweep_file):
    sw = load_sweep(sweep_file(set={"horizon": "10 s"}, axes={"fleets.web.count": [1, 2]}))
    assert all(c.scenario.horizon == 10 for c in sw.cells)


def test_test_block_replaces_top_level_fields(sweep_file):
    path = sweep_file(axes={"fleets.web.count": [1, 2, 3]}, replications=5,
                      test={"replications": 1, "axes": {"fleets.web.count": [2]}})
    assert len(load_sweep(path).runs()) == 15
    assert len(load_sweep(path, test=True).runs()) == 1


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"axes": {"fleets.web.cont": [1, 2]}}, ["axes.fleets.web.cont", "unknown key"]),
        ({"axes": {"fleets.web.count": [2, "many"]}}, ["axes.fleets.web.count", "many"]),
        ({"axes": {"fleets.web.count": [2, -1]}}, ["axes.fleets.web.count", "-1"]),
        ({"axes": {"horizon": ["1 parsec"]}}, ["axes.horizon", "parsec"]),
        ({"zip": [{"fleets.web.count": [1, 2], "horizon": [5]}]}, ["zip", "equal lengths"]),
        ({"axes": {"fleets.web.count": []}}, ["axes.fleets.web.count"]),
        ({"replications": 0}, ["replications"]),
        ({"base": "missing.yaml"}, ["missing.yaml"]),
        ({"axs": {}}, ["axs", "unknown key"]),
        ({"set": {"fleets.web.instance_type": "m5.lage"}}, ["fleets.web.instance_type", "m5.lage"]),
    ],
)
def test_bad_sweeps_fail_before_any_run(sweep_file, fields, words, tmp_path):
    path = sweep_file(**fields)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    for w in words:
        assert w in str(err.value)
    result = CliRunner().invoke(app, ["sweep", path, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # nothing ran


def test_dry_run_prints_the_grid():
    result = CliRunner().invoke(app, ["sweep", str(SCENARIOS / "sweeps" / "fleet-size.yaml"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "15 cells × 5 replications = 75 runs" in result.output
    assert "fleets.web.count=6, services.api.load_balancer.policy=random" in result.output


def test_a_goal_naming_an_unknown_metric_fails_before_any_run(sweep_file):
    path = sweep_file(axes={"fleets.web.count": [1, 2]},
                      goal={"minimize": "cost.totl_usd",
                            "subject_to": [{"metric": "latency.by_service.web.p99_s", "value": 1}]})
    with pytest.raises(InputError) as err:
        load_sweep(path)
    text = str(err.value)
    assert "goal.minimize" in text and "cost.total_usd" in text
    assert "goal.subject_to.0.metric" in text  # the service is called api, not web


def test_every_metric_a_goal_may_name_is_in_a_real_summary():
    from simulator import run
    from simulator.experiments.aggregate import flatten
    from simulator.scenario.loader import validate_scenario
    from simulator.sections import metric_names
    from tests.conftest import tiny_scenario as tiny

    scenario = validate_scenario(tiny(horizon=5), "t")
    summary = flatten(run(scenario).summary)
    assert set(metric_names(scenario)) <= set(summary)


@pytest.mark.parametrize("baseline, words", [
    ({"fleets.web.cont": 1}, ["baseline.fleets.web.cont", "not an axis"]),
    ({"fleets.web.count": 7}, ["baseline", "no cell"]),
])
def test_a_bad_baseline_fails_before_any_run(sweep_file, baseline, words):
    with pytest.raises(InputError) as err:
        load_sweep(sweep_file(axes={"fleets.web.count": [1, 2]}, baseline=baseline))
    for w in words:
        assert w in str(err.value)


def test_unreachable_dask_scheduler_is_a_clear_error(tmp_path):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = CliRunner().invoke(app, ["sweep", str(SCENARIOS / "sweeps" / "fleet-size.yaml"), "--test",
                                          "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "--scheduler" in result.output and "Traceback" not in result.output
