"""Scenario loading: units become base units once, overrides compose, the test block applies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from simulator import load_scenario
from simulator.errors import InputError
from simulator.scenario.loader import apply_overrides, parse_overrides
from tests.conftest import tiny_scenario


def test_units_parsed_to_base_units(write_scenario):
    data = tiny_scenario(horizon="15 min")
    data["fleets"]["web"]["volume"] = {"size": "16 GiB"}
    sc = load_scenario(write_scenario(data))
    assert sc.horizon == 900.0
    assert sc.fleets["web"].volume.size == 16 * 2**30
    assert sc.services["api"].arrivals.rate == 50.0
    assert sc.services["api"].service_time.mean == 0.02


def test_overrides_are_yaml_scalars_at_dotted_paths(write_scenario):
    sc = load_scenario(write_scenario(tiny_scenario()), ["fleets.web.count=5", "horizon=10 min",
                                                        "services.api.load_balancer.policy=random"])
    assert sc.fleets["web"].count == 5
    assert sc.horizon == 600
    assert sc.services["api"].load_balancer.policy == "random"


def test_overrides_index_lists():
    data = {"a": {"steps": [{"rate": 1}, {"rate": 2}]}}
    assert apply_overrides(data, {"a.steps.1.rate": 5}, "x")["a"]["steps"][1]["rate"] == 5
    assert data["a"]["steps"][1]["rate"] == 2  # the caller's data is not mutated


def test_override_into_a_scalar_is_an_error():
    with pytest.raises(InputError, match="horizon"):
        apply_overrides({"horizon": 5}, {"horizon.x": 1}, "--set")


def test_parse_overrides_mapping_and_strings():
    assert parse_overrides(["a.b=1", "c=x=y"]) == {"a.b": 1, "c": "x=y"}
    assert parse_overrides({"a": 1}) == {"a": 1}


def test_test_block_applies_only_when_asked(write_scenario):
    path = write_scenario(tiny_scenario(test={"horizon": "5 s", "fleets.web.count": 1}))
    assert load_scenario(path).horizon == 60
    small = load_scenario(path, test=True)
    assert (small.horizon, small.fleets["web"].count) == (5, 1)
    assert load_scenario(path, ["horizon=7 s"], test=True).horizon == 7  # --set wins


def test_scenario_is_frozen(write_scenario):
    sc = load_scenario(write_scenario(tiny_scenario()))
    with pytest.raises(ValidationError):
        sc.horizon = 5  # type: ignore[misc]


def test_relative_price_book_path_resolved_from_scenario_folder(write_scenario, tmp_path):
    import shutil

    from simulator.billing.pricebook import load_pricebook

    builtin = load_pricebook()
    shutil.copy(builtin.source_path, tmp_path / "mine.yaml")
    sc = load_scenario(write_scenario(tiny_scenario(pricebook="mine.yaml")))
    assert sc.pricebook == str((tmp_path / "mine.yaml").resolve())
