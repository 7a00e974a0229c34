"""The World's build step for compute: fleets, their target groups and the services on them.

Called once by ``World.build`` (registered by ``compute.section``).  Every fleet gets its
controller; every fleet that services route to gets one target group shared by those
services (their requests queue for the same vCPUs).  The target groups close observation
intervals through the World's observers and settle at the horizon through its finishers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.compute.dataplane import ServiceStats, latency_table, sketch_table
from simulator.compute.fleet import Fleet
from simulator.compute.targets import TargetGroup
from simulator.compute.workload import RequestSource, expected_arrivals
from simulator.records import REQUEST_OUTCOMES, Request, ServiceInterval, Transfer


def build(world) -> None:
    """Build the compute components of world.scenario into world (a simulator.engine World)."""
    sc = world.scenario
    for name, spec in sc.fleets.items():
        world.fleets[name] = Fleet(
            world.env, world.recorder, world.streams, name, spec, world.catalog.get(spec.instance_type),
            sc.region.azs, world.registry.launch, sc.start, sc.horizon,
        )
    out = sc.output
    expected = sum(expected_arrivals(s.arrivals, sc.horizon) for s in sc.services.values())
    keep_exact = out.latency == "exact" or (out.latency == "auto" and expected <= out.exact_limit)
    by_fleet: dict[str, list] = {}
    stats: list[ServiceStats] = []
    for number, (name, spec) in enumerate(sc.services.items()):
        s = ServiceStats(name, spec.fleet, spec, number, keep_exact=keep_exact,
                         sketch_alpha=out.sketch_relative_error)
        stats.append(s)
        by_fleet.setdefault(spec.fleet, []).append((s, RequestSource(name, spec, world.streams,
                                                                  until_s=sc.horizon)))
    groups = []
    for fleet_name, members in by_fleet.items():
        lb = members[0][0].spec.load_balancer
        group = TargetGroup(world.env, world.recorder, fleet_name, lb, members,
                            keep_requests=out.requests)
        world.fleets[fleet_name].target_group = group
        groups.append(group)
        world.observers.append(group.observe)

    def finish(now: float) -> None:
        for group in groups:
            group.observe(now, final=True)
            group.close()
        for fleet in world.fleets.values():
            fleet.close()
        world.recorder.set_frame("latency", latency_table(stats))
        world.recorder.set_frame("latency_sketch", sketch_table(stats))

    world.finishers.append(finish)
    order = {s.name: i for i, s in enumerate(s for group in groups for s in group.stats)}
    world.table_hooks.append(lambda tables: _interval_order(tables, order))
    if out.requests:
        world.recorder.declare(Request)
        world.table_hooks.append(lambda tables: _name_requests(tables, list(sc.services),
                                                               world.registry.ids()))


def _interval_order(tables: dict[str, pd.DataFrame], order: dict[str, int]) -> None:
    """Rows of the interval tables by interval, then service (fleet by fleet, as the World's
    observers close them): target groups count their intervals when their requests reach
    the interval's end, so the rows of different fleets are recorded in no fixed order."""
    for name in (ServiceInterval.TABLE, Transfer.TABLE):
        frame = tables.get(name)
        if frame is None or len(frame) < 2:
            continue
        key = frame["service"].map(order).fillna(len(order))
        rows = np.lexsort((key.to_numpy(), frame["start_s"].to_numpy()))
        tables[name] = frame.iloc[rows].reset_index(drop=True)


def _name_requests(tables: dict[str, pd.DataFrame], services: list[str], ids: list[str]) -> None:
    """Sort the request table by arrival and name its service, instance and outcome codes.

    Requests are recorded when they settle (served, failed) or are rejected, so the order of
    the rows depends on when the data plane advanced; sorted by arrival it does not.
    """
    req = tables[Request.TABLE].sort_values(["arrival_s", "service"], kind="stable",
                                            ignore_index=True)
    tables[Request.TABLE] = req
    req["service"] = pd.Categorical.from_codes(req["service"].astype(int), categories=services)
    req["instance_id"] = pd.Categorical.from_codes(req["instance_id"].astype(int), categories=ids)
    req["outcome"] = pd.Categorical.from_codes(req["outcome"].astype(int),
                                               categories=list(REQUEST_OUTCOMES))
