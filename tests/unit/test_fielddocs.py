"""Field descriptions read from attribute docstrings on demand equal pydantic's own
``use_attribute_docstrings`` (the rule they replace), on a model family with the cases that
differ: a Field(description=...), an inherited field, a redefined field without a docstring,
a nested class and a string that follows something other than an annotated assignment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from simulator.scenario.base import SPEC_CONFIG
from simulator.scenario.fielddocs import field_descriptions

PYDANTIC = ConfigDict(use_attribute_docstrings=True)


class Ours(BaseModel):
    model_config = SPEC_CONFIG

    a: int = 1
    """The first.

        Indented second line."""
    b: int = Field(2, description="Given explicitly.")
    """Not used: the explicit description wins."""
    c: int = 3
    d: int = 4
    "After d."

    class Inner(BaseModel):
        x: int = 0
        """Inner x."""


class OursChild(Ours):
    c: int = 5
    """Redefined with a docstring."""
    d: int = 6
    e: str = "e"
    """Only here."""


class Theirs(BaseModel):
    model_config = PYDANTIC

    a: int = 1
    """The first.

        Indented second line."""
    b: int = Field(2, description="Given explicitly.")
    """Not used: the explicit description wins."""
    c: int = 3
    d: int = 4
    "After d."


class TheirsChild(Theirs):
    c: int = 5
    """Redefined with a docstring."""
    d: int = 6
    e: str = "e"
    """Only here."""


def pydantic_descriptions(model: type[BaseModel]) -> dict[str, str | None]:
    return {name: field.description for name, field in model.model_fields.items()}


def test_same_as_pydantic():
    assert field_descriptions(Ours) == pydantic_descriptions(Theirs)
    assert field_descriptions(OursChild) == pydantic_descriptions(TheirsChild)
    assert field_descriptions(OursChild)["d"] is None  # redefined without one


def test_nested_class():
    assert field_descriptions(Ours.Inner) == {"x": "Inner x."}


def test_json_schema_carries_them():
    props = OursChild.model_json_schema()["properties"]
    assert props["a"]["description"] == "The first.\n\nIndented second line."
    assert props["b"]["description"] == "Given explicitly."
    assert "description" not in props["d"]
    assert props["e"]["description"] == "Only here."
