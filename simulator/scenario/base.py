"""The base of every specification model: frozen, unknown keys rejected, numbers finite.

Kept apart from the scenario schema so that any package (distributions, later topology,
storage, price books, sweeps) can define its own spec models without importing the whole
scenario.  Every number a user writes is checked here once: ``allow_inf_nan=False`` refuses
inf, -inf, NaN and overflowing literals (1e400) in every float field, unit-typed fields
included (see simulator.units); each field states its own allowed range with ``Field``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

SPEC_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True,
                         allow_inf_nan=False)
"""The configuration of every input model (also for those that cannot subclass Spec)."""


class Spec(BaseModel):
    """Base of every input model: frozen, unknown keys rejected, numbers finite, docstrings
    as descriptions."""

    model_config = SPEC_CONFIG
