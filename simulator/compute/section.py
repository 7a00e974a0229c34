"""Compute's result sections: fleet, requests and latency (summary parts, metrics, report).

Registered with ``simulator.sections`` on import; the World's build step is
``simulator.compute.build:build``.  Summaries are computed from the tables alone; reports
(``compute.report``) read the summary for figures and the tables for series.  Pure: no SimPy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.records import (
    InstanceInterval,
    LatencyStats,
    ScalingActivity,
    ServiceInterval,
    SketchBucket,
    TargetInterval,
    Transfer,
    VolumeInterval,
)
from simulator.sections import Context, Metric, Section, Tables, register

LATENCY_KEYS = tuple(f for f in LatencyStats._fields if f != "service")
_LATENCY_METRICS = {  # key: (title, unit, scale, key metric, headline)
    "arrivals": ("Arrivals", "", 1.0, False, False),
    "requests": ("Requests served", "", 1.0, False, True),
    "rejected": ("Requests rejected", "", 1.0, False, False),
    "failed": ("Requests failed", "", 1.0, False, False),
    "mean_s": ("Mean latency", "ms", 1e3, True, True),
    "p50_s": ("p50 latency", "ms", 1e3, False, False),
    "p95_s": ("p95 latency", "ms", 1e3, False, False),
    "p99_s": ("p99 latency", "ms", 1e3, True, True),
    "slo_s": ("SLO", "ms", 1e3, False, True),
    "slo_violation_fraction": ("SLO violations", "%", 100.0, True, True),
    "relative_error": ("Percentile relative error", "%", 100.0, False, False),
}


# --------------------------------------------------------------------------- fleet


def fleet_summary(tables: Tables, context: Context) -> dict:
    """Instances launched, running instance-hours, peak running, mean vCPU utilization, per fleet."""
    iv = tables["instance_intervals"]
    run = iv[iv["state"] == "running"]
    by_fleet = {}
    for name in sorted(set(iv["fleet"]) | set(context.scenario.fleets)):
        part = run[run["fleet"] == name]
        by_fleet[name] = {
            "instances": int(iv.loc[iv["fleet"] == name, "instance_id"].nunique()),
            "instance_hours": float((part["end_s"] - part["start_s"]).sum()) / 3600.0,
            "peak_running": _peak(part),
            "mean_utilization": _utilization(tables["service_intervals"], name),
        }
    return {
        "instances": int(iv["instance_id"].nunique()),
        "instance_hours": float((run["end_s"] - run["start_s"]).sum()) / 3600.0,
        "peak_running": _peak(run),
        "mean_utilization": _utilization(tables["service_intervals"], None),
        "scaling_activities": int(len(tables["scaling_activities"])),
        "by_fleet": by_fleet,
    }


def _peak(running: pd.DataFrame) -> int:
    """Most instances running at once."""
    if running.empty:
        return 0
    times = np.concatenate([running["start_s"].to_numpy(), running["end_s"].to_numpy()])
    steps = np.concatenate([np.ones(len(running)), -np.ones(len(running))])
    order = np.lexsort((steps, times))  # at equal times, leaving (-1) before joining
    return int(np.cumsum(steps[order]).max())


def _utilization(si: pd.DataFrame, fleet: str | None) -> float | None:
    """Work over in-service vCPU-seconds, of one fleet or all (each fleet's capacity once)."""
    if fleet is not None:
        si = si[si["fleet"] == fleet]
    if si.empty:
        return None
    capacity = si.drop_duplicates(["fleet", "start_s"])
    capacity = float((capacity["vcpus"] * (capacity["end_s"] - capacity["start_s"])).sum())
    return float(si["work_s"].sum()) / capacity if capacity > 0 else None


def fleet_metrics(scenario) -> list[Metric]:
    names = sorted(scenario.fleets) if scenario is not None else []
    out = [Metric("fleet.instances", "Instances launched", headline=True),
           Metric("fleet.instance_hours", "Instance-hours", "h", headline=True),
           Metric("fleet.peak_running", "Peak running instances"),
           Metric("fleet.mean_utilization", "Mean utilization", "%", 100.0, key=True),
           Metric("fleet.scaling_activities", "Scaling activities")]
    for name in names:
        out += [Metric(f"fleet.by_fleet.{name}.{k}", f"{name}: {t}", u, sc)
                for k, t, u, sc in (("instances", "instances", "", 1.0),
                                    ("instance_hours", "instance-hours", "h", 1.0),
                                    ("peak_running", "peak running", "", 1.0),
                                    ("mean_utilization", "utilization", "%", 100.0))]
    return out


# --------------------------------------------------------------------------- requests


def requests_summary(tables: Tables, context: Context) -> dict:
    """Arrivals, served, rejected and failed requests, their fractions, bytes sent."""
    si = tables["service_intervals"]
    arrivals = int(si["arrivals"].sum())
    rejected, failed = int(si["rejected"].sum()), int(si["failed"].sum())
    return {
        "arrivals": arrivals,
        "served": int(si["served"].sum()),
        "rejected": rejected,
        "failed": failed,
        "rejected_fraction": rejected / arrivals if arrivals else None,
        "failed_fraction": failed / arrivals if arrivals else None,
        "response_bytes": float(si["response_bytes"].sum()),
    }


def requests_metrics(scenario) -> list[Metric]:
    return [Metric("requests.arrivals", "Arrivals"), Metric("requests.served", "Served"),
            Metric("requests.rejected", "Rejected"), Metric("requests.failed", "Failed"),
            Metric("requests.rejected_fraction", "Rejected requests", "%", 100.0, key=True),
            Metric("requests.failed_fraction", "Failed requests", "%", 100.0),
            Metric("requests.response_bytes", "Response bytes")]


# --------------------------------------------------------------------------- latency


def latency_summary(tables: Tables, context: Context) -> dict:
    """Overall latency figures (row 'all') with a by_service part."""
    frame = tables.get("latency")
    empty = {k: None for k in LATENCY_KEYS} | {"arrivals": 0, "requests": 0, "rejected": 0,
                                               "failed": 0}
    if frame is None or frame.empty:
        return empty | {"by_service": {}}
    rows = {r["service"]: {k: r[k] for k in LATENCY_KEYS} for r in frame.to_dict("records")}
    top = rows.pop("all", empty)
    return dict(top) | {"by_service": rows}


def latency_metrics(scenario) -> list[Metric]:
    services = sorted(scenario.services) if scenario is not None else []
    out = [Metric(f"latency.{k}", t, u, sc, key=key, headline=head)
           for k, (t, u, sc, key, head) in _LATENCY_METRICS.items()]
    for s in services:
        out += [Metric(f"latency.by_service.{s}.{k}", f"{s}: {t}", u, sc)
                for k, (t, u, sc, _, _) in _LATENCY_METRICS.items()]
    return out


def _report(name: str):
    def report(view):
        from simulator.compute import report

        return getattr(report, name)(view)

    return report


register(Section("fleet", 20, fleet_summary, fleet_metrics,
                 records=(InstanceInterval, VolumeInterval, TargetInterval, ScalingActivity),
                 build="simulator.compute.build:build", report=_report("fleet")))
register(Section("requests", 30, requests_summary, requests_metrics,
                 records=(ServiceInterval, Transfer), report=_report("requests")))
register(Section("latency", 40, latency_summary, latency_metrics,
                 records=(LatencyStats, SketchBucket), report=_report("latency")))
