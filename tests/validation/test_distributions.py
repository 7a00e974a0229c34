"""Every kind of distribution against its closed forms, by sampling with a fixed seed.

Statistical policy: one fixed seed per test; tolerances fixed in advance (1 % of the mean,
2.5 % of E[X²], the Kolmogorov–Smirnov critical value at alpha = 0.001), never tuned to what a
seed gives; every moment test first asserts that 3.3 standard errors, computed from the
closed-form higher moments, fit inside its tolerance, so it proves its own power.  The raw
moments used here are written out independently of the library.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter

from simulator.distributions import TimeDist, build

Z = 3.3
N_MOMENTS = 1_000_000
N_KS = 20_000
KS_CRIT = math.sqrt(-math.log(0.0005) / 2) / math.sqrt(N_KS)  # alpha = 0.001, two-sided
MEAN_TOL, SQUARE_TOL = 0.01, 0.025  # relative to E[X] and E[X²]

CASES = {
    "exponential": {"dist": "exponential", "mean": 2.0},
    "fixed": {"dist": "fixed", "value": 1.5},
    "lognormal": {"dist": "lognormal", "mean": 2.0, "cv": 0.8},
    "weibull-infant": {"dist": "weibull", "shape": 0.7, "scale": 2.0},
    "weibull-wearout": {"dist": "weibull", "shape": 2.5, "mean": 3.0},
    "gamma": {"dist": "gamma", "shape": 2.5, "scale": 0.8},
    "gamma-mean-cv": {"dist": "gamma", "mean": 1.0, "cv": 1.5},
    "uniform": {"dist": "uniform", "low": 1.0, "high": 3.0},
    "empirical": {"dist": "empirical", "file": "sample.csv", "column": "rtt", "unit": "ms"},
    "mixture": {"dist": "mixture", "components": [
        {"weight": 3, "dist": "exponential", "mean": 0.5},
        {"weight": 7, "dist": "gamma", "shape": 4.0, "scale": 0.5}]},
    "mixture-with-atom": {"dist": "mixture", "components": [
        {"weight": 0.8, "dist": "fixed", "value": 0.2},
        {"weight": 0.2, "dist": "lognormal", "mean": 4.0, "cv": 0.5}]},
}
CONTINUOUS = [k for k in CASES if k not in ("fixed", "mixture-with-atom")]
AGED = ["weibull-infant", "weibull-wearout", "lognormal", "gamma", "gamma-mean-cv", "empirical",
        "mixture"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A folder with sample.csv: 200 distinct round-trip times in ms (no ties)."""
    folder = tmp_path_factory.mktemp("dist")
    values = np.random.default_rng(11).gamma(2.0, 15.0, 200)
    lines = ["host,rtt"] + [f"h{i},{float(v)!r}" for i, v in enumerate(values)]
    (folder / "sample.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def specs(data_dir):
    adapter = TypeAdapter(TimeDist)
    return {k: adapter.validate_python(v, context={"base_dir": str(data_dir)})
            for k, v in CASES.items()}


def raw_moment(spec, k: int) -> float:
    """E[X^k] from the textbook closed form of each kind (independent of the library)."""
    kind = spec.dist
    if kind == "exponential":
        return math.factorial(k) * spec.mean**k
    if kind == "fixed":
        return spec.value**k
    if kind == "lognormal":
        s2 = math.log(1 + spec.cv**2)
        return math.exp(k * (math.log(spec.mean) - s2 / 2) + k * k * s2 / 2)
    if kind == "weibull":
        g1 = math.gamma(1 + 1 / spec.shape)
        scale = spec.scale if spec.scale is not None else spec.mean / g1
        return scale**k * math.gamma(1 + k / spec.shape)
    if kind == "gamma":
        shape, scale = ((spec.shape, spec.scale) if spec.shape is not None
                        else (1 / spec.cv**2, spec.mean * spec.cv**2))
        return scale**k * math.gamma(shape + k) / math.gamma(shape)
    if kind == "uniform":
        a, b = spec.low, spec.high
        return (b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a))
    if kind == "empirical":
        x = np.sort(np.loadtxt(spec.file, delimiter=",", skiprows=1, usecols=1)) * 1e-3
        a, b = x[:-1], x[1:]  # each gap holds probability 1/(n-1), uniformly
        return float(np.mean((b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a))))
    assert kind == "mixture"
    total = sum(c.weight for c in spec.components)
    return sum(c.weight / total * raw_moment(c, k) for c in spec.components)


@pytest.mark.parametrize("name", list(CASES))
def test_closed_form_mean_and_variance(name, specs):
    """The library's mean and var equal the textbook moments (no sampling)."""
    d = build(specs[name])
    m1, m2 = raw_moment(specs[name], 1), raw_moment(specs[name], 2)
    assert d.mean == pytest.approx(m1, rel=1e-9)
    assert d.var == pytest.approx(m2 - m1**2, rel=1e-8, abs=1e-15)
    assert d.scv == pytest.approx((m2 - m1**2) / m1**2, rel=1e-8, abs=1e-15)


@pytest.mark.parametrize("name", list(CASES))
def test_sample_mean_and_square(name, specs):
    """Sample mean and sample E[X²] within fixed tolerances of the closed forms."""
    d = build(specs[name])
    x = d.sample(np.random.default_rng(20240501), N_MOMENTS)
    m1, m2, m4 = (raw_moment(specs[name], k) for k in (1, 2, 4))
    se1 = math.sqrt(d.var / N_MOMENTS)
    se2 = math.sqrt(max(m4 - m2**2, 0.0) / N_MOMENTS)
    tol1, tol2 = MEAN_TOL * d.mean, SQUARE_TOL * (d.var + d.mean**2)
    assert Z * se1 <= tol1 and Z * se2 <= tol2, "sample too small for the tolerance"
    assert abs(x.mean() - d.mean) <= tol1
    assert abs(np.mean(x * x) - (d.var + d.mean**2)) <= tol2


def ks_statistic(x: np.ndarray, cdf) -> float:
    """sup |F_n - F| of a sample against a continuous cdf."""
    x = np.sort(x)
    f = cdf(x)
    i = np.arange(1, len(x) + 1)
    return float(max(np.max(i / len(x) - f), np.max(f - (i - 1) / len(x))))


@pytest.mark.parametrize("name", CONTINUOUS)
def test_cdf_matches_samples(name, specs):
    """Kolmogorov–Smirnov at alpha = 0.001: samples follow the cdf."""
    d = build(specs[name])
    x = d.sample(np.random.default_rng(7), N_KS)
    assert ks_statistic(x, d.cdf) <= KS_CRIT


def test_fixed_and_atoms_by_counting(specs):
    """Point masses: a fixed draws only its value; the mixture's atom has its weight."""
    d = build(specs["fixed"])
    assert np.all(d.sample(np.random.default_rng(3), 1000) == 1.5)
    assert d.cdf([1.4999, 1.5]).tolist() == [0.0, 1.0]
    m = build(specs["mixture-with-atom"])
    x = m.sample(np.random.default_rng(3), N_KS)
    p = np.mean(x == 0.2)
    se = math.sqrt(0.8 * 0.2 / N_KS)
    tol = 0.01
    assert Z * se <= tol
    assert abs(p - 0.8) <= tol
    assert m.cdf(0.2) - m.cdf(0.2 - 1e-12) == pytest.approx(0.8, abs=1e-6)


def _ages(d) -> list[float]:
    """The median, the 99th percentile, and for unbounded kinds a deep-tail age (sf = 1e-12)."""
    ages = [float(d.ppf(0.5)), float(d.ppf(0.99))]
    deep = float(d.isf(1e-12))
    if np.isfinite(deep) and d.sf(deep) > 0 and deep > ages[-1]:
        ages.append(deep)
    return ages


@pytest.mark.parametrize("name", AGED)
def test_residual_life_matches_the_conditional_cdf(name, specs):
    """KS at alpha = 0.001 against (F(age + x) - F(age)) / S(age), computed from sf."""
    d = build(specs[name])
    for i, age in enumerate(_ages(d)):
        r = d.sample_residual(np.random.default_rng(100 + i), N_KS, age)
        assert np.all(r >= 0)
        log_s_age = d.logsf(age)

        def conditional_cdf(x, age=age, log_s_age=log_s_age):
            return -np.expm1(d.logsf(age + x) - log_s_age)

        assert ks_statistic(r, conditional_cdf) <= KS_CRIT, f"age {age:g}"


@pytest.mark.parametrize("name", CONTINUOUS)
def test_hazard_is_density_over_survival(name, specs):
    d = build(specs[name])
    x = d.ppf(np.linspace(0.01, 0.99, 41))
    assert d.hazard(x) == pytest.approx(np.exp(d.logpdf(x)) / d.sf(x), rel=1e-9)


@pytest.mark.parametrize("name", CONTINUOUS)
def test_logpdf_is_the_derivative_of_the_cdf(name, specs):
    """exp(logpdf) against a central difference of cdf, away from knots of the empirical."""
    d = build(specs[name])
    if name == "empirical":
        v = d.values
        x = ((v[:-1] + v[1:]) / 2)[::10]
    else:
        x = d.ppf(np.linspace(0.02, 0.98, 25))
    h = 1e-6 * x
    numeric = (d.cdf(x + h) - d.cdf(x - h)) / (2 * h)
    assert np.exp(d.logpdf(x)) == pytest.approx(numeric, rel=1e-4)


@pytest.mark.parametrize("name", CONTINUOUS)
def test_quantiles_invert_cdf_and_sf(name, specs):
    d = build(specs[name])
    q = np.array([1e-6, 0.01, 0.3, 0.5, 0.9, 0.999])
    assert d.cdf(d.ppf(q)) == pytest.approx(q, rel=1e-6)
    assert d.sf(d.isf(q)) == pytest.approx(q, rel=1e-6)
