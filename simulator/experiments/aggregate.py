"""Aggregation of sweep results: the tidy run table, cell means with CIs, paired differences.

Pure functions over DataFrames.  The run table has one row per run: run_id, cell,
replication, seed, one column per axis (named by its dotted path), one column per summary
metric (dotted names such as ``latency.p99_s``), and error.  Cell statistics use the Student t
interval over replications; differences between cells are paired by replication (common random
numbers make them much tighter than unpaired ones).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simulator.experiments.stats import t_interval

SKIP_PREFIXES = ("versions.", "scenario", "error", "seed")


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested summary -> {dotted key: scalar}; lists (intervals) become key.low / key.high."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list | tuple) and len(value) == 2:
            out[f"{name}.low"], out[f"{name}.high"] = value
        elif not isinstance(value, list | tuple):
            out[name] = value
    return out


def run_row(record: Mapping[str, Any], axes: Sequence[str]) -> dict[str, Any]:
    """One row of the run table from a run record (as written to runs/<id>.json)."""
    row = {
        "run_id": record["run_id"],
        "cell": record["cell"],
        "replication": record["replication"],
        "seed": record["seed"],
    }
    for axis in axes:
        row[axis] = record["params"].get(axis)
    metrics = flatten(record.get("summary") or {})
    row.update({k: metrics[k] for k in sorted(metrics) if not k.startswith(SKIP_PREFIXES)})
    row["error"] = record.get("error")
    return row


def run_table(records: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> pd.DataFrame:
    """The tidy run table, sorted by cell then replication."""
    frame = pd.DataFrame([run_row(r, axes) for r in records])
    if frame.empty:
        return frame
    return frame.sort_values(["cell", "replication"], kind="stable").reset_index(drop=True)


def metric_columns(runs: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    """The numeric metric columns of a run table (not ids, axes or the error)."""
    fixed = {"run_id", "cell", "replication", "seed", "error", *axes}
    return [c for c in runs.columns if c not in fixed and pd.api.types.is_numeric_dtype(runs[c])
            and not pd.api.types.is_bool_dtype(runs[c])]


def cell_stats(runs: pd.DataFrame, axes: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """Long table: cell, axis values, metric, n, mean, se, ci_low, ci_high (t interval)."""
    rows = []
    ok = runs[runs["error"].isna()] if "error" in runs else runs
    for cell, group in ok.groupby("cell", sort=True):
        params = {a: group[a].iloc[0] for a in axes}
        for metric in metric_columns(runs, axes):
            est = t_interval(group[metric].to_numpy(dtype=float), level)
            rows.append({"cell": cell, **params, "metric": metric, "n": est.n, "mean": est.mean,
                         "se": est.se, "ci_low": est.low, "ci_high": est.high})
    return pd.DataFrame(rows)


def paired_differences(
    runs: pd.DataFrame, axes: Sequence[str], baseline: int, level: float = 0.95
) -> pd.DataFrame:
    """Long table of each cell minus the baseline cell, paired by replication, with t CIs."""
    ok = runs[runs["error"].isna()] if "error" in runs else runs
    base = ok[ok["cell"] == baseline].set_index("replication")
    rows = []
    for cell, group in ok.groupby("cell", sort=True):
        if cell == baseline:
            continue
        g = group.set_index("replication")
        common = g.index.intersection(base.index)
        params = {a: group[a].iloc[0] for a in axes}
        for metric in metric_columns(runs, axes):
            diff = g.loc[common, metric].to_numpy(dtype=float) - base.loc[common, metric].to_numpy(dtype=float)
            est = t_interval(diff, level)
            rows.append({"cell": cell, **params, "baseline": baseline, "metric": metric, "n": est.n,
                         "mean_diff": est.mean, "se": est.se, "ci_low": est.low, "ci_high": est.high})
    return pd.DataFrame(rows)


def baseline_cell(runs: pd.DataFrame, axes: Sequence[str], values: Mapping[str, Any] | None) -> int:
    """The cell whose axis values match `values` (default: the first cell)."""
    cells = runs.drop_duplicates("cell").sort_values("cell")
    if not values:
        return int(cells["cell"].iloc[0])
    mask = np.ones(len(cells), dtype=bool)
    for key, value in values.items():
        if key not in axes:
            raise KeyError(f"baseline names {key!r}, which is not an axis ({list(axes)})")
        mask &= (cells[key] == value).to_numpy()
    if not mask.any():
        raise KeyError(f"no cell has the baseline values {dict(values)}")
    return int(cells["cell"][mask].iloc[0])


def pareto_front(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows not dominated in (x, y), both minimized, sorted by x."""
    pts = points.dropna(subset=[x, y]).sort_values([x, y], kind="stable")
    keep, best_y = [], np.inf
    for idx, row in pts.iterrows():
        if row[y] < best_y:
            keep.append(idx)
            best_y = row[y]
    return pts.loc[keep]


def wide_means(cells: pd.DataFrame, axes: Sequence[str]) -> pd.DataFrame:
    """Cell means as a wide table: one row per cell, one column per metric."""
    if cells.empty:
        return cells
    wide = cells.pivot_table(index=["cell"], columns="metric", values="mean", aggfunc="first")
    params = cells.drop_duplicates("cell").set_index("cell")[list(axes)]
    return params.join(wide).reset_index()


def best_cell(cells: pd.DataFrame, axes: Sequence[str], goal) -> dict[str, Any] | None:
    """The cell that minimizes goal.minimize among cells whose means meet every constraint."""
    if goal is None or cells.empty:
        return None
    wide = wide_means(cells, axes)
    if goal.minimize not in wide:
        raise KeyError(f"goal.minimize: no metric {goal.minimize!r} in the results")
    ok = np.ones(len(wide), dtype=bool)
    for c in goal.subject_to:
        if c.metric not in wide:
            raise KeyError(f"goal.subject_to: no metric {c.metric!r} in the results")
        col = wide[c.metric].to_numpy(dtype=float)
        ok &= col <= c.value if c.op == "<=" else col >= c.value
    feasible = wide[ok]
    if feasible.empty:
        return {"cell": None, "feasible": 0, "message": "no cell meets every constraint"}
    row = feasible.sort_values([goal.minimize, "cell"]).iloc[0]
    return {
        "cell": int(row["cell"]),
        "params": {a: _plain(row[a]) for a in axes},
        goal.minimize: float(row[goal.minimize]),
        "feasible": int(ok.sum()),
        "message": f"cell {int(row['cell'])} minimizes {goal.minimize} among {int(ok.sum())} cells meeting the constraints",
    }


def _plain(v):
    return v.item() if hasattr(v, "item") else v
