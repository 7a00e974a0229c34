"""Load scenarios from YAML: parse, apply dotted overrides, validate, report every problem.

``load_scenario(path, overrides)`` is the one way a scenario file becomes a ``Scenario``: YAML
syntax errors name the line and column, schema errors name the dotted path of the field, the
bad value and what was expected, and references (fleet names, instance types, prices) are
checked against the catalog and the price book.  All problems are raised together as one
``InputError``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.errors import InputError, Problem
from simulator.gcpolicy import rare_collections
from simulator.inputs import UnsafeYamlError, load_yaml, read_yaml, validation_problems
from simulator.scenario.schema import Scenario

# --------------------------------------------------------------------------- overrides


def parse_overrides(items: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn ``["a.b=1", "c=10 min"]`` (or a mapping) into {dotted path: YAML-parsed value}."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(
                "--set",
                [Problem("", "overrides are written path.to.field=value, e.g. fleets.web.count=4", item)],
            )
        try:
            value = load_yaml(raw, f"--set {key[:80]}") if raw.strip() else ""
        except UnsafeYamlError:
            raise  # an alias bomb, a value containing itself, or nesting too deep
        except InputError:
            value = raw  # not YAML (or a value YAML cannot build): the text itself
        out[key] = value
    return out


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Return a deep copy of data with each dotted path set to its value (lists by index).

    With no overrides, `data` itself is returned (copying a large scenario costs seconds).
    """
    if not overrides:
        return data
    data = copy.deepcopy(data)
    problems = []
    for dotted, value in overrides.items():
        parts = [p for p in str(dotted).split(".")]
        if any(p == "" for p in parts):
            problems.append(Problem(str(dotted), "empty segment in the override path", value))
            continue
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            where = ".".join(parts[: i + 1])
            if isinstance(node, dict):
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                problems.append(Problem(where, "cannot set a field inside this value", node))
                break
        else:
            last = parts[-1]
            if isinstance(node, dict):
                node[last] = copy.deepcopy(value)
            elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
                node[int(last)] = copy.deepcopy(value)
            else:
                problems.append(Problem(str(dotted), "cannot set a field inside this value", node))
    if problems:
        raise InputError(source, problems)
    return data


def _resolve_path(value: str | None, base: Path) -> str | None:
    """Resolve a file reference relative to the scenario's folder; builtin names stay as they are."""
    if value is None:
        return None
    text = str(value)
    looks_like_file = "/" in text or text.endswith((".yaml", ".yml", ".csv"))
    if looks_like_file and not Path(text).is_absolute():
        return str((base / text).resolve())
    return text


def validate_scenario(data: dict[str, Any], source: str, base_dir: Path | None = None) -> Scenario:
    """Validate a scenario mapping, then check its references against catalog and price book."""
    data = dict(data)
    base = base_dir or Path.cwd()
    for key in ("pricebook", "catalog"):
        if isinstance(data.get(key), str):
            data[key] = _resolve_path(data[key], base)
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base})
    except ValidationError as exc:
        raise InputError(source, validation_problems(exc, data, Scenario)) from None
    from simulator.scenario.checks import reference_problems

    problems = reference_problems(scenario)
    if problems:
        raise InputError(source, problems)
    return scenario


def load_scenario(
    path: str | Path,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    *,
    test: bool = False,
) -> Scenario:
    """Load a scenario file, apply its `test:` block (when test=True) then the overrides.

    Overrides are dotted paths to values, as strings ``"fleets.web.count=4"`` or a mapping;
    values are read as YAML scalars, so ``horizon=10 min`` and ``fleets.web.count=4`` both work.
    Raises ``InputError`` listing every problem.
    """
    path = Path(path)
    with rare_collections(None):  # a generated scenario's 10^6 validated values are all kept
        data = read_yaml(path)
        if test:
            block = data.get("test") or {}
            if not isinstance(block, dict):
                raise InputError(str(path), [Problem("test", "must be a mapping of path: value",
                                                     block)])
            data = apply_overrides(data, block, f"{path} (test block)")
        data = apply_overrides(data, parse_overrides(overrides), "--set")
        return validate_scenario(data, str(path), path.parent)


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario as YAML in base units (seconds, bytes, $/s); loads back equal."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
