"""From a validated spec to its distribution object, through one table.

``build(spec)`` looks the spec's kind up in ``FACTORIES`` (one entry per kind, serving both
the duration and the size family) and returns the distribution in the family's base unit.
Build once and reuse the object: building an empirical distribution reads its file through
the cache in ``simulator.distributions.files``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from simulator.distributions.composite import Empirical, Mixture
from simulator.distributions.core import Distribution
from simulator.distributions.files import read_column
from simulator.distributions.lifetimes import Gamma, Weibull
from simulator.distributions.parametric import (
    Exponential,
    Fixed,
    LogNormal,
    Uniform,
)
from simulator.distributions.specs import (
    EmpiricalSpec,
    ExponentialSpec,
    FixedSpec,
    GammaSpec,
    LogNormalSpec,
    MixtureSpec,
    UniformSpec,
    WeibullSpec,
)


def _weibull(spec: Any) -> Weibull:
    if spec.scale is not None:
        return Weibull(spec.shape, spec.scale)
    return Weibull(spec.shape, spec.mean / math.exp(math.lgamma(1 + 1 / spec.shape)))


def _empirical(spec: Any) -> Empirical:
    return Empirical(read_column(spec.file, spec.column) * spec.factor)


def _mixture(spec: Any) -> Mixture:
    return Mixture([c.weight for c in spec.components], [build(c) for c in spec.components])


FACTORIES: dict[type, Callable[[Any], Distribution]] = {
    ExponentialSpec: lambda s: Exponential(s.mean),
    FixedSpec: lambda s: Fixed(s.value),
    LogNormalSpec: lambda s: LogNormal(s.mean, s.cv),
    WeibullSpec: _weibull,
    GammaSpec: lambda s: Gamma(*s.shape_scale),
    UniformSpec: lambda s: Uniform(s.low, s.high),
    EmpiricalSpec: _empirical,
    MixtureSpec: _mixture,
}
"""The factory of each kind of spec, keyed by the generic kind (both families share it)."""


def build(spec: Any) -> Distribution:
    """The distribution object a validated spec (``TimeDist`` or ``SizeDist``) describes."""
    for cls in type(spec).__mro__:
        factory = FACTORIES.get(cls)
        if factory is not None:
            return factory(spec)
    raise TypeError(f"no distribution for {type(spec).__name__}; expected a TimeDist or SizeDist")
