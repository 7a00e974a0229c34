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
from dataclasses import dataclass

import simpy

from simulator.compute.catalog import InstanceType
from simulator.engine.recorder import Recorder
from simulator.records import EndCause, InstanceInterval, VolumeInterval
from simulator.scenario.schema import Volume

GP3_BASE_IOPS = 3000.0
GP3_BASE_THROUGHPUT = 125.0 * 2**20

_STARTED, _BOOTED = EndCause.STARTED.value, EndCause.BOOTED.value

Listener = Callable[["Instance", str, str], None]


@dataclass(frozen=True)
class Stop:
    """The cause carried by an interrupt that ends an instance's run."""

    cause: EndCause
    terminate: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.cause, EndCause):
            raise TypeError(f"an instance ends with an EndCause, not {self.cause!r}")


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


class Instance:
    """One instance: identity, placement, lifecycle state and its recorded history."""

    __slots__ = ("env", "recorder", "id", "fleet", "launch", "number", "type", "az",
                 "purchase_option", "os", "volume", "state", "since", "process", "listeners",
                 "_log", "_volume_since")

    def __init__(
        self,
        env: simpy.Environment,
        recorder: Recorder,
        fleet: str,
        launch: int,
        number: int,
        itype: InstanceType,
        az: str,
        purchase_option: str,
        os: str,
        volume: Volume | tuple[str, float, float, float] | None,
        log: Callable[[InstanceInterval], None] | None = None,
    ):
        self.env = env
        self.recorder = recorder
        self.id = f"i-{fleet}-{launch:04d}"
        self.fleet = fleet
        self.launch = launch  # the fleet's n-th launch, whatever else happens
        self.number = number  # position in the world's registry (launch order across fleets)
        self.type = itype
        self.az = az
        self.purchase_option = purchase_option
        self.os = os
        self.volume = volume_figures(volume) if isinstance(volume, Volume) else volume
        """(type, size, IOPS, throughput) of the root volume, or None."""
        self.state = "none"
        self.since = env.now
        self.process: simpy.Process | None = None
        self.listeners: tuple[Listener, ...] = ()
        self._log = log if log is not None else recorder.appender(InstanceInterval)
        self._volume_since: float | None = None

    @property
    def vcpus(self) -> int:
        return self.type.vcpus

    @property
    def alive(self) -> bool:
        """Launched and not yet stopped or terminated."""
        return self.state in ("pending", "running")

    # ---------------------------------------------------------------- state bookkeeping

    def _record(self, end: float, cause: str) -> None:
        self._log(InstanceInterval(self.id, self.fleet, self.launch, self.type.name, self.az,
                                   self.purchase_option, self.os, self.state, self.since, end,
                                   cause))

    def _enter(self, state: str, cause: str) -> None:
        old, now = self.state, self.env.now
        if old != "none":
            self._record(now, cause)
        self.state, self.since = state, now
        for listener in self.listeners:
            listener(self, old, state)

    def _release_volume(self) -> None:
        if self.volume is None or self._volume_since is None:
            return
        vtype, size, iops, tput = self.volume
        self.recorder.add(VolumeInterval(f"vol{self.id[1:]}", self.id, vtype, size, iops, tput,
                                         self.az, self._volume_since, self.env.now))
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
        if self.process is not None and self.process.is_alive:
            self.process.interrupt(stop_for(cause, terminate))

    def _run(self, boot_time: float):
        if self._volume_since is None and self.volume is not None:
            self._volume_since = self.env.now
        self._enter("pending", _STARTED)
        try:
            if boot_time > 0:
                yield self.env.timeout(boot_time)
            self._enter("running", _BOOTED)
            yield self.env.event()  # runs until interrupted
        except simpy.Interrupt as intr:
            stop = intr.cause
            if not isinstance(stop, Stop):
                raise TypeError(f"{self.id} was interrupted with {stop!r}; an instance ends only "
                                "with a Stop(EndCause)") from None
            self._enter("terminated" if stop.terminate else "stopped", stop.cause.value)
            if stop.terminate:
                self._release_volume()
            self.process = None  # a finished lifecycle keeps nothing alive

    def close(self) -> None:
        """Close the open interval at the end of the run (state unchanged, cause end_of_run)."""
        if self.state in ("none", "terminated"):
            return
        self._record(self.env.now, EndCause.END_OF_RUN.value)
        self.since = self.env.now
        self._release_volume()
