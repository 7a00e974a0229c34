"""The sweep report's figures: each key metric across the first axis, cost against p99 latency.

``plot_metric_by_axis`` and ``plot_cost_vs_latency`` are pure: a small DataFrame of cell
statistics (already in display units) and a path in, one PNG out.  They use the run report's
Agg helpers (no pyplot, so no global figure state leaks) and write atomically.  The sections
``metric_plots`` and ``cost_latency`` turn the sweep's tables into their inputs, with the SLO
and goal constraints as reference lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulator.report.document import Block, Heading, Note, Paragraph, Table
from simulator.report.plots import SLO_STYLE, _figure, _save, log_axis, put_title
from simulator.report.sweep_sections import (
    COST,
    P99,
    SLO,
    Metric,
    bound_text,
    cell_params,
    ci_text,
    row_start,
    short_names,
    value_text,
    wide_stats,
)

if TYPE_CHECKING:
    from simulator.report.sweep import SweepContext, SweepData

LOG_RATIO = 30.0  # a positive series spanning more than this factor is drawn on a log scale
BEST_STYLE = {"s": 260, "facecolors": "none", "edgecolors": "black", "linewidths": 1.6,
              "zorder": 5}
GOAL_STYLE = {"color": "#bc4c00", "linestyle": "-.", "linewidth": 1.3}
FRONT_COLOR = "#1f2328"
MARKERS = "osD^v<>P"  # distinct shapes so series that coincide stay visible
LABEL_OFFSETS = ((6, 5), (6, -12), (6, 16), (6, -23))  # staggered point labels per series
@dataclass(frozen=True)
class Bound:
    """A horizontal (or vertical) reference line: an SLO or a goal constraint, display units."""

    value: float
    label: str
    goal: bool = False  # goal constraints and SLOs are styled apart


def _style(bound: Bound) -> dict:
    return GOAL_STYLE if bound.goal else SLO_STYLE


def _log_scale(values: Sequence[float]) -> bool:
    positive = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    return len(positive) > 1 and positive.max() / positive.min() > LOG_RATIO


def _errors(mean: pd.Series, low: pd.Series, high: pd.Series) -> np.ndarray:
    """Asymmetric error bar lengths; a missing interval (one replication) draws none."""
    below = (mean - low).to_numpy(dtype=float)
    above = (high - mean).to_numpy(dtype=float)
    return np.nan_to_num(np.clip(np.vstack([below, above]), 0, None))


def plot_metric_by_axis(stats: pd.DataFrame, path: Path, *, x: str, series: str | None,
                        xlabel: str, ylabel: str, title: str,
                        bounds: Sequence[Bound] = (), best_cell: int | None = None) -> Path:
    """A metric's cell means against the first axis with 95% CI, one line per series.

    ``stats`` has columns cell, ``x``, series (a label naming the other axes' values), mean,
    ci_low and ci_high.  A numeric x draws lines with CI bands; a categorical x draws dodged
    points with CI error bars.  Bounds become horizontal lines; the goal's best cell is ringed.
    """
    fig, (ax,) = _figure(4.6)
    frame = stats.copy()
    frame["series"] = frame[series] if series else ""
    numeric = pd.api.types.is_numeric_dtype(frame[x]) and not pd.api.types.is_bool_dtype(frame[x])
    categories = list(dict.fromkeys(frame[x].astype(str))) if not numeric else []
    groups = list(dict.fromkeys(frame["series"]))
    width = 0.5 / max(1, len(groups))
    for index, group in enumerate(groups):
        part = frame[frame["series"] == group]
        color = f"C{index % 10}"
        label = group or None
        if numeric:
            part = part.sort_values(x)
            xs = part[x].to_numpy(dtype=float)
            ax.fill_between(xs, part["ci_low"], part["ci_high"], color=color, alpha=0.18,
                            linewidth=0)
            ax.plot(xs, part["mean"], marker=MARKERS[index % len(MARKERS)], color=color,
                    label=label, linewidth=1.6, markersize=max(4.0, 8.0 - 1.2 * index))
        else:
            offset = (index - (len(groups) - 1) / 2) * width
            xs = np.array([categories.index(v) for v in part[x].astype(str)]) + offset
            ax.errorbar(xs, part["mean"], yerr=_errors(part["mean"], part["ci_low"],
                        part["ci_high"]), fmt=MARKERS[index % len(MARKERS)], color=color,
                        capsize=4, label=label)
        if best_cell is not None and (part["cell"] == best_cell).any():
            row = part["cell"] == best_cell
            ax.scatter(np.asarray(xs)[row.to_numpy()], part.loc[row, "mean"],
                       label="best cell (goal)", **BEST_STYLE)
    for bound in bounds:
        ax.axhline(bound.value, label=bound.label, **_style(bound))
    if numeric:
        values = sorted(frame[x].unique())
        if len(values) <= 12:
            ax.set_xticks(values)
    else:
        ax.set_xticks(range(len(categories)), categories)
        ax.set_xlim(-0.6, len(categories) - 0.4)
    log = _log_scale([*frame["mean"], *(b.value for b in bounds)])
    if log:
        log_axis(ax, "y")
        ylabel += ", log scale"
    elif frame["mean"].min() >= 0:
        ax.set_ylim(bottom=0)
    put_title(ax, title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles = len(groups) + len(bounds) + (best_cell is not None)
    if handles > 1 or bounds:
        ax.legend(fontsize=8, loc="best", ncols=1 if handles <= 6 else 2)
    return _save(fig, path)


def plot_cost_vs_latency(points: pd.DataFrame, path: Path, *, front: Sequence[int],
                         xlabel: str, ylabel: str, bounds: Sequence[Bound] = (),
                         best_cell: int | None = None, text_name: str = "") -> Path:
    """Cell means of cost (y) against p99 latency (x) with 95% CI error bars and Pareto front.

    ``points`` has columns cell, x, x_low, x_high, y, y_low, y_high, series (legend group:
    the other axes' values) and text (the point's label, e.g. its first-axis value, which
    ``text_name`` names in the legend title).  ``front`` lists the Pareto-optimal cells (both
    minimized), drawn as a highlighted step line.  Vertical bounds mark the latency SLO or a
    goal constraint on p99.
    """
    fig, (ax,) = _figure(5.6)
    groups = list(dict.fromkeys(points["series"]))
    for index, group in enumerate(groups):
        part = points[points["series"] == group]
        ax.errorbar(part["x"], part["y"], xerr=_errors(part["x"], part["x_low"], part["x_high"]),
                    yerr=_errors(part["y"], part["y_low"], part["y_high"]),
                    fmt=MARKERS[index % len(MARKERS)],
                    color=f"C{index % 10}", capsize=3, markersize=6, label=group or "cells",
                    zorder=3)
    on_front = points[points["cell"].isin(list(front))].sort_values(["x", "y"])
    if len(on_front):
        ax.step(on_front["x"], on_front["y"], where="post", color=FRONT_COLOR, linewidth=2.2,
                alpha=0.55, zorder=2, label="Pareto front (lower cost and p99)")
        ax.scatter(on_front["x"], on_front["y"], s=110, facecolors="none",
                   edgecolors=FRONT_COLOR, linewidths=1.6, zorder=4)
    if best_cell is not None and (points["cell"] == best_cell).any():
        best = points[points["cell"] == best_cell]
        ax.scatter(best["x"], best["y"], label="best cell (goal)", **BEST_STYLE)
    front_set = set(front)
    for row in points.itertuples():
        offset = LABEL_OFFSETS[groups.index(row.series) % len(LABEL_OFFSETS)]
        ax.annotate(str(row.text), (row.x, row.y), xytext=offset, textcoords="offset points",
                    fontsize=8, fontweight="bold" if row.cell in front_set else "normal")
    for bound in bounds:
        ax.axvline(bound.value, label=bound.label, **_style(bound))
    if _log_scale([*points["x"], *(b.value for b in bounds)]):
        log_axis(ax, "x")
        xlabel += ", log scale"
    if _log_scale(list(points["y"])):
        log_axis(ax, "y")
        ylabel += ", log scale"
    ax.margins(x=0.06, y=0.1)
    put_title(ax, "Cost against p99 latency per cell (mean, 95% CI)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="best", title=f"point labels: {text_name}" if text_name else None,
              title_fontsize=8)
    return _save(fig, path)


def pareto_cells(points: pd.DataFrame, x: str = "x", y: str = "y") -> list[int]:
    """Cells no other cell beats on both x and y (both minimized), lowest y first."""
    pts = points.dropna(subset=[x, y]).sort_values([x, y], kind="stable")
    front = pts[pts[y] < pts[y].cummin().shift(fill_value=float("inf"))]
    return [int(c) for c in front.sort_values(y, kind="stable")["cell"]]


def _bounds(data: SweepData, metric: Metric) -> list[Bound]:
    """Reference lines for a metric: the latency SLO (for latencies) and goal constraints."""
    bounds = []
    slo = data.metric_stats(SLO)
    slo = slo["mean"].dropna().unique() if len(slo) else []
    if metric.name.startswith("latency.") and metric.unit == "ms" and len(slo) == 1:
        bounds.append(Bound(float(slo[0]) * metric.scale, f"SLO {metric.show(slo[0])}"))
    bounds += [Bound(float(c["value"]) * metric.scale, f"goal: {bound_text(metric, c)}", goal=True)
               for c in (data.goal or {}).get("subject_to", []) if c.get("metric") == metric.name]
    return bounds


def _series(data: SweepData, frame: pd.DataFrame) -> pd.Series:
    """Legend label per row: the values of the other axes ("policy=random").

    An axis zipped with the first (one value per first-axis value and back) names no series:
    it moves along the x axis with it.
    """
    names, first = short_names(data.axes), data.axes[0] if data.axes else None
    params = cell_params(data)

    def tied(axis: str) -> bool:
        return bool(params.groupby(first)[axis].nunique().max() <= 1
                    and params.groupby(axis)[first].nunique().max() <= 1)

    rest = [a for a in data.axes[1:] if not tied(a)]
    if not rest or frame.empty:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[rest].apply(lambda r: ", ".join(f"{names[a]}={value_text(r[a])}" for a in rest),
                             axis=1)


def metric_plots(ctx: SweepContext) -> list[Block]:
    """For each key metric, its cell means against the first axis with 95% CI bands."""
    data = ctx.data
    if not data.axes or not ctx.metrics:
        return []
    x = data.axes[0]
    blocks: list[Block] = [Heading(f"Metrics against {x}")]
    for m in ctx.metrics:
        stats = data.metric_stats(m.name).copy()
        stats[["mean", "ci_low", "ci_high"]] = stats[["mean", "ci_low", "ci_high"]] * m.scale
        stats["series"] = _series(data, stats)
        blocks.append(ctx.plot(
            f"metric_{m.name.replace('.', '_')}.png", f"{m.title} against {x}",
            lambda p, s=stats, m=m: plot_metric_by_axis(
                s, p, x=x, series="series" if s["series"].astype(bool).any() else None, xlabel=x,
                ylabel=m.header, title=f"{m.title} by {x} (cell mean, 95% CI)",
                bounds=_bounds(data, m), best_cell=data.best_cell)))
    return blocks


def cost_latency(ctx: SweepContext) -> list[Block]:
    """Cost against p99 latency per cell with CIs; the Pareto front as a table and a plot."""
    data, cost, p99 = ctx.data, ctx.metric(COST), ctx.metric(P99)
    if cost is None or p99 is None:
        return []
    stat = {s: wide_stats(data.cells, s) for s in ("mean", "ci_low", "ci_high")}
    points = pd.DataFrame({"cell": stat["mean"].index})
    for key, m in (("x", p99), ("y", cost)):
        for suffix, s in (("", "mean"), ("_low", "ci_low"), ("_high", "ci_high")):
            points[key + suffix] = stat[s][m.name].to_numpy() * m.scale
    points = points.join(cell_params(data), on="cell")
    points["series"] = _series(data, points)
    x = data.axes[0] if data.axes else "cell"
    points["text"] = points[x].map(value_text)
    front = pareto_cells(points)
    rows = [[*row_start(data, cell_params(data), c), ci_text(data, c, cost, False),
             ci_text(data, c, p99, False)]
            for c in front]
    names = short_names(data.axes)
    return [
        Heading("Cost against p99 latency"),
        Paragraph("The Pareto front holds the efficient cells, cost and p99 latency both "
                  "minimized: every cell off the front is matched or beaten on both by a cell "
                  "on it."),
        Table(["Cell", *(names[a] for a in data.axes), cost.header, p99.header], rows,
              "Cells on the Pareto front, cheapest first (mean, 95% CI)"),
        ctx.plot("cost_vs_p99.png", "Cost against p99 latency with the Pareto front",
                 lambda p: plot_cost_vs_latency(points, p, front=front, xlabel=p99.header,
                                                ylabel=cost.header, bounds=_bounds(data, p99),
                                                best_cell=data.best_cell,
                                                text_name=names.get(x, "cell"))),
        Note(f"Points are labelled with their {names.get(x, 'cell')}"
             + ("; colours name the other axes" if points["series"].astype(bool).any() else "")
             + ". Bold labels and ringed points are on the Pareto front."),
    ]
