"""The base of every specification model: frozen, unknown keys rejected, docstrings as help.

Kept apart from the scenario schema so that any package (distributions, later topology,
storage) can define its own spec models without importing the whole scenario.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """Base of every scenario model: frozen, unknown keys rejected, docstrings as descriptions."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
