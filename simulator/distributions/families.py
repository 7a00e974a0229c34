"""The two families of distribution specs, durations and sizes, made from one definition.

``_family`` fixes the quantity of every generic kind in ``simulator.distributions.specs`` and
names the result (``ExponentialTime``, ``ExponentialSize``, ...); ``TimeDist`` and ``SizeDist``
are the unions a scenario field uses, chosen by the key ``dist:``.  In YAML::

    {dist: exponential, mean: 20 ms}
    {dist: fixed, value: 32 KiB}
    {dist: lognormal, mean: 40 ms, cv: 1.0}
    {dist: weibull, shape: 0.7, scale: 5 y}              # or shape and mean
    {dist: gamma, shape: 2, scale: 10 ms}                 # or mean and cv
    {dist: uniform, low: 10 ms, high: 30 ms}
    {dist: empirical, file: latency.csv, column: rtt, unit: ms}
    {dist: mixture, components: [{weight: 0.9, dist: fixed, value: 5 ms},
                                 {weight: 0.1, dist: exponential, mean: 200 ms}]}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Union

from annotated_types import Ge, Gt
from pydantic import Field

from simulator.distributions.specs import (
    FINITE,
    EmpiricalSpec,
    ExponentialSpec,
    FixedSpec,
    GammaSpec,
    LogNormalSpec,
    MixtureSpec,
    PositiveFloat,
    UniformSpec,
    WeibullSpec,
)
from simulator.scenario.base import Spec
from simulator.units import Duration, Size, parse_duration, parse_size

_SUMMARIES = {
    "Exponential": "Exponentially distributed {noun} (memoryless; coefficient of variation 1).",
    "Fixed": "A constant {noun}.",
    "LogNormal": "Log-normally distributed {noun} given by its mean and coefficient of variation.",
    "Weibull": "Weibull distributed {noun} given by its shape and either its scale or its mean.",
    "Gamma": "Gamma distributed {noun} given by shape and scale or by mean and cv.",
    "Uniform": "Uniformly distributed {noun} between `low` and `high`.",
    "Empirical": "The {noun} distribution of a sample in a CSV column (quantiles interpolated).",
    "Mixture": "A mixture of {noun} distributions, each chosen with probability of its weight.",
}


def _named(name: str, base: type[Spec], doc: str, **attrs: Any) -> type[Spec]:
    """A subclass of `base` named `name` in this module (so pickle finds it).

    Its fields and their descriptions are inherited from the classes that declare them.
    """
    ns = {"__module__": __name__, "__qualname__": name, "__doc__": doc, **attrs}
    cls = type(base)(name, (base,), ns)
    globals()[name] = cls
    return cls


def _family(suffix: str, noun: str, quantity: Any, fixed_value: Any,
            parse_unit: Callable[[object], float]) -> tuple[type[Spec], ...]:
    """The spec models of one family, in the order of ``_SUMMARIES``.

    `quantity` types every parameter in the family's unit, `fixed_value` the value of a fixed
    distribution, `parse_unit` reads the `unit:` of an empirical file.  Each non-mixture kind
    also gets a ``Weighted<Kind><suffix>`` twin with a `weight`, the components of a mixture.
    """
    bases: dict[str, type[Spec]] = {
        "Exponential": ExponentialSpec[quantity],
        "Fixed": FixedSpec[fixed_value],
        "LogNormal": LogNormalSpec[quantity],
        "Weibull": WeibullSpec[quantity],
        "Gamma": GammaSpec[quantity],
        "Uniform": UniformSpec[quantity],
        "Empirical": EmpiricalSpec,
    }
    extra = {"Empirical": {"unit_parser": staticmethod(parse_unit)}}
    made = {
        kind: _named(kind + suffix, base, _SUMMARIES[kind].format(noun=noun), **extra.get(kind, {}))
        for kind, base in bases.items()
    }
    weight = Annotated[PositiveFloat, Field(description="Relative weight of this component (> 0).")]
    weighted = [
        _named(f"Weighted{cls.__name__}", cls, f"A component of a mixture: {cls.__name__} with a `weight`.",
               __annotations__={"weight": weight})
        for cls in made.values()
    ]
    component = Annotated[Union[tuple(weighted)], Field(discriminator="dist")]  # noqa: UP007
    made["Mixture"] = _named("Mixture" + suffix, MixtureSpec[component],
                             _SUMMARIES["Mixture"].format(noun=noun))
    return tuple(made.values())


(ExponentialTime, FixedTime, LogNormalTime, WeibullTime, GammaTime, UniformTime, EmpiricalTime,
 MixtureTime) = TIME_SPECS = _family(
    "Time", "duration", Duration, Annotated[Duration, Gt(0), FINITE], parse_duration)

(ExponentialSize, FixedSize, LogNormalSize, WeibullSize, GammaSize, UniformSize, EmpiricalSize,
 MixtureSize) = SIZE_SPECS = _family(
    "Size", "size", Size, Annotated[Size, Ge(0), FINITE], parse_size)

TimeDist = Annotated[Union[TIME_SPECS], Field(discriminator="dist")]  # noqa: UP007
"""A distribution of durations (seconds), chosen by `dist:`."""
SizeDist = Annotated[Union[SIZE_SPECS], Field(discriminator="dist")]  # noqa: UP007
"""A distribution of sizes (bytes), chosen by `dist:`."""
