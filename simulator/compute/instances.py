"""Instances and their lifecycle: pending -> running -> stopped / terminated.

An ``Instance`` is a small state machine driven by the event loop: ``start`` enters pending
and sets a boot timer (one SimPy event), the timer enters running, and ``stop`` ends it at
once with a typed ``EndCause`` (the caller, a fleet or a later capability, acts at its own
event).  Every state change is recorded as a closed ``InstanceInterval`` and announced to
listeners (the fleet's target group registers it when it enters running).  No instance holds a
process or a generator: a lifecycle costs one scheduled event, not the four of a process that
waits and is interrupted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import simpy

from simulator.compute.catalog import InstanceType
from simulator.engine.recorder import Recorder
from simulator.records import EndCause, InstanceInterval, VolumeInterval
from simulator.scenario.schema import Volume

GP3_BASE_IOPS = 3000.0
GP3_BASE_THROUGHPUT = 125.0 * 2**20

_STARTED, _BOOTED = EndCause.STARTED.value, EndCause.BOOTED.value
_END_OF_RUN = EndCause.END_OF_RUN.value

Listener = Callable[["Instance", str, str], None]


@functools.cache
def volume_figures(v: Volume) -> tuple[str, float, float, float]:
    """(type, size, provisioned IOPS, throughput) of a volume spec, defaults filled in."""
    iops = v.iops if v.iops is not None else (GP3_BASE_IOPS if v.type == "gp3" else 0.0)
    tput = v.throughput if v.throughput is not None else (GP3_BASE_THROUGHPUT if v.type == "gp3" else 0.0)
    return v.type, v.size, iops, tput


@dataclass(frozen=True, eq=False)
class LaunchTemplate:
    """What every instance a fleet launches shares: type, purchase option, OS, root volume.

    Built once per fleet (as an EC2 launch template is), with the recorder's appenders of the
    tables an instance writes, so launching one costs no look-ups.
    """

    fleet: str
    type: InstanceType
    purchase_option: str
    os: str
    volume: tuple[str, float, float, float] | None
    """(type, size, IOPS, throughput) of the root volume (see volume_figures), or None."""
    log: Callable[[tuple], None]
    """Appends an InstanceInterval record."""
    volume_log: Callable[[tuple], None]
    """Appends a VolumeInterval record."""
    type_name: str = field(init=False)
    id_prefix: str = field(init=False)
    """``i-<fleet>-``: an instance's id is this and its launch number (four digits or more)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id_prefix", f"i-{self.fleet}-")
        object.__setattr__(self, "type_name", self.type.name)

    @classmethod
    def for_fleet(cls, recorder: Recorder, fleet: str, itype: InstanceType,
                  purchase_option: str, os: str, volume: Volume | None) -> LaunchTemplate:
        return cls(fleet, itype, purchase_option, os,
                   volume_figures(volume) if volume is not None else None,
                   recorder.appender(InstanceInterval), recorder.appender(VolumeInterval))


class Instance:
    """One instance: identity, placement, lifecycle state and its recorded history."""

    __slots__ = ("env", "template", "id", "launch", "number", "type", "az", "state", "since",
                 "listeners", "_log", "_volume_since", "_boot")

    def __init__(self, env: simpy.Environment, template: LaunchTemplate, launch: int,
                 number: int, az: str):
        self.env = env
        self.template = template
        self.id = template.id_prefix + str(launch).zfill(4)
        self.launch = launch  # the fleet's n-th launch, whatever else happens
        self.number = number  # position in the world's registry (launch order across fleets)
        self.type = template.type
        self.az = az
        self.state = "none"
        self.since = env.now
        self._boot: simpy.Timeout | None = None  # the boot timer while pending
        self.listeners: tuple[Listener, ...] = ()
        self._log = template.log
        self._volume_since: float | None = None

    @property
    def fleet(self) -> str:
        return self.template.fleet

    @property
    def purchase_option(self) -> str:
        return self.template.purchase_option

    @property
    def os(self) -> str:
        return self.template.os

    @property
    def volume(self) -> tuple[str, float, float, float] | None:
        """(type, size, IOPS, throughput) of the root volume, or None."""
        return self.template.volume

    @property
    def vcpus(self) -> int:
        return self.type.vcpus

    @property
    def alive(self) -> bool:
        """Launched and not yet stopped or terminated."""
        return self.state in ("pending", "running")

    # ---------------------------------------------------------------- state bookkeeping

    def _record(self, end: float, cause: str) -> None:
        """Close the current state's interval at `end` (an InstanceInterval row)."""
        t = self.template
        self._log(InstanceInterval(self.id, t.fleet, self.launch, t.type_name, self.az,
                                   t.purchase_option, t.os, self.state, self.since, end, cause))

    def _enter(self, state: str, cause: str, now: float) -> None:
        old = self.state
        if old != "none":
            self._record(now, cause)  # the interval of `old`, closed now
        self.state, self.since = state, now
        for listener in self.listeners:
            listener(self, old, state)

    def _release_volume(self, now: float) -> None:
        volume = self.template.volume
        if volume is None or self._volume_since is None:
            return
        iid = self.id
        self.template.volume_log(VolumeInterval("vol" + iid[1:], iid, *volume, self.az,
                                                self._volume_since, now))
        self._volume_since = None

    # ---------------------------------------------------------------- lifecycle

    def start(self, boot_time: float) -> None:
        """Launch (or restart) the instance: pending for boot_time, then running until stopped."""
        if self.state not in ("none", "stopped"):
            raise RuntimeError(f"{self.id} cannot start from state {self.state}")
        env = self.env
        now = env.now
        if self._volume_since is None and self.template.volume is not None:
            self._volume_since = now
        self._enter("pending", _STARTED, now)
        if boot_time > 0:
            timer = self._boot = env.timeout(boot_time)
            timer.callbacks.append(self._booted)
        else:
            self._enter("running", _BOOTED, now)

    def _booted(self, timer: simpy.Timeout) -> None:
        if timer is self._boot:  # else a boot it no longer waits for (stopped while pending)
            self._boot = None
            self._enter("running", _BOOTED, self.env.now)

    def stop(self, cause: EndCause, terminate: bool = False) -> None:
        """End the lifecycle now (stopped, or terminated with its root volume) with a typed cause;
        an instance that is not pending or running is left as it is."""
        if not isinstance(cause, EndCause):
            raise TypeError(f"an instance ends with an EndCause, not {cause!r}")
        if self.state not in ("pending", "running"):
            return
        self._boot = None
        now = self.env.now
        self._enter("terminated" if terminate else "stopped", cause.value, now)
        if terminate:
            self._release_volume(now)

    def close(self) -> None:
        """Close the open interval at the end of the run (state unchanged, cause end_of_run)."""
        if self.state in ("none", "terminated"):
            return
        now = self.env.now
        self._record(now, _END_OF_RUN)
        self.since = now
        self._release_volume(now)
