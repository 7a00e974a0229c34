"""Report building blocks every section uses: the headline, key/value parts, run details.

The sections' own content lives with their capabilities (``compute.report``,
``billing.report``); this module holds what is common: the headline table of the metrics the
sections mark, a generic key/value rendering of any summary part (also for summary keys no
section claims), share tables and the run's provenance.  Units sit in the column headers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from simulator.report import formatting as fmt
from simulator.report.document import Block, Heading, Note, Table
from simulator.sections import Metric

RUN_KEYS = ("scenario", "seed", "start", "simulated_s", "runtime_s", "events", "versions",
            "error")


def headline(summary: Mapping[str, Any], metrics: list[Metric]) -> list[Block]:
    """One row with the figures the sections mark as headline, read from the summary."""
    if not metrics:
        return []
    columns = [fmt.header(m.title, m.unit) for m in metrics]
    row = [fmt.by_unit(m.unit)(fmt.lookup(summary, m.name)) for m in metrics]
    return [Heading("Headline"), Table(columns, [row])]


def share_table(values: Mapping[str, Any], first: str) -> Table:
    """Dollars per key with each key's share of the total, largest first."""
    total = sum(float(v) for v in values.values() if fmt.finite(v) is not None)
    rows = [[str(k), fmt.usd(v), fmt.pct(float(v) / total) if total and fmt.finite(v) is not None
             else fmt.MISSING] for k, v in sorted(values.items(), key=lambda kv: -_num(kv[1]))]
    return Table([first, "Cost ($)", "Share (%)"], rows)


def _num(value: Any) -> float:
    number = fmt.finite(value)
    return number if number is not None else 0.0


def extra(section: Mapping[str, Any], known: Collection[str], what: str) -> list[Block]:
    """Key/value table for keys of a section that its layout does not show."""
    rest = {k: v for k, v in section.items() if k not in known}
    return generic(f"More {what} figures", rest, level=3) if rest else []


def generic(name: str, value: Any, level: int = 2) -> list[Block]:
    """Any summary section as a nested key/value table (dotted keys, units from key suffixes)."""
    section = value if isinstance(value, Mapping) else {name: value}
    rows, left_out = fmt.key_value_rows(section)
    blocks: list[Block] = [Heading(fmt.title(name), level), Table(["Key", "Value"], rows)]
    if left_out:
        blocks.append(Note(f"{left_out} more rows not shown; see summary.json."))
    return blocks


def others(summary: Mapping[str, Any], registered: Collection[str]) -> list[Block]:
    """Generic sections for summary keys that neither the run nor a registered section owns."""
    blocks: list[Block] = []
    scalars = {}
    for key, value in summary.items():
        if key in registered or key in RUN_KEYS:
            continue
        if isinstance(value, Mapping):
            blocks += generic(str(key), value)
        else:
            scalars[key] = value
    if scalars:
        blocks += generic("Other results", scalars)
    return blocks


def run_info(summary: Mapping[str, Any],
             loaded: Mapping[str, tuple[pd.DataFrame | None, str]]) -> list[Block]:
    """Provenance: scenario, seed, durations, versions, error, and which tables were read."""
    info = {k: summary[k] for k in RUN_KEYS if k in summary}
    rows, _ = fmt.key_value_rows(info) if info else ([], 0)
    blocks: list[Block] = [Heading("Run")]
    if rows:
        blocks.append(Table(["Key", "Value"], rows))
    status = [[name, fmt.num(len(frame)) if frame is not None else fmt.MISSING,
               "ok" if frame is not None else note] for name, (frame, note) in sorted(loaded.items())]
    if status:
        blocks.append(Table(["Table", "Rows", "Status"], status))
    return blocks
