"""A fleet: instances of one type whose number follows a desired capacity that can change.

The fleet controller is a thin SimPy process around pure decisions (``compute.scaling``).
Either run windows start and stop every instance together (``schedule``), or the desired
capacity is set at the start (``count``) and by scheduled actions; the fleet then launches
new instances in the AZ with the fewest, and scales in from the AZ with the most, newest
first.  An instance in service behind the fleet's load balancer is deregistered first and
terminated when it has drained (or its deregistration delay ran out); it no longer counts
toward the desired capacity from the moment it is picked, as in AWS Auto Scaling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import simpy

from simulator.compute.catalog import InstanceType
from simulator.compute.instances import Instance, LaunchTemplate
from simulator.compute.scaling import Capacity, apply_action, launch_azs, scale_in_picks, schedule
from simulator.distributions import build as build_distribution
from simulator.engine.recorder import Recorder
from simulator.engine.streams import Streams
from simulator.records import EndCause, ScalingActivity
from simulator.scenario.schema import Fleet as FleetSpec

BOOT_BLOCK = 256
"""Boot times are drawn in blocks of this many launches, block k from its own chunk stream."""

Launch = Callable[["Fleet", str], Instance]


class BootTimes:
    """Boot time of the n-th launch of a fleet, keyed by launch number (common random numbers)."""

    def __init__(self, spec, streams: Streams, stream: str):
        self.fixed = float(spec) if isinstance(spec, int | float) else None
        self.dist = None if self.fixed is not None else build_distribution(spec)
        self.streams, self.stream = streams, stream
        self._block, self._values = (-1, -1), []

    def __call__(self, launch: int, start: int = 0) -> float:
        """Boot time of launch `launch` at its `start`-th start (0 = its launch)."""
        if self.fixed is not None:
            return self.fixed
        block = launch // BOOT_BLOCK
        if (block, start) != self._block:
            rng = self.streams.chunk(f"{self.stream}.{start}", block)
            self._block = (block, start)
            self._values = self.dist.sample(rng, BOOT_BLOCK).tolist()
        return self._values[launch % BOOT_BLOCK]


class _Launches:
    """The launch numbers of an AZ's stack of instances, as a sequence (no copy)."""

    __slots__ = ("stack",)

    def __init__(self, stack: list[Instance]):
        self.stack = stack

    def __len__(self) -> int:
        return len(self.stack)

    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return [inst.launch for inst in self.stack[i]]
        return self.stack[i].launch


class Fleet:
    """The instances of one fleet and the process that keeps their number at the desired one."""

    def __init__(self, env: simpy.Environment, recorder: Recorder, streams: Streams, name: str,
                 spec: FleetSpec, itype: InstanceType, azs: list[str], launch: Launch,
                 start: dt.datetime, horizon: float):
        self.env = env
        self.name = name
        self.spec = spec
        self.type = itype
        self.azs = [spec.az] if spec.az is not None else list(azs)
        self._launch_instance = launch
        self.boot = BootTimes(spec.boot_time, streams, f"fleet.{name}.boot_time")
        self.template = LaunchTemplate.for_fleet(recorder, name, itype, spec.purchase_option,
                                                 spec.os, spec.volume)
        self.capacity = Capacity(spec.count, spec.min_size, spec.max_size)
        self.stacks: dict[str, list[Instance]] = {az: [] for az in self.azs}
        """Per AZ, the instances counting toward the desired capacity, in launch order."""
        self.instances: list[Instance] = []  # every instance ever launched, in launch order
        self.target_group = None  # set by the World when services route to this fleet
        self._activity = recorder.appender(ScalingActivity)
        self._start, self._horizon = start, horizon
        self.process = env.process(self._actions() if spec.scheduled_actions else self._windows())

    # ---------------------------------------------------------------- capacity

    def set_capacity(self, capacity: Capacity, cause: str) -> None:
        """Adopt new capacity settings and launch or retire instances to match them."""
        self.capacity = capacity
        launched, retired = self._reconcile()
        self._activity(ScalingActivity(self.name, self.env.now, capacity.desired,
                                       capacity.min_size, capacity.max_size if capacity.max_size
                                       is not None else -1, launched, retired, cause))

    @property
    def active(self) -> list[Instance]:
        """Instances counting toward the desired capacity (launched, not being retired)."""
        return [inst for stack in self.stacks.values() for inst in stack]

    def _reconcile(self) -> tuple[int, int]:
        gap = self.capacity.desired - sum(len(st) for st in self.stacks.values())
        if gap > 0:
            launch, boot, stacks, keep = self._launch_instance, self.boot, self.stacks, \
                self.instances.append
            for az in launch_azs({az: len(st) for az, st in stacks.items()}, gap):
                inst = launch(self, az)
                inst.start(boot(inst.launch))
                stacks[az].append(inst)
                keep(inst)
            return gap, 0
        if gap < 0:
            launches = {az: _Launches(st) for az, st in self.stacks.items()}
            leaving = [self.stacks[az].pop() for az in scale_in_picks(launches, -gap)]
            for inst in leaving:
                self._retire(inst)
            return 0, len(leaving)
        return 0, 0

    def _retire(self, inst: Instance) -> None:
        """Scale-in: deregister from the load balancer, terminate once drained."""
        tg = self.target_group
        if tg is not None:
            until = tg.deregister(inst)
            if until > self.env.now:
                self.env.process(self._terminate_at(inst, until))
                return
        inst.stop(EndCause.SCALED_IN, terminate=True)

    def _terminate_at(self, inst: Instance, until: float):
        yield self.env.timeout(until - self.env.now)
        inst.stop(EndCause.SCALED_IN, terminate=True)

    # ---------------------------------------------------------------- processes

    def _actions(self):
        """Initial capacity, then every scheduled action at its time."""
        self.set_capacity(self.capacity, "initial")
        actions = self.spec.scheduled_actions
        for t, i in schedule(actions, self._start, self._horizon):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            action = actions[i]
            label = action.name or str(i)
            self.set_capacity(apply_action(self.capacity, action), f"scheduled_action:{label}")

    def _windows(self):
        """Run windows: launch `count` instances at the first start, stop and restart them all."""
        for k, window in enumerate(self.spec.windows):
            yield self.env.timeout(max(0.0, window.start - self.env.now))
            if k == 0:
                self.set_capacity(self.capacity, "run_window")
            else:
                for inst in self.active:
                    inst.start(self.boot(inst.launch, k))
            if window.stop is None:
                return
            yield self.env.timeout(window.stop - self.env.now)
            for inst in self.active:
                inst.stop(EndCause.SCHEDULED_STOP)

    def close(self) -> None:
        """Close every instance's open interval at the end of the run."""
        for inst in self.instances:
            inst.close()
