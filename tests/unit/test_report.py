"""Reports from a synthetic run folder: files, self-containment, headline figures, robustness.

The run folders here are written by hand with the documented table columns, so the report is
tested without the engine; the last test checks that simulator/report imports no component.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.io import write_json, write_parquet, write_text
from simulator.report import build_reports, tables
from simulator.report import formatting as fmt

REPORT_DIR = Path(__file__).resolve().parents[2] / "simulator" / "report"

SUMMARY = {
    "scenario": "quickstart", "seed": 7, "simulated_s": 3600.0, "runtime_s": 2.3,
    "events": 1234, "dcsim_version": "0.1.0", "versions": {"python": "3.11", "numpy": "2"},
    "error": None,
    "cost": {"total_usd": 1.23, "by_service": {"ec2": 1.0, "ebs": 0.1, "data_transfer": 0.13},
             "by_purchase_option": {"on_demand": 1.0}},
    "latency": {"requests": 2160000, "mean_s": 0.031, "p50_s": 0.02, "p95_s": 0.08,
                "p99_s": 0.125, "slo_s": 0.2, "slo_violation_fraction": 0.0012,
                "method": "exact", "relative_error": 0.0,
                "by_service": {"web": {"requests": 2160000, "mean_s": 0.031, "p50_s": 0.02,
                                       "p95_s": 0.08, "p99_s": 0.125, "slo_s": 0.2,
                                       "slo_violation_fraction": 0.0012, "method": "exact",
                                       "relative_error": 0.0}}},
    "fleet": {"instances": 3, "instance_hours": 2.5, "mean_utilization": 0.8},
}

SCENARIO_YAML = "name: quickstart\nseed: 7\nduration: 1 h\nservices:\n  web: {rate: 600/s}\n"


def _tables() -> dict[str, pd.DataFrame]:
    """Small tables with every documented column: two services, two fleets, one hour."""
    starts = np.arange(0, 3600, 60.0)
    intervals = []
    for service, rate in (("web", 600.0), ("api", 50.0)):
        arrivals = rate * 60 * (1 + 0.3 * np.sin(starts / 600))
        intervals.append(pd.DataFrame({
            "service": service, "fleet": "web", "start_s": starts, "end_s": starts + 60,
            "arrivals": arrivals, "served": arrivals, "rejected": 0.0, "failed": 0.0,
            "latency_sum_s": arrivals * 0.03, "p99_s": 0.1, "slo_violations": arrivals * 0.001, "work_s": arrivals * 0.005, "instances": 2,
            "vcpus": 4, "in_system": 3, "response_bytes": arrivals * 2048}))
    buckets = np.arange(0, 40)
    sketch = pd.concat([pd.DataFrame({
        "service": service, "bucket": buckets, "value_s": 0.001 * 1.2 ** buckets,
        "count": np.exp(-((buckets - centre) ** 2) / 20) * 1000})
        for service, centre in (("web", 18), ("api", 25))], ignore_index=True)
    instances = pd.DataFrame({
        "instance_id": ["i-1", "i-1", "i-2", "i-2", "i-3", "i-3", "i-3"],
        "fleet": ["web", "web", "web", "web", "batch", "batch", "batch"],
        "launch": [0, 0, 1, 1, 0, 0, 0],
        "instance_type": ["m5.large"] * 4 + ["c5.xlarge"] * 3,
        "az": ["a", "a", "b", "b", "a", "a", "a"],
        "purchase_option": ["on_demand"] * 4 + ["spot"] * 3,
        "os": "linux",
        "state": ["pending", "running", "pending", "running", "pending", "running", "terminated"],
        "start_s": [0.0, 30.0, 600.0, 640.0, 0.0, 35.0, 1835.0],
        "end_s": [30.0, None, 640.0, None, 35.0, 1835.0, None],
        "end_cause": [None, None, None, None, None, "spot_reclaimed", None],
    })
    latency = pd.DataFrame({
        "service": ["web", "api", "all"], "arrivals": [2000000, 160000, 2160000],
        "requests": [2000000, 160000, 2160000], "rejected": 0, "failed": 0,
        "mean_s": [0.03, 0.045, 0.031], "p50_s": [0.02, 0.03, 0.02],
        "p95_s": [0.08, 0.1, 0.08], "p99_s": [0.12, 0.18, 0.125], "slo_s": [0.2, 0.3, 0.2],
        "slo_violation_fraction": [0.001, 0.004, 0.0012], "method": "exact",
        "relative_error": 0.0})
    cost = pd.DataFrame({
        "service": ["ec2", "ec2", "ebs", "data_transfer"],
        "purchase_option": ["on_demand", "spot", "", ""],
        "resource_id": ["i-1", "i-3", "vol-1", ""],
        "usage_type": ["BoxUsage:m5.large", "SpotUsage:c5.xlarge", "EBS:VolumeUsage.gp3",
                       "DataTransfer-Out-Bytes"],
        "quantity": [1.0, 0.5, 0.1, 1.4], "unit": ["h", "h", "GB-month", "GB"],
        "usd": [0.9, 0.1, 0.1, 0.13]})
    return {"service_intervals": pd.concat(intervals, ignore_index=True),
            "latency_sketch": sketch, "instance_intervals": instances, "latency": latency,
            "cost": cost}


def make_run(root: Path, summary: dict | None = SUMMARY, frames: dict | None = None) -> Path:
    """Write a run folder: summary.json, scenario.resolved.yaml and tables/*.parquet."""
    run = root / "run"
    if summary is not None:
        write_json(run / "summary.json", summary)
    write_text(run / "scenario.resolved.yaml", SCENARIO_YAML)
    for name, frame in (_tables() if frames is None else frames).items():
        write_parquet(run / "tables" / f"{name}.parquet", frame)
    return run


def _read(run: Path) -> tuple[str, str]:
    return (run / "report.md").read_text(), (run / "report.html").read_text()


def test_full_run_writes_plots_markdown_and_html(tmp_path):
    run = make_run(tmp_path)
    written = build_reports(run)
    names = {p.name for p in written}
    assert names == {"latency_over_time.png", "latency_cdf.png", "running_instances.png",
                     "utilization.png", "cost_breakdown.png", "rejections_over_time.png",
                     "report.md", "report.html"}
    for path in written:
        assert path.is_file() and path.stat().st_size > 0
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written if p.suffix == ".png")
    assert not list(run.rglob("*.tmp"))


def test_markdown_has_title_headline_figures_and_relative_images(tmp_path):
    run = make_run(tmp_path)
    build_reports(run)
    md, _ = _read(run)
    assert md.startswith("# dcsim report: quickstart (seed 7)")
    headline = md.split("## Headline", 1)[1].split("##", 1)[0]
    assert "Cost ($)" in headline and "p99 latency (ms)" in headline
    assert "SLO violations (%)" in headline
    # $1.23 total, 2,160,000 requests, 31.0 ms mean, 125 ms p99, 200 ms SLO, 0.12 % violations
    for figure in ("| 1.23 |", "| 2,160,000 |", "| 31.0 |", "| 125 |", "| 200 |", "| 0.12 |"):
        assert figure in headline
    for section in ("## Cost", "## Latency", "## Fleet", "## Requests", "## Run"):
        assert section in md
    assert "](plots/latency_cdf.png)" in md and "](plots/cost_breakdown.png)" in md
    assert "```yaml\n" + SCENARIO_YAML in md
    assert "spot_reclaimed" in md


def test_html_is_self_contained(tmp_path):
    run = make_run(tmp_path)
    build_reports(run)
    _, page = _read(run)
    assert page.count('src="data:image/png;base64,') == 6
    lowered = page.lower()
    for external in ('src="http', "href=\"http", "src='http", "url(http", "<script", "@import"):
        assert external not in lowered
    assert "<details><summary>Resolved scenario" in page
    assert "name: quickstart" in page and "<style>" in page
    assert "dcsim report: quickstart (seed 7)" in page


def test_rebuild_is_deterministic(tmp_path):
    run = make_run(tmp_path)
    first = {p.name: p.read_bytes() for p in build_reports(run)}
    second = {p.name: p.read_bytes() for p in build_reports(run)}
    assert first == second


@pytest.mark.parametrize("missing", ["all", "empty", "some"])
def test_missing_or_empty_tables_still_build(tmp_path, missing):
    full = _tables()
    if missing == "all":
        frames = {}
    elif missing == "empty":
        frames = {name: frame.iloc[0:0] for name, frame in full.items()}
    else:
        frames = {"cost": full["cost"], "service_intervals": full["service_intervals"]}
    run = make_run(tmp_path, frames=frames)
    written = build_reports(run)
    md, page = _read(run)
    assert (run / "report.md") in written and (run / "report.html") in written
    if missing in ("all", "empty"):
        assert not [p for p in written if p.suffix == ".png"]
        assert "data:image/png" not in page
        assert "| 1.23 |" in md  # the summary alone still gives the headline
    else:
        assert "No latency_sketch table in this run." in md
        assert "No instance_intervals table in this run." in md
    assert "Warning" not in md  # a missing table is a note, not a failure


def test_stale_plot_removed_when_its_table_goes(tmp_path):
    run = make_run(tmp_path)
    build_reports(run)
    (run / "tables" / "cost.parquet").unlink()
    build_reports(run)
    assert not (run / "plots" / "cost_breakdown.png").exists()


def test_no_summary_and_no_scenario(tmp_path):
    run = make_run(tmp_path, summary=None)
    (run / "scenario.resolved.yaml").unlink()
    build_reports(run)
    md, _ = _read(run)
    assert md.startswith("# dcsim report: run\n")
    assert "no summary.json" in md and "No scenario.resolved.yaml" in md
    assert "| 1.23 |" not in md  # figures come from the summary only, never recomputed
    assert "| 0.9000 |" in md  # the billing lines themselves are still listed


def test_unknown_summary_sections_are_rendered(tmp_path):
    summary = dict(SUMMARY, error="engine stopped at t=12 s")
    summary["durability"] = {"estimator": "importance_sampling", "annual_loss_fraction": 1e-11,
                             "ci": [1e-12, 3e-11], "by_class": {"standard": {"nines": 11.2}}}
    summary["spot"] = {"interruptions": 4, "savings_usd": 12.5}
    summary["cost"] = dict(SUMMARY["cost"], by_az_usd={"a": 0.5})
    summary["note"] = "hello"
    run = make_run(tmp_path, summary=summary)
    build_reports(run)
    md, page = _read(run)
    assert "## Durability" in md and "importance_sampling" in md
    assert "by class.standard.nines" in md and "| ci |" in md
    assert "annual loss (%)" in md
    assert "## Spot" in md and "savings ($)" in md and "12.50" in md
    assert "by az ($).a" in md and "| 0.5000 |" in md
    assert "## Other results" in md and "hello" in md
    assert "engine stopped at t=12 s" in md and 'class="warning"' in page


def test_interval_metrics_merge_keeps_ratios_exact():
    frame = _tables()["service_intervals"]
    merged = tables.interval_metrics(frame, max_points=7)
    web = merged[merged["service"] == "web"]
    assert len(web) <= 7
    assert np.allclose(web["mean_latency_s"], 0.03)
    assert web["arrivals"].sum() == pytest.approx(frame.loc[frame.service == "web",
                                                            "arrivals"].sum())


def test_running_counts_step_function():
    counts = tables.running_counts(_tables()["instance_intervals"], until_s=3600.0)
    total = counts[counts["fleet"] == "total"].set_index("time_s")["running"]
    assert total.to_dict() == {30.0: 1, 35.0: 2, 640.0: 3, 1835.0: 2, 3600.0: 2}


def test_formatting_units():
    assert fmt.usd(1.234) == "1.23" and fmt.usd(0.0123) == "0.0123" and fmt.usd(0) == "0.00"
    assert fmt.num(2165810.4) == "2,165,810" and fmt.num(50.1344) == "50.13"
    assert fmt.ms(0.031) == "31.0" and fmt.ms(0.125) == "125" and fmt.ms(None) == fmt.MISSING
    assert fmt.pct(0.0012) == "0.12" and fmt.pct(0.8) == "80.0"
    assert fmt.label("instance_hours") == "instance hours (h)"
    assert fmt.label("mean_utilization") == "mean utilization (%)"
    assert fmt.label("p99_s") == "p99 (s)"
    assert json.dumps(fmt.flatten({"a": {"b_usd": 2}})) == json.dumps([["a.b ($)", "2.00"]])


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a file imports (relative imports resolved)."""
    package = "simulator.report"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def test_report_imports_no_engine_or_components():
    modules = sorted(REPORT_DIR.rglob("*.py"))
    assert modules, "no modules found under simulator/report"
    forbidden = ("simpy", "simulator.engine", "simulator.compute", "simulator.storage",
                 "simulator.faults", "simulator.billing")
    allowed_internal = ("simulator.io", "simulator.units", "simulator.report", "simulator.sections",
                        "simulator.signals")
    for path in modules:
        for name in _imported_modules(path):
            assert not any(name == f or name.startswith(f + ".") for f in forbidden), (path, name)
            if name.startswith("simulator."):
                assert any(name == a or name.startswith(a + ".") for a in allowed_internal), (
                    path, name)


def test_failing_plots_become_warnings_on_either_side_of_the_split(tmp_path, monkeypatch):
    """Plots are drawn half in this process and half in a forked child: a plot that raises
    in either is a warning in place of its image, and a child that dies takes only its own
    plots with it."""
    import os
    import threading

    from simulator.report import plots

    names = ["plot_running_instances", "plot_utilization", "plot_rejections",
             "plot_latency_over_time", "plot_latency_cdf", "plot_cost_breakdown"]
    here = os.getpid()

    def broken(*args, **kwargs):
        raise RuntimeError("no ink")

    for name in names:
        monkeypatch.setattr(plots, name, broken)
    run = make_run(tmp_path)
    written = {p.name for p in build_reports(run)}
    md, page = _read(run)
    assert not {p for p in written if p.endswith(".png")}
    assert md.count("failed: RuntimeError: no ink") == 6  # both sides report theirs
    assert "data:image/png" not in page

    def dies_in_the_child(real):
        def draw(*args, **kwargs):
            if os.getpid() != here:
                os._exit(3)
            return real(*args, **kwargs)
        return draw

    monkeypatch.undo()
    for name in names:
        monkeypatch.setattr(plots, name, dies_in_the_child(getattr(plots, name)))
    written = {p.name for p in build_reports(run)}
    md, page = _read(run)
    pngs = {p for p in written if p.endswith(".png")}
    if not hasattr(os, "fork") or threading.active_count() > 1:
        assert len(pngs) == 6  # no child: every plot drawn here
        return
    assert len(pngs) == 3  # this process's share
    assert md.count("its drawing process ended with status") == 3
    assert page.count('src="data:image/png;base64,') == 3


def test_a_threaded_process_draws_every_plot_itself(tmp_path, monkeypatch):
    """No fork while other threads run (a notebook kernel): every plot is drawn here."""
    import os
    import threading

    from simulator.report import plots

    here = os.getpid()
    drawn = tmp_path / "pids"
    drawn.mkdir()

    def spy(real):
        def draw(*args, **kwargs):
            (drawn / str(os.getpid())).touch()  # a child's pid would show here too
            return real(*args, **kwargs)
        return draw

    for name in ("plot_running_instances", "plot_utilization", "plot_rejections",
                 "plot_latency_over_time", "plot_latency_cdf", "plot_cost_breakdown"):
        monkeypatch.setattr(plots, name, spy(getattr(plots, name)))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        written = {p.name for p in build_reports(make_run(tmp_path / "run"))}
    finally:
        stop.set()
        other.join()
    assert len([p for p in written if p.endswith(".png")]) == 6
    assert {p.name for p in drawn.iterdir()} == {str(here)}
