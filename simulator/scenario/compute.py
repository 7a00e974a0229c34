"""Compute specs of the scenario language: region, fleets, scheduled actions, load balancers, services.

Inert, validated, frozen specifications; ``simulator.compute`` builds the components from them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.distributions import FixedSize, SizeDist, TimeDist
from simulator.limits import (
    MAX_BOOT_TIME,
    MAX_HORIZON,
    MAX_SLO,
    MAX_VOLUME_IOPS,
    MAX_VOLUME_SIZE,
    MAX_VOLUME_THROUGHPUT,
)
from simulator.scenario.arrivals import Arrivals
from simulator.scenario.base import Spec
from simulator.units import Duration, Size

MAX_FLEET = 1_000_000
"""Most instances one fleet may be asked to hold (a region of 100,000 hosts is the scale aimed at)."""


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
    size: Annotated[Size, Field(gt=0, le=MAX_VOLUME_SIZE)] = 8 * 2**30
    """Provisioned size, e.g. "8 GiB"."""
    iops: Annotated[float, Field(ge=0, le=MAX_VOLUME_IOPS)] | None = None
    """Provisioned IOPS (gp3; default the included 3,000)."""
    throughput: Annotated[Size, Field(ge=0, le=MAX_VOLUME_THROUGHPUT)] | None = None
    """Provisioned throughput per second (gp3; default the included 125 MiB), e.g. "250 MiB"."""


class RunWindow(Spec):
    """A period in which the fleet's instances are started and then stopped."""

    start: Annotated[Duration, Field(ge=0, le=MAX_HORIZON)]
    """When the instances are started (they enter pending, then running after boot)."""
    stop: Annotated[Duration, Field(gt=0, le=MAX_HORIZON)] | None = None
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
    at: Annotated[Duration, Field(ge=0, le=MAX_HORIZON)] | None = None
    """Run once at this time after the scenario's start, e.g. "9 h"."""
    recurrence: str | None = None
    """Cron expression in UTC, e.g. "0 9 * * MON-FRI" (09:00 on weekdays)."""
    start: Annotated[Duration, Field(ge=0, le=MAX_HORIZON)] = 0.0
    """A recurrence takes effect from this time after the scenario's start."""
    end: Annotated[Duration, Field(gt=0, le=MAX_HORIZON)] | None = None
    """A recurrence stops after this time; none = until the end of the run."""
    desired: Annotated[int, Field(ge=0, le=MAX_FLEET)] | None = None
    """New desired capacity (instances)."""
    min_size: Annotated[int, Field(ge=0, le=MAX_FLEET)] | None = None
    """New minimum capacity."""
    max_size: Annotated[int, Field(ge=0, le=MAX_FLEET)] | None = None
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
        from croniter import CroniterBadDateError

        try:  # a date no calendar has (30 February) is valid syntax that never fires
            croniter(text, dt.datetime(2026, 1, 1)).get_next(dt.datetime)
        except CroniterBadDateError:
            raise ValueError("never fires: no date matches its day-of-month and month "
                             "(e.g. 30 February); correct the date") from None
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
    count: Annotated[int, Field(ge=0, le=MAX_FLEET)]
    """Number of instances at the start (the initial desired capacity)."""
    min_size: Annotated[int, Field(ge=0, le=MAX_FLEET)] = 0
    """Least desired capacity scheduled actions may set."""
    max_size: Annotated[int, Field(ge=0, le=MAX_FLEET)] | None = None
    """Largest desired capacity; none = no limit."""
    purchase_option: Literal["on_demand"] = "on_demand"
    """How the instances are bought."""
    os: Literal["linux", "windows", "rhel", "suse", "ubuntu"] = "linux"
    """Operating system; decides the price and the billing granularity."""
    az: str | None = None
    """Pin every instance to this AZ; default: spread AZ-balanced over the region's AZs."""
    boot_time: Annotated[Duration, Field(ge=0, le=MAX_BOOT_TIME)] | TimeDist = 0.0
    """Time from launch (pending) to running: a duration ("40 s") or a distribution
    ({dist: lognormal, mean: 40 s, cv: 0.2}), drawn per launch from the fleet's own stream."""
    volume: Volume | None = Volume()
    """Root EBS volume per instance; null for none."""
    schedule: Annotated[list[RunWindow], Field(min_length=1)] | None = None
    """Run windows; none = the instances run from 0 to the end of the run (or as scheduled
    actions decide)."""
    scheduled_actions: list[ScheduledAction] = []
    """Capacity changes at given times or cron recurrences (not together with `schedule`)."""

    @model_validator(mode="after")
    def _windows(self) -> Fleet:
        for a, b in zip(self.windows, self.windows[1:], strict=False):
            if a.stop is None or b.start < a.stop:
                raise ValueError("run windows must not overlap and only the last may be open")
        if self.scheduled_actions and self.schedule is not None:
            raise ValueError("a fleet has either run windows (`schedule`) or `scheduled_actions`, "
                             "not both: remove one")
        if self.max_size is not None and self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) exceeds max_size ({self.max_size})")
        if not (self.min_size <= self.count <= (self.max_size if self.max_size is not None
                                                 else self.count)):
            raise ValueError(f"count ({self.count}) must lie within min_size ({self.min_size}) "
                             f"and max_size ({self.max_size})")
        return self


    @property
    def windows(self) -> list[RunWindow]:
        """The run windows in force: `schedule`, or one window over the whole run."""
        return self.schedule if self.schedule is not None else [RunWindow(start=0.0)]


class HealthCheck(Spec):
    """The load balancer's health checks of a newly registered target."""

    interval: Annotated[Duration, Field(gt=0, le=300)] = 30.0
    """Time between checks (AWS default 30 s); the first check is one interval after
    registration."""
    healthy_threshold: Annotated[int, Field(ge=1, le=10)] = 5
    """Consecutive passing checks before the target is in service (AWS default 5)."""


class LoadBalancer(Spec):
    """How a service's load balancer routes requests to the targets of its fleet.

    Services on one fleet share its target group (its instances), so they must agree on it.
    """

    policy: Literal["random", "round_robin", "least_outstanding", "power_of_two_choices",
                    "weighted_random"] = "round_robin"
    """random (uniform), round_robin, least_outstanding (fewest requests in system; ties in
    round-robin order), power_of_two_choices (the fewer in system of two targets drawn at
    random, with replacement; not an AWS algorithm: the supermarket model, as in Envoy and
    NGINX), or weighted_random (random in proportion to each target's vCPUs, for mixed
    instance types; AWS's algorithm of that name weighs targets equally unless anomaly
    mitigation lowers a target's weight, which dcsim does not model)."""
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
    slo: Annotated[Duration, Field(gt=0, le=MAX_SLO)] = 0.2
    """Latency objective: a request slower than this violates the SLO."""


