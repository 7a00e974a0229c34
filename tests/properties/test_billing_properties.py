"""Billing invariants: cost never falls when usage grows, and never undercuts the minimum charge."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.billing.cost import cost, cost_summary
from simulator.billing.pricebook import parse_pricebook
from tests.conftest import ec2_book

BOOK = parse_pricebook(ec2_book("property-book", "{m5.large: 0.096, c5.large: 0.085}", "{m5.large: 0.096}"), "property-book")

duration = st.floats(min_value=0.0, max_value=3 * 86400.0, allow_nan=False)
stay = st.tuples(st.floats(min_value=0.0, max_value=1e6, allow_nan=False), duration)
os_type = st.sampled_from([("linux", "m5.large"), ("linux", "c5.large"), ("suse", "m5.large")])


def bill(stays, os: str, itype: str) -> float:
    rows = [{"instance_id": f"i-{k}", "fleet": "f", "instance_type": itype, "az": "a",
             "purchase_option": "on_demand", "os": os, "state": "running", "start_s": start,
             "end_s": start + length, "end_cause": "x"} for k, (start, length) in enumerate(stays)]
    return cost_summary(cost({"instance_intervals": pd.DataFrame(rows)}, BOOK))["total_usd"]


@settings(max_examples=100, deadline=None)
@given(stays=st.lists(stay, min_size=1, max_size=5), extra=duration, which=st.integers(0, 4),
       kind=os_type)
def test_cost_is_monotone_in_duration(stays, extra, which, kind):
    os, itype = kind
    longer = list(stays)
    i = which % len(stays)
    longer[i] = (stays[i][0], stays[i][1] + extra)
    assert bill(longer, os, itype) >= bill(stays, os, itype)


@settings(max_examples=100, deadline=None)
@given(stays=st.lists(stay, min_size=1, max_size=5), kind=os_type)
def test_cost_is_at_least_the_minimum_charge_per_entry(stays, kind):
    os, itype = kind
    rule, rate = BOOK.billing_rule(os), BOOK.on_demand_usd_per_s(itype, os)
    floor = sum(max(length, rule.minimum_s) for _, length in stays) * rate
    assert bill(stays, os, itype) >= floor * (1 - 1e-12)
    assert bill(stays, os, itype) >= len(stays) * rule.minimum_s * rate * (1 - 1e-12)
