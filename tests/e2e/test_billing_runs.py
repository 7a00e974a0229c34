"""Billing of whole runs: the hand-computed cases of per-second billing, end to end."""

from __future__ import annotations

import pytest

from simulator import load_scenario, run

M5_LARGE = 0.096  # $/h, aws-us-east-1 price book


def _fleet_run(write_scenario, horizon, schedule=None, os="linux"):
    fleet = {"instance_type": "m5.large", "count": 1, "volume": None, "os": os}
    if schedule:
        fleet["schedule"] = schedule
    sc = load_scenario(write_scenario({"name": "bill", "horizon": horizon, "fleets": {"web": fleet}}))
    return run(sc, seed=1)


@pytest.mark.parametrize(
    "horizon, usd", [(45, 0.0016), (60, 0.0016), (61, 0.00162667), (3599, 0.09597333), (3601, 0.09602667)]
)
def test_per_second_with_60_s_minimum(write_scenario, horizon, usd):
    s = _fleet_run(write_scenario, horizon).summary["cost"]
    assert s["total_usd"] == pytest.approx(usd, abs=5e-9)
    assert s["by_service"]["ec2"] == s["total_usd"] == s["by_purchase_option"]["on_demand"]


def test_two_short_runs_pay_two_minimums(write_scenario):
    schedule = [{"start": 0, "stop": 30}, {"start": 100, "stop": 130}]
    result = _fleet_run(write_scenario, 200, schedule)
    assert result.summary["cost"]["total_usd"] == pytest.approx(0.0032, rel=1e-9)
    iv = result.tables["instance_intervals"]
    assert list(iv["state"]) == ["pending", "running", "stopped", "pending", "running", "stopped"]


def test_boot_time_is_not_billed(write_scenario):
    sc = load_scenario(
        write_scenario({"name": "b", "horizon": 3660, "fleets": {"w": {"instance_type": "m5.large", "count": 2, "boot_time": 60, "volume": None}}})
    )
    assert run(sc).summary["cost"]["total_usd"] == pytest.approx(2 * M5_LARGE, rel=1e-9)


def test_ebs_volume_billed_for_the_whole_run(write_scenario):
    sc = load_scenario(
        write_scenario({"name": "v", "horizon": "730 h", "fleets": {"w": {"instance_type": "m5.large", "count": 1,
                        "volume": {"type": "gp3", "size": "100 GiB"}}}})
    )
    s = run(sc).summary["cost"]["by_service"]
    assert s["ebs"] == pytest.approx(8.0, rel=1e-9)
    assert s["ec2"] == pytest.approx(730 * M5_LARGE, rel=1e-9)


def test_a_scenario_can_use_its_own_price_book_and_catalog(write_scenario, tmp_path):
    from simulator.compute.catalog import load_catalog
    from tests.conftest import ec2_book

    builtin = load_catalog()
    csv = (tmp_path / "types.csv")
    header = "name,family,size,vcpus,memory_gib,arch,gpus,source,date\n"
    row = "x9.huge,x,huge,3,12,x86_64,0,my lab,2026-11-22\n"
    csv.write_text(header + row)
    assert "x9.huge" not in builtin
    (tmp_path / "book.yaml").write_text(ec2_book("lab", "{x9.huge: 3.6}", "{}"))
    sc = load_scenario(write_scenario({
        "name": "own", "horizon": 3600, "pricebook": "book.yaml", "catalog": "types.csv",
        "fleets": {"w": {"instance_type": "x9.huge", "count": 2, "volume": None}},
    }))
    assert run(sc).summary["cost"]["total_usd"] == pytest.approx(7.2, rel=1e-12)
