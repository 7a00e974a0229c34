"""The World: builds every component from a Scenario, runs the event loop, collects the tables.

Phases are explicit: ``World.build`` (each registered section's build step turns its specs
into components, wired through constructors), ``run`` (the SimPy loop up to the horizon, with
one process closing observation intervals for every registered observer) and ``tables`` (the
recorder's DataFrames, one per declared record type).  The World owns the instance registry:
``launch`` and ``terminate`` work at any simulated time, and nothing about the population is
fixed when it is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pandas as pd
import simpy
from simpy.core import URGENT, BoundClass, EmptySchedule, StopSimulation

from simulator.billing.pricebook import PriceBook, load_pricebook
from simulator.compute.catalog import Catalog, load_catalog
from simulator.compute.registry import InstanceRegistry
from simulator.engine.recorder import Recorder
from simulator.engine.streams import Streams
from simulator.gcpolicy import rare_collections
from simulator.records import EndCause
from simulator.scenario.schema import Scenario
from simulator.sections import sections

Progress = Callable[[float, float], None]

class CountingEnvironment(simpy.Environment):
    """A SimPy environment whose run loop also counts the events it processes."""

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)
        self.events = 0
        # SimPy binds its factories (timeout, event, process, ...) to the environment once,
        # but only those in the class's own __dict__: a subclass would build a bound method on
        # every env.timeout(...) call.  Bind the inherited ones too.
        for klass in type(self).__mro__:
            for name, attr in vars(klass).items():
                if type(attr) is BoundClass and name not in self.__dict__:
                    setattr(self, name, getattr(self, name))

    def run(self, until: float | None = None) -> None:  # type: ignore[override]
        """Process events up to `until` (exclusive of events scheduled at `until`), counting them.

        The same loop as simpy.Environment.run with an event counter and nothing else per event.
        """
        if until is None:
            raise ValueError("a dcsim World always runs to a horizon")
        if until <= self.now:
            return
        stop = simpy.Event(self)
        stop._ok = True
        stop._value = None
        self.schedule(stop, URGENT, until - self.now)
        stop.callbacks.append(StopSimulation.callback)
        step, count = self.step, 0
        try:
            while True:
                step()
                count += 1
        except StopSimulation:
            count += 1  # the stop event itself was processed by step()
        except EmptySchedule:
            pass
        self.events += count - 1  # do not count our own stop event


class World:
    """Every component of one run, wired together, plus the run loop."""

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        catalog: Catalog | None = None,
        book: PriceBook | None = None,
    ):
        self.scenario = scenario
        self.streams = streams
        self.catalog = catalog or load_catalog(scenario.catalog)
        self.book = book or load_pricebook(scenario.pricebook)
        self.env = CountingEnvironment()
        self.recorder = Recorder()
        self.registry = InstanceRegistry(self.env, self.recorder)
        self.fleets: dict = {}  # name -> compute.fleet.Fleet (filled by the compute build step)
        self.observers: list[Callable[[float], None]] = []  # called at every interval's end
        self.finishers: list[Callable[[float], None]] = []  # called once at the horizon
        self.table_hooks: list[Callable[[dict[str, pd.DataFrame]], None]] = []
        self._finished = False

    @classmethod
    def build(
        cls,
        scenario: Scenario,
        streams: Streams,
        catalog: Catalog | None = None,
        book: PriceBook | None = None,
    ) -> World:
        """Build the components of a scenario (nothing runs yet)."""
        world = cls(scenario, streams, catalog, book)
        for section in sections():
            for record in section.records:
                world.recorder.declare(record)
            step = section.build
            if isinstance(step, str):
                module, _, name = step.partition(":")
                step = getattr(importlib.import_module(module), name)
            if step is not None:
                step(world)
        if world.observers:
            world.env.process(world._observe(scenario.output.observe_interval))
        return world

    # ---------------------------------------------------------------- population

    def launch(self, fleet, az: str):
        """A new instance of `fleet` in `az` (registered and numbered, not yet started)."""
        return self.registry.launch(fleet, az)

    def terminate(self, instance, cause: EndCause) -> None:
        """End `instance` now with a typed cause."""
        self.registry.terminate(instance, cause)

    # ---------------------------------------------------------------- running

    def _observe(self, interval: float):
        """Close an observation interval every `interval` seconds.

        The end of an interval is scheduled URGENT, so it is processed before any other event
        at the same instant: what happens at exactly t belongs to the interval [t, t + Δ).
        """
        env = self.env
        while True:
            tick = simpy.Event(env)
            tick._ok, tick._value = True, None
            env.schedule(tick, URGENT, interval)
            yield tick
            now = env.now
            for observe in self.observers:
                observe(now)

    def run(self, progress: Progress | None = None, steps: int = 100) -> None:
        """Run the event loop to the horizon, then close every open interval (see rare_collections)."""
        horizon = self.scenario.horizon
        with rare_collections():
            if progress is None:
                self.env.run(until=horizon)
            else:
                for i in range(1, steps + 1):
                    self.env.run(until=horizon * i / steps)
                    progress(self.env.now, horizon)
            self._finish()

    def _finish(self) -> None:
        if self._finished:
            return
        now = self.env.now
        for finish in self.finishers:
            finish(now)
        self._finished = True

    @property
    def events(self) -> int:
        """Events processed by the SimPy loop so far."""
        return self.env.events

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run's tables as DataFrames (one per declared record type, plus derived frames)."""
        with rare_collections():  # as in run(): building tables allocates, and frees nothing cyclic
            tables = self.recorder.tables()
            for hook in self.table_hooks:
                hook(tables)
        return tables
