"""Reading user input: strict YAML and pydantic errors turned into dotted-path problems.

Every input file (scenario, sweep, price book) is parsed here: YAML syntax errors and keys
written twice are reported with line and column; pydantic validation errors become ``Problem``
records whose paths are the user's own keys (union tags and validator names pydantic adds are
dropped) with the allowed keys listed for an unknown one.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulator.errors import InputError, Problem

_UNSET = object()


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it (its wheels are): about 10x faster on a
large scenario than the pure-Python one, with the same safe constructors."""


class _UniqueKeyLoader(_SAFE_LOADER):
    """A safe YAML loader that rejects a key written twice in one mapping."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    merges = 0
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merges += 1  # `<<: *defaults`: merged keys may be overridden, construct_mapping merges
            if merges > 1:
                raise yaml.constructor.ConstructorError(
                    None, None, "duplicate merge key '<<'; merge several mappings with "
                    "`<<: [*a, *b]`", key_node.start_mark)
            continue
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str | int | float | bool):
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A YAML timestamp, or its text when it names no real time (2026-13-45): the field that
    expects a time then says what is wrong, instead of the parser failing on the file."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


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


class UnsafeYamlError(InputError):
    """YAML refused for its shape, not its syntax: aliases expanding too far, a value that
    contains itself, nesting too deep.  Never read as plain text (see parse_overrides)."""


MAX_ALIAS_EXPANSION = 100_000
"""Nodes that aliases may add to a document once expanded (a "billion laughs" adds 10^9)."""


def _expanded_size(root: yaml.Node, source: str) -> tuple[int, int]:
    """(nodes written, nodes once every alias is expanded) of a composed YAML document.

    Aliases are the same node objects in the composed graph, so the expanded size is a sum
    over a DAG computed once per node (linear time whatever the expansion); a node that
    contains itself is refused.
    """
    size: dict[int, int] = {}
    state: dict[int, int] = {}  # 1: being visited, 2: done
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            state[key] = 2
            continue
        if state.get(key) == 2:
            continue
        if state.get(key) == 1:
            mark = node.start_mark
            raise UnsafeYamlError(source, [Problem("", "a YAML alias refers to a value that contains "
                                              f"it (line {mark.line + 1}); values cannot "
                                              "contain themselves")])
        state[key] = 1
        stack.append((node, True))
        for kid in _children(node):
            if state.get(id(kid)) == 1:
                mark = kid.start_mark
                raise UnsafeYamlError(source, [Problem("", "a YAML alias refers to a value that "
                                                  f"contains it (line {mark.line + 1}); "
                                                  "values cannot contain themselves")])
            if state.get(id(kid)) != 2:
                stack.append((kid, False))
    return len(size), size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _DuplicateKey(ValueError):
    pass


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)  # a ValueError: the YAML parser then names the line
        out[key] = value
    return out


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text strictly (no repeated keys); any value, even None, is returned.

    Aliases are checked before any value is built: a document whose aliases expand it by more
    than MAX_ALIAS_EXPANSION nodes, or that contains itself, is an error, in linear time.
    Merge keys (``<<: *defaults``) work as in YAML 1.1.
    """
    if text.lstrip().startswith("{"):
        try:  # JSON is YAML: a generated scenario written as JSON parses ~50x faster this way
            return json.loads(text, object_pairs_hook=_unique_json_object)
        except ValueError:
            pass  # YAML flow style or a JSON mistake: the YAML parser says where
    try:
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            written, expanded = _expanded_size(node, source) if "&" in text else (0, 0)
            if expanded - written > MAX_ALIAS_EXPANSION:  # (no anchor, no alias: nothing to add)
                raise UnsafeYamlError(source, [Problem(
                    "", f"YAML aliases expand this file by {expanded - written:,} values, more "
                    f"than the {MAX_ALIAS_EXPANSION:,} allowed (a nested-alias \"bomb\"?); "
                    "write the values out or use fewer nested aliases")])
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except RecursionError:
        raise UnsafeYamlError(source, [Problem("", "the YAML nests too deeply; flatten it")]) from None
    except (ValueError, OverflowError) as exc:  # a scalar PyYAML cannot build, e.g. 2026-13-45
        raise InputError(source, [Problem("", f"a YAML value cannot be read ({str(exc)[:120]}); "
                                          "quote it if it is text, or correct it")]) from None
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


_BASE_UNITS = {"parse_duration": "seconds", "parse_size": "bytes", "parse_rate": "per second",
               "parse_money": "USD", "parse_money_rate": "USD per second"}
_BOUNDS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def _base_unit(model: type[BaseModel] | None, key: str) -> str | None:
    """The base unit of a unit-typed field ("seconds" for a Duration), None otherwise."""
    field = model.model_fields.get(key) if model is not None else None
    if field is None:
        return None
    metadata = list(field.metadata)
    for arg in typing.get_args(field.annotation):
        metadata += list(getattr(arg, "__metadata__", ()))
        for inner in typing.get_args(arg):
            metadata += list(getattr(inner, "__metadata__", ()))
    for meta in metadata:
        name = getattr(getattr(meta, "func", None), "__qualname__", "")
        if name in _BASE_UNITS:
            return _BASE_UNITS[name]
    return None


def _message(err: dict, model: type[BaseModel] | None, key: str) -> str:
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _BOUNDS:
        unit = _base_unit(model, key)
        if unit is not None:
            msg += f" ({unit})"
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
        elif err["type"] == "missing" or err["type"] in _BOUNDS and loc:
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


