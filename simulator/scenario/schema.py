"""The scenario language: inert, validated, frozen specifications of what to simulate.

A scenario names a region, fleets of instances and the services they run, plus how long to
simulate and what to record.  Every model is frozen and rejects unknown keys; variants
(distributions, arrival processes) are discriminated unions; every quantity carries a unit in
YAML and is held here in base units (seconds, bytes, dollars, events per second).  Engine
objects are built from these specs by ``simulator.engine.world``; nothing here runs anything.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from simulator.distributions import SizeDist, TimeDist
from simulator.limits import MAX_EXACT_LIMIT, MAX_HORIZON, MAX_SEED, MIN_OBSERVE_INTERVAL
from simulator.scenario.arrivals import (
    Arrivals,
    ConstantArrivals,
    PiecewiseArrivals,
    PoissonArrivals,
    RateStep,
)
from simulator.scenario.base import Spec
from simulator.scenario.compute import (
    Fleet,
    HealthCheck,
    LoadBalancer,
    Region,
    RunWindow,
    ScheduledAction,
    Service,
    Volume,
)
from simulator.units import Duration

__all__ = [
    "Arrivals", "ConstantArrivals", "Fleet", "HealthCheck", "LoadBalancer", "Output",
    "PiecewiseArrivals", "PoissonArrivals", "RateStep", "Region", "RunWindow", "Scenario",
    "ScheduledAction", "Service", "SizeDist", "Spec", "TimeDist", "Volume",
]


class Output(Spec):
    """What a run records beyond the standard tables."""

    requests: bool = False
    """Keep one row per request (table `requests`); large for long runs."""
    latency: Literal["auto", "exact", "sketch"] = "auto"
    """Latency percentiles from every request (exact), from a quantile sketch with a stated
    relative error bound (sketch), or exact unless the run expects more requests than
    `exact_limit` (auto)."""
    exact_limit: Annotated[int, Field(ge=1, le=MAX_EXACT_LIMIT)] = 20_000_000
    """Most requests for which auto keeps every latency in memory."""
    sketch_relative_error: Annotated[float, Field(gt=0, lt=0.5)] = 0.005
    """Relative error bound of sketch percentiles (0.005 = 0.5%)."""
    observe_interval: Annotated[Duration, Field(ge=MIN_OBSERVE_INTERVAL, le=MAX_HORIZON)] = 60.0
    """Length of an observation interval of the per-interval tables, e.g. "1 min"."""


DEFAULT_START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
"""Simulated time 0 unless a scenario says otherwise: a Monday at 00:00 UTC."""


def _utc(value: dt.datetime) -> dt.datetime:
    """A naive date and time is read as UTC; an aware one is converted to UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Scenario(Spec):
    """A whole simulation: region, fleets, services, horizon and what to record."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    """Short name; used for the results folder."""
    description: str = ""
    """What the scenario shows, in a sentence or two."""
    horizon: Annotated[Duration, Field(gt=0, le=MAX_HORIZON)]
    """Simulated time, e.g. "1 h"."""
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
    """Default seed when none is given on the command line."""
    pricebook: str = "aws-us-east-1"
    """Builtin price book name or a path to a price-book YAML (relative to the scenario)."""
    catalog: str | None = None
    """Instance-type catalog CSV (relative to the scenario); default the builtin catalog."""
    start: Annotated[dt.datetime, AfterValidator(_utc)] = DEFAULT_START
    """Calendar date and time (UTC) of simulated time 0, e.g. "2026-01-05T00:00:00Z"; cron
    recurrences and calendar rules use it.  Default: Monday 2026-01-05 00:00 UTC."""
    region: Region = Region()
    """Region and availability zones."""
    fleets: dict[str, Fleet] = {}
    """Fleets by name (none for a scenario without compute)."""
    services: dict[str, Service] = {}
    """Request services by name."""
    output: Output = Output()
    """Recording options."""
    test: dict[str, Any] = {}
    """Overrides (dotted path: value) the test suite applies so the scenario runs in seconds."""
