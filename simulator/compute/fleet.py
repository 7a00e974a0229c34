"""A fixed fleet: N identical instances spread over AZs, started and stopped on a schedule.

The fleet controller is a thin SimPy process around the fleet spec: at each run window's start
it starts every instance, at its stop it interrupts them with a typed cause.  AZ assignment is a
pure function (round-robin over the region's AZs unless the fleet is pinned to one).
"""

from __future__ import annotations

import simpy

from simulator.compute.catalog import InstanceType
from simulator.compute.instances import Instance
from simulator.engine.recorder import Recorder
from simulator.records import EndCause
from simulator.scenario.schema import Fleet as FleetSpec


def assign_azs(count: int, azs: list[str], pinned: str | None = None) -> list[str]:
    """AZ of each of `count` instances: all in `pinned`, else round-robin over `azs`."""
    if pinned is not None:
        return [pinned] * count
    return [azs[i % len(azs)] for i in range(count)]


class Fleet:
    """The instances of one fleet and the process that runs its schedule."""

    def __init__(
        self,
        env: simpy.Environment,
        recorder: Recorder,
        name: str,
        spec: FleetSpec,
        itype: InstanceType,
        azs: list[str],
    ):
        self.env = env
        self.name = name
        self.spec = spec
        self.instances = [
            Instance(
                env, recorder, f"i-{name}-{i:04d}", name, itype, az,
                spec.purchase_option, spec.os, spec.volume,
            )
            for i, az in enumerate(assign_azs(spec.count, azs, spec.az))
        ]
        self.process = env.process(self._schedule())

    def _schedule(self):
        for window in self.spec.schedule:
            yield self.env.timeout(max(0.0, window.start - self.env.now))
            for inst in self.instances:
                inst.start(self.spec.boot_time)
            if window.stop is None:
                return
            yield self.env.timeout(window.stop - self.env.now)
            for inst in self.instances:
                inst.stop(EndCause.SCHEDULED_STOP)

    def close(self) -> None:
        """Close every instance's open interval at the end of the run."""
        for inst in self.instances:
            inst.close()
