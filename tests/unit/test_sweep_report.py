"""The sweep report from synthetic sweep folders: files, embedded plots, goal answer, marking.

The folders are written by hand with the documented columns of sweep.json, runs.parquet,
cells.parquet and differences.parquet (cell statistics from the pure aggregation functions),
so the report is tested without running a simulation.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simulator.experiments.aggregate import cell_stats, paired_differences, pareto_front
from simulator.io import write_json, write_parquet, write_text
from simulator.report.document import Heading, Paragraph
from simulator.report.sweep import (
    SECTIONS,
    SweepContext,
    build_sweep_document,
    build_sweep_report,
    load_sweep_data,
)
from simulator.report.sweep_plots import _series, pareto_cells

COUNT, POLICY = "fleets.web.count", "services.api.load_balancer.policy"
SEEDS = [101, 202, 303]
GOAL = {"minimize": "cost.total_usd",
        "subject_to": [{"metric": "latency.slo_violation_fraction", "op": "<=", "value": 0.01}]}
PNG = b"\x89PNG\r\n\x1a\n"


def _metrics(count: int, policy: str, replication: int) -> dict[str, float]:
    """Plausible figures: cost grows with the fleet, latency falls; policy shifts the tail."""
    noise = (replication - 1) * 0.01
    penalty = {"random": 1.6, "round_robin": 1.3, "least_outstanding": 1.0}.get(policy, 1.0)
    p99 = penalty * (0.25 + 2.0 / count**2) * (1 + noise)
    return {"cost.total_usd": 0.1926 * count, "latency.p99_s": p99, "latency.mean_s": p99 / 6,
            "latency.slo_s": 0.25, "latency.slo_violation_fraction": max(0.0, p99 - 0.24) / 4,
            "fleet.mean_utilization": 5.0 / count, "requests.dropped": 0.0,
            "runtime_s": 0.5 + noise, "events": 100.0}


def write_sweep(folder: Path, axes: dict[str, list], *, goal: dict | None = GOAL,
                failed: set[tuple[int, int]] = frozenset(), baseline: int = 0,
                replications: int = 3) -> Path:
    """A sweep folder as the runner writes it; `failed` holds (cell, replication) pairs."""
    names = list(axes)
    rows = []
    for cell, point in enumerate(itertools.product(*axes.values())):
        params = dict(zip(names, point, strict=True))
        for r in range(replications):
            row = {"run_id": f"c{cell:04d}-r{r:03d}", "cell": cell, "replication": r,
                   "seed": SEEDS[r], **params}
            if (cell, r) in failed:
                row |= {"error": f"RuntimeError: boom in cell {cell}"}
            else:
                row |= _metrics(params.get(COUNT, 8), params.get(POLICY, "least_outstanding"), r)
                row |= {"error": None}
            rows.append(row)
    runs = pd.DataFrame(rows)
    cells = cell_stats(runs, names)
    diffs = paired_differences(runs, names, baseline)
    best = _best(cells, names, goal)
    write_parquet(folder / "runs.parquet", runs)
    write_parquet(folder / "cells.parquet", cells)
    write_parquet(folder / "differences.parquet", diffs)
    write_text(folder / "sweep.resolved.yaml", yaml.safe_dump(
        {"name": "synthetic", "description": "A synthetic sweep.", "axes": axes,
         "replications": replications, "seed": 7, "goal": goal}, sort_keys=False))
    write_json(folder / "sweep.json", {
        "name": "synthetic", "axes": names, "baseline_cell": baseline, "best": best, "goal": goal,
        "cells": int(runs["cell"].nunique()), "replications": replications, "runs": len(runs),
        "errors": int(runs["error"].notna().sum())})
    return folder


def _best(cells: pd.DataFrame, axes: list[str], goal: dict | None) -> dict | None:
    if goal is None:
        return None
    wide = cells.pivot_table(index="cell", columns="metric", values="mean")
    ok = np.ones(len(wide), dtype=bool)
    for c in goal["subject_to"]:
        ok &= (wide[c["metric"]] <= c["value"]).to_numpy()
    if not ok.any():
        return {"cell": None, "feasible": 0, "message": "no cell meets every constraint"}
    cell = int(wide[ok].sort_values(goal["minimize"]).index[0])
    return {"cell": cell, "params": {}, "feasible": int(ok.sum()), "message": "best"}


def _md(folder: Path) -> str:
    markdown = (folder / "report.md").read_text()
    assert not re.search(r"(Section|Plot) \S+ failed", markdown), markdown  # nothing swallowed
    return markdown


def _table_row(markdown: str, first_cell: str, after: str) -> list[str]:
    """The cells of the first table row starting with `first_cell` after the heading `after`."""
    section = markdown.split(after, 1)[1]
    for line in section.splitlines():
        if line.startswith(f"| {first_cell} |"):
            return [c.strip() for c in line.strip("|").split(" | ")]
    raise AssertionError(f"no row {first_cell!r} after {after!r}")


@pytest.fixture
def two_axes(tmp_path) -> Path:
    axes = {COUNT: [8, 9, 10], POLICY: ["random", "least_outstanding"]}
    return write_sweep(tmp_path / "two", axes, baseline=1)


def test_files_and_self_contained_html(two_axes):
    paths = build_sweep_report(two_axes)
    pngs = [p for p in paths if p.suffix == ".png"]
    assert {p.name for p in paths} >= {"report.md", "report.html", "cost_vs_p99.png",
                                       "metric_latency_p99_s.png", "metric_cost_total_usd.png"}
    assert all(p.is_file() and p.read_bytes().startswith(PNG) for p in pngs)
    markdown, page = _md(two_axes), (two_axes / "report.html").read_text()
    linked = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", markdown)
    assert sorted(linked) == sorted(f"plots/{p.name}" for p in pngs)
    assert page.count('src="data:image/png;base64,') == len(pngs)
    assert "plots/" not in re.sub(r"<pre>.*?</pre>", "", page, flags=re.S).split("<body>")[1] \
        .replace('alt="', "")  # no image linked by path
    assert not re.search(r"""(src|href)=["']https?:""", page)
    for heading in re.findall(r"^## (.+)$", markdown, flags=re.M):
        assert f">{heading}</h2>" in page  # one document, two renderings


def test_overview_states_grid_and_common_seeds(two_axes):
    build_sweep_report(two_axes)
    markdown = _md(two_axes)
    assert markdown.startswith("# dcsim sweep report: synthetic")
    assert "6 cells × 3 replications = 18 runs, all finished without error." in markdown
    assert "common random numbers" in markdown and "101, 202, 303" in markdown
    assert "Baseline: cell 1 (count = 8, policy = least_outstanding)." in markdown


def test_best_cell_sentence_and_table_marks(two_axes):
    build_sweep_report(two_axes)
    markdown = _md(two_axes)
    # p99(9, least_outstanding) = 0.2747 s -> 0.87% violations: the cheapest feasible cell.
    assert "Answer: cell 3 (count = 9, policy = least_outstanding), with cost $1.73" in markdown
    assert "2 of 6 cells meet every constraint" in markdown
    assert "Minimize the mean cost subject to mean SLO violations ≤ 1.00%" in markdown
    # 0.87% [0.70%, 1.04%]: the interval crosses the 1% bound, so the answer is flagged.
    assert "straddles the bound SLO violations ≤ 1.00%" in markdown
    row = _table_row(markdown, "3 (best)", "## Cells")
    assert row[1:4] == ["9", "least_outstanding", "yes"]
    assert _table_row(markdown, "1 (baseline)", "## Cells")[3] == "no"


def test_ci_excluding_zero_is_marked(two_axes):
    build_sweep_report(two_axes)
    markdown = _md(two_axes)
    header = _table_row(markdown, "Cell", "## Differences against the baseline")
    row = dict(zip(header, _table_row(markdown, "3 (best)", "## Differences against the baseline"),
                   strict=True))
    assert row["Δ Cost ($)"] == "+0.1926 *"  # the same bill in every replication: CI [x, x]
    assert row["Δ p99 latency (ms)"].endswith("*") and row["Δ p99 latency (ms)"].startswith("-")
    assert row["Δ SLO violations (pp)"].startswith("-")
    assert "0 (baseline)" not in markdown.split("## Differences")[1].split("##")[0]


def test_ci_straddling_zero_is_not_marked(tmp_path):
    folder = write_sweep(tmp_path / "s", {COUNT: [8, 9]}, goal=None)
    diffs = pd.read_parquet(folder / "differences.parquet")
    p99 = diffs["metric"] == "latency.p99_s"
    diffs.loc[p99, ["mean_diff", "ci_low", "ci_high"]] = [0.002, -0.001, 0.005]
    cost = diffs["metric"] == "cost.total_usd"
    diffs.loc[cost, ["mean_diff", "ci_low", "ci_high"]] = [0.2, 0.1, 0.3]
    write_parquet(folder / "differences.parquet", diffs)
    build_sweep_report(folder)
    markdown = _md(folder)
    header = _table_row(markdown, "Cell", "## Differences")
    row = dict(zip(header, _table_row(markdown, "1", "## Differences"), strict=True))
    assert row["Δ p99 latency (ms)"] == "+2 [-1, +5]"
    assert row["Δ Cost ($)"] == "+0.2000 [+0.1000, +0.3000] *"


def test_one_axis(tmp_path):
    folder = write_sweep(tmp_path / "one", {COUNT: [6, 8, 10, 12]})
    paths = build_sweep_report(folder)
    markdown = _md(folder)
    assert "## Metrics against fleets.web.count" in markdown
    assert "Answer: cell 2 (count = 10)" in markdown
    assert "colours name" not in markdown and "> **Warning:**" not in markdown
    assert len([p for p in paths if p.suffix == ".png"]) == 6


def test_categorical_first_axis_and_no_goal(tmp_path):
    folder = write_sweep(tmp_path / "cat", {POLICY: ["random", "round_robin"], COUNT: [8, 9]},
                         goal=None)
    paths = build_sweep_report(folder)
    markdown = _md(folder)
    assert "## Goal" not in markdown and "Meets constraints" not in markdown
    assert "(best)" not in markdown
    assert "## Metrics against services.api.load_balancer.policy" in markdown
    assert "> **Warning:**" not in markdown  # every plot drew
    assert any(p.name == "metric_latency_p99_s.png" for p in paths)


def test_one_replication_shows_means_without_intervals(tmp_path):
    folder = write_sweep(tmp_path / "r1", {COUNT: [8, 9]}, replications=1)
    build_sweep_report(folder)
    markdown = _md(folder)
    header = _table_row(markdown, "Cell", "## Cells")
    row = dict(zip(header, _table_row(markdown, "1", "## Cells"), strict=True))
    assert row["p99 latency (ms)"] == "272"  # (0.25 + 2/81) s x 0.99 (replication 0), alone
    assert "1 cells × 1 replications" not in markdown and "2 cells × 1 replications" in markdown


def test_no_feasible_cell_names_the_closest(tmp_path):
    goal = {"minimize": "cost.total_usd",
            "subject_to": [{"metric": "latency.slo_violation_fraction", "op": "<=", "value": 1e-4}]}
    folder = write_sweep(tmp_path / "inf", {COUNT: [8, 10]}, goal=goal)
    build_sweep_report(folder)
    markdown = _md(folder)
    assert "Answer: no cell meets every constraint." in markdown
    assert "Closest to the constraints: cell 1 (count = 10)" in markdown


def test_failed_runs_are_listed(tmp_path):
    folder = write_sweep(tmp_path / "err", {COUNT: [8, 9, 10]}, failed={(0, 1), (2, 0), (2, 1),
                                                                          (2, 2)})
    build_sweep_report(folder)
    markdown = _md(folder)
    assert "of which 4 failed." in markdown
    assert "## Failed runs" in markdown and "4 of 9 runs failed" in markdown
    assert "RuntimeError: boom in cell 2" in markdown
    assert "Cells without a successful run, absent from the tables above: cell 2 (count = 10)" \
        in markdown
    header = _table_row(markdown, "Cell", "## Cells")
    assert "Runs" in header
    assert _table_row(markdown, "0 (baseline)", "## Cells")[header.index("Runs")] == "2"


def test_missing_tables_become_notes(tmp_path):
    folder = write_sweep(tmp_path / "gone", {COUNT: [8, 9]})
    (folder / "cells.parquet").unlink()
    (folder / "differences.parquet").write_bytes(b"not parquet")
    build_sweep_report(folder)
    markdown = _md(folder)
    assert "No cells.parquet in this sweep folder." in markdown
    assert "differences.parquet could not be read" in markdown
    assert "No cell statistics to show." in markdown


def test_not_a_sweep_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no sweep.json"):
        build_sweep_report(tmp_path)


def test_sections_are_pluggable_and_failures_contained(two_axes):
    def extra(ctx):
        return [Heading("Cost against nines"), Paragraph(f"{len(ctx.metrics)} key metrics.")]

    def broken(ctx):
        raise ValueError("bad section")

    doc, _ = build_sweep_document(two_axes, [*SECTIONS, extra, broken])
    texts = [getattr(b, "text", "") for b in doc.blocks]
    assert "Cost against nines" in texts and "5 key metrics." in texts
    assert any("Section broken failed: ValueError: bad section" in t for t in texts)


def test_rebuild_is_stable_and_leaks_no_figures(two_axes):
    import matplotlib.pyplot as plt

    first = {p: p.read_bytes() for p in build_sweep_report(two_axes)}
    second = {p: p.read_bytes() for p in build_sweep_report(two_axes)}
    assert first == second
    assert plt.get_fignums() == []


def test_pareto_front_matches_the_aggregation():
    rng = np.random.default_rng(3)
    points = pd.DataFrame({"cell": range(40), "x": rng.integers(0, 12, 40).astype(float),
                           "y": rng.integers(0, 12, 40).astype(float)})
    expected = pareto_front(points, "x", "y").sort_values("y")["cell"].tolist()
    assert pareto_cells(points) == expected
    assert pareto_cells(pd.DataFrame({"cell": [0, 1, 2], "x": [1.0, 2.0, 3.0],
                                      "y": [3.0, 1.0, 2.0]})) == [1, 0]


def test_zipped_axis_moves_with_the_first(tmp_path):
    """A zip group (count with instance type) is one x axis, not one series per partner."""
    folder = write_sweep(tmp_path / "zip", {COUNT: [8, 9], POLICY: ["random", "round_robin"]})
    for name in ("runs", "cells", "differences"):
        frame = pd.read_parquet(folder / f"{name}.parquet")
        frame["fleets.web.instance_type"] = frame[COUNT].map({8: "m5.xlarge", 9: "m5.2xlarge"})
        write_parquet(folder / f"{name}.parquet", frame)
    meta = json.loads((folder / "sweep.json").read_text())
    write_json(folder / "sweep.json", meta | {"axes": [COUNT, POLICY, "fleets.web.instance_type"]})
    doc, _ = build_sweep_document(folder)
    assert not [b for b in doc.blocks if "failed" in getattr(b, "text", "")]
    ctx = SweepContext(load_sweep_data(folder))
    labels = set(_series(ctx.data, ctx.data.metric_stats("latency.p99_s")))
    assert labels == {"policy=random", "policy=round_robin"}
