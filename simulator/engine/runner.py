"""Run one scenario with one seed and return everything it produced as a ``RunResult``.

``run`` builds a World, runs it to the horizon, lets every registered section derive its
post-hoc tables (billing prices the recorded usage against the price book, a pure function of
the tables) and summarizes.  The result carries the resolved
scenario, the seed, package versions, runtime, event count and any error, so every number can be
traced to what produced it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

import simulator
from simulator.engine.streams import Streams
from simulator.engine.world import World
from simulator.errors import InputError
from simulator.scenario.checks import reference_problems
from simulator.scenario.schema import Scenario
from simulator.sections import Context, empty_tables, sections
from simulator.summary import summarize

_PACKAGES = ("simpy", "numpy", "pandas", "numba", "pydantic", "pyarrow")


@functools.lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = {"python": platform.python_version(), "dcsim": simulator.__version__}
    for pkg in _PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return tuple(out.items())


def versions() -> dict[str, str]:
    """Versions of Python, dcsim and the packages whose behaviour shapes results."""
    return dict(_versions())


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced: its inputs, tables, summary, runtime and error."""

    scenario: Scenario
    seed: int
    tables: dict[str, pd.DataFrame] = field(repr=False)
    summary: dict = field(repr=False)
    runtime_s: float
    events: int
    versions: dict[str, str] = field(repr=False)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    progress: Callable[[float, float], None] | None = None,
    raise_errors: bool = True,
) -> RunResult:
    """Simulate `scenario` with `seed` (default: the scenario's seed) and return the result.

    With raise_errors=False an exception inside the simulation is caught and returned in
    ``RunResult.error`` (with empty tables) instead of raised; sweeps use that.
    """
    seed = scenario.seed if seed is None else int(seed)
    problems = reference_problems(scenario)
    if problems:
        raise InputError(scenario.name, problems)
    started = time.perf_counter()
    tables: dict[str, pd.DataFrame] = {}
    events, error = 0, None
    try:
        world = World.build(scenario, Streams(seed))
        world.run(progress=progress)
        events = world.events
        tables = world.tables()
        context = Context(scenario, world.book)
        for section in sections():
            if section.derive is not None:
                tables.update(section.derive(tables, context))
    except Exception:  # noqa: BLE001 - reported in the result when asked to
        if raise_errors:
            raise
        error = traceback.format_exc(limit=8)
        tables = {}
    runtime = time.perf_counter() - started
    vers = versions()
    summary = summarize(
        scenario=scenario, seed=seed, runtime_s=runtime, events=events,
        tables=tables or empty_tables(), versions=vers, error=error,
    )
    return RunResult(scenario, seed, tables, summary, runtime, events, vers, error)
