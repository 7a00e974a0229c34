"""Distributions made of others or of data: empirical (from a sample) and mixtures.

The empirical distribution of sorted values x_0 <= ... <= x_{n-1} is the one whose quantile
function interpolates them linearly (NumPy's default "linear" quantile method): each of the
n - 1 gaps [x_i, x_{i+1}] holds probability 1 / (n - 1), spread uniformly (a tie is an atom).
A mixture draws a component with probability of its weight, then a value from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from simulator.distributions.core import (
    Distribution,
    as_array,
    count,
    probabilities,
    residual_ages,
    special,
)


@dataclass(frozen=True, eq=False)
class Empirical(Distribution):
    """The piecewise-linear-quantile distribution of a sample (at least two distinct values)."""

    values: np.ndarray
    """The sample, sorted on construction (read-only)."""

    def __post_init__(self) -> None:
        xs = np.sort(as_array(self.values).ravel())
        if len(xs) < 2 or xs[0] == xs[-1] or not np.all(np.isfinite(xs)) or xs[0] < 0:
            raise ValueError("an empirical distribution needs >= 2 distinct finite values >= 0")
        xs.flags.writeable = False
        object.__setattr__(self, "values", xs)

    def __repr__(self) -> str:
        xs = self.values
        return f"Empirical(n={len(xs)}, min={xs[0]:g}, max={xs[-1]:g})"

    @property
    def _gaps(self) -> tuple[np.ndarray, np.ndarray]:
        return self.values[:-1], self.values[1:]

    @property
    def mean(self) -> float:
        a, b = self._gaps
        return float(np.mean((a + b) / 2))

    @property
    def var(self) -> float:
        a, b = (g - self.mean for g in self._gaps)
        return float(np.mean((a * a + a * b + b * b) / 3))

    def _locate(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(gap index k, fraction of the gap below x) for each x, clamped to the support."""
        xs, m = self.values, len(self.values) - 1
        x = as_array(x)
        k = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, m - 1)
        width = xs[k + 1] - xs[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip((x - xs[k]) / width, 0.0, 1.0)
        frac = np.where(x >= xs[-1], 1.0, np.where(x < xs[0], 0.0, frac))
        return k, frac

    def sample(self, rng, n):
        return self.ppf(rng.random(count(n)))

    def cdf(self, x):
        k, frac = self._locate(x)
        return (k + frac) / (len(self.values) - 1)

    def sf(self, x):
        k, frac = self._locate(x)
        m = len(self.values) - 1
        return ((m - k) - frac) / m

    def logpdf(self, x):
        xs, m = self.values, len(self.values) - 1
        x = as_array(x)
        k, _ = self._locate(x)
        with np.errstate(divide="ignore"):
            out = -np.log(m * (xs[k + 1] - xs[k]))
        return np.where((x >= xs[0]) & (x <= xs[-1]), out, -np.inf)

    def ppf(self, q):
        xs, m = self.values, len(self.values) - 1
        q = probabilities(q)
        h = np.where(np.isnan(q), 0.0, q) * m
        i = np.clip(np.floor(h).astype(np.intp), 0, m - 1)
        out = xs[i] + (h - i) * (xs[i + 1] - xs[i])
        return np.where(np.isnan(q), np.nan, out)

    def isf(self, s):
        return self.ppf(1.0 - probabilities(s))


@dataclass(frozen=True, eq=False)
class Mixture(Distribution):
    """A finite mixture: component j with probability weights[j] (normalised to sum to 1)."""

    weights: Sequence[float]
    components: Sequence[Distribution]
    _log_w: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        w = as_array(self.weights).ravel()
        if len(w) != len(self.components) or len(w) == 0:
            raise ValueError("a mixture needs one positive weight per component, at least one")
        if not np.all(np.isfinite(w) & (w > 0)):
            raise ValueError(f"mixture weights must be finite and > 0, not {list(w)}")
        w = w / w.sum()
        object.__setattr__(self, "weights", tuple(float(v) for v in w))
        object.__setattr__(self, "components", tuple(self.components))
        object.__setattr__(self, "_log_w", np.log(w))

    @property
    def mean(self) -> float:
        return float(sum(w * c.mean for w, c in zip(self.weights, self.components, strict=True)))

    @property
    def var(self) -> float:
        m = self.mean
        return float(sum(w * (c.var + (c.mean - m) ** 2)
                         for w, c in zip(self.weights, self.components, strict=True)))

    def _pick(self, rng, p: np.ndarray) -> np.ndarray:
        """One component index per column of the probabilities `p` (components x draws)."""
        u = rng.random(p.shape[1])
        idx = np.count_nonzero(u > np.cumsum(p, axis=0), axis=0)
        last = len(p) - 1 - np.argmax(p[::-1] > 0, axis=0)  # never a component with p = 0
        return np.minimum(idx, last)

    def sample(self, rng, n):
        n = count(n)
        cum = np.cumsum(self.weights)
        idx = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1)
        out = np.empty(n)
        for j, comp in enumerate(self.components):
            mask = idx == j
            out[mask] = comp.sample(rng, int(np.count_nonzero(mask)))
        return out

    def cdf(self, x):
        return sum(w * c.cdf(x) for w, c in zip(self.weights, self.components, strict=True))

    def sf(self, x):
        return sum(w * c.sf(x) for w, c in zip(self.weights, self.components, strict=True))

    def _log_terms(self, fn: str, x) -> np.ndarray:
        x = as_array(x)
        lw = self._log_w.reshape((-1,) + (1,) * x.ndim)
        return lw + np.stack([getattr(c, fn)(x) for c in self.components])

    def logsf(self, x):
        return special.logsumexp(self._log_terms("logsf", x), axis=0)

    def logpdf(self, x):
        try:
            return special.logsumexp(self._log_terms("logpdf", x), axis=0)
        except ValueError as exc:
            raise ValueError(f"this mixture has no density: {exc}") from None

    def _invert(self, fn: str, target, decreasing: bool) -> np.ndarray:
        """x where the mixture's `fn` (cdf or sf) meets `target`, by bisection between the
        components' own quantiles (the mixture's lies between their least and greatest)."""
        t = probabilities(target)
        inverse = "isf" if decreasing else "ppf"
        qs = np.stack([getattr(c, inverse)(t) for c in self.components])
        lo, hi = qs.min(axis=0), qs.max(axis=0)
        done = ~np.isfinite(hi) | (lo == hi)
        lo = np.where(done, hi, lo)
        for _ in range(200):
            mid = lo + (hi - lo) / 2
            if np.all((mid == lo) | (mid == hi)):
                break
            v = getattr(self, fn)(mid)
            above = v <= t if decreasing else v >= t
            hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
        return np.where(np.isnan(t), np.nan, hi)

    def ppf(self, q):
        return self._invert("cdf", q, decreasing=False)

    def isf(self, s):
        return self._invert("sf", s, decreasing=True)

    def sample_residual(self, rng, n, age):
        """Pick a component with its posterior weight given survival to `age`
        (w_j sf_j(age) / sf(age)), then draw that component's residual life."""
        a = residual_ages(self, age, count(n))
        log_post = self._log_terms("logsf", a)
        post = np.exp(log_post - special.logsumexp(log_post, axis=0))
        idx = self._pick(rng, post)
        out = np.empty(len(a))
        for j, comp in enumerate(self.components):
            mask = idx == j
            if np.any(mask):
                out[mask] = comp.sample_residual(rng, int(np.count_nonzero(mask)), a[mask])
        return out
