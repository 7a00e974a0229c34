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

from pydantic import AfterValidator, Field, field_validator, model_validator

from simulator.distributions import FixedSize, SizeDist, TimeDist
from simulator.scenario.base import Spec
from simulator.units import Duration, Rate, Size


# --------------------------------------------------------------------------- distributions
# Durations and sizes come from the one distribution library (simulator.distributions).

# --------------------------------------------------------------------------- arrivals


class PoissonArrivals(Spec):
    """Poisson arrivals at a constant rate (exponential inter-arrival times)."""

    process: Literal["poisson"]
    rate: Annotated[Rate, Field(gt=0)]
    """Mean arrival rate, e.g. "600/s"."""


class ConstantArrivals(Spec):
    """Deterministic arrivals, evenly spaced at 1/rate, the first at time 0."""

    process: Literal["constant"]
    rate: Annotated[Rate, Field(gt=0)]
    """Arrival rate, e.g. "100/s"."""


class RateStep(Spec):
    """From time `at` on (until the next step), arrivals come at `rate`."""

    at: Annotated[Duration, Field(ge=0)]
    """Start of this step, e.g. "30 min"."""
    rate: Annotated[Rate, Field(ge=0)]
    """Arrival rate during this step, e.g. "600/s"; 0 for a quiet period."""


class PiecewiseArrivals(Spec):
    """Poisson arrivals whose rate is piecewise constant in time (a rate schedule).

    With `period` the schedule repeats: steps give the rate within one period (a daily profile
    with `period: 1 d`), and time t uses the step in force at t modulo the period.
    """

    process: Literal["piecewise"]
    steps: Annotated[list[RateStep], Field(min_length=1)]
    """Rate steps in increasing `at` order; the first must start at 0."""
    period: Annotated[Duration, Field(gt=0)] | None = None
    """Repeat the schedule with this period (e.g. "1 d"); every step must start within it."""

    @model_validator(mode="after")
    def _within_period(self) -> PiecewiseArrivals:
        if self.period is not None and self.steps[-1].at >= self.period:
            raise ValueError(
                f"the last step starts at {self.steps[-1].at:g} s, not within the period "
                f"({self.period:g} s)"
            )
        return self

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[RateStep]) -> list[RateStep]:
        if steps[0].at != 0:
            raise ValueError("the first step must start at 0 (at: 0 s)")
        for a, b in zip(steps, steps[1:], strict=False):
            if b.at <= a.at:
                raise ValueError(f"steps must be in increasing `at` order ({b.at:g} s after {a.at:g} s)")
        if all(s.rate == 0 for s in steps):
            raise ValueError("at least one step needs a positive rate")
        return steps


Arrivals = Annotated[
    PoissonArrivals | ConstantArrivals | PiecewiseArrivals, Field(discriminator="process")
]


# --------------------------------------------------------------------------- compute


class Region(Spec):
    """The cloud region: its name and availability zones."""

    name: str = "us-east-1"
    """Region name; prices come from the price book for this region."""
    azs: Annotated[list[str], Field(min_length=1)] = ["us-east-1a", "us-east-1b", "us-east-1c"]
    """Availability zones; fleets spread over them unless pinned to one."""

    @model_validator(mode="after")
    def _unique(self) -> Region:
        if len(set(self.azs)) != len(self.azs):
            raise ValueError("availability zones must be unique")
        return self


class Volume(Spec):
    """An EBS volume attached to each instance of a fleet (billed while attached)."""

    type: Literal["gp3", "gp2"] = "gp3"
    """Volume type."""
    size: Annotated[Size, Field(gt=0)] = 8 * 2**30
    """Provisioned size, e.g. "8 GiB"."""
    iops: Annotated[float, Field(ge=0)] | None = None
    """Provisioned IOPS (gp3; default the included 3,000)."""
    throughput: Annotated[Size, Field(ge=0)] | None = None
    """Provisioned throughput per second (gp3; default the included 125 MiB), e.g. "250 MiB"."""


class RunWindow(Spec):
    """A period in which the fleet's instances are started and then stopped."""

    start: Annotated[Duration, Field(ge=0)]
    """When the instances are started (they enter pending, then running after boot)."""
    stop: Annotated[Duration, Field(gt=0)] | None = None
    """When the instances are stopped; none = running until the end of the run."""

    @model_validator(mode="after")
    def _order(self) -> RunWindow:
        if self.stop is not None and self.stop <= self.start:
            raise ValueError(f"stop ({self.stop:g} s) must come after start ({self.start:g} s)")
        return self


class ScheduledAction(Spec):
    """A scheduled change of a fleet's capacity (AWS Auto Scaling scheduled action).

    At `at` (once) or at every time the cron `recurrence` matches (UTC, five fields: minute
    hour day-of-month month day-of-week) between `start` and `end`, the fleet's desired
    capacity, and optionally its minimum and maximum, are set.  A desired capacity left out is
    kept, raised to a new minimum or lowered to a new maximum, as AWS does.
    """

    name: str = ""
    """Label shown in the scaling activities (default: its position)."""
    at: Annotated[Duration, Field(ge=0)] | None = None
    """Run once at this time after the scenario's start, e.g. "9 h"."""
    recurrence: str | None = None
    """Cron expression in UTC, e.g. "0 9 * * MON-FRI" (09:00 on weekdays)."""
    start: Annotated[Duration, Field(ge=0)] = 0.0
    """A recurrence takes effect from this time after the scenario's start."""
    end: Annotated[Duration, Field(gt=0)] | None = None
    """A recurrence stops after this time; none = until the end of the run."""
    desired: Annotated[int, Field(ge=0)] | None = None
    """New desired capacity (instances)."""
    min_size: Annotated[int, Field(ge=0)] | None = None
    """New minimum capacity."""
    max_size: Annotated[int, Field(ge=0)] | None = None
    """New maximum capacity."""

    @model_validator(mode="after")
    def _when_and_what(self) -> ScheduledAction:
        if (self.at is None) == (self.recurrence is None):
            raise ValueError("give exactly one of `at` (once) or `recurrence` (a cron expression)")
        if self.at is not None and (self.start != 0.0 or self.end is not None):
            raise ValueError("`start` and `end` bound a recurrence; a one-time action has only `at`")
        if self.desired is None and self.min_size is None and self.max_size is None:
            raise ValueError("set at least one of desired, min_size, max_size")
        if self.min_size is not None and self.max_size is not None and self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) exceeds max_size ({self.max_size})")
        for bound, ok in (("min_size", self.min_size is None or self.desired is None
                           or self.desired >= self.min_size),
                          ("max_size", self.max_size is None or self.desired is None
                           or self.desired <= self.max_size)):
            if not ok:
                raise ValueError(f"desired ({self.desired}) is outside {bound} "
                                 f"({getattr(self, bound)})")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end:g} s) must come after start ({self.start:g} s)")
        return self

    @field_validator("recurrence")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from croniter import croniter

        text = " ".join(str(value).split())
        if len(text.split()) != 5 or not croniter.is_valid(text):
            raise ValueError("must be a cron expression of five fields in UTC: minute hour "
                             "day-of-month month day-of-week, e.g. '0 9 * * MON-FRI'")
        return text


class Fleet(Spec):
    """A group of identical instances of one catalog type whose size can change while it runs.

    `count` instances are launched at the start (spread over the AZs, AZ-balanced).  Either
    run windows (`schedule`) start and stop them all, or scheduled actions change the desired
    capacity: new instances are launched in the AZ with the fewest, and scale-in picks from
    the AZ with the most, newest first.  Instances behind a load balancer are deregistered
    before they are terminated and finish their requests first (up to the deregistration delay).
    """

    instance_type: str
    """Catalog instance type, e.g. "m5.xlarge" (see `dcsim catalog`)."""
    count: Annotated[int, Field(ge=0)]
    """Number of instances at the start (the initial desired capacity)."""
    min_size: Annotated[int, Field(ge=0)] = 0
    """Least desired capacity scheduled actions may set."""
    max_size: Annotated[int, Field(ge=0)] | None = None
    """Largest desired capacity; none = no limit."""
    purchase_option: Literal["on_demand"] = "on_demand"
    """How the instances are bought."""
    os: Literal["linux", "windows", "rhel", "suse", "ubuntu"] = "linux"
    """Operating system; decides the price and the billing granularity."""
    az: str | None = None
    """Pin every instance to this AZ; default: spread AZ-balanced over the region's AZs."""
    boot_time: Annotated[Duration, Field(ge=0)] | TimeDist = 0.0
    """Time from launch (pending) to running: a duration ("40 s") or a distribution
    ({dist: lognormal, mean: 40 s, cv: 0.2}), drawn per launch from the fleet's own stream."""
    volume: Volume | None = Volume()
    """Root EBS volume per instance; null for none."""
    schedule: Annotated[list[RunWindow], Field(min_length=1)] = [RunWindow(start=0.0)]
    """Run windows; default one window from 0 to the end of the run."""
    scheduled_actions: list[ScheduledAction] = []
    """Capacity changes at given times or cron recurrences (not together with `schedule`)."""

    @model_validator(mode="after")
    def _windows(self) -> Fleet:
        for a, b in zip(self.schedule, self.schedule[1:], strict=False):
            if a.stop is None or b.start < a.stop:
                raise ValueError("run windows must not overlap and only the last may be open")
        if self.scheduled_actions and self.schedule != [RunWindow(start=0.0)]:
            raise ValueError("a fleet has either run windows (`schedule`) or `scheduled_actions`, "
                             "not both: remove one")
        if self.max_size is not None and self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) exceeds max_size ({self.max_size})")
        if not (self.min_size <= self.count <= (self.max_size if self.max_size is not None
                                                 else self.count)):
            raise ValueError(f"count ({self.count}) must lie within min_size ({self.min_size}) "
                             f"and max_size ({self.max_size})")
        return self


class HealthCheck(Spec):
    """The load balancer's health checks of a newly registered target."""

    interval: Annotated[Duration, Field(gt=0)] = 30.0
    """Time between checks (AWS default 30 s); the first check is one interval after
    registration."""
    healthy_threshold: Annotated[int, Field(ge=1, le=10)] = 5
    """Consecutive passing checks before the target is in service (AWS default 5)."""


class LoadBalancer(Spec):
    """How a service's load balancer routes requests to the targets of its fleet.

    Services on one fleet share its target group (its instances), so they must agree on it.
    """

    policy: Literal["random", "round_robin", "least_outstanding"] = "round_robin"
    """random (uniform), round_robin, or least_outstanding (fewest requests in system)."""
    health_check: HealthCheck | None = None
    """Health checks a target must pass before it is in service; none = in service as soon as
    its instance is running."""
    deregistration_delay: Annotated[Duration, Field(ge=0, le=3600)] = 300.0
    """How long a deregistered target may finish its requests before its instance ends and
    work still running is cut (AWS default 300 s)."""


class Service(Spec):
    """A request/response service run by one fleet behind a load balancer."""

    fleet: str
    """Name of the fleet (a key of `fleets`) that serves the requests."""
    arrivals: Arrivals
    """The request stream."""
    service_time: TimeDist
    """Work per request on one vCPU; each instance serves up to vCPU-many requests at once."""
    response_size: SizeDist = FixedSize(dist="fixed", value=0.0)
    """Bytes sent back to the internet per request (billed as data transfer out)."""
    load_balancer: LoadBalancer = LoadBalancer()
    """Routing policy."""
    slo: Annotated[Duration, Field(gt=0)] = 0.2
    """Latency objective: a request slower than this violates the SLO."""


class Output(Spec):
    """What a run records beyond the standard tables."""

    requests: bool = False
    """Keep one row per request (table `requests`); large for long runs."""
    latency: Literal["auto", "exact", "sketch"] = "auto"
    """Latency percentiles from every request (exact), from a quantile sketch with a stated
    relative error bound (sketch), or exact unless the run expects more requests than
    `exact_limit` (auto)."""
    exact_limit: Annotated[int, Field(ge=1)] = 20_000_000
    """Most requests for which auto keeps every latency in memory."""
    sketch_relative_error: Annotated[float, Field(gt=0, lt=0.5)] = 0.005
    """Relative error bound of sketch percentiles (0.005 = 0.5%)."""
    observe_interval: Annotated[Duration, Field(gt=0)] = 60.0
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
    horizon: Annotated[Duration, Field(gt=0)]
    """Simulated time, e.g. "1 h"."""
    seed: Annotated[int, Field(ge=0)] = 1
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
