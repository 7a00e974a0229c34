"""Fast paths of unit parsing and validation give exactly what the general ones give.

`_common` reads "<number> <unit>" without the general parser, and `fold_float_bounds` moves
the bounds of unit-typed fields into pydantic-core: both exist for speed only, so on any input
they must accept the same values (bit for bit) and refuse the same ones, with the same errors.
"""

from __future__ import annotations

from typing import Annotated

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from simulator.scenario.base import SPEC_CONFIG, Spec
from simulator.units import (
    _SIZE_UNITS,
    _TIME_UNITS,
    Duration,
    Size,
    UnitError,
    _common,
    _scaled,
)

PIECES = ["0", "1", "7", "42", "1.5", ".5", "1.", "1e3", "1E-2", "2e400", "1_000", "1.0_5",
          "-", "+", "_", " ", "  ", "e", "inf", "nan", "0x10", "١", "s", "ms", "min", "h",
          "H", "d", "GiB", "KB", "kb", "B", "µs", "%", "x"]
texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join)


def general(text: str, units: dict[str, float]) -> float | str:
    try:
        return _scaled(text, "a quantity", "1", units, "test", "")
    except UnitError:
        return "error"


@settings(max_examples=3000, deadline=None)
@given(texts, st.sampled_from([_TIME_UNITS, _SIZE_UNITS]))
def test_the_common_form_reads_what_the_general_parser_reads(text, units):
    fast = _common(text, units)
    if fast is not None:
        assert fast == general(text, units)


def test_the_common_form_is_taken_for_the_common_texts():
    assert _common("250 ms", _TIME_UNITS) == 0.25
    assert _common("16 GiB", _SIZE_UNITS) == 16 * 2**30
    for text in ("-5 s", "1_000 s", "5s", " 5 s", "5 s ", "inf s", "٥ s", "5 parsec"):
        assert _common(text, _TIME_UNITS) is None, text


class Folded(Spec):
    at: Annotated[Duration, Field(ge=0, le=1e6)]
    size: Annotated[Size, Field(gt=0, lt=2**40)]


class Unfolded(BaseModel):  # the same fields, bounds checked by pydantic's Python functions
    model_config = SPEC_CONFIG
    at: Annotated[Duration, Field(ge=0, le=1e6)]
    size: Annotated[Size, Field(gt=0, lt=2**40)]


def outcome(model, data):
    try:
        return model.model_validate(data).model_dump()
    except ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


values = st.one_of(texts, st.floats(allow_nan=True), st.integers(-10**20, 10**20),
                   st.booleans(), st.none())


@settings(max_examples=2000, deadline=None)
@given(values, values)
def test_folded_bounds_accept_and_refuse_as_pydantic_does(at, size):
    data = {"at": at, "size": size}
    assert outcome(Folded, data) == outcome(Unfolded, data)


def test_the_bounds_are_folded_into_the_float_schema():
    field = Folded.__pydantic_core_schema__["schema"]["fields"]["at"]["schema"]
    assert field["type"] == "function-before"
    assert (field["schema"]["ge"], field["schema"]["le"]) == (0, 1e6)
