"""The scenario language: inert, validated, frozen specifications of what to simulate.

A scenario names a region, fleets of instances and the services they run, plus how long to
simulate and what to record.  Every model is frozen and rejects unknown keys; variants
(distributions, arrival processes) are discriminated unions; every quantity carries a unit in
YAML and is held here in base units (seconds, bytes, dollars, events per second).  Engine
objects are built from these specs by ``simulator.engine.world``; nothing here runs anything.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.units import Duration, Rate, Size


class Spec(BaseModel):
    """Base of every scenario model: frozen, unknown keys rejected, docstrings as descriptions."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --------------------------------------------------------------------------- distributions


class ExponentialTime(Spec):
    """Exponentially distributed duration (memoryless; coefficient of variation 1)."""

    dist: Literal["exponential"]
    mean: Annotated[Duration, Field(gt=0)]
    """Mean duration, e.g. "20 ms"."""


class LogNormalTime(Spec):
    """Log-normally distributed duration given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: Annotated[Duration, Field(gt=0)]
    """Mean duration, e.g. "20 ms"."""
    cv: Annotated[float, Field(gt=0)]
    """Coefficient of variation (standard deviation / mean), e.g. 1.5."""


class FixedTime(Spec):
    """A constant duration."""

    dist: Literal["fixed"]
    value: Annotated[Duration, Field(gt=0)]
    """The duration, e.g. "20 ms"."""


TimeDist = Annotated[ExponentialTime | LogNormalTime | FixedTime, Field(discriminator="dist")]


class ExponentialSize(Spec):
    """Exponentially distributed size."""

    dist: Literal["exponential"]
    mean: Annotated[Size, Field(gt=0)]
    """Mean size, e.g. "64 KiB"."""


class LogNormalSize(Spec):
    """Log-normally distributed size given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: Annotated[Size, Field(gt=0)]
    """Mean size, e.g. "64 KiB"."""
    cv: Annotated[float, Field(gt=0)]
    """Coefficient of variation (standard deviation / mean)."""


class FixedSize(Spec):
    """A constant size."""

    dist: Literal["fixed"]
    value: Annotated[Size, Field(ge=0)]
    """The size, e.g. "10 KiB"."""


SizeDist = Annotated[ExponentialSize | LogNormalSize | FixedSize, Field(discriminator="dist")]


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


class Fleet(Spec):
    """A fixed-size group of identical instances of one catalog type."""

    instance_type: str
    """Catalog instance type, e.g. "m5.xlarge" (see `dcsim catalog`)."""
    count: Annotated[int, Field(ge=1)]
    """Number of instances."""
    purchase_option: Literal["on_demand"] = "on_demand"
    """How the instances are bought."""
    os: Literal["linux", "windows", "rhel", "suse", "ubuntu"] = "linux"
    """Operating system; decides the price and the billing granularity."""
    az: str | None = None
    """Pin every instance to this AZ; default: spread round-robin over the region's AZs."""
    boot_time: Annotated[Duration, Field(ge=0)] = 0.0
    """Time from launch (pending) to running, e.g. "40 s"."""
    volume: Volume | None = Volume()
    """Root EBS volume per instance; null for none."""
    schedule: Annotated[list[RunWindow], Field(min_length=1)] = [RunWindow(start=0.0)]
    """Run windows; default one window from 0 to the end of the run."""

    @model_validator(mode="after")
    def _windows(self) -> Fleet:
        for a, b in zip(self.schedule, self.schedule[1:], strict=False):
            if a.stop is None or b.start < a.stop:
                raise ValueError("run windows must not overlap and only the last may be open")
        return self


class LoadBalancer(Spec):
    """How a service's load balancer routes each request to an instance."""

    policy: Literal["random", "round_robin", "least_outstanding"] = "round_robin"
    """random (uniform), round_robin, or least_outstanding (fewest requests in system)."""


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
    region: Region = Region()
    """Region and availability zones."""
    fleets: Annotated[dict[str, Fleet], Field(min_length=1)]
    """Fleets by name."""
    services: dict[str, Service] = {}
    """Request services by name."""
    output: Output = Output()
    """Recording options."""
    test: dict[str, Any] = {}
    """Overrides (dotted path: value) the test suite applies so the scenario runs in seconds."""
