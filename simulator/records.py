"""The records a run produces: frozen dataclasses, one row of one table each.

Every observation is immutable and carries what later analysis needs (billing reads instance
type, AZ, purchase option and OS straight from the interval rows).  Times are seconds from the
start of the run, sizes bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class EndCause(StrEnum):
    """Why an instance left a state; the typed cause carried by every interrupt."""

    BOOTED = "booted"
    SCHEDULED_STOP = "scheduled_stop"
    STOPPED = "stopped"
    TERMINATED_BY_USER = "terminated_by_user"
    END_OF_RUN = "end_of_run"
    HOST_FAILED = "host_failed"
    SPOT_RECLAIMED = "spot_reclaimed"
    SCALED_IN = "scaled_in"
    STARTED = "started"


@dataclass(frozen=True)
class InstanceInterval:
    """One stay of an instance in one lifecycle state, [start_s, end_s)."""

    TABLE: ClassVar[str] = "instance_intervals"
    instance_id: str
    fleet: str
    instance_type: str
    az: str
    purchase_option: str
    os: str
    state: str
    start_s: float
    end_s: float
    end_cause: str


@dataclass(frozen=True)
class VolumeInterval:
    """An EBS volume provisioned over [start_s, end_s)."""

    TABLE: ClassVar[str] = "volume_intervals"
    volume_id: str
    instance_id: str
    volume_type: str
    size_bytes: float
    iops: float
    throughput_bytes_per_s: float
    az: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Transfer:
    """Bytes moved in one direction during one observation interval."""

    TABLE: ClassVar[str] = "transfer"
    service: str
    direction: str
    bytes: float
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ServiceInterval:
    """Request statistics of one service over one observation interval [start_s, end_s).

    Requests are counted in the interval in which they arrive.  `instances` and `vcpus` are
    time averages over the interval, so utilization = work_s / (vcpus × (end_s − start_s)).
    `p99_s` is the exact 99th percentile of the latencies of the interval's served requests.
    """

    TABLE: ClassVar[str] = "service_intervals"
    service: str
    start_s: float
    end_s: float
    arrivals: int
    served: int
    dropped: int
    latency_sum_s: float
    p99_s: float
    slo_violations: int
    work_s: float
    instances: float
    vcpus: float
    in_system: int
    response_bytes: float
