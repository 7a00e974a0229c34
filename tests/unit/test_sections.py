"""Open result sections: a capability plugs in by registering a Section, editing no central file.

The test defines a whole capability here (a record type, a World build step with a SimPy
process, a summary part, a report part and a key metric), registers it, and finds it in
summary.json, the report, the sweep goals' metric names and the sweep report's metrics.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest

from simulator import run, write_run
from simulator.errors import InputError
from simulator.report.document import Heading, Paragraph
from simulator.report.sweep_sections import key_metric_names, metric_info
from simulator.scenario.loader import validate_scenario
from simulator.sections import (
    Metric,
    Section,
    empty_tables,
    metric_names,
    registered,
    sections,
)
from tests.conftest import tiny_scenario


class Tick(NamedTuple):
    """One tick of the test capability's clock."""

    TABLE = "ticks"
    time_s: float
    value: float


def build_ticks(world) -> None:
    """World build step: a process recording a tick every 10 s."""
    log = world.recorder.appender(Tick)

    def clock():
        while True:
            yield world.env.timeout(10.0)
            log(Tick(world.env.now, world.env.now / 10.0))

    world.env.process(clock())


def summarize_ticks(tables, context) -> dict:
    frame = tables["ticks"]
    return {"count": len(frame), "mean_value": float(frame["value"].mean()) if len(frame) else None}


def report_ticks(view) -> list:
    part = view.part("ticks")
    return [Heading("Ticks"), Paragraph(f"The clock ticked {part.get('count')} times.")]


TICKS = Section("ticks", 90, summarize_ticks,
                lambda scenario: [Metric("ticks.mean_value", "Mean tick", key=True),
                                  Metric("ticks.count", "Ticks")],
                records=(Tick,), build=build_ticks, report=report_ticks)


def test_a_registered_section_reaches_summary_report_and_sweep_metrics(tmp_path):
    scenario = validate_scenario(tiny_scenario(horizon="60 s"), "t")
    with registered(TICKS):
        result = run(scenario, seed=1)
        assert result.tables["ticks"]["time_s"].tolist() == [10.0, 20.0, 30.0, 40.0, 50.0]
        out = write_run(result, tmp_path / "run")
        summary = json.loads((out / "summary.json").read_text())
        assert summary["ticks"] == {"count": 5, "mean_value": 3.0}
        assert "## Ticks" in (out / "report.md").read_text()
        assert "The clock ticked 5 times." in (out / "report.md").read_text()
        assert {"ticks.mean_value", "ticks.count"} <= set(metric_names(scenario))
        assert "ticks.mean_value" in key_metric_names()
        assert metric_info("ticks.mean_value").title == "Mean tick"
        assert "ticks" in empty_tables()
    assert "ticks" not in {s.name for s in sections()}
    assert "ticks.mean_value" not in metric_names(scenario)


def test_a_sweep_goal_may_name_a_registered_metric(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(json.dumps(tiny_scenario(horizon="30 s")))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(json.dumps({"name": "s", "base": "base.yaml", "axes": {"fleets.web.count": [1, 2]},
                                 "goal": {"minimize": "ticks.mean_value"}}))
    from simulator.experiments.spec import load_sweep

    with pytest.raises(InputError, match="ticks.mean_value"):
        load_sweep(sweep)
    with registered(TICKS):
        from simulator import run_sweep

        result = run_sweep(load_sweep(sweep), tmp_path / "out", jobs=1)
        assert "ticks.mean_value" in set(result.runs.columns)
        assert "Mean tick" in (tmp_path / "out" / "report.md").read_text()


def test_a_scenario_without_compute_validates_and_runs(tmp_path):
    scenario = validate_scenario({"name": "empty", "horizon": "1 h"}, "t")
    assert scenario.fleets == {} and scenario.services == {}
    result = run(scenario, seed=1)
    assert result.ok and result.summary["cost"]["total_usd"] == 0.0
    assert result.summary["requests"]["arrivals"] == 0
    out = write_run(result, tmp_path / "run")
    assert (out / "report.md").is_file()
