"""Read a run's tables and derive the series the report plots and tabulates.

Everything here is a pure function of DataFrames (plus one reader), so the report never needs
the engine: per-interval latency, throughput and utilization; running-instance step counts;
latency CDFs from the log-bucketed sketch or from per-request rows; cost breakdowns.  Any
table may be missing, empty or lack a column; ``load_table`` says why in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.units import Seconds

MAX_POINTS = 2000  # points per plotted series; longer series are aggregated, not dropped

def load_table(run_dir: Path, name: str, columns: Sequence[str] | None = None
               ) -> tuple[pd.DataFrame | None, str]:
    """Read tables/<name>.parquet; return (frame, "") or (None, one-line reason it is unusable).

    ``columns`` restricts the read (for large optional tables such as ``requests``).
    """
    path = Path(run_dir) / "tables" / f"{name}.parquet"
    if not path.is_file():
        return None, f"No {name} table in this run."
    try:
        frame = pd.read_parquet(path, columns=list(columns) if columns else None)
    except Exception as exc:  # a broken file must not stop the rest of the report
        return None, f"The {name} table could not be read ({type(exc).__name__}: {exc})."
    if frame.empty:
        return None, f"The {name} table is empty."
    return frame, ""


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as floats (the record types fix which columns a table has)."""
    return pd.to_numeric(frame[name], errors="coerce").astype(float)


def interval_metrics(service_intervals: pd.DataFrame, max_points: int = MAX_POINTS
                     ) -> pd.DataFrame:
    """Per service and interval: mean latency, arrival rate and vCPU utilization.

    Returns columns service, start_s, end_s, mid_s, arrivals, served, rejected, failed,
    mean_latency_s
    (latency_sum_s / served), p99_s (the interval's exact p99; the worst of them where intervals
    are merged), throughput_per_s (arrivals / interval length) and utilization
    (work_s / (vcpus x interval length)).  Services with more than ``max_points`` intervals
    have consecutive intervals merged by summing, so ratios stay exact over the merged span.
    """
    frame = pd.DataFrame({
        "service": service_intervals["service"].astype(str),
        "start_s": _column(service_intervals, "start_s"),
        "end_s": _column(service_intervals, "end_s"),
        "arrivals": _column(service_intervals, "arrivals"),
        "served": _column(service_intervals, "served"),
        "rejected": _column(service_intervals, "rejected"),
        "failed": _column(service_intervals, "failed"),
        "latency_sum_s": _column(service_intervals, "latency_sum_s"),
        "work_s": _column(service_intervals, "work_s"),
        "p99_s": _column(service_intervals, "p99_s"),
    })
    frame["duration_s"] = (frame["end_s"] - frame["start_s"]).clip(lower=0)
    frame["capacity_s"] = _column(service_intervals, "vcpus") * frame["duration_s"]
    frame = frame.sort_values(["service", "start_s"], kind="stable").reset_index(drop=True)
    sums = ["arrivals", "served", "rejected", "failed", "latency_sum_s", "work_s", "duration_s",
            "capacity_s"]
    parts = []
    for service, group in frame.groupby("service", sort=True):
        step = max(1, -(-len(group) // max_points))
        bins = np.arange(len(group)) // step
        by_bin = group.groupby(bins)
        agg = pd.concat([by_bin["start_s"].min(), by_bin["end_s"].max(), by_bin["p99_s"].max(),
                         by_bin[sums].sum(min_count=1)], axis=1)
        agg.insert(0, "service", service)
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    out["mid_s"] = (out["start_s"] + out["end_s"]) / 2
    out["mean_latency_s"] = out["latency_sum_s"] / out["served"].where(out["served"] > 0)
    out["throughput_per_s"] = out["arrivals"] / out["duration_s"].where(out["duration_s"] > 0)
    out["utilization"] = out["work_s"] / out["capacity_s"].where(out["capacity_s"] > 0)
    return out[["service", "start_s", "end_s", "mid_s", "arrivals", "served", "rejected", "failed",
                "mean_latency_s", "p99_s", "throughput_per_s", "utilization"]]


def running_counts(instance_intervals: pd.DataFrame, until_s: Seconds | None = None, *,
                   state: str = "running", group: str = "fleet") -> pd.DataFrame:
    """Rows in `state` over time, per `group` column, as a step function.

    By default instances running per fleet; with ``state="healthy", group="target_group"``
    on target_intervals, targets in service per fleet.  Returns columns fleet, time_s,
    running: the count holds from time_s until the fleet's next row.  An interval with no
    end_s is still open and runs to ``until_s`` (default: the latest time in the table).  With
    more than one fleet a "total" fleet is added.
    """
    frame = instance_intervals
    running = frame[frame["state"].astype(str) == state]
    if running.empty:
        return pd.DataFrame({"fleet": [], "time_s": [], "running": []})
    times = pd.concat([_column(frame, "start_s"), _column(frame, "end_s")])
    horizon = float(until_s) if until_s is not None else float(times.max())
    fleets = running[group].astype(str)
    starts = _column(running, "start_s")
    ends = _column(running, "end_s").fillna(horizon)
    events = pd.DataFrame({
        "fleet": pd.concat([fleets, fleets]).astype(str).to_numpy(),
        "time_s": pd.concat([starts, ends]).to_numpy(),
        "delta": np.concatenate([np.ones(len(running)), -np.ones(len(running))]),
    })
    if events["fleet"].nunique() > 1:
        events = pd.concat([events, events.assign(fleet="total")], ignore_index=True)
    parts = []
    for fleet, group in events.groupby("fleet", sort=True):
        steps = group.groupby("time_s", sort=True)["delta"].sum().cumsum()
        steps = steps[steps.index < horizon]  # the count holds up to the horizon itself
        if steps.empty:
            continue
        steps.loc[horizon] = steps.iloc[-1]
        parts.append(pd.DataFrame({"fleet": fleet, "time_s": steps.index.to_numpy(dtype=float),
                                   "running": steps.to_numpy().round().astype(int)}))
    if not parts:
        return pd.DataFrame({"fleet": [], "time_s": [], "running": []})
    return pd.concat(parts, ignore_index=True)


def desired_steps(activities: pd.DataFrame | None, until_s: Seconds) -> pd.DataFrame:
    """Desired capacity per fleet as a step function (columns fleet, time_s, desired)."""
    if activities is None or activities.empty:
        return pd.DataFrame({"fleet": [], "time_s": [], "desired": []})
    frame = activities.sort_values(["fleet", "time_s"], kind="stable")
    last = frame.groupby("fleet", as_index=False).tail(1).assign(time_s=float(until_s))
    steps = pd.concat([frame, last], ignore_index=True)
    return steps[["fleet", "time_s", "desired"]].sort_values(["fleet", "time_s"], kind="stable")


def latency_cdf(latency_sketch: pd.DataFrame) -> pd.DataFrame:
    """Empirical latency CDF per service from the log-bucketed sketch.

    Returns columns service, value_s, cdf (fraction of requests with latency <= value_s).
    With several services and no "all" row, an "all" curve merges buckets across services.
    """
    frame = pd.DataFrame({
        "service": latency_sketch["service"].astype(str),
        "bucket": latency_sketch["bucket"],
        "value_s": _column(latency_sketch, "value_s"),
        "count": _column(latency_sketch, "count"),
    })
    frame = frame[(frame["count"] > 0) & frame["value_s"].notna()]
    if frame["service"].nunique() > 1 and "all" not in set(frame["service"]):
        merged = frame.groupby("bucket", as_index=False).agg(
            value_s=("value_s", "median"), count=("count", "sum"))
        frame = pd.concat([frame, merged.assign(service="all")], ignore_index=True)
    parts = []
    for service, group in frame.groupby("service", sort=True):
        group = group.sort_values("value_s", kind="stable")
        cumulative = group["count"].cumsum()
        parts.append(pd.DataFrame({"service": service, "value_s": group["value_s"].to_numpy(),
                                   "cdf": (cumulative / cumulative.iloc[-1]).to_numpy()}))
    if not parts:
        return pd.DataFrame({"service": [], "value_s": [], "cdf": []})
    return pd.concat(parts, ignore_index=True)


def requests_cdf(requests: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """Exact latency CDF per service from per-request rows, at most max_points per service."""
    parts = []
    frame = pd.DataFrame({"service": requests["service"].astype(str),
                          "latency_s": _column(requests, "latency_s")}).dropna()
    for service, group in frame.groupby("service", sort=True):
        values = np.sort(group["latency_s"].to_numpy())
        if len(values) > max_points:
            probs = np.linspace(1 / max_points, 1.0, max_points)
            values = np.quantile(values, probs, method="inverted_cdf")
        else:
            probs = np.arange(1, len(values) + 1) / len(values)
        parts.append(pd.DataFrame({"service": service, "value_s": values, "cdf": probs}))
    if not parts:
        return pd.DataFrame({"service": [], "value_s": [], "cdf": []})
    return pd.concat(parts, ignore_index=True)


def cost_breakdown(cost: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Dollars by (service, usage type), largest first; past ``top`` rows the rest is "other".

    Returns columns label ("service · usage type"), service, usage_type, usd.
    """
    frame = pd.DataFrame({"service": cost["service"].astype(str),
                          "usage_type": cost["usage_type"].astype(str),
                          "usd": _column(cost, "usd").fillna(0.0)})
    agg = (frame.groupby(["service", "usage_type"], as_index=False)["usd"].sum()
           .sort_values(["usd", "service", "usage_type"], ascending=[False, True, True],
                        kind="stable").reset_index(drop=True))
    if len(agg) > top:
        rest = agg.iloc[top - 1:]
        other = pd.DataFrame({"service": ["other"], "usage_type": [f"{len(rest)} more items"],
                              "usd": [rest["usd"].sum()]})
        agg = pd.concat([agg.iloc[: top - 1], other], ignore_index=True)
    agg.insert(0, "label", agg["service"] + " · " + agg["usage_type"])
    return agg


def cost_items(cost: pd.DataFrame) -> pd.DataFrame:
    """Billing lines summed by service, purchase option, usage type and unit, largest first."""
    keys = ["service", "purchase_option", "usage_type", "unit"]
    frame = cost[keys].astype(object).fillna("").astype(str)
    frame = frame.assign(quantity=_column(cost, "quantity"), usd=_column(cost, "usd"))
    agg = frame.groupby(keys, as_index=False).agg(
        quantity=("quantity", lambda s: s.sum(min_count=1)), usd=("usd", "sum"))
    return agg.sort_values(["usd", *keys], ascending=[False] + [True] * len(keys),
                           kind="stable").reset_index(drop=True)


def end_causes(instance_intervals: pd.DataFrame) -> pd.DataFrame:
    """How many state stays ended by each cause (rows with an end_cause only), most first."""
    causes = instance_intervals["end_cause"].dropna().astype(str)
    causes = causes[causes != ""]
    counts = causes.value_counts().rename_axis("end_cause").reset_index(name="count")
    return counts.sort_values(["count", "end_cause"], ascending=[False, True], kind="stable")
