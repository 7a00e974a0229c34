"""Run folders: write a RunResult to disk (atomically) and read it back.

Layout of a run folder: scenario.resolved.yaml, summary.json, tables/<name>.parquet,
report.md, report.html, plots/*.png.  ``summary.json`` is written last, so its presence marks a
finished run (sweeps use that to resume).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator.engine.runner import RunResult
from simulator.io import read_json, write_json, write_parquet, write_text
from simulator.scenario.loader import dump_scenario


def write_run(result: RunResult, out_dir: Path, *, reports: bool = True) -> Path:
    """Write a run's files into out_dir; summary.json goes last and marks the run finished."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").unlink(missing_ok=True)  # the folder is unfinished until it returns
    write_text(out / "scenario.resolved.yaml", dump_scenario(result.scenario))
    for stale in (out / "tables").glob("*.parquet"):
        if stale.stem not in result.tables:
            stale.unlink()  # a table an earlier run into the same folder wrote
    for name, frame in result.tables.items():
        write_parquet(out / "tables" / f"{name}.parquet", frame)
    write_json(out / "summary.json", result.summary)
    if reports:
        from simulator.report import build_reports

        build_reports(out)
    return out


def read_tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    """Every table of a run folder as DataFrames, by name."""
    folder = Path(run_dir) / "tables"
    return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}


def read_summary(run_dir: Path) -> dict:
    """A run folder's summary.json."""
    return read_json(Path(run_dir) / "summary.json")
