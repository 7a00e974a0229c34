"""Billing's result section: the line items of a run (derived post hoc) and the cost summary.

Registered with ``simulator.sections`` on import.  ``derive`` prices the run's usage tables
with the price book (pure, after the run); the summary totals the line items; the report
(``billing.report``) shows them.
"""

from __future__ import annotations

from simulator.billing.cost import PURCHASE_OPTIONS, SERVICES, LineItem, cost, cost_summary
from simulator.sections import Context, Metric, Section, Tables, register


def _derive(tables: Tables, context: Context) -> dict:
    return {"cost": cost(tables, context.book)}


def _summary(tables: Tables, context: Context) -> dict:
    return cost_summary(tables["cost"])


def _metrics(scenario) -> list[Metric]:
    return ([Metric("cost.total_usd", "Cost", "$", key=True, headline=True)]
            + [Metric(f"cost.by_service.{s}", f"Cost of {s}", "$") for s in SERVICES]
            + [Metric(f"cost.by_purchase_option.{p}", f"Cost {p}", "$") for p in PURCHASE_OPTIONS])


def _report(view):
    from simulator.billing.report import cost_section

    return cost_section(view)


register(Section("cost", 10, _summary, _metrics, records=(LineItem,), derive=_derive,
                 report=_report))
