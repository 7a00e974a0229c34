"""Bad input gets one clear message naming the field, the value and the fix; exit 2; no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from tests.conftest import tiny_scenario

runner = CliRunner()


def _web(**kw):
    base = {"instance_type": "m5.large", "count": 2}
    base.update(kw)
    return {"web": base}


def _api(**kw):
    svc = tiny_scenario()["services"]["api"] | kw
    return {"api": svc}


CASES = {
    "unknown key": (tiny_scenario(horizn="1 h"), ["horizn", "unknown key", "horizon"]),
    "unknown nested key": (tiny_scenario(fleets=_web(cout=3)), ["fleets.web.cout", "count"]),
    "wrong type": (tiny_scenario(fleets=_web(count="many")), ["fleets.web.count", "many"]),
    "negative count": (tiny_scenario(fleets=_web(count=-3)), ["fleets.web.count", "-3"]),
    "unknown instance type": (tiny_scenario(fleets=_web(instance_type="m5.lage")), ["fleets.web.instance_type", "m5.large"]),
    "bad unit": (tiny_scenario(horizon="1 parsec"), ["horizon", "parsec"]),
    "rate of zero": (tiny_scenario(services=_api(arrivals={"process": "poisson", "rate": "0/s"})), ["services.api.arrivals.rate", "greater than 0"]),
    "unknown distribution": (tiny_scenario(services=_api(service_time={"dist": "gaussian", "mean": "1 s"})), ["services.api.service_time", "gaussian"]),
    "dangling fleet": (tiny_scenario(services=_api(fleet="db")), ["services.api.fleet", "db"]),
    "steps out of order": (
        tiny_scenario(services=_api(arrivals={"process": "piecewise", "steps": [{"at": 0, "rate": 1}, {"at": "0 s", "rate": 2}]})),
        ["services.api.arrivals.steps", "increasing"],
    ),
    "az outside region": (tiny_scenario(fleets=_web(az="eu-west-1a")), ["fleets.web.az", "eu-west-1a"]),
    "missing field": ({"name": "x", "fleets": _web()}, ["horizon", "required"]),
    "bad name": (tiny_scenario(name="has space"), ["name", "has space"]),
    "negative horizon": (tiny_scenario(horizon="-5 min"), ["horizon", "-5 min", "greater than 0"]),
}


def _check(result, expected):
    assert result.exit_code == 2, result.output
    text = result.output
    assert "Traceback" not in text
    for word in expected:
        assert word in text, f"{word!r} missing from: {text}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenarios(case, write_scenario):
    data, expected = CASES[case]
    _check(runner.invoke(app, ["validate", str(write_scenario(data))]), expected)


def test_yaml_syntax_error_names_line_and_column(write_scenario):
    path = write_scenario("name: x\nhorizon: 1 h\nfleets:\n  web: {instance_type: m5.large, count: 2\n")
    _check(runner.invoke(app, ["validate", str(path)]), ["line", "column", "YAML syntax error"])


def test_empty_file(write_scenario):
    _check(runner.invoke(app, ["validate", str(write_scenario(""))]), ["empty"])


def test_not_a_mapping(write_scenario):
    _check(runner.invoke(app, ["validate", str(write_scenario("- a\n- b\n"))]), ["mapping"])


def test_missing_file(tmp_path):
    _check(runner.invoke(app, ["run", str(tmp_path / "nope.yaml")]), ["no such scenario file", "nope.yaml"])


def test_malformed_price_book(write_scenario, tmp_path):
    book = tmp_path / "book.yaml"
    book.write_text("name: mine\nec2: {on_demand: {linux: {m5.large: -1}}}\n")
    _check(runner.invoke(app, ["validate", str(write_scenario(tiny_scenario(pricebook="book.yaml")))]), ["book.yaml"])


def test_missing_price_book(write_scenario):
    _check(runner.invoke(app, ["validate", str(write_scenario(tiny_scenario(pricebook="nowhere.yaml")))]), ["nowhere.yaml"])


def test_bad_override_syntax(write_scenario):
    _check(runner.invoke(app, ["validate", str(write_scenario(tiny_scenario())), "--set", "fleets.web.count"]), ["--set", "path.to.field=value"])


def test_bad_override_value(write_scenario):
    _check(runner.invoke(app, ["run", str(write_scenario(tiny_scenario())), "--set", "fleets.web.count=-1"]), ["fleets.web.count", "-1"])


def test_override_of_unknown_path(write_scenario):
    _check(runner.invoke(app, ["validate", str(write_scenario(tiny_scenario())), "--set", "fleets.web.colour=red"]), ["fleets.web.colour", "unknown key"])


def test_negative_seed(write_scenario):
    _check(runner.invoke(app, ["run", str(write_scenario(tiny_scenario())), "--seed", "-1"]), ["--seed"])


def test_every_problem_reported_at_once(write_scenario):
    data = tiny_scenario(horizon="soon", fleets=_web(count=-1))
    result = runner.invoke(app, ["validate", str(write_scenario(data))])
    _check(result, ["horizon", "fleets.web.count", "2 problems"])


def test_bad_catalog_filter():
    _check(runner.invoke(app, ["catalog", "--family", "zz"]), ["--family"])


def test_real_console_script_gives_no_traceback(write_scenario):
    path = write_scenario(tiny_scenario(fleets=_web(count=-1)))
    proc = subprocess.run([sys.executable, "-m", "simulator", "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "fleets.web.count" in proc.stderr
