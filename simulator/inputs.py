"""Reading user input: strict YAML and pydantic errors turned into dotted-path problems.

Every input file (scenario, sweep, price book) is parsed here: YAML syntax errors and keys
written twice are reported with line and column; pydantic validation errors become ``Problem``
records whose paths are the user's own keys (union tags and validator names pydantic adds are
dropped) with the allowed keys listed for an unknown one.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
import yaml_rs
from pydantic import BaseModel, ValidationError

from simulator.errors import InputError, Problem

_UNSET = object()


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
    """YAML refused for its shape, not its syntax: aliases expanding too far, nesting too deep.
    Never read as plain text (see parse_overrides)."""


MAX_ALIAS_EXPANSION = 100_000
"""Items (keys, values, collections: the parser's events) that aliases may replay into a
document once expanded (a "billion laughs" adds 10^9)."""

MAX_INDENT = 100
MAX_COMPACT = 50
"""Bounds on block nesting given to the parser: indentation under MAX_INDENT columns and
fewer than MAX_COMPACT entries opened on one line (``- - - x``).  A block node's column is
then under MAX_INDENT + 2 MAX_COMPACT and its depth under twice that (a sequence may sit at
its key's column once per column), so at most about 600 levels with the parser's own bound on
flow nesting (256).  The parser descends recursively: a few hundred kB of ``- `` nesting a
hundred thousand levels deep would overflow its stack and kill the process; real scenarios
nest under 20 levels."""

_LIMITS = yaml_rs.AliasLimits(max_total_replayed_events=MAX_ALIAS_EXPANSION,
                              max_replay_stack_depth=64)
_DEEP_INDENT = "\n" + " " * MAX_INDENT
_COMPACT = [re.compile(rf"{re.escape(first)} +(?:[-?] +){{{MAX_COMPACT - 1},}}")
            for first in "-?"]  # a literal first character: the regex engine skips ahead fast
_DOCUMENT_MARK = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)", re.M)
_PARSE_ERROR = re.compile(r"at line (\d+), column (\d+)\n.*\n(.*)\Z", re.S)
_DUPLICATE = re.compile(r"duplicate mapping key: (.*)\Z", re.S)


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
    """Parse YAML 1.2 text strictly (no repeated keys, one document); any value, even None.

    Parsed by yaml-rs (Rust): about 40x faster than PyYAML's libyaml binding on a large
    scenario, with alias expansion bounded while parsing (MAX_ALIAS_EXPANSION values; a
    "billion laughs" fails in microseconds) and duplicate keys refused by the parser.  YAML 1.2
    core schema: ``yes``/``on`` are text, ``1e3`` a number, ``1:30`` text (not 90).  Merge keys
    (``<<: *defaults``, ``<<: [*a, *b]``) work as in YAML 1.1.  JSON text (a generated
    scenario) is read by the JSON parser.
    """
    if text.lstrip().startswith("{"):
        try:  # JSON is YAML: exact JSON semantics, and a little faster still
            return json.loads(text, object_pairs_hook=_unique_json_object)
        except ValueError:
            pass  # YAML flow style or a JSON mistake: the YAML parser says where
    text = text.removeprefix("\ufeff")
    if (_DEEP_INDENT in text or text.startswith(_DEEP_INDENT[1:])
            or any(p.search(text) for p in _COMPACT)):
        raise UnsafeYamlError(source, [Problem(
            "", f"the YAML nests too deeply (indented {MAX_INDENT} columns or more, or "
            f"{MAX_COMPACT} `- ` in a row); flatten it")])
    try:
        data = yaml_rs.loads(text, parse_datetime=False, alias_limits=_LIMITS,
                             duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error)
    except yaml_rs.YAMLDecodeError as exc:
        raise _yaml_error(str(exc), text, source) from None
    except (ValueError, OverflowError) as exc:  # a scalar Python cannot hold (a 5,000-digit int)
        raise InputError(source, [Problem("", f"a YAML value cannot be read ({str(exc)[:120]}); "
                                          "quote it if it is text, or correct it")]) from None
    except BaseException as exc:  # a panic inside the parser: still the user's file, exit 2
        if type(exc).__name__ != "PanicException":
            raise
        raise InputError(source, [Problem("", "the YAML parser could not read this file "
                                          f"({str(exc)[:120]}); check its syntax")]) from None
    if isinstance(data, list) and _several_documents(text):
        raise InputError(source, [Problem("", "the file holds several YAML documents (`---`); "
                                          "write one document per file")])
    if "<<" in text:
        data = _merge_keys(data, source)
    return data


def _several_documents(text: str) -> bool:
    """Whether text holds more than one YAML document (the parser returns their list)."""
    marks = list(_DOCUMENT_MARK.finditer(text))
    if not marks:
        return False
    before = text[:marks[0].start()]
    content_first = any(line.strip() and not line.lstrip().startswith(("#", "%"))
                        for line in before.splitlines())
    starts = sum(1 for m in marks if m.group().startswith("---"))
    return starts + content_first > 1


def _yaml_error(message: str, text: str, source: str) -> InputError:
    """The parser's message as one line naming where, and what to do."""
    if "alias replay" in message:
        return UnsafeYamlError(source, [Problem(
            "", f"YAML aliases expand this file by more than the {MAX_ALIAS_EXPANSION:,} items "
            "allowed (keys, values and collections; a nested-alias \"bomb\"?); write the values "
            "out or use fewer nested aliases")])
    dup = _DUPLICATE.search(message)
    if dup:
        key = dup.group(1).strip()
        where = _where_duplicate(text, key.strip("'\""))
        if key.strip("'\"") == "<<":
            return InputError(source, [Problem("", f"YAML error{where}: duplicate merge key "
                                               "'<<'; merge several mappings with "
                                               "`<<: [*a, *b]`")])
        return InputError(source, [Problem("", f"YAML error{where}: duplicate key {key}")])
    m = _PARSE_ERROR.search(message)
    if m:
        line, column, problem = m.groups()
        return InputError(source, [Problem(
            "", f"YAML syntax error at line {line}, column {column}: {problem.strip()}")])
    return InputError(source, [Problem("", f"YAML error: {message.splitlines()[0][:200]}")])


LOCATE_LIMIT = 2_000_000
"""Characters up to which a duplicate key is located by a second, slower parse (PyYAML's
composer, about 1 s a MB), since the fast parser names the key but not the place."""


def _where_duplicate(text: str, name: str) -> str:
    """' at line L, column C' where key `name` is written a second time in one mapping, or ''
    (also when the text is too long to look)."""
    if len(text) > LOCATE_LIMIT:
        return ""
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError, ValueError):  # only a place is lost
        return ""
    seen_nodes: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases share nodes: each is looked at once
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if (key.tag, key.value) in keys and key.value == name:
                        mark = key.start_mark
                        return f" at line {mark.line + 1}, column {mark.column + 1}"
                    keys.add((key.tag, key.value))
                stack.extend((value, key))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return ""


def _merge_keys(node: Any, source: str) -> Any:
    """Apply YAML merge keys: ``<<: mapping`` or ``<<: [mappings]`` supplies the keys a mapping
    does not write itself (an earlier mapping in the list wins over a later one)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            node[i] = _merge_keys(item, source)
    elif isinstance(node, dict):
        for key, value in node.items():
            node[key] = _merge_keys(value, source)
        if "<<" in node:
            merged = node.pop("<<")
            sources = merged if isinstance(merged, list) else [merged]
            if not all(isinstance(m, dict) for m in sources):
                raise InputError(source, [Problem("", "a YAML merge key `<<` must name a "
                                                  "mapping or a list of mappings, such as "
                                                  "`<<: *defaults`")])
            own = dict(node)
            node.clear()
            for m in reversed(sources):
                node.update(m)
            node.update(own)
    return node


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


def _user_value(data: Any, loc: tuple, default: Any) -> Any:
    """The value the user wrote at a pydantic error location (its segments that are not the
    user's keys skipped, as in _walk_model), or default if that is no single value."""
    node = data
    for seg in loc:
        if isinstance(node, dict) and seg in node or isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            node = node[seg]
    return default if isinstance(node, dict | list) else node


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
        if err["type"] in _BOUNDS:  # pydantic-core gives the parsed number: show the user's text
            value = _user_value(data, loc, value)
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


