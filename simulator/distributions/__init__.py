"""One distribution library for dcsim: specs for scenarios, objects for the engine.

Specs (``TimeDist`` for durations, ``SizeDist`` for sizes) are frozen pydantic models chosen
by ``dist:`` (exponential, fixed, lognormal, weibull, gamma, uniform, empirical, mixture);
``build(spec)`` turns one into a ``Distribution`` with ``sample(rng, n)``, ``mean``, ``var``,
``scv``, ``cdf``, ``sf``, ``logsf``, ``logpdf``, ``pdf``, ``hazard``, ``ppf``, ``isf`` and
``sample_residual(rng, n, age)``, all vectorised, in base units (seconds or bytes).  Pure: no
SimPy, no global random state.
"""

from simulator.distributions.build import FACTORIES, build
from simulator.distributions.composite import Empirical, Mixture
from simulator.distributions.core import Distribution
from simulator.distributions.families import (
    EmpiricalSize,
    EmpiricalTime,
    ExponentialSize,
    ExponentialTime,
    FixedSize,
    FixedTime,
    GammaSize,
    GammaTime,
    LogNormalSize,
    LogNormalTime,
    MixtureSize,
    MixtureTime,
    SizeDist,
    TimeDist,
    UniformSize,
    UniformTime,
    WeibullSize,
    WeibullTime,
)
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

__all__ = [
    "FACTORIES", "Distribution", "Empirical", "EmpiricalSize", "EmpiricalSpec", "EmpiricalTime",
    "Exponential", "ExponentialSize", "ExponentialSpec", "ExponentialTime", "Fixed", "FixedSize",
    "FixedSpec", "FixedTime", "Gamma", "GammaSize", "GammaSpec", "GammaTime", "LogNormal",
    "LogNormalSize", "LogNormalSpec", "LogNormalTime", "Mixture", "MixtureSize", "MixtureSpec",
    "MixtureTime", "SizeDist", "TimeDist", "Uniform", "UniformSize", "UniformSpec",
    "UniformTime", "Weibull", "WeibullSize", "WeibullSpec", "WeibullTime", "build", "read_column",
]
