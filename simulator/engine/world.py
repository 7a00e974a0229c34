"""The World: builds every component from a Scenario, runs the event loop, collects the tables.

This is the one module that knows every component.  Phases are explicit: ``World.build``
(specs -> components, wired through constructors), ``run`` (the SimPy loop up to the horizon,
with an observer closing observation intervals), ``tables`` (the recorder's DataFrames).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import simpy
from simpy.core import URGENT, EmptySchedule, StopSimulation

from simulator.billing.pricebook import PriceBook, load_pricebook
from simulator.compute.catalog import Catalog, load_catalog
from simulator.compute.dataplane import REQUEST_COLUMNS, ServiceDataPlane, latency_table
from simulator.compute.fleet import Fleet
from simulator.compute.workload import RequestSource, expected_arrivals
from simulator.engine.recorder import Recorder
from simulator.engine.streams import Streams
from simulator.records import InstanceInterval, ServiceInterval, Transfer, VolumeInterval
from simulator.scenario.schema import Scenario

Progress = Callable[[float, float], None]


class CountingEnvironment(simpy.Environment):
    """A SimPy environment whose run loop also counts the events it processes."""

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)
        self.events = 0

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
        for record in (InstanceInterval, VolumeInterval, Transfer, ServiceInterval):
            self.recorder.declare(record)
        self.fleets: dict[str, Fleet] = {}
        self.planes: list[ServiceDataPlane] = []
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
        world._build_compute()
        world._build_services()
        return world

    def _build_compute(self) -> None:
        sc = self.scenario
        for name, spec in sc.fleets.items():
            itype = self.catalog.get(spec.instance_type)
            self.fleets[name] = Fleet(self.env, self.recorder, name, spec, itype, sc.region.azs)
        self.instances = [inst for fleet in self.fleets.values() for inst in fleet.instances]
        for number, inst in enumerate(self.instances):
            inst.number = number

    def _build_services(self) -> None:
        sc = self.scenario
        out = sc.output
        expected = sum(expected_arrivals(s.arrivals, sc.horizon) for s in sc.services.values())
        keep_exact = out.latency == "exact" or (out.latency == "auto" and expected <= out.exact_limit)
        for number, (name, spec) in enumerate(sc.services.items()):
            plane = ServiceDataPlane(
                name, spec, RequestSource(name, spec, self.streams), self.recorder,
                keep_exact=keep_exact, keep_requests=out.requests,
                sketch_alpha=out.sketch_relative_error, service_number=number,
            )
            for inst in self.fleets[spec.fleet].instances:
                inst.listeners.append(plane.on_instance_change)
            self.planes.append(plane)
        if self.planes:
            self.env.process(self._observer(out.observe_interval))

    def _observer(self, interval: float):
        """Close an observation interval every `interval` seconds."""
        while True:
            yield self.env.timeout(interval)
            for plane in self.planes:
                plane.observe(self.env.now)

    def run(self, progress: Progress | None = None, steps: int = 100) -> None:
        """Run the event loop to the horizon, then close every open interval."""
        horizon = self.scenario.horizon
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
        for plane in self.planes:
            plane.observe(now)
        for fleet in self.fleets.values():
            fleet.close()
        self.recorder.set_frame("latency", latency_table(self.planes))
        sketches = [p.sketch.to_frame().assign(service=p.name) for p in self.planes]
        if sketches:
            frame = pd.concat(sketches, ignore_index=True)
            self.recorder.set_frame("latency_sketch", frame[["service", "bucket", "value_s", "count"]])
        self._finished = True

    @property
    def events(self) -> int:
        """Events processed by the SimPy loop so far."""
        return self.env.events

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run's tables as DataFrames."""
        tables = self.recorder.tables()
        for name in ("instance_intervals", "volume_intervals"):
            frame = tables.get(name)
            if frame is not None and len(frame):
                tables[name] = frame.sort_values(["start_s", frame.columns[0]], kind="stable").reset_index(drop=True)
        if self.scenario.output.requests and "requests" not in tables:
            tables["requests"] = pd.DataFrame({c: np.empty(0, dtype=d) for c, d in REQUEST_COLUMNS.items()})
        if "requests" in tables:
            req = tables["requests"]
            req["service"] = pd.Categorical.from_codes(req["service"], categories=list(self.scenario.services))
            req["instance_id"] = pd.Categorical.from_codes(
                req["instance_id"], categories=[i.id for i in self.instances]
            )
        return tables
