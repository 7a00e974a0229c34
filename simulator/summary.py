"""The run summary: one nested, JSON-ready dict computed from a run's tables alone.

Keys are stable (later issues add sections, never rename): scenario, seed, simulated_s,
runtime_s, events, cost.*, latency.*, fleet.*.  Intervals are [low, high] lists; missing values
are null.  Everything but runtime_s is identical for the same scenario and seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

LATENCY_KEYS = ("requests", "mean_s", "p50_s", "p95_s", "p99_s", "slo_s", "slo_violation_fraction",
                "method", "relative_error")


def clean(obj: Any) -> Any:
    """Make a value JSON-ready: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(obj, Mapping):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def latency_section(latency: pd.DataFrame | None) -> dict:
    """The `latency` section from the `latency` table (row 'all' on top, per service below)."""
    empty = {k: None for k in LATENCY_KEYS} | {"requests": 0}
    if latency is None or latency.empty:
        return empty | {"by_service": {}}
    rows = {r["service"]: {k: r[k] for k in LATENCY_KEYS} for r in latency.to_dict("records")}
    top = rows.pop("all", empty)
    return dict(top) | {"by_service": rows}


def fleet_section(tables: Mapping[str, pd.DataFrame]) -> dict:
    """The `fleet` section: instances launched, running instance-hours, mean vCPU utilization."""
    iv = tables.get("instance_intervals")
    instances, hours = 0, 0.0
    if iv is not None and len(iv):
        instances = int(iv["instance_id"].nunique())
        run = iv[iv["state"] == "running"]
        hours = float((run["end_s"] - run["start_s"]).sum()) / 3600.0
    util = None
    si = tables.get("service_intervals")
    if si is not None and len(si):
        capacity = float((si["vcpus"] * (si["end_s"] - si["start_s"])).sum())
        util = float(si["work_s"].sum()) / capacity if capacity > 0 else None
    return {"instances": instances, "instance_hours": hours, "mean_utilization": util}


def requests_section(tables: Mapping[str, pd.DataFrame]) -> dict:
    """The `requests` section: arrivals, served and dropped requests, bytes sent."""
    si = tables.get("service_intervals")
    if si is None or si.empty:
        return {"arrivals": 0, "served": 0, "dropped": 0, "response_bytes": 0.0}
    return {
        "arrivals": int(si["arrivals"].sum()),
        "served": int(si["served"].sum()),
        "dropped": int(si["dropped"].sum()),
        "response_bytes": float(si["response_bytes"].sum()),
    }


def summarize(
    *,
    scenario: str,
    seed: int,
    simulated_s: float,
    runtime_s: float,
    events: int,
    tables: Mapping[str, pd.DataFrame],
    cost: Mapping[str, Any],
    versions: Mapping[str, str],
    error: str | None = None,
) -> dict:
    """Assemble summary.json from the tables and the cost summary."""
    return clean(
        {
            "scenario": scenario,
            "seed": seed,
            "simulated_s": simulated_s,
            "runtime_s": runtime_s,
            "events": events,
            "cost": dict(cost),
            "latency": latency_section(tables.get("latency")),
            "requests": requests_section(tables),
            "fleet": fleet_section(tables),
            "versions": dict(versions),
            "error": error,
        }
    )


def metric_names(services: list[str] = ()) -> list[str]:
    """Every numeric summary metric a run reports, as dotted names (sweep goals refer to them)."""
    from simulator.billing.cost import cost_summary

    template = {
        "simulated_s": 0.0, "runtime_s": 0.0, "events": 0,
        "cost": cost_summary(pd.DataFrame()),
        "latency": {k: 0.0 for k in LATENCY_KEYS if k != "method"}
        | {"by_service": {s: {k: 0.0 for k in LATENCY_KEYS if k != "method"} for s in services}},
        "requests": requests_section({}),
        "fleet": fleet_section({}),
    }
    names: list[str] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, Mapping):
                walk(value, f"{prefix}{key}.")
            else:
                names.append(f"{prefix}{key}")

    walk(template, "")
    return sorted(names)
