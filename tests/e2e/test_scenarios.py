"""Every scenario in scenarios/ validates and runs with its `test:` overrides; docs stay current."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import load_scenario, run
from simulator.cli import app
from simulator.scenario.reference import markdown_reference
from tests.conftest import ROOT, SCENARIOS

SCENARIO_FILES = sorted(p for p in SCENARIOS.glob("*.yaml"))


def test_there_are_scenarios():
    assert any(p.name == "quickstart.yaml" for p in SCENARIO_FILES)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_scenario_has_a_test_block_and_runs(path: Path):
    full = load_scenario(path)
    assert full.test, f"{path.name} needs a test: block so the suite stays fast"
    result = run(load_scenario(path, test=True))
    assert result.ok
    assert result.summary["cost"]["total_usd"] > 0


def test_cli_run_writes_every_output(tmp_path):
    out = tmp_path / "qs"
    res = CliRunner().invoke(app, ["run", str(SCENARIOS / "quickstart.yaml"), "--test", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("scenario.resolved.yaml", "summary.json", "report.md", "report.html"):
        assert (out / name).is_file(), name
    assert (out / "tables" / "instance_intervals.parquet").is_file()
    assert list((out / "plots").glob("*.png"))
    assert "report:" in res.output
    rebuilt = CliRunner().invoke(app, ["report", str(out)])
    assert rebuilt.exit_code == 0, rebuilt.output


def test_scenario_reference_is_current():
    checked_in = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert checked_in == markdown_reference() + "\n", "run `make reference` and commit docs/scenario-reference.md"


def test_schema_command_prints_json_schema():
    import json

    res = CliRunner().invoke(app, ["schema"])
    assert res.exit_code == 0
    assert "fleets" in json.loads(res.output)["properties"]


def test_catalog_command_lines_begin_with_type_names():
    res = CliRunner().invoke(app, ["catalog", "--family", "m", "--min-vcpu", "4"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert any(ln.startswith("m5.xlarge") for ln in lines)
    assert not any(ln.startswith("m5.large ") for ln in lines)


def test_rerun_into_the_same_folder_leaves_no_stale_tables(tmp_path):
    out = tmp_path / "qs"
    path = str(SCENARIOS / "quickstart.yaml")
    runner = CliRunner()
    assert runner.invoke(app, ["run", path, "--test", "--out", str(out), "--set", "output.requests=true"]).exit_code == 0
    assert (out / "tables" / "requests.parquet").exists()
    assert runner.invoke(app, ["run", path, "--test", "--out", str(out)]).exit_code == 0
    assert not (out / "tables" / "requests.parquet").exists()
