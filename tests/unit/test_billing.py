"""Billing mechanics: which rows are billed, how stays merge, line-item shape, summary, errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

import simulator.billing as billing_pkg
from simulator.billing.cost import COLUMNS, cost, cost_summary
from simulator.billing.pricebook import load_pricebook
from simulator.units import GIB, HOUR, MONTH

RATE = 0.096 / HOUR  # m5.large, $/s


@pytest.fixture(scope="module")
def book():
    return load_pricebook()


def intervals(*rows, os="linux", itype="m5.large", option="on_demand") -> pd.DataFrame:
    """Rows of (instance_id, state, start_s, end_s)."""
    return pd.DataFrame([
        {"instance_id": i, "fleet": "web", "instance_type": itype, "az": "us-east-1a",
         "purchase_option": option, "os": os, "state": state, "start_s": float(a),
         "end_s": float(b), "end_cause": "x"}
        for i, state, a, b in rows
    ])


def volume(vid="vol-1", vtype="gp3", size=100 * GIB, iops=3000.0, mibps=125.0, start=0.0, end=MONTH):
    return {"volume_id": vid, "instance_id": "i-1", "volume_type": vtype, "size_bytes": size,
            "iops": iops, "throughput_bytes_per_s": mibps * 2**20, "az": "us-east-1a",
            "start_s": start, "end_s": end}


def transfer(direction, nbytes, start=0.0, service="web"):
    return {"service": service, "direction": direction, "bytes": float(nbytes), "start_s": start,
            "end_s": start + 60.0}


def test_no_tables_no_cost(book):
    items = cost({}, book)
    assert list(items.columns) == COLUMNS and len(items) == 0
    assert cost_summary(items) == {"total_usd": 0.0,
                                   "by_service": {"ec2": 0.0, "ebs": 0.0, "data_transfer": 0.0},
                                   "by_purchase_option": {"on_demand": 0.0}}
    empty = {"instance_intervals": intervals().reindex(columns=list(intervals(("i", "running", 0, 1))))}
    assert len(cost(empty, book)) == 0


def test_only_running_is_billed(book):
    rows = [("i-1", "pending", 0, 30), ("i-1", "running", 30, 3630), ("i-1", "stopping", 3630, 3640),
            ("i-1", "stopped", 3640, 9000), ("i-1", "terminated", 9000, 9000)]
    items = cost({"instance_intervals": intervals(*rows)}, book)
    assert len(items) == 1
    line = items.iloc[0]
    assert (line.service, line.purchase_option, line.resource_id, line.usage_type, line.unit) == (
        "ec2", "on_demand", "i-1", "BoxUsage:m5.large", "s")
    assert line.quantity == 3600
    assert line.usd == pytest.approx(0.096, rel=1e-9)


def test_touching_running_rows_are_one_entry(book):
    split = intervals(("i-1", "running", 0, 20), ("i-1", "running", 20, 50), ("i-1", "running", 50, 61))
    whole = intervals(("i-1", "running", 0, 61))
    assert cost({"instance_intervals": split}, book).equals(cost({"instance_intervals": whole}, book))
    assert cost({"instance_intervals": split}, book).quantity.iloc[0] == 61


def test_a_gap_starts_a_new_entry_and_a_new_minimum(book):
    items = cost({"instance_intervals": intervals(("i-1", "running", 0, 61),
                                                  ("i-1", "stopped", 61, 100),
                                                  ("i-1", "running", 100, 110))}, book)
    assert items.quantity.iloc[0] == 61 + 60


def test_row_order_does_not_matter(book):
    rows = [("i-2", "running", 50, 70), ("i-1", "running", 30, 100), ("i-1", "running", 0, 30),
            ("i-2", "running", 0, 10)]
    a = cost({"instance_intervals": intervals(*rows)}, book)
    b = cost({"instance_intervals": intervals(*reversed(rows))}, book)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.resource_id) == ["i-1", "i-2"]
    assert list(a.quantity) == [100, 120]


def test_unknown_type_os_and_purchase_option(book):
    with pytest.raises(KeyError, match="m5.huge"):
        cost({"instance_intervals": intervals(("i-1", "running", 0, 10), itype="m5.huge")}, book)
    with pytest.raises(KeyError, match="windows"):
        cost({"instance_intervals": intervals(("i-1", "running", 0, 10), os="windows")}, book)
    with pytest.raises(ValueError, match="purchase option"):
        cost({"instance_intervals": intervals(("i-1", "running", 0, 10), option="spot")}, book)


def test_malformed_tables(book):
    bad = intervals(("i-1", "running", 0, 10)).drop(columns=["os"])
    with pytest.raises(ValueError, match=r"instance_intervals.*\['os'\]"):
        cost({"instance_intervals": bad}, book)
    backwards = intervals(("i-1", "running", 10, 0))
    with pytest.raises(ValueError, match="end before they start"):
        cost({"instance_intervals": backwards}, book)
    with pytest.raises(ValueError, match="direction"):
        cost({"transfer": pd.DataFrame([transfer("sideways", 1)])}, book)


def test_ebs_line_items(book):
    rows = [volume("vol-1", iops=4000, mibps=250), volume("vol-2", vtype="gp2", size=10 * GIB)]
    items = cost({"volume_intervals": pd.DataFrame(rows)}, book).set_index("usage_type")
    assert set(items.index) == {"EBS:VolumeUsage.gp3", "EBS:VolumeP-IOPS.gp3",
                                "EBS:VolumeP-Throughput.gp3", "EBS:VolumeUsage.gp2"}
    assert (items.service == "ebs").all() and (items.purchase_option == "").all()
    assert items.loc["EBS:VolumeUsage.gp3", "unit"] == "GB-month"
    assert items.loc["EBS:VolumeUsage.gp3", "quantity"] == pytest.approx(100)
    assert items.loc["EBS:VolumeP-IOPS.gp3", "quantity"] == pytest.approx(1000)
    assert items.loc["EBS:VolumeP-IOPS.gp3", "usd"] == pytest.approx(1000 * 0.005)
    assert items.loc["EBS:VolumeP-Throughput.gp3", "quantity"] == pytest.approx(125)
    assert items.loc["EBS:VolumeP-Throughput.gp3", "usd"] == pytest.approx(125 * 0.04)
    assert items.loc["EBS:VolumeUsage.gp2", "usd"] == pytest.approx(10 * 0.10)


def test_ebs_baseline_is_not_billed_and_short_volumes_pay_a_minute(book):
    items = cost({"volume_intervals": pd.DataFrame([volume(end=10.0)])}, book)
    assert list(items.usage_type) == ["EBS:VolumeUsage.gp3"]
    assert items.usd.iloc[0] == pytest.approx(100 * 0.08 * 60 / MONTH, rel=1e-9)


def test_ebs_touching_intervals_of_one_volume_merge(book):
    split = pd.DataFrame([volume(end=30.0), volume(start=30.0, end=50.0)])
    items = cost({"volume_intervals": split}, book)
    assert items.usd.iloc[0] == pytest.approx(100 * 0.08 * 60 / MONTH, rel=1e-9)


def test_transfer_directions(book):
    rows = [transfer("internet_in", 5 * GIB), transfer("inter_az", 10 * GIB),
            transfer("inter_region", 10 * GIB)]
    items = cost({"transfer": pd.DataFrame(rows)}, book).set_index("usage_type")
    assert items.loc["DataTransfer-In-Bytes", "usd"] == 0
    assert items.loc["DataTransfer-Regional-Bytes", "quantity"] == pytest.approx(20)  # both sides
    assert items.loc["DataTransfer-Regional-Bytes", "usd"] == pytest.approx(0.20)
    assert items.loc["AWS-Out-Bytes", "usd"] == pytest.approx(0.20)
    assert (items.unit == "GB").all() and (items.resource_id == "web/month-0").all()


def test_internet_out_tiers_are_shared_by_services_in_time_order(book):
    rows = [transfer("internet_out", 100 * GIB, start=0.0, service="api"),
            transfer("internet_out", 100 * GIB, start=10.0, service="cdn")]
    items = cost({"transfer": pd.DataFrame(rows)}, book).set_index("resource_id")
    assert items.loc["api/month-0", "usd"] == 0
    assert items.loc["cdn/month-0", "usd"] == pytest.approx(100 * 0.09)


def test_summary_adds_up(book):
    tables = {
        "instance_intervals": intervals(("i-1", "running", 0, 45), ("i-2", "running", 0, 7200)),
        "volume_intervals": pd.DataFrame([volume()]),
        "transfer": pd.DataFrame([transfer("internet_out", 150 * GIB)]),
    }
    items = cost(tables, book)
    summary = cost_summary(items)
    assert summary["total_usd"] == items.usd.sum()
    assert summary["by_service"] == pytest.approx({"ec2": 0.0016 + 0.192, "ebs": 8.0,
                                                   "data_transfer": 4.5}, rel=1e-9)
    assert summary["by_purchase_option"] == pytest.approx({"on_demand": 0.0016 + 0.192}, rel=1e-9)
    assert all(type(v) is float for v in summary["by_service"].values())
    assert type(summary["total_usd"]) is float


def test_billing_modules_do_not_import_the_simulator():
    for path in Path(billing_pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {n for n in names if n.split(".")[0] == "simpy"}, path
        assert not {n for n in names if n.startswith(("simulator.engine", "simulator.compute"))}, path
