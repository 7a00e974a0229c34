"""What every distribution object offers, and the defaults derived from a few primitives.

A distribution describes a non-negative quantity in its base unit (seconds or bytes).  Each
kind gives ``mean``, ``var``, ``sample``, ``cdf``, ``sf``, ``logpdf``, ``ppf`` and ``isf``;
this base derives ``scv``, ``pdf``, ``logsf``, ``hazard`` and residual-life sampling from
them.  Every function is vectorised over NumPy arrays; every draw comes from the generator
passed in (a named stream), never a global one.
"""

from __future__ import annotations

import abc
import math

import numpy as np


class _LazySpecial:
    """scipy.special, imported on first use: building and validating specs never needs it,
    and importing it is a fifth of a second of every `dcsim validate`."""

    def __getattr__(self, name: str):
        from scipy import special

        return getattr(special, name)


special = _LazySpecial()
"""Use as ``special.ndtr(...)`` (scipy.special's functions)."""


def as_array(x) -> np.ndarray:
    """`x` as a float array (a 0-d array for a scalar)."""
    return np.asarray(x, dtype=np.float64)


def probabilities(q) -> np.ndarray:
    """`q` as a float array with values outside [0, 1] (and NaN) replaced by NaN."""
    q = as_array(q)
    return np.where((q >= 0) & (q <= 1), q, np.nan)


def positive(**params: float) -> None:
    """ValueError naming the first parameter that is not finite and > 0."""
    for name, value in params.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be finite and > 0, not {value!r}")


def count(n) -> int:
    """`n` as a sample size (a non-negative integer); ValueError otherwise."""
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"a sample size must be a non-negative integer, not {n!r}")
    return int(n)


class Distribution(abc.ABC):
    """A probability distribution of a non-negative quantity, in one base unit.

    Subclasses provide ``mean`` and ``var`` (attributes or properties) and the abstract
    methods; the rest follows from them.
    """

    mean: float
    """Expected value."""
    var: float
    """Variance."""

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, var / mean² (0 for a constant, 1 exponential)."""
        return self.var / self.mean**2 if self.var > 0 else 0.0

    @abc.abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` independent draws from `rng`."""

    @abc.abstractmethod
    def cdf(self, x) -> np.ndarray:
        """P(X <= x)."""

    @abc.abstractmethod
    def sf(self, x) -> np.ndarray:
        """Survival function P(X > x), computed directly (accurate where it is tiny)."""

    def logsf(self, x) -> np.ndarray:
        """log P(X > x) (-inf where nothing survives)."""
        with np.errstate(divide="ignore"):
            return np.log(self.sf(x))

    @abc.abstractmethod
    def logpdf(self, x) -> np.ndarray:
        """Log of the probability density at x (-inf outside the support)."""

    def pdf(self, x) -> np.ndarray:
        """Probability density at x."""
        return np.exp(self.logpdf(x))

    def hazard(self, x) -> np.ndarray:
        """Hazard rate pdf(x) / sf(x), the failure rate at age x (inf where nothing survives)."""
        lp, ls = self.logpdf(x), self.logsf(x)
        with np.errstate(invalid="ignore"):
            return np.where(ls == -np.inf, np.inf, np.exp(lp - ls))

    @abc.abstractmethod
    def ppf(self, q) -> np.ndarray:
        """Quantile function: the smallest x with P(X <= x) >= q (NaN outside [0, 1])."""

    @abc.abstractmethod
    def isf(self, s) -> np.ndarray:
        """Inverse survival function: x with P(X > x) = s, accurate for tiny s."""

    def sample_residual(self, rng: np.random.Generator, n: int, age) -> np.ndarray:
        """`n` draws of the residual life X - age given X > age (`age` scalar or length n).

        By inversion of the conditional survival function: with V uniform on (0, 1],
        X = isf(V * sf(age)), which stays accurate deep in the tail where 1 - cdf would not.
        """
        a = residual_ages(self, age, count(n))
        s = self.sf(a) * (1.0 - rng.random(len(a)))
        return np.maximum(self.isf(s) - a, 0.0)


def residual_ages(dist: Distribution, age, n: int) -> np.ndarray:
    """`age` broadcast to n values, checked to be finite, >= 0 and survivable (log sf > -inf)."""
    a = as_array(age)
    if a.ndim > 1 or (a.ndim == 1 and len(a) != n):
        raise ValueError(f"age must be a number or an array of length n = {n}, not shape {a.shape}")
    if not np.all(np.isfinite(a) & (a >= 0)):
        raise ValueError("ages must be finite and >= 0")
    a = np.broadcast_to(a, (n,))
    dead = dist.logsf(a) == -np.inf
    if np.any(dead):
        raise ValueError(
            f"P(X > age) is 0 at age {float(a[dead][0]):g} for {dist!r}: nothing lives that long"
        )
    return a
