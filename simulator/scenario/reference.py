"""The scenario reference, generated from the schema so the documentation cannot drift.

``json_schema()`` is what `dcsim schema` prints; ``markdown_reference()`` renders every model
reachable from ``Scenario`` as a table of fields (type, default, description).  The checked-in
docs/scenario-reference.md is tested to equal the generated text.
"""

from __future__ import annotations

import json
import typing
from types import UnionType
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simulator.scenario.fielddocs import field_descriptions
from simulator.scenario.schema import Scenario

_UNIT_HINTS = {
    "parse_duration": 'duration ("90 s", "15 min", "7 d")',
    "parse_size": 'size ("16 GiB", "10 KB")',
    "parse_rate": 'rate ("600/s", "1000/min")',
    "parse_money": 'money ("$12.50")',
    "parse_money_rate": 'price per time ("$0.096/h")',
    "parse_fraction": 'fraction ("2%", 0.02)',
    "parse_annual_rate": 'fraction per time ("2%/y")',
}


def json_schema() -> dict[str, Any]:
    """The JSON schema of a scenario file."""
    return Scenario.model_json_schema(mode="validation")


def _unit_hint(metadata) -> str | None:
    for meta in metadata:
        fn = getattr(getattr(meta, "func", None), "__qualname__", "")
        if fn in _UNIT_HINTS:
            return _UNIT_HINTS[fn]
    return None


def _type_name(annotation: Any, models: list[type[BaseModel]]) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unit_hint(args[1:]) or _type_name(args[0], models)
    if origin in (typing.Union, UnionType):
        return " or ".join(_type_name(a, models) for a in args if a is not type(None)) + (
            " or null" if type(None) in args else ""
        )
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_type_name(args[0], models)}"
    if origin is dict:
        return f"mapping name → {_type_name(args[1], models)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in models:
            models.append(annotation)
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def _default(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see type"
    return f"`{json.dumps(value, default=str)}`"


def markdown_reference() -> str:
    """The whole scenario reference as Markdown."""
    models: list[type[BaseModel]] = [Scenario]
    lines = [
        "# Scenario reference",
        "",
        "Generated from the schema by `dcsim schema --reference` (`make reference`); a test keeps it",
        "current. Quantities take units (converted once to seconds, bytes, dollars, events per",
        "second) or plain numbers already in those base units. Unknown keys are errors. Variants",
        "(`dist:`, `process:`) choose one of several types by that key.",
        "",
    ]
    i = 0
    while i < len(models):
        model = models[i]
        i += 1
        lines += [f"## {model.__name__}", "", (model.__doc__ or "").strip().splitlines()[0], ""]
        lines += ["| field | type | default | description |", "|---|---|---|---|"]
        descriptions = field_descriptions(model)
        for name, field in model.model_fields.items():
            kind = _unit_hint(field.metadata) or _type_name(field.annotation, models)
            desc = " ".join((descriptions[name] or "").split())
            lines.append(f"| `{name}` | {kind} | {_default(field)} | {desc} |")
        lines.append("")
    return "\n".join(lines)
