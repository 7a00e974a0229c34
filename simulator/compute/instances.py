"""Instances and their lifecycle: pending -> running -> stopping -> stopped / terminated.

An ``Instance`` is a small component: its lifecycle is a SimPy process (a generator), every
state change is recorded as a closed ``InstanceInterval`` and announced to listeners (the data
plane adds an instance to its load balancer when it enters running and removes it when it
leaves).  Every end of a running instance is ``process.interrupt(Stop(cause))`` with a typed
cause, so later issues (host failures, spot reclaims, scale-in) reuse the same path.
"""

from __future__ import annotations

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


class Instance:
    """One instance: identity, placement, lifecycle state and its recorded history."""

    def __init__(
        self,
        env: simpy.Environment,
        recorder: Recorder,
        instance_id: str,
        fleet: str,
        itype: InstanceType,
        az: str,
        purchase_option: str,
        os: str,
        volume: Volume | None,
    ):
        self.env = env
        self.recorder = recorder
        self.id = instance_id
        self.fleet = fleet
        self.type = itype
        self.az = az
        self.purchase_option = purchase_option
        self.os = os
        self.volume = volume
        self._key = (instance_id, fleet, itype.name, az, purchase_option, os)
        self._log = recorder.appender(InstanceInterval)
        self.number = -1  # position in the world's instance list (set by the World)
        self.state = "none"
        self.since = env.now
        self.process: simpy.Process | None = None
        self.listeners: list[Listener] = []
        self._volume_since: float | None = None

    @property
    def vcpus(self) -> int:
        return self.type.vcpus

    # ---------------------------------------------------------------- state bookkeeping

    def _enter(self, state: str, cause: str) -> None:
        old, now = self.state, self.env.now
        if old != "none":
            self._log((*self._key, old, self.since, now, cause))
        self.state, self.since = state, now
        for listener in self.listeners:
            listener(self, old, state)

    def _attach_volume(self) -> None:
        if self.volume is not None and self._volume_since is None:
            self._volume_since = self.env.now

    def _release_volume(self) -> None:
        if self.volume is None or self._volume_since is None:
            return
        v = self.volume
        iops = v.iops if v.iops is not None else (GP3_BASE_IOPS if v.type == "gp3" else 0.0)
        tput = v.throughput if v.throughput is not None else (GP3_BASE_THROUGHPUT if v.type == "gp3" else 0.0)
        self.recorder.add(
            VolumeInterval(
                f"vol-{self.id.removeprefix('i-')}", self.id, v.type, v.size, iops, tput, self.az,
                self._volume_since, self.env.now,
            )
        )
        self._volume_since = None

    # ---------------------------------------------------------------- lifecycle

    def start(self, boot_time: float) -> simpy.Process:
        """Launch (or restart) the instance: pending for boot_time, then running until stopped."""
        if self.state not in ("none", "stopped"):
            raise RuntimeError(f"{self.id} cannot start from state {self.state}")
        self.process = self.env.process(self._run(boot_time))
        return self.process

    def stop(self, cause: EndCause, terminate: bool = False) -> None:
        """Ask the running lifecycle to end (an interrupt with a typed cause)."""
        if self.process is not None and self.process.is_alive:
            self.process.interrupt(Stop(cause, terminate))

    def _run(self, boot_time: float):
        if self._volume_since is None and self.volume is not None:
            self._attach_volume()
        self._enter("pending", _STARTED)
        try:
            if boot_time > 0:
                yield self.env.timeout(boot_time)
            self._enter("running", _BOOTED)
            yield self.env.event()  # runs until interrupted
        except simpy.Interrupt as intr:
            stop = intr.cause if isinstance(intr.cause, Stop) else Stop(EndCause.TERMINATED_BY_USER, True)
            final = "terminated" if stop.terminate else "stopped"
            self._enter(final, EndCause(stop.cause).value)
            if stop.terminate:
                self._release_volume()

    def close(self) -> None:
        """Close the open interval at the end of the run (state unchanged, cause end_of_run)."""
        if self.state in ("none", "terminated"):
            return
        self.recorder.add_row(
            InstanceInterval,
            (*self._key, self.state, self.since, self.env.now, EndCause.END_OF_RUN.value),
        )
        self.since = self.env.now
        self._release_volume()
