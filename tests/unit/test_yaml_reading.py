"""Reading YAML: YAML 1.2 values, merge keys, one document, bounded nesting, exact messages.

dcsim reads YAML with yaml-rs (YAML 1.2 core schema).  The bundled files must read exactly as
PyYAML (YAML 1.1) reads them, so that the change of parser changed no shipped input; where
the two schemas differ, YAML 1.2's reading is the one a user expects (``no`` is text, ``1:30``
is not 90).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
import yaml

from simulator.errors import InputError
from simulator.inputs import MAX_COMPACT, MAX_INDENT, UnsafeYamlError, load_yaml

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted(p for pattern in ("scenarios/**/*.yaml", "simulator/**/*.yaml",
                                    "tests/**/*.yaml", "notebooks/**/*.yaml")
                 for p in ROOT.glob(pattern))


def read(text: str):
    return load_yaml(text, "f.yaml")


def message(text: str) -> str:
    with pytest.raises(InputError) as info:
        read(text)
    return str(info.value)


def same(pyyaml_value, ours) -> bool:
    """Equal, where a YAML 1.1 timestamp is the text YAML 1.2 keeps (fields parse it)."""
    if isinstance(pyyaml_value, dt.datetime):
        return isinstance(ours, str) and dt.datetime.fromisoformat(ours) == pyyaml_value
    if isinstance(pyyaml_value, dt.date):
        return isinstance(ours, str) and dt.date.fromisoformat(ours) == pyyaml_value
    if isinstance(pyyaml_value, dict):
        return (isinstance(ours, dict) and list(ours) == list(pyyaml_value)
                and all(same(pyyaml_value[k], ours[k]) for k in pyyaml_value))
    if isinstance(pyyaml_value, list):
        return (isinstance(ours, list) and len(ours) == len(pyyaml_value)
                and all(same(a, b) for a, b in zip(pyyaml_value, ours, strict=True)))
    return type(ours) is type(pyyaml_value) and ours == pyyaml_value


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_files_read_as_pyyaml_reads_them(path):
    text = path.read_text()
    assert same(yaml.safe_load(text), read(text))


def test_there_are_bundled_files_to_compare():
    assert len(BUNDLED) >= 5


@pytest.mark.parametrize(("text", "value"), [
    ("a: no", "no"), ("a: on", "on"), ("a: yes", "yes"), ("a: true", True), ("a: 1:30", "1:30"),
    ("a: 010", 10), ("a: 1e3", 1000.0), ("a: 1_000", 1000), ("a: 0x1F", 31), ("a: ~", None),
    ("a: 2026-01-05", "2026-01-05"), ("a: 12:30:00", "12:30:00"), ("a: '5'", "5"),
])
def test_yaml_1_2_values(text, value):
    assert read(text)["a"] == value


def test_merge_keys_supply_missing_keys_and_the_first_source_wins():
    text = ("a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\n"
            "c:\n  <<: [*a, *b]\n  r: 3\n"
            "d:\n  <<: *b\n")
    data = read(text)
    assert data["c"] == {"p": 1, "q": 1, "r": 3}
    assert data["d"] == {"q": 2, "r": 2}
    assert "<<" not in str(data)


def test_merge_keys_nest():
    data = read("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n")
    assert data["c"] == {"x": 1, "y": 2, "z": 3}


def test_a_merge_key_of_a_scalar_or_written_twice_is_an_error():
    assert "merge key" in message("a: {<<: 5}")
    assert "duplicate merge key" in message("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n")


def test_a_duplicate_key_names_the_second_place():
    text = "name: x\nfleets:\n  web: {count: 1}\n  db: {count: 2, count: 3}\n"
    assert "line 4, column 18: duplicate key 'count'" in message(text)
    assert "line 3, column 1" in message("a: 1\nb: 2\na: 3\n")


def test_a_syntax_error_names_line_and_column():
    assert "YAML syntax error at line 2, column" in message("a: [1, 2\nb: 3\n")


def test_several_documents_are_refused_one_is_not():
    assert "several YAML documents" in message("a: 1\n---\nb: 2\n")
    assert "several YAML documents" in message("---\n- 1\n---\n- 2\n")
    assert read("---\n- 1\n- 2\n") == [1, 2]
    assert read("%YAML 1.2\n---\na: 1\n...\n") == {"a": 1}


def test_a_byte_order_mark_is_not_part_of_the_first_key():
    assert read("\ufeffa: 1") == {"a": 1}


@pytest.mark.parametrize("text", [
    "- " * 100_000 + "x",
    "a: " + "? " * 100_000 + "x",
    "".join(" " * i + "a:\n" for i in range(3 * MAX_INDENT)),
    "[" * 100_000,
])
def test_deep_nesting_is_refused_at_once_without_crashing(text):
    started = time.perf_counter()
    with pytest.raises(InputError, match="nest|YAML syntax"):
        read(text)
    assert time.perf_counter() - started < 1.0


def test_nesting_just_under_the_bounds_reads():
    compact = "- " * (MAX_COMPACT - 1) + "x"
    value = read(compact)
    for _ in range(MAX_COMPACT - 1):
        value = value[0]
    assert value == "x"
    indented = "".join(" " * i + "a:\n" for i in range(MAX_INDENT)) + " " * MAX_INDENT + "b"
    with pytest.raises(UnsafeYamlError):
        read(indented)  # the last line is indented MAX_INDENT columns
    assert read("".join(" " * i + "a:\n" for i in range(MAX_INDENT - 1))) is not None


def test_an_alias_bomb_is_refused_quickly():
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    started = time.perf_counter()
    with pytest.raises(UnsafeYamlError, match="aliases expand"):
        read("\n".join(lines))
    assert time.perf_counter() - started < 1.0


def test_a_modest_use_of_aliases_reads():
    data = read("d: &d {cpu: 4}\nweb: *d\napi: *d\n")
    assert data["web"] == data["api"] == {"cpu": 4}


def test_python_tags_are_refused():
    assert "YAML" in message("a: !!python/object:os.system x")


def test_an_integer_longer_than_python_prints_is_read():
    value = read("a: " + "9" * 5000)["a"]  # the field that gets it says it is out of range
    assert isinstance(value, int) and value > 10**4999


def test_a_duplicate_key_in_a_large_file_is_named_without_a_place():
    text = "a: 1\n" + "b: " + "x" * 3_000_000 + "\na: 2\n"
    assert "YAML error: duplicate key 'a'" in message(text)
