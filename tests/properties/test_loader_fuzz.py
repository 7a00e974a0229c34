"""Fuzzing the scenario loader (issue 7): any mapping, scalar or YAML text either loads or raises
InputError with a bounded message; never another exception (no traceback reaches a user).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import InputError
from simulator.inputs import parse_yaml
from simulator.scenario.loader import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
BASE = yaml.safe_load(QUICKSTART.read_text())

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

# words the loader gives meaning to, so random mappings reach deep into the schema
FIELD_NAMES = ["name", "description", "horizon", "seed", "pricebook", "catalog", "start", "region",
               "azs", "fleets", "web", "services", "api", "fleet", "instance_type", "count",
               "min_size", "max_size", "boot_time", "volume", "size", "type", "schedule",
               "scheduled_actions", "at", "recurrence", "desired", "arrivals", "process", "rate",
               "steps", "period", "service_time", "response_size", "dist", "mean", "cv", "value",
               "load_balancer", "policy", "health_check", "interval", "deregistration_delay", "slo",
               "output", "observe_interval", "latency", "requests", "test", "<<"]
UNIT_WORDS = ["1 h", "6 min", "0 s", "-1 s", "inf s", "1e400 s", "1 ns", "100 y", ".inf", "-.inf",
              "nan", "1e400", "20 GiB", "1e400 GiB", "-1 GiB", "400/s", "1e400/s", ".inf/s", "0/s",
              "$0.096/h", "2%", "m5.xlarge", "m5.lage", "gp3", "lognormal", "exponential", "fixed",
              "poisson", "piecewise", "constant", "least_outstanding", "random", "0 8 * * *",
              "99 99 * * *", "every day", "us-east-1", "us-east-1a", "web", "api", "2026-01-05",
              "2026-13-45T25:00:00Z", "aws-us-east-1", "nowhere.yaml", "book.csv", "", " ", "\t",
              "é", "\x00", "x" * 300]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.inf, -math.inf, math.nan, 0.0, -0.0, 1e-300, 1e308, 10**9, -1]),
    st.text(max_size=20),
    st.sampled_from(UNIT_WORDS),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12), st.integers(-3, 3),
                 st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)
mappings = st.dictionaries(keys, values, max_size=8)


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        out = [path] if path else []
        for k, v in node.items():
            out += _leaves(v, (*path, k))
        return out
    if isinstance(node, list):
        out = [path]
        for i, v in enumerate(node):
            out += _leaves(v, (*path, i))
        return out
    return [path]


PATHS = _leaves(BASE)


def _replace(data: Any, path: tuple, value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def _outcome(fn) -> None:
    """Run fn: success, or an InputError that renders to a bounded message; nothing else."""
    try:
        fn()
    except InputError as exc:
        text = exc.render()
        assert isinstance(text, str) and text
        for line in text.splitlines():
            assert len(line) < 1000, f"an error line of {len(line)} characters: {line[:200]}..."


@FUZZ
@given(mappings)
def test_random_mappings_validate_or_raise_input_error(data):
    _outcome(lambda: validate_scenario(data, "fuzz.yaml", QUICKSTART.parent))


@FUZZ
@given(st.sampled_from(PATHS), values)
def test_quickstart_with_one_leaf_replaced(path, value):
    data = _replace(BASE, path, value)
    _outcome(lambda: validate_scenario(data, "fuzz.yaml", QUICKSTART.parent))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=4))
def test_quickstart_with_several_leaves_replaced(changes):
    data = BASE
    for path, value in changes:
        try:
            data = _replace(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the place of a later one
    _outcome(lambda: validate_scenario(data, "fuzz.yaml", QUICKSTART.parent))


YAML_TOKENS = ["&a ", "*a", "<<: ", "<<: *a", "[", "]", "{", "}", ": ", ", ", "- ", "\t", "\n", "  ",
               "lol", "!!python/object:os.system ", "!!str ", "!!binary ", "%YAML 1.1\n", "---\n",
               "...\n", "? ", "|\n  ", ">-\n  ", "'", '"', "#", "horizon", "fleets", "web", "count",
               "1 h", ".inf", "1e400", "\ufeff", "\x85", "\u2028", "é", "\\", "%", "@", "`", "~",
               "null", "yes", "0x1F", "0o17", "1_000", "2026-01-05"]


def _parse_text(text: str) -> None:
    def parse():
        data = parse_yaml(text, "fuzz.yaml")
        assert isinstance(data, dict)
    _outcome(parse)


@FUZZ
@given(st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join))
def test_yaml_token_soup_parses_or_raises_input_error(text):
    _parse_text(text)


@FUZZ
@given(st.text(max_size=200))
def test_random_text_parses_or_raises_input_error(text):
    _parse_text(text)


@FUZZ
@given(mappings)
def test_dumped_random_mappings_parse_and_validate(data):
    try:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return
    def load():
        parsed = parse_yaml(text, "fuzz.yaml")
        validate_scenario(parsed, "fuzz.yaml", QUICKSTART.parent)
    _outcome(load)


@pytest.fixture(scope="module")
def quickstart_copy(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "quickstart.yaml"
    path.write_text(QUICKSTART.read_text())
    return path


@FUZZ
@given(st.lists(st.tuples(st.one_of(st.sampled_from([".".join(map(str, p)) for p in PATHS]),
                                    st.text(max_size=20)),
                          st.one_of(st.sampled_from(UNIT_WORDS), st.text(max_size=20))),
                min_size=1, max_size=3),
       st.booleans())
def test_overrides_load_or_raise_input_error(quickstart_copy, overrides, test):
    items = [f"{k}={v}" for k, v in overrides]
    _outcome(lambda: load_scenario(quickstart_copy, items, test=test))


@FUZZ
@given(st.sampled_from(PATHS), values)
def test_quickstart_file_with_one_leaf_replaced_loads_or_raises(quickstart_copy, path, value):
    data = _replace(BASE, path, value)
    try:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return
    target = quickstart_copy.parent / "mutated.yaml"
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    _outcome(lambda: load_scenario(target, test=True))
