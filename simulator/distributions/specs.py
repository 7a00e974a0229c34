"""The kinds of distribution a scenario can name, written once for any quantity.

Each kind is a frozen spec model, generic in the quantity ``Q`` it describes (a duration or a
size); ``simulator.distributions.families`` makes the concrete models (``ExponentialTime``,
``ExponentialSize``, ...) from these by fixing ``Q``.  Specs are inert: they hold validated
parameters in base units (seconds or bytes) and are turned into distribution objects by
``simulator.distributions.build``.  Every number must be finite.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ClassVar, Generic, Literal, TypeVar

from annotated_types import Ge, Gt, Le, MinLen
from pydantic import AllowInfNan, ValidationInfo, field_validator, model_validator

from simulator.distributions.files import read_column
from simulator.limits import MAX_CV, SHAPE_RANGE
from simulator.scenario.base import Spec

Q = TypeVar("Q")
"""The quantity a distribution describes: ``simulator.units.Duration`` or ``Size``."""
QF = TypeVar("QF")
"""The value of a fixed distribution (durations must be positive, sizes may be 0)."""
C = TypeVar("C")
"""A weighted component of a mixture (a non-mixture distribution of the same family)."""

FINITE = AllowInfNan(False)
PositiveFloat = Annotated[float, Gt(0), FINITE]
CV = Annotated[float, Gt(0), Le(MAX_CV), FINITE]
Shape = Annotated[float, Ge(SHAPE_RANGE[0]), Le(SHAPE_RANGE[1]), FINITE]


class ExponentialSpec(Spec, Generic[Q]):
    """Exponentially distributed (memoryless; coefficient of variation 1)."""

    dist: Literal["exponential"]
    mean: Annotated[Q, Gt(0), FINITE]
    """Mean, e.g. "20 ms" or "64 KiB"."""


class FixedSpec(Spec, Generic[QF]):
    """A constant."""

    dist: Literal["fixed"]
    value: Annotated[QF, FINITE]
    """The value, e.g. "20 ms" or "10 KiB"."""


class LogNormalSpec(Spec, Generic[Q]):
    """Log-normally distributed, given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: Annotated[Q, Gt(0), FINITE]
    """Mean, e.g. "40 ms" or "64 KiB"."""
    cv: CV
    """Coefficient of variation (standard deviation / mean), e.g. 1.5."""


class WeibullSpec(Spec, Generic[Q]):
    """Weibull distributed, given by its shape and either its scale or its mean."""

    dist: Literal["weibull"]
    shape: Shape
    """Shape k: below 1 the hazard falls with age (infant mortality), above 1 it rises (wear-out)."""
    scale: Annotated[Q, Gt(0), FINITE] | None = None
    """Scale λ (the 63rd percentile), e.g. "5 y"; give this or `mean`."""
    mean: Annotated[Q, Gt(0), FINITE] | None = None
    """Mean, λ Γ(1 + 1/k); give this or `scale`."""

    @model_validator(mode="after")
    def _scale_or_mean(self) -> WeibullSpec:
        if (self.scale is None) == (self.mean is None):
            given = "both were given" if self.scale is not None else "neither was given"
            raise ValueError(f"give exactly one of `scale` or `mean` with `shape` ({given})")
        return self


class GammaSpec(Spec, Generic[Q]):
    """Gamma distributed, given by `shape` and `scale` or by `mean` and `cv`."""

    dist: Literal["gamma"]
    shape: Shape | None = None
    """Shape k (1 is exponential); with `scale`."""
    scale: Annotated[Q, Gt(0), FINITE] | None = None
    """Scale θ, e.g. "10 ms"; with `shape` (mean k θ)."""
    mean: Annotated[Q, Gt(0), FINITE] | None = None
    """Mean, e.g. "40 ms"; with `cv`."""
    cv: CV | None = None
    """Coefficient of variation (1 / sqrt(k)); with `mean`."""

    @model_validator(mode="after")
    def _one_pair(self) -> GammaSpec:
        shape_scale = (self.shape is not None, self.scale is not None)
        mean_cv = (self.mean is not None, self.cv is not None)
        if not (all(shape_scale) and not any(mean_cv) or all(mean_cv) and not any(shape_scale)):
            given = [n for n in ("shape", "scale", "mean", "cv") if getattr(self, n) is not None]
            raise ValueError(
                "give exactly one pair: `shape` and `scale`, or `mean` and `cv` "
                f"(given: {', '.join(given) or 'none'})"
            )
        return self

    @property
    def shape_scale(self) -> tuple[float, float]:
        """(shape, scale) whichever pair was given."""
        if self.shape is not None and self.scale is not None:
            return self.shape, self.scale
        assert self.mean is not None and self.cv is not None
        return 1.0 / self.cv**2, self.mean * self.cv**2


class UniformSpec(Spec, Generic[Q]):
    """Uniformly distributed between `low` and `high`."""

    dist: Literal["uniform"]
    low: Annotated[Q, Ge(0), FINITE]
    """Lower end, at least 0, e.g. "10 ms"."""
    high: Annotated[Q, FINITE]
    """Upper end, above `low`, e.g. "30 ms"."""

    @field_validator("high")
    @classmethod
    def _above_low(cls, high: float, info: ValidationInfo) -> float:
        low = info.data.get("low")
        if low is not None and not high > low:
            raise ValueError(f"`high` ({high:g}) must be above `low` ({low:g})")
        return high


class EmpiricalSpec(Spec):
    """The distribution of a sample read from a CSV column (linear interpolation of quantiles).

    The quantile function interpolates the sorted sample linearly (NumPy's default "linear"
    quantile method), so values lie between the smallest and largest observation.
    """

    unit_parser: ClassVar[Callable[[object], float]]
    """Parses a quantity with a unit to the family's base unit (set by the family)."""

    dist: Literal["empirical"]
    file: str
    """CSV file with a header row; a relative path resolves against the scenario's folder
    (validation context `base_dir`), else the working directory; stored absolute."""
    column: str
    """Name of the column holding the values (at least two distinct, finite, >= 0)."""
    unit: str | None = None
    """Unit of the values, e.g. "ms" or "KiB"; default the base unit (seconds or bytes)."""

    @field_validator("file")
    @classmethod
    def _resolve(cls, file: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir") if isinstance(info.context, dict) else None
        path = Path(file).expanduser()
        if not path.is_absolute():
            path = Path(base if base is not None else Path.cwd()) / path
        path = path.resolve()
        if not path.is_file():
            where = f" (relative paths resolve against {base})" if base is not None else ""
            raise ValueError(f"no such file: {path}{where}")
        return str(path)

    @field_validator("column")
    @classmethod
    def _readable(cls, column: str, info: ValidationInfo) -> str:
        file = info.data.get("file")
        if file is not None:
            read_column(file, column)
        return column

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str | None) -> str | None:
        if unit is not None and not cls.unit_parser(f"1 {unit}") > 0:
            raise ValueError(f"unit {unit!r} must be positive")
        return unit

    @property
    def factor(self) -> float:
        """Base units per unit of the file's values (1 without `unit`)."""
        return 1.0 if self.unit is None else self.unit_parser(f"1 {self.unit}")


class MixtureSpec(Spec, Generic[C]):
    """A mixture: with probability proportional to its weight, a value from each component."""

    dist: Literal["mixture"]
    components: Annotated[list[C], MinLen(2)]
    """At least two `{weight: w, dist: ..., ...}`; weights > 0 are normalised to sum to 1."""

