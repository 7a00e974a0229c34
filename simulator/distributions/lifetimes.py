"""Lifetime distributions with a hazard that changes with age: Weibull and gamma.

Closed forms from scipy.special; samples from the NumPy generator passed in.  Weibull
residual lives are drawn exactly (its cumulative hazard is explicit), gamma ones by inverting
the conditional survival function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.distributions.core import (
    Distribution,
    as_array,
    count,
    positive,
    probabilities,
    residual_ages,
    special,
)


@dataclass(frozen=True)
class Weibull(Distribution):
    """Weibull distribution with shape k and scale λ: sf(x) = exp(-(x/λ)^k)."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        positive(shape=self.shape, scale=self.scale)

    def _moment(self, k: int) -> float:
        """E[X^k] = λ^k Γ(1 + k/shape) (inf if it overflows)."""
        with np.errstate(over="ignore"):
            return float(np.exp(k * math.log(self.scale) + math.lgamma(1 + k / self.shape)))

    @property
    def mean(self) -> float:
        return self._moment(1)

    @property
    def var(self) -> float:
        g1, g2 = math.lgamma(1 + 1 / self.shape), math.lgamma(1 + 2 / self.shape)
        with np.errstate(over="ignore"):
            return float(self.scale**2 * np.exp(2 * g1) * np.expm1(g2 - 2 * g1))

    def sample(self, rng, n):
        return self.scale * rng.weibull(self.shape, count(n))

    def _t(self, x):
        return (np.maximum(as_array(x), 0.0) / self.scale) ** self.shape

    def cdf(self, x):
        return -np.expm1(-self._t(x))

    def sf(self, x):
        return np.exp(-self._t(x))

    def logsf(self, x):
        return -self._t(x)

    def logpdf(self, x):
        x = as_array(x)
        u = np.maximum(x, 0.0) / self.scale
        with np.errstate(divide="ignore"):
            out = math.log(self.shape / self.scale) + special.xlogy(self.shape - 1, u) - u**self.shape
        return np.where(x >= 0, out, -np.inf)

    def hazard(self, x):
        x = as_array(x)
        u = np.maximum(x, 0.0) / self.scale
        with np.errstate(divide="ignore"):
            out = np.exp(math.log(self.shape / self.scale) + special.xlogy(self.shape - 1, u))
        return np.where(x >= 0, out, 0.0)

    def ppf(self, q):
        return self.scale * (-np.log1p(-probabilities(q))) ** (1 / self.shape)

    def isf(self, s):
        with np.errstate(divide="ignore"):
            return self.scale * (-np.log(probabilities(s))) ** (1 / self.shape)

    def sample_residual(self, rng, n, age):
        """Exact: E = (X/λ)^k - (age/λ)^k is a unit exponential given X > age.

        With t = (age/λ)^k the residual is λ (t + E)^(1/k) - age; where E < t it is written
        age * expm1(log1p(E / t) / k), which keeps its relative precision when the residual is
        tiny next to the age (a long-lived item deep in the tail).
        """
        a = residual_ages(self, age, count(n))
        e = rng.standard_exponential(len(a))
        t = self._t(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            near = a * np.expm1(np.log1p(e / t) / self.shape)
            far = self.scale * (t + e) ** (1 / self.shape) - a
        return np.maximum(np.where(e < t, near, far), 0.0)


@dataclass(frozen=True)
class Gamma(Distribution):
    """Gamma distribution with shape k and scale θ (mean k θ, scv 1/k)."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        positive(shape=self.shape, scale=self.scale)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    @property
    def var(self) -> float:
        return self.shape * self.scale**2

    def sample(self, rng, n):
        return rng.gamma(self.shape, self.scale, count(n))

    def cdf(self, x):
        return special.gammainc(self.shape, np.maximum(as_array(x), 0.0) / self.scale)

    def sf(self, x):
        return special.gammaincc(self.shape, np.maximum(as_array(x), 0.0) / self.scale)

    def logpdf(self, x):
        x = as_array(x)
        u = np.maximum(x, 0.0) / self.scale
        with np.errstate(divide="ignore"):
            out = special.xlogy(self.shape - 1, u) - u - special.gammaln(self.shape) - math.log(self.scale)
        return np.where(x >= 0, out, -np.inf)

    def ppf(self, q):
        return self.scale * special.gammaincinv(self.shape, probabilities(q))

    def isf(self, s):
        return self.scale * special.gammainccinv(self.shape, probabilities(s))
