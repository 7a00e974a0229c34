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
    first_on_fleet: dict[str, str] = {}
    for name, svc in scenario.services.items():
        if svc.fleet not in scenario.fleets:
            problems.append(
                Problem(f"services.{name}.fleet", f"no such fleet; fleets are {fleets}", svc.fleet)
            )
            continue
        other = first_on_fleet.setdefault(svc.fleet, name)
        if other != name and svc.load_balancer != scenario.services[other].load_balancer:
            problems.append(Problem(
                f"services.{name}.load_balancer",
                f"services on fleet {svc.fleet!r} share its targets, so they need the same "
                f"load_balancer; service {other!r} has {_compact(scenario.services[other].load_balancer)}",
                _compact(svc.load_balancer)))
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
        if book.ec2.billing and fleet.os not in book.ec2.billing:
            problems.append(Problem(
                f"{where}.os", f"price book {book.name!r} has no EC2 billing rule for this OS "
                f"(ec2.billing has {sorted(book.ec2.billing)}); add one or change the OS",
                fleet.os))
        if fleet.volume is not None:
            volumes = book.ebs.volumes if book.ebs is not None else {}
            if fleet.volume.type not in volumes:
                section = "an `ebs:` section" if book.ebs is None else \
                    f"EBS prices for this volume type (it prices {sorted(volumes)})"
                problems.append(Problem(
                    f"{where}.volume.type", f"price book {book.name!r} ({book.source_path or 'built in'}) "
                    f"lacks {section}, and every instance of this fleet has a root volume; "
                    "add the prices, or set `volume: null`", fleet.volume.type))
        for i, window in enumerate(fleet.windows):
            if window.start >= scenario.horizon:
                problems.append(
                    Problem(f"{where}.schedule.{i}.start", "starts at or after the horizon", window.start)
                )
        problems += action_problems(scenario, name)
    if book.data_transfer is None:
        for name, svc in scenario.services.items():
            if not (svc.response_size.dist == "fixed" and svc.response_size.value == 0):
                problems.append(Problem(
                    f"services.{name}.response_size", f"price book {book.name!r} "
                    f"({book.source_path or 'built in'}) has no `data_transfer:` section, and "
                    "this service sends responses to the internet; add the section, or set "
                    "the response size to 0", _compact(svc.response_size)))
    return problems


def _compact(spec) -> str:
    return str(spec.model_dump(mode="json"))


def action_problems(scenario: Scenario, fleet_name: str) -> list[Problem]:
    """Problems of a fleet's scheduled actions, found by replaying them over the horizon.

    Two actions firing at the same time are refused (as AWS refuses them), and every action's
    desired capacity must lie within the minimum and maximum in force when it fires.
    """
    from simulator.compute.scaling import Capacity, apply_action, schedule

    fleet = scenario.fleets[fleet_name]
    where = f"fleets.{fleet_name}.scheduled_actions"
    problems = []
    actions = fleet.scheduled_actions
    try:
        firings = schedule(actions, scenario.start, scenario.horizon)
    except ValueError as exc:
        return problems + [Problem(where, str(exc))]
    cap = Capacity(fleet.count, fleet.min_size, fleet.max_size)
    for t, i in firings:
        try:
            cap = apply_action(cap, actions[i])
        except ValueError as exc:
            problems.append(Problem(f"{where}.{i}", f"at {t:g} s: {exc}; change desired, "
                                    "min_size or max_size of this or an earlier action"))
            break
    return problems
