"""Compute's report sections: the fleet over time, request outcomes, latency against the SLO.

Each function takes a ``report.build.ReportInput`` and returns document blocks.  Figures come
from summary.json; the tables only feed plots and per-fleet detail.  Pure: no SimPy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.report import formatting as fmt
from simulator.report import plots, tables
from simulator.report.document import Block, Heading, Note, Table
from simulator.report.sections import extra

LATENCY_SHOWN = ("requests", "mean_s", "p50_s", "p95_s", "p99_s", "slo_s",
                 "slo_violation_fraction", "method", "relative_error", "by_service", "arrivals",
                 "rejected", "failed")
FLEET_SHOWN = ("instances", "instance_hours", "peak_running", "mean_utilization",
               "scaling_activities", "by_fleet")


def fleet(view) -> list[Block]:
    """Fleet figures, per-fleet detail, end causes, instances over time and utilization."""
    section = view.part("fleet")
    blocks: list[Block] = [Heading("Fleet")]
    blocks.append(Table(
        ["Instances launched", "Instance-hours (h)", "Peak running", "Mean utilization (%)",
         "Scaling activities"],
        [[fmt.num(section.get("instances")), fmt.num(section.get("instance_hours")),
          fmt.num(section.get("peak_running")), fmt.pct(section.get("mean_utilization")),
          fmt.num(section.get("scaling_activities"))]]))
    by_fleet = section.get("by_fleet")
    if isinstance(by_fleet, Mapping) and by_fleet:
        blocks.append(Table(
            ["Fleet", "Instances", "Instance-hours (h)", "Peak running", "Utilization (%)"],
            [[name, fmt.num(f.get("instances")), fmt.num(f.get("instance_hours")),
              fmt.num(f.get("peak_running")), fmt.pct(f.get("mean_utilization"))]
             for name, f in sorted(by_fleet.items()) if isinstance(f, Mapping)]))
    blocks += extra(section, FLEET_SHOWN, "fleet")
    intervals, note = view.table("instance_intervals")
    activities, _ = view.table("scaling_activities")
    targets, _ = view.table("target_intervals")
    if intervals is not None:
        causes = tables.end_causes(intervals)
        if len(causes):
            blocks.append(Table(["End cause", "State stays ended"],
                                [[r["end_cause"], fmt.num(r["count"])]
                                 for r in causes.to_dict("records")]))
    blocks.append(view.draw(
        "running_instances.png", "Instances over time", intervals, note,
        lambda f, p: plots.plot_running_instances(f, p, until_s=view.until_s,
                                                  activities=activities, targets=targets)))
    service_intervals, si_note = view.table("service_intervals")
    blocks.append(view.draw("utilization.png", "vCPU utilization per interval", service_intervals,
                            si_note, plots.plot_utilization))
    return blocks


def requests(view) -> list[Block]:
    """Arrivals, served, rejected and failed requests per service, and outcomes over time."""
    section = view.part("requests")
    latency = view.part("latency")
    blocks: list[Block] = [Heading("Requests")]
    rows = []
    by_service = latency.get("by_service")
    for name, m in sorted(by_service.items()) if isinstance(by_service, Mapping) else ():
        if isinstance(m, Mapping):
            rows.append(_outcome_row(name, m.get("arrivals"), m.get("requests"), m.get("rejected"),
                                     m.get("failed")))
    if len(rows) != 1:
        rows.append(_outcome_row("all", section.get("arrivals"), section.get("served"),
                                 section.get("rejected"), section.get("failed")))
    blocks.append(Table(["Service", "Arrivals", "Served", "Rejected", "Rejected (%)", "Failed",
                         "Failed (%)"], rows))
    blocks.append(Note("Rejected: arrived while no target was in service (HTTP 503). Failed: "
                       "accepted, then cut when its instance ended (deregistration delay over, "
                       "or the instance stopped)."))
    frame, note = view.table("service_intervals")
    blocks.append(view.draw("rejections_over_time.png", "Rejected and failed requests per interval",
                            frame, note, plots.plot_rejections))
    return blocks


def _outcome_row(name: str, arrivals: Any, served: Any, rejected: Any, failed: Any) -> list[str]:
    total = fmt.finite(arrivals)

    def share(x: Any) -> str:
        return fmt.pct(x / total) if total and fmt.finite(x) is not None else fmt.MISSING

    return [name, fmt.num(arrivals), fmt.num(served), fmt.num(rejected), share(rejected),
            fmt.num(failed), share(failed)]


def _latency_row(service: str, m: Mapping[str, Any]) -> list[str]:
    return [service, fmt.num(m.get("requests")), fmt.ms(m.get("mean_s")), fmt.ms(m.get("p50_s")),
            fmt.ms(m.get("p95_s")), fmt.ms(m.get("p99_s")), fmt.ms(m.get("slo_s")),
            fmt.pct(m.get("slo_violation_fraction")), str(m.get("method") or fmt.MISSING),
            fmt.pct(m.get("relative_error"))]


def latency(view) -> list[Block]:
    """Latency percentiles per service from the summary, over time and as a CDF."""
    section = view.part("latency")
    blocks: list[Block] = [Heading("Latency")]
    by_service = section.get("by_service")
    rows = [_latency_row(str(s), m) for s, m in sorted(by_service.items())
            if isinstance(m, Mapping)] if isinstance(by_service, Mapping) else []
    if section and (len(rows) != 1):
        rows.append(_latency_row("all", section))
    if rows:
        blocks.append(Table(["Service", "Served", "Mean (ms)", "p50 (ms)", "p95 (ms)",
                             "p99 (ms)", "SLO (ms)", "SLO violations (%)", "Method",
                             "Relative error (%)"], rows))
        blocks.append(Note("Percentiles are over served requests; SLO violations count served "
                           "requests slower than the SLO plus rejected and failed ones, over "
                           "all arrivals."))
    else:
        blocks.append(Note("No latency figures in this run."))
    blocks += extra(section, LATENCY_SHOWN, "latency")
    slo = view.slo_by_service()
    intervals, note = view.table("service_intervals")
    blocks.append(view.draw("latency_over_time.png", "Mean latency and arrivals per interval",
                            intervals, note,
                            lambda f, p: plots.plot_latency_over_time(f, p, slo_s=slo)))
    sketch, sketch_note = view.table("latency_sketch")
    draw = plots.plot_latency_cdf
    if sketch is None:  # exact CDF from per-request rows instead, when the run kept them
        requests, _ = view.table("requests", columns=("service", "latency_s"))
        if requests is not None:
            sketch, draw = requests, plots.plot_request_latency_cdf
    blocks.append(view.draw("latency_cdf.png", "Latency CDF per service", sketch, sketch_note,
                            lambda f, p: draw(f, p, slo_s=slo)))
    return blocks
