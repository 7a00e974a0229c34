"""Cross-reference checks of a validated scenario against itself, the catalog and the price book.

The schema checks each field alone; these checks look across fields and into the data files:
a service names a fleet that exists, a pinned AZ belongs to the region, an instance type is in
the catalog and has a price for its OS.  Each problem names the dotted path and the fix.
"""

from __future__ import annotations

import difflib

from simulator.billing.pricebook import PriceBook, load_pricebook
from simulator.compute.catalog import Catalog, load_catalog
from simulator.errors import Problem
from simulator.scenario.schema import Scenario


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def reference_problems(
    scenario: Scenario, catalog: Catalog | None = None, book: PriceBook | None = None
) -> list[Problem]:
    """Every cross-reference problem of the scenario (empty when it is consistent)."""
    problems: list[Problem] = []
    catalog = catalog or load_catalog(scenario.catalog)
    book = book or load_pricebook(scenario.pricebook)
    fleets = sorted(scenario.fleets)
    for name, svc in scenario.services.items():
        if svc.fleet not in scenario.fleets:
            problems.append(
                Problem(f"services.{name}.fleet", f"no such fleet; fleets are {fleets}", svc.fleet)
            )
    for name, fleet in scenario.fleets.items():
        where = f"fleets.{name}"
        if fleet.az is not None and fleet.az not in scenario.region.azs:
            problems.append(
                Problem(f"{where}.az", f"not an AZ of the region; use one of {scenario.region.azs}", fleet.az)
            )
        if fleet.instance_type not in catalog:
            hint = _suggest(fleet.instance_type, catalog.names())
            problems.append(
                Problem(
                    f"{where}.instance_type",
                    f"unknown instance type{hint} (`dcsim catalog` lists them)",
                    fleet.instance_type,
                )
            )
        elif not book.has_on_demand(fleet.instance_type, fleet.os):
            problems.append(
                Problem(
                    f"{where}.instance_type",
                    f"price book {book.name!r} has no on-demand price for {fleet.os} on this type; "
                    "choose another type or OS, or point `pricebook:` at a book that prices it",
                    fleet.instance_type,
                )
            )
        for i, window in enumerate(fleet.schedule):
            if window.start >= scenario.horizon:
                problems.append(
                    Problem(f"{where}.schedule.{i}.start", "starts at or after the horizon", window.start)
                )
    return problems
