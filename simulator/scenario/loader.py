"""Load scenarios from YAML: parse, apply dotted overrides, validate, report every problem.

``load_scenario(path, overrides)`` is the one way a scenario file becomes a ``Scenario``: YAML
syntax errors name the line and column, schema errors name the dotted path of the field, the
bad value and what was expected, and references (fleet names, instance types, prices) are
checked against the catalog and the price book.  All problems are raised together as one
``InputError``.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulator.errors import InputError, Problem
from simulator.scenario.schema import Scenario

_UNSET = object()


# --------------------------------------------------------------------------- YAML


def read_yaml(path: Path, what: str = "scenario") -> Any:
    """Read a YAML file, turning I/O and syntax errors into an InputError with line and column."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputError(source, [Problem("", f"no such {what} file; check the path")])
    if path.is_dir():
        raise InputError(source, [Problem("", f"is a folder, not a {what} file")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, [Problem("", f"cannot read the file: {exc}")]) from None
    return parse_yaml(text, source, what)


def parse_yaml(text: str, source: str, what: str = "scenario") -> Any:
    """Parse YAML text; a syntax error becomes an InputError naming line and column."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(source, [Problem("", f"YAML syntax error at {where}{problem}")]) from None
    except yaml.YAMLError as exc:
        raise InputError(source, [Problem("", f"YAML error: {exc}")]) from None
    if data is None:
        raise InputError(
            source, [Problem("", f"the file is empty; a {what} needs at least name and horizon")]
        )
    if not isinstance(data, dict):
        raise InputError(source, [Problem("", f"a {what} must be a YAML mapping", data)])
    return data


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
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        out[key] = value
    return out


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Return a deep copy of data with each dotted path set to its value (lists by index)."""
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


# --------------------------------------------------------------------------- validation


def _walk_model(model: Any, data: Any, loc: tuple) -> tuple[list[str], type[BaseModel] | None]:
    """Map a pydantic error location onto the user's keys; return (path parts, model there)."""
    parts: list[str] = []
    node = data
    current: Any = model
    for seg in loc:
        if isinstance(node, dict) and seg in node:
            parts.append(str(seg))
            node = node[seg]
            current = _field_model(current, seg, node)
        elif isinstance(node, list) and isinstance(seg, int) and seg < len(node):
            parts.append(str(seg))
            node = node[seg]
            current = _item_model(current, node)
        # anything else is a union tag or validator name pydantic adds: not the user's key
    return parts, current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any, value: Any) -> Any:
    """Find the model class an annotation (possibly Annotated/Union/dict/list) resolves to."""
    import typing

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0], value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        candidates = [_unwrap(a, value) for a in args if a is not type(None)]
        models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if isinstance(value, dict):
            for m in models:
                for name, f in m.model_fields.items():
                    lit = typing.get_args(f.annotation)
                    if name in value and value[name] in lit:
                        return m
        return models[0] if len(models) == 1 else None
    if origin in (dict, list):
        return ("container", args[-1])
    return None


def _field_model(current: Any, key: Any, value: Any) -> Any:
    if isinstance(current, tuple) and current[0] == "container":
        return _unwrap(current[1], value)
    if isinstance(current, type) and issubclass(current, BaseModel) and key in current.model_fields:
        return _unwrap(current.model_fields[key].annotation, value)
    return None


def _item_model(current: Any, value: Any) -> Any:
    if isinstance(current, tuple) and current[0] == "container":
        return _unwrap(current[1], value)
    return None


def _message(err: dict, model: type[BaseModel] | None, key: str) -> str:
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = f" Allowed keys: {', '.join(allowed)}." if allowed else ""
        return f"unknown key{hint}{listing}"
    if kind == "missing":
        return "required field is missing"
    return msg[0].lower() + msg[1:] if msg else kind


def validation_problems(exc: ValidationError, data: Any, model: type[BaseModel]) -> list[Problem]:
    """Turn a pydantic ValidationError into Problems with the user's dotted paths."""
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        if err["type"] == "extra_forbidden":
            parts, parent = _walk_model(model, data, loc[:-1])
            parts.append(str(loc[-1]))
            where_model = parent
        elif err["type"] == "missing":
            parts, where_model = _walk_model(model, data, loc[:-1])
            parts.append(str(loc[-1]))
        else:
            parts, where_model = _walk_model(model, data, loc)
        msg = _message(err, where_model, str(loc[-1]) if loc else "")
        value = err.get("input", _UNSET)
        if err["type"] == "missing" or isinstance(value, dict) and err["type"] != "model_type":
            problems.append(Problem(".".join(parts), msg))
        else:
            problems.append(Problem(".".join(parts), msg, value))
    # the same message for several union branches is noise: keep the first
    seen, unique = set(), []
    for p in problems:
        key = (p.path, p.message)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


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
        scenario = Scenario.model_validate(data)
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
    data = read_yaml(path)
    if test:
        block = data.get("test") or {}
        if not isinstance(block, dict):
            raise InputError(str(path), [Problem("test", "must be a mapping of path: value", block)])
        data = apply_overrides(data, block, f"{path} (test block)")
    data = apply_overrides(data, parse_overrides(overrides), "--set")
    return validate_scenario(data, str(path), path.parent)


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario as YAML in base units (seconds, bytes, $/s); loads back equal."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
