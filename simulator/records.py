"""The records a run produces: immutable typed records, one row of one table each.

Every observation is immutable and carries what later analysis needs (billing reads instance
type, AZ, purchase option and OS straight from the interval rows).  A record type is the one
schema of its table: the recorder builds the table's columns from the type's fields, and a
column batch (the request plane's hot path) must name exactly those fields.  Times are
seconds from the start of the run, sizes bytes.

Records are ``typing.NamedTuple`` classes rather than frozen dataclasses: just as immutable
and typed, four times cheaper to build on the lifecycle's hot path (0.5 µs against 2.2 µs),
and the rows the recorder keeps are the records themselves.  ``TABLE`` names the table.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class EndCause(StrEnum):
    """Why an instance (or a load-balancer target) left a state: the typed cause of an interrupt."""

    STARTED = "started"
    BOOTED = "booted"
    SCHEDULED_STOP = "scheduled_stop"
    STOPPED = "stopped"
    TERMINATED_BY_USER = "terminated_by_user"
    SCALED_IN = "scaled_in"
    HOST_FAILED = "host_failed"
    SPOT_RECLAIMED = "spot_reclaimed"
    END_OF_RUN = "end_of_run"
    # load-balancer target transitions
    HEALTHY = "healthy"
    DEREGISTERED = "deregistered"
    DRAINED = "drained"
    INSTANCE_LEFT = "instance_left"


class InstanceInterval(NamedTuple):
    """One stay of an instance in one lifecycle state, [start_s, end_s).

    `launch` is the instance's launch number within its fleet (the n-th launch of fleet web is
    i-web-000n whatever else happens).
    """

    TABLE = "instance_intervals"
    instance_id: str
    fleet: str
    launch: int
    instance_type: str
    az: str
    purchase_option: str
    os: str
    state: str
    start_s: float
    end_s: float
    end_cause: str


class VolumeInterval(NamedTuple):
    """An EBS volume provisioned over [start_s, end_s)."""

    TABLE = "volume_intervals"
    volume_id: str
    instance_id: str
    volume_type: str
    size_bytes: float
    iops: float
    throughput_bytes_per_s: float
    az: str
    start_s: float
    end_s: float


class TargetInterval(NamedTuple):
    """One stay of an instance in one load-balancer target state, [start_s, end_s).

    States follow AWS target groups: ``initial`` (registered, health checks not yet passed),
    ``healthy`` (in service: the only state that receives requests) and ``draining``
    (deregistered, finishing the requests it holds).
    """

    TABLE = "target_intervals"
    target_group: str
    instance_id: str
    state: str
    start_s: float
    end_s: float
    end_cause: str


class ScalingActivity(NamedTuple):
    """A change of a fleet's capacity settings at time_s, what it launched and retired, and why.

    `max_size` is -1 when the fleet has no maximum; `cause` is initial, run_window or
    scheduled_action:<name or position>.
    """

    TABLE = "scaling_activities"
    fleet: str
    time_s: float
    desired: int
    min_size: int
    max_size: int
    launched: int
    terminated: int
    cause: str


class Transfer(NamedTuple):
    """Bytes moved in one direction during one observation interval."""

    TABLE = "transfer"
    service: str
    direction: str
    bytes: float
    start_s: float
    end_s: float


class ServiceInterval(NamedTuple):
    """Request statistics of one service over one observation interval [start_s, end_s).

    Arrivals, rejections (no target in service: AWS answers 503) and accepted work are counted
    in the interval in which requests arrive; served requests, their latency, SLO violations
    and failures (work cut when an instance ended) in the interval in which they complete or
    are cut.  `instances` and `vcpus` are time averages of the in-service targets over the
    interval, so utilization = work_s / (vcpus × (end_s − start_s)).  `p99_s` is the exact
    99th percentile of the latencies of the requests served in the interval; in an interval
    that serves more than ``compute.dataplane.INTERVAL_EXACT`` (1,048,576) requests it comes
    from a sketch of them, within the run's ``sketch_relative_error`` (memory stays bounded
    whatever the rate).
    """

    TABLE = "service_intervals"
    service: str
    fleet: str
    start_s: float
    end_s: float
    arrivals: int
    served: int
    rejected: int
    failed: int
    latency_sum_s: float
    p99_s: float
    slo_violations: int
    work_s: float
    instances: float
    vcpus: float
    in_system: int
    response_bytes: float


class Request(NamedTuple):
    """One request (table `requests`, kept when output.requests is set).

    `outcome` is served, failed (cut when its instance ended; done_s is the cut time) or
    rejected (no target in service; instance -1 and start/done NaN); `response_bytes` are the
    bytes sent, 0 unless served.  The request plane records these as column
    batches whose columns are exactly these fields; `service` and `instance_id` are stored as
    numbers and named at the end of the run.
    """

    TABLE = "requests"
    service: int
    arrival_s: float
    instance_id: int
    start_s: float
    done_s: float
    latency_s: float
    service_s: float
    response_bytes: float
    outcome: int


REQUEST_OUTCOMES = ("served", "failed", "rejected")
"""Names of Request.outcome codes 0, 1, 2."""


class LatencyStats(NamedTuple):
    """Latency figures of one service (or 'all') over the whole run (table `latency`).

    Percentiles and the mean are over served requests; `slo_violation_fraction` is over
    arrivals: (served slower than the SLO + rejected + failed) / arrivals.  `method` says
    whether percentiles are exact or from the sketch, whose bound is `relative_error`.
    """

    TABLE = "latency"
    service: str
    arrivals: int
    requests: int
    rejected: int
    failed: int
    mean_s: float
    p50_s: float
    p95_s: float
    p99_s: float
    slo_s: float
    slo_violation_fraction: float
    method: str
    relative_error: float


class SketchBucket(NamedTuple):
    """One non-empty bucket of a service's latency sketch (table `latency_sketch`)."""

    TABLE = "latency_sketch"
    service: str
    bucket: int
    value_s: float
    count: int
