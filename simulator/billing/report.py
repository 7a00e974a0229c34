"""Billing's report section: the total, cost by service and purchase option, the billing lines."""

from __future__ import annotations

from simulator.report import formatting as fmt
from simulator.report import plots, tables
from simulator.report.document import Block, Heading, Note, Paragraph, Table
from simulator.report.sections import extra, share_table

COST_KEYS = ("total_usd", "by_service", "by_purchase_option")
LINE_ITEMS_SHOWN = 25


def cost_section(view) -> list[Block]:
    """Cost figures from summary.cost, the largest billing lines and the breakdown plot."""
    section = view.part("cost")
    frame, note = view.table("cost")
    blocks: list[Block] = [Heading("Cost"), Paragraph(f"Total: ${fmt.usd(section.get('total_usd'))}.")]
    for key, title, first in (("by_service", "By service", "Service"),
                              ("by_purchase_option", "By purchase option", "Purchase option")):
        values = section.get(key)
        if isinstance(values, dict) and values:
            blocks += [Heading(title, 3), share_table(values, first)]
    blocks += extra(section, COST_KEYS, "cost")
    blocks.append(Heading("Billing lines", 3))
    if frame is None:
        blocks.append(Note(note))
    else:
        items = tables.cost_items(frame)
        rows = [[r["service"], r["purchase_option"], r["usage_type"], fmt.num(r["quantity"]),
                 r["unit"], fmt.usd(r["usd"])] for r in items.head(LINE_ITEMS_SHOWN).to_dict("records")]
        blocks.append(Table(["Service", "Purchase option", "Usage type", "Quantity", "Unit",
                             "Cost ($)"], rows))
        if len(items) > LINE_ITEMS_SHOWN:
            blocks.append(Note(f"{len(items) - LINE_ITEMS_SHOWN} smaller lines not shown; "
                               "see tables/cost.parquet."))
    blocks.append(view.draw("cost_breakdown.png", "Cost by service and usage type",
                            frame if frame is not None and len(frame) else None,
                            note or "No billing lines in this run.", plots.plot_cost_breakdown))
    return blocks
