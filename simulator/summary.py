"""The run summary: one nested, JSON-ready dict computed from a run's tables alone.

The run's own keys (scenario, seed, start, simulated_s, runtime_s, events, versions, error)
come first; every other key is a registered section's summary part (``simulator.sections``:
cost, latency, requests, fleet, and whatever capabilities add).  Intervals are [low, high]
lists; missing values are null.  Everything but runtime_s is identical for the same scenario
and seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from simulator.sections import Context, metric_names, sections

__all__ = ["clean", "metric_names", "summarize"]


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


def summarize(
    *,
    scenario: Any,
    seed: int,
    runtime_s: float,
    events: int,
    tables: Mapping[str, pd.DataFrame],
    versions: Mapping[str, str],
    error: str | None = None,
) -> dict:
    """Assemble summary.json: the run's own keys, then every registered section's part."""
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": seed,
        "start": scenario.start.isoformat().replace("+00:00", "Z"),
        "simulated_s": scenario.horizon,
        "runtime_s": runtime_s,
        "events": events,
    }
    context = Context(scenario)
    for section in sections():
        out[section.name] = section.summarize(tables, context)
    out["versions"] = dict(versions)
    out["error"] = error
    return clean(out)
