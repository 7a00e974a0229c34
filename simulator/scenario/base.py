"""The base of every specification model: frozen, unknown keys rejected, numbers finite.

Kept apart from the scenario schema so that any package (distributions, later topology,
storage, price books, sweeps) can define its own spec models without importing the whole
scenario.  Every number a user writes is checked here once: ``allow_inf_nan=False`` refuses
inf, -inf, NaN and overflowing literals (1e400) in every float field, unit-typed fields
included (see simulator.units); each field states its own allowed range with ``Field``.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic_core import CoreSchema


def _describe(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Field descriptions from attribute docstrings, read only when a JSON schema is made."""
    from simulator.scenario.fielddocs import add_descriptions

    add_descriptions(schema, model)


SPEC_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                         json_schema_extra=_describe)
"""The configuration of every input model (also for those that cannot subclass Spec).

Attribute docstrings are the field descriptions, read when a JSON schema or the reference
asks for them (simulator.scenario.fielddocs), not at every class definition."""


def _bound_checks() -> dict[Any, str]:
    """pydantic's Python bound checks by the constraint each applies ({} if a pydantic release
    no longer has them: then nothing is folded, and validation is the same, only slower)."""
    try:
        from pydantic._internal._validators import NUMERIC_VALIDATOR_LOOKUP
    except ImportError:
        return {}
    return {NUMERIC_VALIDATOR_LOOKUP[k]: k for k in ("gt", "ge", "lt", "le")
            if k in NUMERIC_VALIDATOR_LOOKUP}


_BOUND_CHECKS = _bound_checks()


def fold_float_bounds(schema: Any) -> Any:
    """The same validation with the bounds of unit-typed fields checked in pydantic-core.

    ``Annotated[Duration, Field(ge=0, le=MAX_HORIZON)]`` is a before-validator (the unit
    parser) over a float, and pydantic applies bounds given after a validator as Python
    functions around it: two Python calls per field, most of the time of validating a
    100,000-step rate profile.  The parser's result is a float that the float schema
    validates anyway, so bounds checked there accept and refuse exactly the same values, with
    the same error types and messages (``greater_than_equal`` and so on).  Anything else is
    left as pydantic built it.
    """
    if isinstance(schema, list):
        return [fold_float_bounds(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    folded = _folded(schema)
    if folded is not None:
        return folded
    return {key: fold_float_bounds(value) if key != "metadata" else value
            for key, value in schema.items()}


def _folded(schema: dict) -> dict | None:
    """A function-before over a float with its Python bound checks folded in, or None."""
    bounds: dict[str, float] = {}
    node = schema
    while node.get("type") == "function-after":
        check = node.get("function", {}).get("function")
        kind = isinstance(check, functools.partial) and _BOUND_CHECKS.get(check.func)
        if not kind or set(check.keywords) != {kind} or kind in bounds:
            return None
        bounds[kind] = check.keywords[kind]
        node = node["schema"]
    inner = node.get("schema") if node.get("type") == "function-before" else None
    if not bounds or not isinstance(inner, dict) or inner.get("type") != "float" \
            or any(k in inner for k in _BOUND_CHECKS.values()):
        return None
    return {**node, "schema": {**inner, **bounds}}


class Spec(BaseModel):
    """Base of every input model: frozen, unknown keys rejected, numbers finite, docstrings
    as descriptions."""

    model_config = SPEC_CONFIG

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel],
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        return fold_float_bounds(handler(source))
