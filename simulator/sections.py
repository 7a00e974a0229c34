"""Open result sections: how a capability plugs its results into runs, summaries and reports.

A capability package (``simulator/compute``, ``simulator/billing``, later storage, spot,
durability) registers one ``Section`` per summary key from a module ``section.py`` of its own.
A section brings its record types (the schemas of its tables), optionally the World's build
step for its components and a pure post-run step that derives tables (billing's line items),
its summary part, its report part and its metric names.  summary.json, the run report, sweep
goals and the sweep report's metrics are all built from what is registered, so a new
capability edits no central list: dropping ``simulator/<package>/section.py`` in is enough, and
a test can ``register`` a section of its own.

Pure: no SimPy here; build steps are named as "module:function" and imported by the World only.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

Tables = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class Metric:
    """A numeric summary metric: its dotted path and how people read it.

    ``unit`` is the display unit ("$", "ms", "%", "h" or ""), ``scale`` turns the stored base
    value into it (1e3 for seconds shown in ms, 100 for fractions in %).  ``key`` metrics are
    shown in sweep reports by default; ``headline`` ones in the run report's first table.
    """

    name: str
    title: str
    unit: str = ""
    scale: float = 1.0
    key: bool = False
    headline: bool = False


@dataclass(frozen=True)
class Context:
    """What a section's derive and summarize steps may read besides the tables."""

    scenario: Any  # simulator.scenario.schema.Scenario
    book: Any = None  # simulator.billing.pricebook.PriceBook (derive only)


@dataclass(frozen=True)
class Section:
    """One summary section and everything that produces and shows it."""

    name: str
    """The summary key, e.g. "latency"."""
    order: int
    """Place in summaries, reports and the build sequence (lower first)."""
    summarize: Callable[[Tables, Context], dict]
    """The section's summary part from the run's tables (JSON-ready values)."""
    metrics: Callable[[Any], list[Metric]] = lambda scenario: []
    """Its numeric metrics for a scenario (or None: the scenario-independent ones)."""
    records: tuple[type, ...] = ()
    """Record types of the tables it writes (declared even when empty)."""
    build: str | Callable[[Any], None] | None = None
    """The World's build step for its components, taking the World: "module:function" (so
    that the section module stays free of engine imports) or a function."""
    derive: Callable[[Tables, Context], dict[str, pd.DataFrame]] | None = None
    """Pure post-run step returning derived tables (e.g. billing line items)."""
    report: Callable[[Any], list] | None = None
    """Report blocks from a ``simulator.report.build.ReportInput``; None = a key/value table."""


_REGISTERED: dict[str, Section] = {}
_DISCOVERED = False


def register(section: Section) -> Section:
    """Add (or replace) a section; returns it so a module can keep a handle."""
    _REGISTERED[section.name] = section
    return section


def unregister(name: str) -> None:
    """Remove a section (tests)."""
    _REGISTERED.pop(name, None)


@contextmanager
def registered(section: Section) -> Iterator[Section]:
    """Register a section for the duration of a with-block (tests)."""
    register(section)
    try:
        yield section
    finally:
        unregister(section.name)


def _discover() -> None:
    """Import simulator/<package>/section.py of every package once (they register themselves)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import simulator

    for info in sorted(pkgutil.iter_modules(simulator.__path__), key=lambda m: m.name):
        if info.ispkg and importlib.util.find_spec(f"simulator.{info.name}.section") is not None:
            importlib.import_module(f"simulator.{info.name}.section")
    _DISCOVERED = True


def sections() -> list[Section]:
    """Every registered section, in order."""
    _discover()
    return sorted(_REGISTERED.values(), key=lambda s: (s.order, s.name))


def record_types() -> list[type]:
    """The record types of every section."""
    return [r for s in sections() for r in s.records]


def empty_tables() -> dict[str, pd.DataFrame]:
    """Every section's tables with no rows (what a run that failed before recording has)."""
    return {r.TABLE: pd.DataFrame({f: [] for f in r._fields}) for r in record_types()}


def metrics(scenario: Any = None) -> list[Metric]:
    """Every section's metrics for a scenario (None: those that do not depend on one)."""
    return [m for s in sections() for m in s.metrics(scenario)]


def metric_names(scenario: Any = None) -> list[str]:
    """Every numeric metric's dotted name (sweep goals refer to them), sorted."""
    return sorted({m.name for m in metrics(scenario)} | set(RUN_METRICS))


def metric_info(name: str) -> Metric | None:
    """The registered description of a metric, if any section names it."""
    for m in metrics(None):
        if m.name == name:
            return m
    return None


RUN_METRICS = ("simulated_s", "runtime_s", "events")
"""Numeric figures every run reports outside any section."""
