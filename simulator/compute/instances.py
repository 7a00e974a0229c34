"""Instances and their lifecycle: pending -> running -> stopped / terminated.

An ``Instance`` is a small component: its lifecycle is a SimPy process (a generator), every
state change is recorded as a closed ``InstanceInterval`` and announced to listeners (the
fleet's target group registers it when it enters running).  Every end of an instance is
``process.interrupt(Stop(cause))`` with a typed ``EndCause``; any other interrupt is a bug
and raises, never silently a user termination.
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


@dataclass(frozen=True)
class Stop:
    """The cause carried by an interrupt that ends an instance's run."""

    cause: EndCause
    terminate: bool = False
    reason: str = field(init=False)
    """The cause as recorded (its plain string value)."""

    def __post_init__(self) -> None:
        if not isinstance(self.cause, EndCause):
            raise TypeError(f"an instance ends with an EndCause, not {self.cause!r}")
        object.__setattr__(self, "reason", self.cause.value)


@functools.cache
def volume_figures(v: Volume) -> tuple[str, float, float, float]:
    """(type, size, provisioned IOPS, throughput) of a volume spec, defaults filled in."""
    iops = v.iops if v.iops is not None else (GP3_BASE_IOPS if v.type == "gp3" else 0.0)
    tput = v.throughput if v.throughput is not None else (GP3_BASE_THROUGHPUT if v.type == "gp3" else 0.0)
    return v.type, v.size, iops, tput


@functools.cache
def stop_for(cause: EndCause, terminate: bool) -> Stop:
    """The (immutable, shared) Stop for a cause."""
    return Stop(cause, terminate)


@dataclass(frozen=True, eq=False)
class LaunchTemplate:
    """What every instance a fleet launches shares: type, purchase option, OS, root volume.

    Built once per fleet (as an EC2 launch template is), with the recorder's appenders of the
    tables an instance writes, so launching one costs no look-ups.  Instances hand those
    appenders plain tuples in the record's field order (see Recorder.appender).
    """

    fleet: str
    type: InstanceType
    purchase_option: str
    os: str
    volume: tuple[str, float, float, float] | None
    """(type, size, IOPS, throughput) of the root volume (see volume_figures), or None."""
    log: Callable[[tuple], None]
    """Appends an InstanceInterval row (a plain tuple of its fields)."""
    volume_log: Callable[[tuple], None]
    """Appends a VolumeInterval row (a plain tuple of its fields)."""
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
                 "process", "listeners", "_log", "_volume_since")

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
        self.process: simpy.Process | None = None
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
        self._log((self.id, t.fleet, self.launch, t.type_name, self.az, t.purchase_option, t.os,
                   self.state, self.since, end, cause))

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
        self.template.volume_log(("vol" + iid[1:], iid, *volume, self.az, self._volume_since,
                                  now))
        self._volume_since = None

    # ---------------------------------------------------------------- lifecycle

    def start(self, boot_time: float) -> simpy.Process:
        """Launch (or restart) the instance: pending for boot_time, then running until stopped."""
        if self.state not in ("none", "stopped"):
            raise RuntimeError(f"{self.id} cannot start from state {self.state}")
        self.process = self.env.process(self._run(boot_time))
        return self.process

    def stop(self, cause: EndCause, terminate: bool = False) -> None:
        """End the running lifecycle now: an interrupt with a typed cause."""
        process = self.process
        if process is not None and process.is_alive:
            process.interrupt(stop_for(cause, terminate))

    def _run(self, boot_time: float):
        env = self.env
        now = env.now
        if self._volume_since is None and self.template.volume is not None:
            self._volume_since = now
        self._enter("pending", _STARTED, now)
        try:
            if boot_time > 0:
                yield env.timeout(boot_time)
            self._enter("running", _BOOTED, env.now)
            yield env.event()  # runs until interrupted
        except simpy.Interrupt as intr:
            stop = intr.cause
            if not isinstance(stop, Stop):
                raise TypeError(f"{self.id} was interrupted with {stop!r}; an instance ends only "
                                "with a Stop(EndCause)") from None
            now = env.now
            self._enter("terminated" if stop.terminate else "stopped", stop.reason, now)
            if stop.terminate:
                self._release_volume(now)
            self.process = None  # a finished lifecycle keeps nothing alive

    def close(self) -> None:
        """Close the open interval at the end of the run (state unchanged, cause end_of_run)."""
        if self.state in ("none", "terminated"):
            return
        now = self.env.now
        self._record(now, _END_OF_RUN)
        self.since = now
        self._release_volume(now)
