"""Reading user input: strict YAML and pydantic errors turned into dotted-path problems.

Every input file (scenario, sweep, price book) is parsed here: YAML syntax errors and keys
written twice are reported with line and column; pydantic validation errors become ``Problem``
records whose paths are the user's own keys (union tags and validator names pydantic adds are
dropped) with the allowed keys listed for an unknown one.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulator.errors import InputError, Problem

_UNSET = object()


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key written twice in one mapping."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str | int | float | bool):
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


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


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text strictly (no repeated keys); any value, even None, is returned."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(source, [Problem("", f"YAML syntax error at {where}{problem}")]) from None
    except yaml.YAMLError as exc:
        raise InputError(source, [Problem("", f"YAML error: {exc}")]) from None


def parse_yaml(text: str, source: str, what: str = "scenario") -> dict[str, Any]:
    """Parse YAML text that must hold a non-empty mapping (a scenario, sweep or price book)."""
    data = load_yaml(text, source)
    if data is None:
        raise InputError(
            source, [Problem("", f"the file is empty; write a {what} as a YAML mapping")]
        )
    if not isinstance(data, dict):
        raise InputError(source, [Problem("", f"a {what} must be a YAML mapping", data)])
    return data


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
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0], value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if origin in (typing.Union, types.UnionType):
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
        return "required key is missing"
    return msg or kind


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


