"""Report sections as blocks: headline, cost, latency, fleet, any other summary section, run.

Each function turns summary.json parts and loaded tables into ``document`` blocks with
formatted cells; units sit in the column headers.  Summary sections this module does not
know (spot, scaling, storage, durability, ...) and unknown keys inside known ones are shown
as key/value tables, so a new summary key never breaks a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from simulator.report import formatting as fmt
from simulator.report import tables
from simulator.report.document import Block, Heading, Note, Paragraph, Table

# Top-level summary keys rendered by a dedicated section (everything else is generic).
RUN_KEYS = ("scenario", "seed", "simulated_s", "runtime_s", "events", "dcsim_version",
            "versions", "error")
KNOWN_KEYS = frozenset((*RUN_KEYS, "cost", "latency", "fleet"))
COST_KEYS = ("total_usd", "by_service", "by_purchase_option")
LATENCY_KEYS = ("requests", "mean_s", "p50_s", "p95_s", "p99_s", "slo_s",
                "slo_violation_fraction", "method", "relative_error", "by_service")
LINE_ITEMS_SHOWN = 25

Loaded = Mapping[str, tuple[pd.DataFrame | None, str]]


def _section(summary: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = summary.get(key)
    return value if isinstance(value, Mapping) else {}


def _extra(section: Mapping[str, Any], known: tuple[str, ...], what: str) -> list[Block]:
    """Key/value table for keys of a known section that this module has no layout for."""
    rest = {k: v for k, v in section.items() if k not in known}
    return generic(f"More {what} figures", rest, level=3) if rest else []


def overall_latency(summary: Mapping[str, Any], loaded: Loaded) -> Mapping[str, Any]:
    """Overall latency figures: summary.latency, else the "all" row of the latency table."""
    latency = _section(summary, "latency")
    if latency:
        return latency
    frame, _ = loaded.get("latency", (None, ""))
    if frame is not None:
        rows = frame[frame["service"].astype(str) == "all"]
        if len(rows):
            return rows.iloc[0].to_dict()
    return {}


def total_cost(summary: Mapping[str, Any], loaded: Loaded) -> float | None:
    """Total dollars: summary.cost.total_usd, else the sum of the cost table."""
    cost = _section(summary, "cost")
    if "total_usd" in cost:
        return cost["total_usd"]
    frame, _ = loaded.get("cost", (None, ""))
    return float(pd.to_numeric(frame["usd"]).sum()) if frame is not None else None


def headline(summary: Mapping[str, Any], loaded: Loaded) -> list[Block]:
    """One row with the figures most readers want: cost, latency against the SLO, fleet size."""
    latency = overall_latency(summary, loaded)
    fleet = _section(summary, "fleet")
    columns = ["Total cost ($)", "Requests", "Mean latency (ms)", "p99 latency (ms)", "SLO (ms)",
               "SLO violations (%)", "Instances", "Instance-hours (h)"]
    row = [fmt.usd(total_cost(summary, loaded)), fmt.num(latency.get("requests")),
           fmt.ms(latency.get("mean_s")), fmt.ms(latency.get("p99_s")),
           fmt.ms(latency.get("slo_s")), fmt.pct(latency.get("slo_violation_fraction")),
           fmt.num(fleet.get("instances")), fmt.num(fleet.get("instance_hours"))]
    return [Heading("Headline"), Table(columns, [row])]


def _share_table(values: Mapping[str, Any], first: str) -> Table:
    total = sum(float(v) for v in values.values() if fmt.finite(v) is not None)
    rows = [[str(k), fmt.usd(v), fmt.pct(float(v) / total) if total and fmt.finite(v) is not None
             else fmt.MISSING] for k, v in sorted(values.items(), key=lambda kv: -_num(kv[1]))]
    return Table([first, "Cost ($)", "Share (%)"], rows)


def _num(value: Any) -> float:
    number = fmt.finite(value)
    return number if number is not None else 0.0


def cost(summary: Mapping[str, Any], loaded: Loaded, images: list[Block]) -> list[Block]:
    """Cost by service, by purchase option, the largest billing lines and the breakdown plot."""
    section = _section(summary, "cost")
    frame, note = loaded.get("cost", (None, "No cost table in this run."))
    by_service = section.get("by_service")
    if not isinstance(by_service, Mapping) and frame is not None:
        by_service = frame.groupby(frame["service"].astype(str))["usd"].sum().to_dict()
    blocks: list[Block] = [Heading("Cost")]
    total = total_cost(summary, loaded)
    blocks.append(Paragraph(f"Total: ${fmt.usd(total)}."))
    if isinstance(by_service, Mapping) and by_service:
        blocks += [Heading("By service", 3), _share_table(by_service, "Service")]
    by_option = section.get("by_purchase_option")
    if isinstance(by_option, Mapping) and by_option:
        blocks += [Heading("By purchase option", 3), _share_table(by_option, "Purchase option")]
    blocks += _extra(section, COST_KEYS, "cost")
    blocks.append(Heading("Billing lines", 3))
    if frame is None:
        blocks.append(Note(note))
    else:
        items = tables.cost_items(frame)
        lines_total = float(items["usd"].sum())
        if fmt.finite(total) is not None and abs(lines_total - total) > 1e-6 * max(1, abs(total)):
            blocks.append(Note(f"Billing lines sum to ${fmt.usd(lines_total)} but the summary "
                               f"total is ${fmt.usd(total)}.", warning=True))
        shown = items.head(LINE_ITEMS_SHOWN)
        rows = [[r.get("service", ""), r.get("purchase_option", ""), r.get("usage_type", ""),
                 fmt.num(r["quantity"]), r.get("unit", ""), fmt.usd(r["usd"])]
                for r in shown.to_dict("records")]
        blocks.append(Table(["Service", "Purchase option", "Usage type", "Quantity", "Unit",
                             "Cost ($)"], rows))
        if len(items) > LINE_ITEMS_SHOWN:
            blocks.append(Note(f"{len(items) - LINE_ITEMS_SHOWN} smaller lines not shown; "
                               "see tables/cost.parquet."))
    return blocks + images


def _latency_row(service: str, m: Mapping[str, Any]) -> list[str]:
    return [service, fmt.num(m.get("requests")), fmt.ms(m.get("mean_s")), fmt.ms(m.get("p50_s")),
            fmt.ms(m.get("p95_s")), fmt.ms(m.get("p99_s")), fmt.ms(m.get("slo_s")),
            fmt.pct(m.get("slo_violation_fraction")), str(m.get("method") or fmt.MISSING),
            fmt.pct(m.get("relative_error"))]


def latency(summary: Mapping[str, Any], loaded: Loaded, images: list[Block]) -> list[Block]:
    """Latency percentiles per service, traffic per service and the latency plots."""
    section = _section(summary, "latency")
    frame, note = loaded.get("latency", (None, ""))
    blocks: list[Block] = [Heading("Latency")]
    if frame is not None:
        records = frame.to_dict("records")
        records.sort(key=lambda r: (str(r["service"]) == "all", str(r["service"])))
        rows = [_latency_row(str(r["service"]), r) for r in records]
    else:
        by_service = section.get("by_service")
        by_service = by_service if isinstance(by_service, Mapping) else {}
        rows = [_latency_row(str(s), m) for s, m in sorted(by_service.items())
                if isinstance(m, Mapping)]
        if section:
            rows.append(_latency_row("all", section))
    if rows:
        blocks.append(Table(["Service", "Requests", "Mean (ms)", "p50 (ms)", "p95 (ms)",
                             "p99 (ms)", "SLO (ms)", "SLO violations (%)", "Method",
                             "Relative error (%)"], rows))
    else:
        blocks.append(Note(note or "No latency figures in this run."))
    blocks += _extra(section, LATENCY_KEYS, "latency")
    blocks += traffic(loaded)
    return blocks + images


def traffic(loaded: Loaded) -> list[Block]:
    """Arrivals, served and dropped requests per service from the service intervals."""
    frame, _ = loaded.get("service_intervals", (None, ""))
    if frame is None:
        return []
    metrics = tables.interval_metrics(frame)
    rows = []
    for service, part in metrics.groupby("service", sort=True):
        arrivals, dropped = part["arrivals"].sum(), part["dropped"].sum(min_count=1)
        span = float((part["end_s"] - part["start_s"]).sum())
        rows.append([service, fmt.num(arrivals), fmt.num(part["served"].sum()), fmt.num(dropped),
                     fmt.pct(dropped / arrivals) if arrivals else fmt.MISSING,
                     fmt.num(arrivals / span) if span > 0 else fmt.MISSING,
                     fmt.num(part["throughput_per_s"].max())])
    return [Heading("Traffic", 3),
            Table(["Service", "Arrivals", "Served", "Dropped", "Dropped (%)",
                   "Mean rate (requests/s)", "Peak interval rate (requests/s)"], rows)]


def fleet(summary: Mapping[str, Any], loaded: Loaded, images: list[Block],
          until_s: float | None) -> list[Block]:
    """Fleet figures from the summary, per-fleet instance counts, end causes and plots."""
    blocks: list[Block] = [Heading("Fleet")]
    section = _section(summary, "fleet")
    if section:
        rows, _ = fmt.key_value_rows(section)
        blocks.append(Table(["Figure", "Value"], rows))
    frame, note = loaded.get("instance_intervals", (None, "No instance_intervals table."))
    if frame is None:
        blocks.append(Note(note))
        return blocks + images
    per_fleet = tables.fleet_table(frame, until_s)
    blocks.append(Table(
        ["Fleet", "Instance types", "Purchase options", "Instances", "Running (instance-h)"],
        [[r["fleet"], r["instance_types"] or fmt.MISSING, r["purchase_options"] or fmt.MISSING,
          fmt.num(r["instances"]), fmt.hours(r["running_s"])]
         for r in per_fleet.to_dict("records")]))
    causes = tables.end_causes(frame)
    if len(causes):
        blocks.append(Table(["End cause", "State stays ended"],
                            [[r["end_cause"], fmt.num(r["count"])]
                             for r in causes.to_dict("records")]))
    return blocks + images


def generic(name: str, value: Any, level: int = 2) -> list[Block]:
    """Any summary section as a nested key/value table (dotted keys, units from key suffixes)."""
    section = value if isinstance(value, Mapping) else {name: value}
    rows, left_out = fmt.key_value_rows(section)
    blocks: list[Block] = [Heading(fmt.title(name), level), Table(["Key", "Value"], rows)]
    if left_out:
        blocks.append(Note(f"{left_out} more rows not shown; see summary.json."))
    return blocks


def others(summary: Mapping[str, Any]) -> list[Block]:
    """Generic sections for every summary key without a dedicated section, in summary order."""
    blocks: list[Block] = []
    scalars = {}
    for key, value in summary.items():
        if key in KNOWN_KEYS:
            continue
        if isinstance(value, Mapping):
            blocks += generic(str(key), value)
        else:
            scalars[key] = value
    if scalars:
        blocks += generic("Other results", scalars)
    return blocks


def run_info(summary: Mapping[str, Any], loaded: Loaded) -> list[Block]:
    """Provenance: scenario, seed, durations, versions, error, and which tables were usable."""
    info = {k: summary[k] for k in RUN_KEYS if k in summary}
    rows, _ = fmt.key_value_rows(info) if info else ([], 0)
    blocks: list[Block] = [Heading("Run")]
    if rows:
        blocks.append(Table(["Key", "Value"], rows))
    status = [[name, fmt.num(len(frame)) if frame is not None else fmt.MISSING,
               "ok" if frame is not None else note] for name, (frame, note) in loaded.items()]
    blocks.append(Table(["Table", "Rows", "Status"], status))
    return blocks
