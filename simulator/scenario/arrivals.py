"""Arrival processes of the scenario language: Poisson, constant and piecewise (periodic) rates."""

from __future__ import annotations

import operator
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.limits import MAX_HORIZON, MAX_RATE
from simulator.scenario.base import Spec
from simulator.units import Duration, Rate


class PoissonArrivals(Spec):
    """Poisson arrivals at a constant rate (exponential inter-arrival times)."""

    process: Literal["poisson"]
    rate: Annotated[Rate, Field(gt=0, le=MAX_RATE)]
    """Mean arrival rate, e.g. "600/s"."""


class ConstantArrivals(Spec):
    """Deterministic arrivals, evenly spaced at 1/rate, the first at time 0."""

    process: Literal["constant"]
    rate: Annotated[Rate, Field(gt=0, le=MAX_RATE)]
    """Arrival rate, e.g. "100/s"."""


class RateStep(Spec):
    """From time `at` on (until the next step), arrivals come at `rate`."""

    at: Annotated[Duration, Field(ge=0, le=MAX_HORIZON)]
    """Start of this step, e.g. "30 min"."""
    rate: Annotated[Rate, Field(ge=0, le=MAX_RATE)]
    """Arrival rate during this step, e.g. "600/s"; 0 for a quiet period."""


class PiecewiseArrivals(Spec):
    """Poisson arrivals whose rate is piecewise constant in time (a rate schedule).

    With `period` the schedule repeats: steps give the rate within one period (a daily profile
    with `period: 1 d`), and time t uses the step in force at t modulo the period.
    """

    process: Literal["piecewise"]
    steps: Annotated[list[RateStep], Field(min_length=1)]
    """Rate steps in increasing `at` order; the first must start at 0."""
    period: Annotated[Duration, Field(gt=0, le=MAX_HORIZON)] | None = None
    """Repeat the schedule with this period (e.g. "1 d"); every step must start within it."""

    @model_validator(mode="after")
    def _within_period(self) -> PiecewiseArrivals:
        if self.period is not None and self.steps[-1].at >= self.period:
            raise ValueError(
                f"the last step starts at {self.steps[-1].at:g} s, not within the period "
                f"({self.period:g} s)"
            )
        return self

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[RateStep]) -> list[RateStep]:
        if steps[0].at != 0:
            raise ValueError("the first step must start at 0 (at: 0 s)")
        ats = [s.at for s in steps]
        if not all(map(operator.lt, ats, ats[1:])):  # in C: a generated profile has 10^6 steps
            a, b = next((a, b) for a, b in zip(ats, ats[1:], strict=False) if b <= a)
            raise ValueError(f"steps must be in increasing `at` order ({b:g} s after {a:g} s)")
        if all(s.rate == 0 for s in steps):
            raise ValueError("at least one step needs a positive rate")
        return steps


Arrivals = Annotated[
    PoissonArrivals | ConstantArrivals | PiecewiseArrivals, Field(discriminator="process")
]


