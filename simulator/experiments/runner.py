"""Run a sweep: execute its runs on an executor, keep every finished run, aggregate.

Folder layout of a sweep (``results/sweeps/<name>/`` by default)::

    sweep.resolved.yaml   the sweep spec as run
    runs/<run_id>.json    one file per finished run (params, seed, fingerprint, summary, error)
    failed.json           the runs whose execution failed: run id, params, seed, error
    runs.parquet          the tidy run table (one row per run)
    cells.parquet         mean and CI per cell and metric
    differences.parquet   paired differences against the baseline cell
    best.json             the answer to the sweep's goal, if it has one

Every file is written atomically; a run's file is written as soon as its result arrives, so a
sweep killed at any point resumes by re-running only the runs without a file, the runs that
failed, and the runs whose fingerprint changed (scenario, seed, contents of an input file, dcsim
version); ``SweepResult.rerun`` says why each of those was run again.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulator.errors import InputError, Problem
from simulator.experiments.aggregate import (
    baseline_cell,
    best_cell,
    cell_stats,
    paired_differences,
    run_table,
)
from simulator.experiments.executors import Executor, make_executor
from simulator.experiments.spec import RunSpec, Sweep, rerun_reason
from simulator.io import read_json, write_json, write_parquet, write_text
from simulator.summary import clean


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Worker entry point: run one RunSpec and return its JSON-ready record (never raises)."""
    from simulator.engine.runner import run
    from simulator.scenario.schema import Scenario

    try:
        scenario = Scenario.model_validate(spec.scenario)
        result = run(scenario, spec.seed, raise_errors=False)
        summary, error = result.summary, result.error
    except Exception as exc:  # noqa: BLE001 - an input error surfaces in the record
        summary, error = {}, f"{type(exc).__name__}: {exc}"
    return clean(
        {
            "run_id": spec.run_id, "cell": spec.cell, "replication": spec.replication,
            "seed": spec.seed, "params": spec.params, "digest": spec.digest,
            "fingerprint": spec.fingerprint,
            "summary": summary, "error": error,
        }
    )


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its runs as a tidy table, cell statistics and paired differences."""

    sweep: Sweep
    out_dir: Path
    runs: pd.DataFrame
    cells: pd.DataFrame
    differences: pd.DataFrame
    best: dict[str, Any] | None
    executed: int
    reused: int
    rerun: dict[str, str] = field(default_factory=dict)
    """Runs found on disk but run again, by run id: why (e.g. "price book contents changed")."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """Runs whose execution failed: (run id, the error's last line); also in failed.json."""

    @property
    def axes(self) -> list[str]:
        return self.sweep.axis_names

    def rerun_lines(self) -> list[str]:
        """The reruns grouped by reason, e.g. "3 runs rerun: price book contents changed"."""
        counts = Counter(self.rerun.values())
        return [f"{n} run{'s' if n != 1 else ''} rerun: {why}" for why, n in sorted(counts.items())]


def _finished(out: Path, specs: list[RunSpec]) -> tuple[dict[str, dict], dict[str, str]]:
    """Records on disk that can be reused for the runs to be done, and why each other record
    found on disk cannot (it failed, or its fingerprint changed)."""
    done, rerun = {}, {}
    for spec in specs:
        path = out / "runs" / f"{spec.run_id}.json"
        if path.exists():
            try:
                record = read_json(path)
            except (OSError, ValueError):
                rerun[spec.run_id] = "its record was unreadable"
                continue
            why = rerun_reason(record, spec) if isinstance(record, dict) else "its record was unreadable"
            if why is None:
                done[spec.run_id] = record
            else:
                rerun[spec.run_id] = why
    return done, rerun


def error_line(error: str) -> str:
    """The last line of an error (a traceback ends with the exception), for one-line lists."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


SWEEP_ENTRIES = {"sweep.json", "sweep.resolved.yaml", "runs", "runs.parquet", "cells.parquet",
                 "differences.parquet", "failed.json", "report.md", "report.html", "plots"}
"""What a sweep folder holds: a folder with only these (or nothing) may be resumed into."""


def sweep_folder_problem(folder: Path) -> str | None:
    """Why an existing folder may not receive a sweep (None when it is empty or a sweep's)."""
    entries = [e for e in os.listdir(folder) if not e.startswith(".")]
    foreign = [e for e in entries if e not in SWEEP_ENTRIES]
    ours = {"sweep.json", "sweep.resolved.yaml", "runs"} & set(entries)
    if not entries or (not foreign and ours):
        return None
    shown = ", ".join(sorted(foreign or entries)[:3])
    return (f"is a folder that is not a dcsim sweep folder (it holds {shown}); a sweep writes "
            "and resumes its own folder, so choose a new or empty folder")


def default_out_dir(sweep: Sweep) -> Path:
    return Path("results") / "sweeps" / sweep.spec.name


def run_sweep(
    sweep: Sweep | str | Path,
    out_dir: str | Path | None = None,
    *,
    executor: Executor | str | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    resume: bool = True,
    test: bool = False,
    progress: Callable[[int, int], None] | None = None,
    reports: bool = True,
) -> SweepResult:
    """Run every unfinished run of a sweep, write results as they arrive, then aggregate.

    `sweep` is a loaded Sweep or a sweep file (loaded with its test block when test=True).
    `executor` is an Executor, or "local" (a process pool of `jobs`) or "dask" (a LocalCluster
    of `jobs` workers, or the cluster at `scheduler`).  Results are identical whichever runs them.
    A run that fails is recorded with its error, retried by the next resume, and listed in
    ``SweepResult.failed`` and failed.json; it does not stop the other runs.
    """
    if not isinstance(sweep, Sweep):
        from simulator.experiments.spec import load_sweep

        sweep = load_sweep(sweep, test=test)
    owned = executor is None or isinstance(executor, str)  # made here, so closed here
    if executor is None or isinstance(executor, str):
        executor = make_executor(executor or "local", jobs, scheduler)
    try:
        return _run(sweep, out_dir, executor, resume, progress, reports)
    finally:
        if owned:
            executor.close()


def _run(sweep, out_dir, executor, resume, progress, reports) -> SweepResult:
    out = Path(out_dir) if out_dir is not None else default_out_dir(sweep)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    write_text(out / "sweep.resolved.yaml", yaml.safe_dump(sweep.spec.model_dump(mode="json"), sort_keys=False))
    specs = sweep.runs()
    records, rerun = _finished(out, specs) if resume else ({}, {})
    todo = [s for s in specs if s.run_id not in records]
    reused = len(records)
    if progress:
        progress(len(records), len(specs))
    for spec, record in executor.map_unordered(execute_run, todo):
        write_json(out / "runs" / f"{spec.run_id}.json", record)
        records[spec.run_id] = record
        if progress:
            progress(len(records), len(specs))
    result = aggregate(sweep, out, [records[s.run_id] for s in specs], executed=len(todo), reused=reused,
                       rerun=rerun)
    if reports:
        from simulator.report.sweep import build_sweep_report

        build_sweep_report(out)
    return result


def aggregate(sweep: Sweep, out: Path, records: list[dict], executed: int = 0, reused: int = 0,
              rerun: dict[str, str] | None = None) -> SweepResult:
    """Build and write the run table, cell statistics, paired differences, the goal's answer and
    the list of failed runs (failed.json, empty when none failed)."""
    failed = [r for r in records if r.get("error")]
    write_json(out / "failed.json", clean([
        {k: r.get(k) for k in ("run_id", "cell", "replication", "seed", "params", "error")} for r in failed
    ]))
    axes = sweep.axis_names
    runs = run_table(records, axes)
    cells = cell_stats(runs, axes)
    base = baseline_cell(runs, axes, sweep.spec.baseline)
    diffs = paired_differences(runs, axes, base)
    best = best_cell(cells, axes, sweep.spec.goal)
    write_parquet(out / "runs.parquet", runs)
    write_parquet(out / "cells.parquet", cells)
    write_parquet(out / "differences.parquet", diffs)
    meta = {"name": sweep.spec.name, "axes": axes, "baseline_cell": base, "best": best,
            "goal": sweep.spec.goal.model_dump() if sweep.spec.goal else None,
            "cells": len(sweep.cells), "replications": sweep.spec.replications,
            "runs": len(records), "errors": int(runs["error"].notna().sum()) if "error" in runs else 0}
    write_json(out / "sweep.json", clean(meta))
    return SweepResult(sweep, out, runs, cells, diffs, best, executed, reused, dict(rerun or {}),
                       [(r["run_id"], error_line(r["error"])) for r in failed])


def load_sweep_result(out_dir: str | Path) -> dict[str, Any]:
    """Read a sweep folder's tables (runs, cells, differences) and its sweep.json."""
    out = Path(out_dir)
    return {
        "meta": json.loads((out / "sweep.json").read_text()),
        "runs": pd.read_parquet(out / "runs.parquet"),
        "cells": pd.read_parquet(out / "cells.parquet"),
        "differences": pd.read_parquet(out / "differences.parquet"),
    }


def check_sweep_folder(out_dir: str | Path) -> None:
    """Refuse a corrupt or partial sweep folder before a report is built from it: an
    InputError naming the first file that cannot be read."""
    import pyarrow.parquet as pq

    out = Path(out_dir)
    for name in ("sweep.json", "failed.json"):
        path = out / name
        if name == "failed.json" and not path.exists():
            continue
        try:
            read_json(path)
        except (OSError, ValueError) as exc:
            raise InputError(str(path), [Problem("", f"cannot be read ({str(exc)[:100]}); run "
                                                 "the sweep again to rewrite it")]) from None
    for name in ("runs.parquet", "cells.parquet", "differences.parquet"):
        path = out / name
        try:
            pq.read_table(path)
        except (OSError, ValueError) as exc:
            raise InputError(str(path), [Problem("", f"is missing or not a whole Parquet table "
                                                 f"({str(exc)[:100]}); run the sweep again to "
                                                 "rewrite it")]) from None
