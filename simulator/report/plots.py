"""Report plots: each function takes table(s) and a path, saves one PNG, returns the path.

Figures are built with matplotlib's object API on an Agg canvas (no pyplot, so no global
figure registry or backend switch leaks into the caller) and written atomically.  PNGs carry
no software/version metadata, so the same data gives the same bytes.  Callers check that a
table is usable first (``tables.load_table``); an empty series still yields a labelled plot.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simulator.io import write_bytes
from simulator.report import formatting as fmt
from simulator.report import tables
from simulator.units import Seconds

DPI = 110
WIDTH = 9.0  # inches
SLO_STYLE = {"color": "#cf222e", "linestyle": "--", "linewidth": 1.2}


def _figure(height: float, rows: int = 1, sharex: bool = False) -> tuple[Figure, list]:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return fig, list(axes)


def _margins(fig: Figure, left_in: float = 0.85) -> None:
    """Fixed margins in inches (room for tick labels, axis labels and titles), set once:
    matplotlib's tight_layout draws the figure again to measure it, doubling the cost of a
    plot.  `left_in` grows with the longest y tick label (horizontal bars)."""
    width, height = fig.get_size_inches()
    rows = len(fig.axes)
    fig.subplots_adjust(left=left_in / width, right=1 - 0.2 / width, bottom=0.6 / height,
                        top=1 - 0.35 / height, hspace=0.75 / (height / max(rows, 1)))


def _save(fig: Figure, path: Path, left_in: float = 0.85) -> Path:
    _margins(fig, left_in)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()
    return write_bytes(Path(path), buffer.getvalue())


def time_scale(span_s: Seconds) -> tuple[float, str]:
    """The divisor and axis label that show a time span in s, min, h or days."""
    if span_s <= 600:
        return 1.0, "Simulated time (s)"
    if span_s <= 3 * 3600:
        return 60.0, "Simulated time (min)"
    if span_s <= 3 * 86400:
        return 3600.0, "Simulated time (h)"
    return 86400.0, "Simulated time (days)"


_PLAIN = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")  # not 10^3 on log axes


def log_axis(ax, which: str) -> None:
    """Put the x or y axis on a log scale with plain-number tick labels (which read more
    easily than 10^k, and need no mathtext layout)."""
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(_PLAIN)


def put_title(ax, text: str) -> None:
    """An axes title at the top edge: given its height, matplotlib skips measuring the tick
    labels to place it (they are never above the axes here), a redraw of the axis per title."""
    ax.set_title(text, y=1.0)


def _legend(ax, count: int) -> None:
    if count > 0:
        ax.legend(fontsize=8, ncols=min(4, max(1, count // 6 + 1)), loc="best")


def _slo_for(slo_s: Mapping[str, float] | float | None, service: str) -> float | None:
    # A service without its own SLO uses the overall ("all") one.
    value = slo_s.get(service, slo_s.get("all")) if isinstance(slo_s, Mapping) else slo_s
    return float(value) if value is not None and np.isfinite(value) and value > 0 else None


def _draw_slo(draw: Callable[..., Any], slo_s: Mapping[str, float] | float | None,
              services: list[str], colors: Mapping[str, str]) -> None:
    """One red "SLO" line if all services share it, else a dashed line per service colour."""
    found = {s: v for s in services if (v := _slo_for(slo_s, s)) is not None}
    if len(set(found.values())) == 1:
        draw(next(iter(found.values())) * 1e3, label="SLO", **SLO_STYLE)
        return
    for service, value in found.items():
        style = dict(SLO_STYLE, color=colors.get(service, SLO_STYLE["color"]))
        draw(value * 1e3, label=f"SLO {service}", **style)


def _colors(names: list[str]) -> dict[str, str]:
    """A stable colour per service or fleet ("all", "total" black) shared by lines and SLOs."""
    others = [s for s in names if s not in ("all", "total")]
    colors = {s: f"C{i % 10}" for i, s in enumerate(others)}
    return colors | {s: "black" for s in names if s in ("all", "total")}


def plot_latency_over_time(service_intervals: pd.DataFrame, path: Path, *,
                           slo_s: Mapping[str, float] | float | None = None) -> Path:
    """Mean and p99 latency (ms) and arrival rate (requests/s) per observation interval.

    The top panel shows each service's mean (solid) and p99 (dotted, same colour) with the SLO
    as a dashed line; the bottom panel shows the offered load that explains them.
    """
    metrics = tables.interval_metrics(service_intervals)
    span = float(metrics["end_s"].max() - min(0.0, metrics["start_s"].min())) if len(metrics) else 0
    scale, xlabel = time_scale(span)
    fig, (top, bottom) = _figure(6.0, rows=2, sharex=True)
    services = sorted(metrics["service"].unique())
    colors = _colors(services)
    for service in services:
        part = metrics[metrics["service"] == service]
        x, color = part["mid_s"] / scale, colors[service]
        top.plot(x, part["mean_latency_s"] * 1e3, label=f"{service} mean", linewidth=1.2,
                 color=color)
        if part["p99_s"].notna().any():
            top.plot(x, part["p99_s"] * 1e3, label=f"{service} p99", linewidth=1.2, linestyle=":",
                     color=color)
        bottom.plot(x, part["throughput_per_s"], label=service, linewidth=1.2, color=color)
    _draw_slo(top.axhline, slo_s, services, colors)
    put_title(top, "Latency per interval")
    top.set_ylabel("Latency (ms)")
    top.set_ylim(bottom=0)
    put_title(bottom, "Offered load per interval")
    bottom.set_ylabel("Arrivals (requests/s)")
    bottom.set_xlabel(xlabel)
    bottom.set_ylim(bottom=0)
    _legend(top, 2 * len(services) + 1)
    return _save(fig, path)


def plot_latency_cdf(latency_sketch: pd.DataFrame, path: Path, *,
                     slo_s: Mapping[str, float] | float | None = None) -> Path:
    """Latency CDF per service from the log-bucketed sketch (log latency axis, SLO line)."""
    return _plot_cdf(tables.latency_cdf(latency_sketch), path, slo_s, "latency sketch")


def plot_request_latency_cdf(requests: pd.DataFrame, path: Path, *,
                             slo_s: Mapping[str, float] | float | None = None) -> Path:
    """Latency CDF per service from per-request rows, for runs that kept them."""
    return _plot_cdf(tables.requests_cdf(requests), path, slo_s, "per-request table")


def _plot_cdf(cdf: pd.DataFrame, path: Path, slo_s: Mapping[str, float] | float | None,
              source: str) -> Path:
    fig, (ax,) = _figure(4.8)
    services = sorted(cdf["service"].unique())
    positive = cdf[cdf["value_s"] > 0]
    colors = _colors(services)
    for service in services:
        part = positive[positive["service"] == service]
        ax.step(part["value_s"] * 1e3, part["cdf"], where="post", label=service,
                color=colors[service], linewidth=2.0 if service == "all" else 1.4)
    _draw_slo(ax.axvline, slo_s, [s for s in services if s != "all"] or services, colors)
    for level in (0.5, 0.95, 0.99):
        ax.axhline(level, color="grey", linewidth=0.6, alpha=0.6)
    if len(positive):
        log_axis(ax, "x")
    ax.set_ylim(0, 1.02)
    put_title(ax, f"Latency distribution (from the {source})")
    ax.set_xlabel("Latency (ms, log scale)")
    ax.set_ylabel("Fraction of requests ≤ latency")
    _legend(ax, len(services) + 1)
    return _save(fig, path)


def plot_running_instances(instance_intervals: pd.DataFrame, path: Path, *,
                           until_s: Seconds | None = None,
                           activities: pd.DataFrame | None = None,
                           targets: pd.DataFrame | None = None) -> Path:
    """Instances in state running over time, one step line per fleet (and total), with each
    fleet's desired capacity (dashed) where scaling activities set it and its targets in
    service behind the load balancer (dotted) where it has one."""
    counts = tables.running_counts(instance_intervals, until_s)
    span = float(counts["time_s"].max()) if len(counts) else 0.0
    scale, xlabel = time_scale(span)
    fig, (ax,) = _figure(4.2)
    fleets = sorted(counts["fleet"].unique())
    colors = _colors(fleets)
    for fleet in fleets:
        part = counts[counts["fleet"] == fleet]
        ax.step(part["time_s"] / scale, part["running"], where="post", label=f"{fleet} running",
                color=colors[fleet], linewidth=2.0 if fleet == "total" else 1.4)
    if targets is not None and len(targets):
        healthy = tables.running_counts(targets, until_s, state="healthy", group="target_group")
        for fleet, part in healthy[healthy["fleet"] != "total"].groupby("fleet", sort=True):
            ax.step(part["time_s"] / scale, part["running"], where="post", linestyle=":",
                    linewidth=1.4, color=colors.get(fleet, "grey"), label=f"{fleet} in service")
    desired = tables.desired_steps(activities, until_s if until_s is not None else span)
    for fleet, part in desired.groupby("fleet", sort=True):
        ax.step(part["time_s"] / scale, part["desired"], where="post", linestyle="--",
                linewidth=1.0, color=colors.get(fleet, "grey"), label=f"{fleet} desired")
    put_title(ax, "Instances over time")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Instances")
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    _legend(ax, 3 * len(fleets))
    return _save(fig, path)


def _service_lines(service_intervals: pd.DataFrame, height: float):
    """A one-panel time figure for per-service lines: (fig, ax, time divisor, parts), where
    parts holds (service, its interval metrics, its colour)."""
    metrics = tables.interval_metrics(service_intervals)
    span = float(metrics["end_s"].max()) if len(metrics) else 0.0
    scale, xlabel = time_scale(span)
    fig, (ax,) = _figure(height)
    ax.set_xlabel(xlabel)
    services = sorted(metrics["service"].unique())
    colors = _colors(services)
    return fig, ax, scale, [(s, metrics[metrics["service"] == s], colors[s]) for s in services]


def plot_rejections(service_intervals: pd.DataFrame, path: Path) -> Path:
    """Rejected (no target in service) and failed (cut) requests per interval and service."""
    fig, ax, scale, parts = _service_lines(service_intervals, 3.8)
    for service, part, color in parts:
        x = part["mid_s"] / scale
        ax.plot(x, part["rejected"], label=f"{service} rejected", color=color, linewidth=1.2)
        if part["failed"].fillna(0).any():
            ax.plot(x, part["failed"], label=f"{service} failed", color=color, linewidth=1.2,
                    linestyle=":")
    put_title(ax, "Rejected and failed requests per interval")
    ax.set_ylabel("Requests")
    ax.set_ylim(bottom=0)
    _legend(ax, 2 * len(parts))
    return _save(fig, path)


def plot_utilization(service_intervals: pd.DataFrame, path: Path) -> Path:
    """vCPU utilization per interval and service: work_s / (vcpus x interval length), in %."""
    fig, ax, scale, parts = _service_lines(service_intervals, 4.2)
    for service, part, color in parts:
        ax.plot(part["mid_s"] / scale, part["utilization"] * 100, label=service, linewidth=1.2,
                color=color)
    ax.axhline(100, color="grey", linestyle=":", linewidth=1.0)
    put_title(ax, "vCPU utilization per interval (work / capacity of in-service targets)")
    ax.set_ylabel("Utilization (%)")
    ax.set_ylim(bottom=0)
    _legend(ax, len(parts))
    return _save(fig, path)


def plot_cost_breakdown(cost: pd.DataFrame, path: Path) -> Path:
    """Horizontal bars of dollars by service and usage type, largest at the top."""
    breakdown = tables.cost_breakdown(cost)
    fig, (ax,) = _figure(max(2.6, 1.2 + 0.38 * len(breakdown)))
    ax.grid(True, axis="x", alpha=0.3)
    ax.grid(False, axis="y")
    services = sorted(breakdown["service"].unique())
    palette = {s: f"C{i % 10}" for i, s in enumerate(services)}
    y = np.arange(len(breakdown))[::-1]
    ax.barh(y, breakdown["usd"], color=[palette[s] for s in breakdown["service"]])
    ax.set_yticks(y, breakdown["label"], fontsize=9)
    top = float(breakdown["usd"].max()) if len(breakdown) else 0.0
    for yi, value in zip(y, breakdown["usd"], strict=True):
        ax.annotate(f"${fmt.usd(value)}", (value, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_xlim(0, top * 1.18 if top > 0 else 1.0)
    put_title(ax, f"Cost by service and usage type (total ${fmt.usd(breakdown['usd'].sum())})")
    ax.set_xlabel("Cost ($)")
    longest = max((len(str(label)) for label in breakdown["label"]), default=0)
    return _save(fig, path, left_in=0.3 + 0.075 * longest)  # 9 pt labels: ~0.075 in a character
