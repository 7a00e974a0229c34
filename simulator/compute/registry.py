"""The instance registry: every instance of a run, launched and ended at any simulated time.

The World owns one registry.  ``launch`` creates the n-th instance of a fleet (id
``i-<fleet>-<n>``, four digits and more past 9,999) with the next number in the run (the
request plane names instances by it) and ``terminate`` ends one with a typed cause.  Nothing
is fixed when the World is built: numbering and the tables grow as instances appear.
"""

from __future__ import annotations

import simpy

from simulator.compute.instances import Instance
from simulator.engine.recorder import Recorder
from simulator.records import EndCause


class InstanceRegistry:
    """Launches, numbers and ends the instances of one run."""

    def __init__(self, env: simpy.Environment, recorder: Recorder):
        self.env = env
        self.recorder = recorder
        self.instances: list[Instance] = []  # by number
        self._launches: dict[str, int] = {}

    def launch(self, fleet, az: str) -> Instance:
        """A new instance of `fleet` (a compute.fleet.Fleet) in `az`, not yet started."""
        n = self._launches.get(fleet.name, 0)
        self._launches[fleet.name] = n + 1
        inst = Instance(self.env, fleet.template, n, len(self.instances), az)
        if fleet.target_group is not None:
            inst.listeners = (fleet.target_group.on_instance_change,)
        self.instances.append(inst)
        return inst

    def terminate(self, inst: Instance, cause: EndCause) -> None:
        """End an instance now with a typed cause (an EndCause, or TypeError)."""
        inst.stop(cause, terminate=True)

    def ids(self) -> list[str]:
        """Instance ids by number (the request table's categories)."""
        return [i.id for i in self.instances]

    def launches(self, fleet: str) -> int:
        """How many instances `fleet` has launched so far."""
        return self._launches.get(fleet, 0)
