"""The sweep report's tables and the display form of its metrics.

Each section is a function ``(SweepContext) -> list[Block]``: the goal's answer, cell means
with 95% CIs and paired differences against the baseline.  ``Metric`` gives every key metric a
title, display unit and formatter, so tables and plots (``sweep_plots``) state units alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator import sections as registry
from simulator.report import formatting as fmt
from simulator.report.document import Block, Heading, Note, Paragraph, Table

if TYPE_CHECKING:
    from simulator.report.sweep import SweepContext, SweepData

COST, P99, SLO = "cost.total_usd", "latency.p99_s", "latency.slo_s"
SIGNIFICANT = "*"  # marks a paired difference whose 95% CI excludes 0


@dataclass(frozen=True)
class Metric:
    """A summary metric as the report shows it: title, display unit and formatter."""

    name: str  # dotted summary path, e.g. latency.p99_s
    title: str  # "p99 latency"
    unit: str  # display unit: "$", "ms", "%" or ""
    scale: float  # base value x scale = plotted value
    fmt: Callable[[Any], str]  # base value -> display string without the unit

    @property
    def header(self) -> str:
        return f"{self.title} ({self.unit})" if self.unit else self.title

    @property
    def diff_header(self) -> str:
        unit = "pp" if self.unit == "%" else self.unit  # fractions differ in percentage points
        return f"Δ {self.title} ({unit})" if unit else f"Δ {self.title}"

    @property
    def noun(self) -> str:
        """The title for use inside a sentence: "cost", "SLO violations"."""
        acronym = self.title[:2].isupper()
        return self.title if acronym else self.title[:1].lower() + self.title[1:]

    def show(self, value: Any) -> str:
        """A value with its unit: "$1.54", "250 ms", "1.00%"."""
        text = self.fmt(value)
        if text == fmt.MISSING or not self.unit:
            return text
        return {"$": f"${text}", "%": f"{text}%"}.get(self.unit, f"{text} {self.unit}")


def _registered(m: registry.Metric) -> Metric:
    return Metric(m.name, m.title, m.unit, m.scale, fmt.by_unit(m.unit))


def key_metric_names() -> list[str]:
    """The metrics the registered sections mark as key, in section order."""
    return [m.name for m in registry.metrics(None) if m.key]


def metric_info(name: str) -> Metric:
    """The display form of any dotted metric: as registered, else its unit from its suffix."""
    known = registry.metric_info(name)
    if known is not None:
        return _registered(known)
    found = fmt.unit_of(name.rsplit(".", 1)[-1])
    if found is None:
        return Metric(name, name, "", 1.0, fmt.num)
    if found[1] == "s":
        return Metric(name, name, "ms", 1e3, fmt.ms)
    return Metric(name, name, found[1], 100.0 if found[1] == "%" else 1.0, found[2])


def key_metrics(data: SweepData) -> list[Metric]:
    """The key metrics present in cells.parquet, then any other metric the goal names."""
    cells = data.cells
    present = set(cells["metric"]) if cells is not None and "metric" in cells else set()
    goal = data.goal or {}
    names = [*key_metric_names(), goal.get("minimize"),
             *(c.get("metric") for c in goal.get("subject_to", []))]
    return [metric_info(n) for n in dict.fromkeys(names) if n in present]


def short_names(axes: list[str]) -> dict[str, str]:
    """Axis labels for tables and legends: the last dotted part, longer where ambiguous."""
    out = {}
    for axis in axes:
        parts = axis.split(".")
        depth = next(d for d in range(1, len(parts) + 1) if d == len(parts)
                     or sum(a.endswith(".".join(parts[-d:])) for a in axes) == 1)
        out[axis] = ".".join(parts[-depth:])
    return out


def value_text(value: Any) -> str:
    """An axis value as text: numbers with fmt.num, anything else as it is."""
    return fmt.num(value) if fmt.finite(value) is not None else str(value)


def cell_params(data: SweepData) -> pd.DataFrame:
    """Axis values per cell (index: cell), from the run table and the cells table."""
    frames = [f[["cell", *data.axes]] for f in (data.runs, data.cells)
              if f is not None and {"cell", *data.axes} <= set(f.columns)]
    if not frames:
        return pd.DataFrame(columns=data.axes)
    return pd.concat(frames).drop_duplicates("cell").set_index("cell").sort_index()


def describe(data: SweepData, cell: int | None) -> str:
    """A cell with its axis values: "cell 8 (count = 8, policy = least_outstanding)"."""
    params, names = cell_params(data), short_names(data.axes)
    if cell is None or cell not in params.index or not data.axes:
        return f"cell {cell}"
    return f"cell {cell} (" + ", ".join(f"{names[a]} = {value_text(params.at[cell, a])}"
                                        for a in data.axes) + ")"


def mean_ci(mean: Any, low: Any, high: Any, show: Callable[[Any], str]) -> str:
    """ "281 [265, 297]"; the interval is left out where undefined (one replication) or
    where it has no width (a figure every replication shares, such as an on-demand bill)."""
    lo, hi = fmt.finite(low), fmt.finite(high)
    if lo is None or hi is None or abs(hi - lo) <= 1e-12 * max(1.0, abs(fmt.finite(mean) or 0)):
        return show(mean)
    return f"{show(mean)} [{show(low)}, {show(high)}]"


def signed(show: Callable[[Any], str]) -> Callable[[Any], str]:
    """A formatter that writes the sign of non-zero values: "+12.5", "-0.0040"."""
    def write(value: Any) -> str:
        number = fmt.finite(value)
        return show(value) if not number else ("-" if number < 0 else "+") + show(abs(number))
    return write


def excludes_zero(low: Any, high: Any) -> bool:
    """True when a confidence interval lies wholly on one side of 0."""
    lo, hi = fmt.finite(low), fmt.finite(high)
    return lo is not None and hi is not None and (lo > 0 or hi < 0)


def wide_stats(frame: pd.DataFrame | None, stat: str = "mean") -> pd.DataFrame:
    """A long statistics table as one row per cell (index) and one column per metric."""
    if frame is None or frame.empty:
        return pd.DataFrame()
    # dropna=False keeps all-NaN columns: one replication has no interval, only a mean
    return frame.pivot_table(index="cell", columns="metric", values=stat, aggfunc="first",
                             dropna=False)


def ci_text(data: SweepData, cell: int, metric: Metric, units: bool = True) -> str:
    """One metric of one cell as "mean [low, high]", with units for prose, bare for tables."""
    rows = data.metric_stats(metric.name)
    rows = rows[rows["cell"] == cell] if len(rows) else rows
    if rows.empty:
        return fmt.MISSING
    return mean_ci(*rows.iloc[0][["mean", "ci_low", "ci_high"]],
                   metric.show if units else metric.fmt)


def bound_text(metric: Metric, constraint: dict[str, Any]) -> str:
    op = {"<=": "≤", ">=": "≥"}.get(str(constraint.get("op", "<=")), str(constraint.get("op")))
    return f"{metric.noun} {op} {metric.show(constraint.get('value'))}"


def _meets(value: Any, constraint: dict[str, Any]) -> bool:
    bound = float(constraint["value"])
    return value >= bound if constraint.get("op") == ">=" else value <= bound


def row_start(data: SweepData, params: pd.DataFrame, cell: int) -> list[str]:
    """The first cells of a per-cell row: the cell (tagged baseline/best) and its axis values."""
    tags = [t for t, c in (("baseline", data.baseline_cell), ("best", data.best_cell)) if c == cell]
    label = f"{cell} ({', '.join(tags)})" if tags else str(cell)
    return [label, *(value_text(params.at[cell, a]) if cell in params.index else fmt.MISSING
                     for a in data.axes)]


def goal(ctx: SweepContext) -> list[Block]:
    """The sweep's question and its answer: the best cell, or the cell closest to feasible."""
    data, spec = ctx.data, ctx.data.goal
    if spec is None:
        return []
    target = metric_info(str(spec.get("minimize")))
    bounds = [(metric_info(str(c.get("metric"))), c) for c in spec.get("subject_to", [])]
    question = f"Minimize the mean {target.noun}" + "".join(
        f"{' subject to' if i == 0 else ' and'} mean {bound_text(m, c)}"
        for i, (m, c) in enumerate(bounds))
    blocks: list[Block] = [Heading("Goal"), Paragraph(question + ", judged on cell means.")]
    best, means = data.best_cell, wide_stats(data.cells)
    if best is not None:
        feasible = (data.best or {}).get("feasible")
        blocks.append(Paragraph(
            f"Answer: {describe(data, best)}, with {target.noun} {ci_text(data, best, target)}"
            + (f"; {feasible} of {fmt.num(data.meta.get('cells'))} cells meet every constraint."
               if feasible else ".")))
        lows, highs = wide_stats(data.cells, "ci_low"), wide_stats(data.cells, "ci_high")
        for m, c in bounds:
            if best not in lows.index or m.name not in lows:
                continue
            low, high = lows.at[best, m.name], highs.at[best, m.name]
            if fmt.finite(low) is not None and _meets(low, c) != _meets(high, c):
                blocks.append(Note(
                    f"The 95% CI of the best cell's {m.noun}, {ci_text(data, best, m)}, straddles "
                    f"the bound {bound_text(m, c)}: more replications would firm up this answer.",
                    warning=True))
        return blocks
    blocks.append(Paragraph("Answer: no cell meets every constraint."))
    usable = [(m, c) for m, c in bounds if m.name in means]
    if usable:  # closest: the cell whose worst relative shortfall against a bound is smallest
        gaps = pd.concat([((means[m.name] - float(c["value"])) * (-1 if c.get("op") == ">=" else 1)
                           / max(abs(float(c["value"])), 1e-12)).clip(lower=0)
                          for m, c in usable], axis=1)
        closest = int(gaps.max(axis=1).idxmin())
        figures = "; ".join(f"{m.noun} {ci_text(data, closest, m)} against {bound_text(m, c)}"
                            for m, c in usable)
        blocks.append(Paragraph(f"Closest to the constraints: {describe(data, closest)}, with "
                                f"{figures}. Widen the axes or revisit the bound."))
    return blocks


def cells_table(ctx: SweepContext) -> list[Block]:
    """One row per cell: axis values and the key metrics' means with 95% CIs."""
    data = ctx.data
    blocks: list[Block] = [Heading("Cells")]
    if data.cells is None or data.cells.empty or not ctx.metrics:
        return blocks + [Note("No cell statistics to show.")]
    means, lows, highs, counts = (wide_stats(data.cells, s)
                                  for s in ("mean", "ci_low", "ci_high", "n"))
    params, names = cell_params(data), short_names(data.axes)
    bounds = [c for c in (data.goal or {}).get("subject_to", []) if c.get("metric") in means]
    runs = counts.max(axis=1)  # successful runs per cell: short where runs failed
    show_runs = bool((runs < (data.meta.get("replications") or 0)).any())
    columns = ["Cell", *(names[a] for a in data.axes), *(["Runs"] if show_runs else []),
               *(["Meets constraints"] if bounds else []), *(m.header for m in ctx.metrics)]
    rows = []
    for cell in means.index:
        row = row_start(data, params, cell) + ([fmt.num(runs[cell])] if show_runs else [])
        if bounds:
            meets = all(_meets(means.at[cell, c["metric"]], c) for c in bounds)
            row.append("yes" if meets else "no")
        rows.append(row + [mean_ci(means.at[cell, m.name], lows.at[cell, m.name],
                                   highs.at[cell, m.name], m.fmt) for m in ctx.metrics])
    return blocks + [Paragraph("Mean over replications with its 95% t confidence interval in "
                               "brackets; cells.parquet holds every summary metric."),
                     Table(columns, rows)]


def differences_table(ctx: SweepContext) -> list[Block]:
    """Each cell minus the baseline, paired by replication; CIs that exclude 0 are marked."""
    data = ctx.data
    blocks: list[Block] = [Heading("Differences against the baseline")]
    wide = {s: wide_stats(data.differences, s) for s in ("mean_diff", "ci_low", "ci_high", "n")}
    metrics = [m for m in ctx.metrics if m.name in wide["mean_diff"]]
    if not metrics:
        return blocks + [Note("No paired differences to show (one cell, or no baseline).")]
    blocks.append(Paragraph(
        f"Each cell minus the baseline, {describe(data, data.baseline_cell)}, paired by "
        "replication: mean difference with its 95% t confidence interval. "
        f"{SIGNIFICANT} marks a difference whose interval excludes 0."))
    params, names = cell_params(data), short_names(data.axes)
    rows = []
    for cell in wide["mean_diff"].index:
        row = row_start(data, params, cell) + [fmt.num(wide["n"].loc[cell].max())]
        for m in metrics:
            d, lo, hi = (wide[s].at[cell, m.name] for s in ("mean_diff", "ci_low", "ci_high"))
            row.append(mean_ci(d, lo, hi, signed(m.fmt))
                       + (f" {SIGNIFICANT}" if excludes_zero(lo, hi) else ""))
        rows.append(row)
    columns = ["Cell", *(names[a] for a in data.axes), "Pairs", *(m.diff_header for m in metrics)]
    return blocks + [Table(columns, rows)]
