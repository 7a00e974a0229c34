"""Hand-computed bills: the reference's per-second worked example (m5.large, $0.096/h), the
hourly-billed SUSE rule, a gp3 volume for a month and the internet-out tiers.

Source: reference pricing-and-scaling.md, "Worked example: per-second billing" and sections
1.1 and 1.5.
"""

from __future__ import annotations

import pandas as pd
import pytest

from simulator.billing.cost import cost, cost_summary
from simulator.billing.pricebook import load_pricebook
from simulator.units import GIB, HOUR, MONTH
from tests.conftest import ec2_book

SUSE_BOOK = ec2_book("suse-test", "{m5.large: 0.096}", "{m5.large: 0.096}")


@pytest.fixture(scope="module")
def book():
    return load_pricebook()


@pytest.fixture
def suse_book(tmp_path):
    path = tmp_path / "suse.yaml"
    path.write_text(SUSE_BOOK)
    return load_pricebook(path)


def ec2_usd(book, runs, os="linux") -> float:
    """Total bill of one m5.large running for each (start_s, end_s) in runs, stopped between."""
    rows = [{"instance_id": "i-1", "fleet": "f", "instance_type": "m5.large", "az": "us-east-1a",
             "purchase_option": "on_demand", "os": os, "state": "running", "start_s": float(a),
             "end_s": float(b), "end_cause": "stopped"} for a, b in runs]
    return cost_summary(cost({"instance_intervals": pd.DataFrame(rows)}, book))["total_usd"]


@pytest.mark.parametrize(
    ("seconds", "usd"),
    [(45, 0.0016), (60, 0.0016), (61, 0.00162667), (3599, 0.09597333), (3601, 0.09602667)],
)
def test_per_second_billing_worked_example(book, seconds, usd):
    exact = 0.096 * max(seconds, 60) / 3600
    assert ec2_usd(book, [(0, seconds)]) == pytest.approx(exact, rel=1e-9)
    assert round(exact, 8) == pytest.approx(usd, abs=1e-12)  # the reference rounds to 8 places


def test_two_separate_30_second_runs_pay_two_minimums(book):
    assert ec2_usd(book, [(0, 30), (1000, 1030)]) == pytest.approx(0.0032, rel=1e-9)


def test_suse_is_billed_by_the_started_hour(suse_book):
    assert ec2_usd(suse_book, [(0, 45)], os="suse") == pytest.approx(0.096, rel=1e-9)
    assert ec2_usd(suse_book, [(0, 3601)], os="suse") == pytest.approx(0.192, rel=1e-9)
    assert ec2_usd(suse_book, [(0, 3600)], os="suse") == pytest.approx(0.096, rel=1e-9)
    assert ec2_usd(suse_book, [(0, 45)], os="linux") == pytest.approx(0.0016, rel=1e-9)


def test_gp3_100_gib_for_a_month_costs_8_dollars(book):
    volume = {"volume_id": "vol-1", "instance_id": "i-1", "volume_type": "gp3",
              "size_bytes": 100 * GIB, "iops": 3000.0, "throughput_bytes_per_s": 125 * 2.0**20,
              "az": "us-east-1a", "start_s": 0.0, "end_s": 730 * HOUR}
    items = cost({"volume_intervals": pd.DataFrame([volume])}, book)
    assert list(items.usage_type) == ["EBS:VolumeUsage.gp3"]
    assert items.quantity.iloc[0] == pytest.approx(100.0, rel=1e-9)
    assert cost_summary(items)["by_service"]["ebs"] == pytest.approx(8.00, rel=1e-9)


def transfer_usd(book, *gib_at) -> float:
    rows = [{"service": "web", "direction": "internet_out", "bytes": gib * GIB, "start_s": t,
             "end_s": t + 60.0} for gib, t in gib_at]
    return cost_summary(cost({"transfer": pd.DataFrame(rows)}, book))["by_service"]["data_transfer"]


def test_internet_out_tiers(book):
    assert transfer_usd(book, (50, 0.0)) == 0.0
    assert transfer_usd(book, (150, 0.0)) == pytest.approx(50 * 0.09, rel=1e-9)
    assert transfer_usd(book, (150, 0.0), (150, MONTH + 1.0)) == pytest.approx(9.00, rel=1e-9)
    # the same 300 GiB within one month: 200 GiB past the free tier
    assert transfer_usd(book, (150, 0.0), (150, MONTH - 1.0)) == pytest.approx(18.00, rel=1e-9)


def test_internet_out_crosses_into_the_next_tier(book):
    tib = 1024
    usd = transfer_usd(book, (20 * tib, 0.0))
    expected = (10 * tib - 100) * 0.09 + 10 * tib * 0.085
    assert usd == pytest.approx(expected, rel=1e-9)
