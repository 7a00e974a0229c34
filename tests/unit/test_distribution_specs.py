"""The distribution library by hand: spec validation, hand-computed cases, unchanged draws.

(Named apart from tests/validation/test_distributions.py: the test folders are not packages,
so two test modules may not share a basename.)
"""

from __future__ import annotations

import ast
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy.special import erfcx

from simulator.compute.workload import RequestSource
from simulator.distributions import (
    Empirical,
    EmpiricalSize,
    ExponentialTime,
    FixedSize,
    FixedTime,
    LogNormalTime,
    MixtureTime,
    SizeDist,
    TimeDist,
    Weibull,
    build,
)
from simulator.distributions.files import _read_column
from simulator.engine.streams import Streams
from simulator.scenario.schema import Service

TIME, SIZE = TypeAdapter(TimeDist), TypeAdapter(SizeDist)

KINDS = [  # plain numbers are base units, so each spec is valid in both families
    {"dist": "exponential", "mean": 0.02},
    {"dist": "fixed", "value": 5},
    {"dist": "lognormal", "mean": 0.04, "cv": 1.0},
    {"dist": "weibull", "shape": 0.7, "scale": 18000},
    {"dist": "weibull", "shape": 2.0, "mean": 1e4},
    {"dist": "gamma", "shape": 2, "scale": 0.01},
    {"dist": "gamma", "mean": 0.04, "cv": 0.5},
    {"dist": "uniform", "low": 10, "high": 30},
    {"dist": "empirical", "file": "rtt.csv", "column": "rtt"},
    {"dist": "mixture", "components": [{"weight": 0.9, "dist": "fixed", "value": 5},
                                       {"weight": 0.1, "dist": "exponential", "mean": 200}]},
]


@pytest.fixture
def data(tmp_path):
    """A folder holding rtt.csv with the values 1, 2, 4 (ms) in column `rtt`."""
    (tmp_path / "rtt.csv").write_text("host,rtt\na,4\nb,1\nc,\nd,2\n")
    return tmp_path


def _problem(adapter, spec, **context) -> str:
    with pytest.raises(ValidationError) as info:
        adapter.validate_python(spec, context=context or None)
    return str(info.value)


# --------------------------------------------------------------------------- the YAML as before


def test_existing_yaml_validates_as_before():
    exp = TIME.validate_python({"dist": "exponential", "mean": "20 ms"})
    assert isinstance(exp, ExponentialTime) and exp.mean == 0.02
    logn = TIME.validate_python({"dist": "lognormal", "mean": "40 ms", "cv": 1.0})
    assert isinstance(logn, LogNormalTime) and (logn.mean, logn.cv) == (0.04, 1.0)
    fixed = SIZE.validate_python({"dist": "fixed", "value": "32 KiB"})
    assert isinstance(fixed, FixedSize) and fixed.value == 32768
    assert SIZE.validate_python({"dist": "fixed", "value": 0}).value == 0
    assert "fixed.value" in _problem(TIME, {"dist": "fixed", "value": 0})
    assert FixedTime(dist="fixed", value=1.0) == TIME.validate_python({"dist": "fixed", "value": "1 s"})


@pytest.mark.parametrize("spec", [
    {"dist": "exponential", "mean": 2.0},
    {"dist": "lognormal", "mean": 2.0, "cv": 1.5},
    {"dist": "fixed", "value": 2.0},
])
def test_draws_are_the_ones_dcsim_always_drew(spec):
    """Same seed, same numbers as the former workload.sample, in both families (lognormal:
    the same normal draws through numpy's vectorised exp, equal to Generator.lognormal's up
    to its last bits)."""
    for adapter in (TIME, SIZE):
        d = build(adapter.validate_python(spec))
        got = d.sample(np.random.default_rng(9), 1000)
        rng = np.random.default_rng(9)
        if spec["dist"] == "fixed":
            want = np.full(1000, 2.0)
        elif spec["dist"] == "lognormal":
            sigma2 = math.log1p(spec["cv"] ** 2)
            mu, sigma = math.log(spec["mean"]) - sigma2 / 2, math.sqrt(sigma2)
            np.testing.assert_allclose(got, np.random.default_rng(9).lognormal(mu, sigma, 1000),
                                       rtol=1e-14)
            want = np.exp(rng.standard_normal(1000) * sigma + mu)
        else:
            want = rng.exponential(spec["mean"], 1000)
        assert np.array_equal(got, want)


def test_request_source_builds_its_distributions_once():
    service = Service.model_validate({"fleet": "w", "arrivals": {"process": "poisson", "rate": 50},
                                      "service_time": {"dist": "lognormal", "mean": 0.02, "cv": 2}})
    streams = Streams(4)
    source = RequestSource("api", service, streams)
    batch = source.window(0, 60)
    expected = source.service_time.sample(streams.chunk("service.api.service_time", 0), len(batch))
    assert np.array_equal(batch.service, expected)
    assert source.service_time.mean == 0.02 and source.response_size.scv == 0.0


@pytest.mark.parametrize("spec", KINDS, ids=lambda s: s["dist"])
def test_every_kind_round_trips_and_pickles(spec, data):
    for adapter, unit in ((TIME, "ms"), (SIZE, "KiB")):
        raw = spec | {"unit": unit} if spec["dist"] == "empirical" else spec
        s = adapter.validate_python(raw, context={"base_dir": str(data)})
        assert adapter.validate_python(s.model_dump(mode="json")) == s
        assert pickle.loads(pickle.dumps(s)) == s
        d = build(s)
        assert d.sample(np.random.default_rng(1), 0).shape == (0,)
        assert d.cdf(np.zeros((2, 3))).shape == (2, 3)


# --------------------------------------------------------------------------- bad specs


@pytest.mark.parametrize("spec, where, what", [
    ({"dist": "exponential", "mean": math.inf}, "exponential.mean", "finite"),
    ({"dist": "lognormal", "mean": 1, "cv": math.nan}, "lognormal.cv", "finite"),
    ({"dist": "lognormal", "mean": 1, "cv": 0}, "lognormal.cv", "greater than 0"),
    ({"dist": "exponential", "mean": "-1 s"}, "exponential.mean", "greater than 0"),
    ({"dist": "exponential", "mean": 1, "rate": 2}, "exponential.rate", "Extra inputs"),
    ({"dist": "gaussian", "mean": 1}, "", "'gaussian'"),
    ({"dist": "weibull", "shape": 1, "scale": 1, "mean": 1}, "weibull", "`scale` or `mean`"),
    ({"dist": "weibull", "shape": 1}, "weibull", "neither"),
    ({"dist": "weibull", "shape": -1, "scale": 1}, "weibull.shape", "greater than or equal to 0.01"),
    ({"dist": "gamma", "shape": 2, "mean": 1}, "gamma", "given: shape, mean"),
    ({"dist": "gamma", "shape": 2}, "gamma", "exactly one pair"),
    ({"dist": "uniform", "low": -1, "high": 1}, "uniform.low", "greater than or equal to 0"),
    ({"dist": "uniform", "low": 2, "high": 1}, "uniform.high", "above `low`"),
    ({"dist": "uniform", "low": 0, "high": math.inf}, "uniform.high", "finite"),
    ({"dist": "mixture", "components": [{"weight": 1, "dist": "fixed", "value": 1}]},
     "mixture.components", "at least 2"),
    ({"dist": "mixture", "components": [{"weight": 1, "dist": "fixed", "value": 1},
                                        {"dist": "fixed", "value": 2}]},
     "mixture.components.1.fixed.weight", "Field required"),
    ({"dist": "mixture", "components": [{"weight": 1, "dist": "fixed", "value": 1},
                                        {"weight": 0, "dist": "fixed", "value": 2}]},
     "mixture.components.1.fixed.weight", "greater than 0"),
    ({"dist": "mixture", "components": [{"weight": 1, "dist": "fixed", "value": 1},
                                        {"weight": 1, "dist": "mixture", "components": []}]},
     "mixture.components.1", "'mixture'"),
])
def test_bad_specs_name_the_field(spec, where, what):
    message = _problem(TIME, spec)
    assert where in message and what in message


@pytest.mark.parametrize("text, where, what", [
    (None, "empirical.file", "no such file"),
    ("host,latency\na,1\nb,2\n", "empirical.column", "no column 'rtt'"),
    ("rtt\n1\n-2\n", "empirical.column", "line 3"),
    ("rtt\n1\nnan\n", "empirical.column", "finite"),
    ("rtt\n1\ninf\n", "empirical.column", "finite"),
    ("rtt\n1\nslow\n", "empirical.column", "not a number"),
    ("rtt\n1\n", "empirical.column", "at least two distinct"),
    ("rtt\n3\n3\n", "empirical.column", "all equal"),
])
def test_bad_empirical_files_are_named(tmp_path, text, where, what):
    if text is not None:
        (tmp_path / "rtt.csv").write_text(text)
    spec = {"dist": "empirical", "file": "rtt.csv", "column": "rtt"}
    message = _problem(TIME, spec, base_dir=str(tmp_path))
    assert where in message and what in message


def test_an_unknown_unit_of_an_empirical_file_is_named(data):
    spec = {"dist": "empirical", "file": "rtt.csv", "column": "rtt", "unit": "furlongs"}
    assert "empirical.unit" in _problem(TIME, spec, base_dir=str(data))
    assert "empirical.unit" in _problem(SIZE, spec | {"unit": "ms"}, base_dir=str(data))


# --------------------------------------------------------------------------- empirical by hand


def test_empirical_of_one_two_four_by_hand():
    """Values [1, 2, 4]: gaps [1, 2] and [2, 4] each hold probability 1/2, uniformly."""
    d = Empirical(np.array([4.0, 1.0, 2.0]))
    q = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    assert d.ppf(q).tolist() == [1.0, 1.5, 2.0, 3.0, 4.0]
    assert d.ppf(q) == pytest.approx(np.quantile([1.0, 2.0, 4.0], q), abs=1e-15)
    assert d.cdf([0.5, 1.5, 3.0, 4.0, 9.0]).tolist() == [0.0, 0.25, 0.75, 1.0, 1.0]
    assert d.sf([1.5, 3.0]).tolist() == [0.75, 0.25]
    assert d.mean == ((1 + 2) / 2 + (2 + 4) / 2) / 2 == 2.25
    e_x2 = ((1 + 2 + 4) / 3 + (4 + 8 + 16) / 3) / 2  # (a² + ab + b²) / 3 on each gap
    assert d.var == pytest.approx(e_x2 - 2.25**2, rel=1e-12)
    assert np.exp(d.logpdf([1.5, 3.0])) == pytest.approx([0.5, 0.25])
    assert d.logpdf([0.5, 4.5]).tolist() == [-np.inf, -np.inf]


def test_empirical_quantiles_are_numpys_linear_quantiles():
    xs = np.random.default_rng(2).lognormal(0, 1, 57)
    q = np.linspace(0, 1, 1001)
    assert Empirical(xs).ppf(q) == pytest.approx(np.quantile(xs, q), rel=1e-12)


def test_empirical_spec_scales_units_and_resolves_paths(data, monkeypatch):
    spec = {"dist": "empirical", "file": "rtt.csv", "column": "rtt", "unit": "ms"}
    s = TIME.validate_python(spec, context={"base_dir": str(data)})
    assert os.path.isabs(s.file) and s.file == str((data / "rtt.csv").resolve())
    assert build(s).values.tolist() == [0.001, 0.002, 0.004]
    monkeypatch.chdir(data)
    s = SIZE.validate_python(spec | {"unit": "KiB"})
    assert isinstance(s, EmpiricalSize) and build(s).values.tolist() == [1024, 2048, 4096]
    assert build(SIZE.validate_python(spec | {"unit": None})).values.tolist() == [1, 2, 4]


def test_empirical_files_are_read_once_until_they_change(data):
    spec = TIME.validate_python({"dist": "empirical", "file": "rtt.csv", "column": "rtt"},
                                context={"base_dir": str(data)})
    misses = _read_column.cache_info().misses
    for _ in range(5):
        assert build(spec).mean == 2.25
    assert _read_column.cache_info().misses == misses
    (data / "rtt.csv").write_text("rtt\n1\n3\n")
    st = os.stat(data / "rtt.csv")
    os.utime(data / "rtt.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert build(spec).mean == 2.0
    assert _read_column.cache_info().misses == misses + 1


# --------------------------------------------------------------------------- other kinds by hand


def test_mixture_mean_and_scv_by_hand():
    """1/4 fixed at 1 s + 3/4 exponential with mean 2 s (weights 1 and 3, normalised)."""
    s = TIME.validate_python({"dist": "mixture", "components": [
        {"weight": 1, "dist": "fixed", "value": "1 s"},
        {"weight": 3, "dist": "exponential", "mean": "2 s"}]})
    assert isinstance(s, MixtureTime)
    d = build(s)
    mean, square = 0.25 * 1 + 0.75 * 2, 0.25 * 1 + 0.75 * 2 * 2**2
    assert d.mean == pytest.approx(mean) and d.var == pytest.approx(square - mean**2)
    assert d.scv == pytest.approx((square - mean**2) / mean**2)
    assert d.cdf(1.0) == pytest.approx(0.25 + 0.75 * -math.expm1(-0.5))
    assert d.ppf(0.1) == pytest.approx(2 * -math.log1p(-0.1 / 0.75))
    assert d.ppf(0.3) == 1.0  # inside the atom
    with pytest.raises(ValueError, match="no density"):
        d.logpdf(0.5)


def test_fixed_has_no_density_and_no_life_past_its_value():
    d = build(TIME.validate_python({"dist": "fixed", "value": "2 s"}))
    with pytest.raises(ValueError, match="no density"):
        d.logpdf(1.0)
    with pytest.raises(ValueError, match="no hazard"):
        d.hazard(1.0)
    assert d.sample_residual(np.random.default_rng(0), 3, 0.5).tolist() == [1.5, 1.5, 1.5]
    with pytest.raises(ValueError, match="nothing lives that long"):
        d.sample_residual(np.random.default_rng(0), 3, 2.0)


def test_weibull_by_mean_and_its_exponential_case():
    d = build(TIME.validate_python({"dist": "weibull", "shape": 2.0, "mean": "3 s"}))
    assert d.mean == pytest.approx(3.0, rel=1e-12)
    assert d.scale == pytest.approx(3.0 / math.gamma(1.5), rel=1e-12)
    one = Weibull(1.0, 2.0)
    x = np.array([0.0, 0.5, 3.0, 40.0])
    exp = build(TIME.validate_python({"dist": "exponential", "mean": 2.0}))
    assert one.cdf(x) == pytest.approx(exp.cdf(x)) and one.logpdf(x) == pytest.approx(exp.logpdf(x))
    assert one.hazard(x) == pytest.approx(np.full(4, 0.5))


def test_gamma_parameter_pairs_agree():
    a = build(TIME.validate_python({"dist": "gamma", "mean": 2.0, "cv": 0.5}))
    b = build(TIME.validate_python({"dist": "gamma", "shape": 4.0, "scale": 0.5}))
    assert (a.shape, a.scale) == pytest.approx((b.shape, b.scale))
    assert a.scv == pytest.approx(0.25)


def test_exponential_residual_life_is_memoryless():
    d = build(TIME.validate_python({"dist": "exponential", "mean": 3.0}))
    got = d.sample_residual(np.random.default_rng(5), 10, 100.0)
    assert np.array_equal(got, np.random.default_rng(5).exponential(3.0, 10))


def test_residual_life_deep_in_the_tail_stays_finite():
    """Ages where sf underflows in linear space: log-space inversion still gives residuals."""
    weib = Weibull(2.0, 1.0)
    logn = build(TIME.validate_python({"dist": "lognormal", "mean": 1.0, "cv": 0.5}))
    for d, age in ((weib, 30.0), (logn, 1e4)):
        assert d.logsf(age) > -np.inf
        r = d.sample_residual(np.random.default_rng(1), 1000, age)
        assert np.all(np.isfinite(r) & (r > 0) & (r < age))
    # Weibull(2, 1) at age a: mean residual = integral of exp(a² - (a + x)²) = sqrt(pi)/2 erfcx(a);
    # the residual of an increasing-hazard life has cv <= 1, so its sd is at most that mean.
    n, exact = 100_000, math.sqrt(math.pi) / 2 * float(erfcx(30.0))
    se, tol = exact / math.sqrt(n), 0.02 * exact
    assert 3.3 * se <= tol
    r = weib.sample_residual(np.random.default_rng(1), n, 30.0)
    assert abs(r.mean() - exact) <= tol


def test_residual_ages_are_checked():
    d = Weibull(1.5, 1.0)
    with pytest.raises(ValueError, match="finite and >= 0"):
        d.sample_residual(np.random.default_rng(0), 2, -1.0)
    with pytest.raises(ValueError, match="length n"):
        d.sample_residual(np.random.default_rng(0), 2, [1.0, 2.0, 3.0])
    per_item = d.sample_residual(np.random.default_rng(0), 3, [0.0, 1.0, 5.0])
    assert per_item.shape == (3,) and np.all(per_item >= 0)
    with pytest.raises(ValueError, match="non-negative integer"):
        d.sample(np.random.default_rng(0), -1)


def test_the_library_is_pure():
    """No SimPy (nor the engine) anywhere in simulator/distributions."""
    folder = Path(__file__).resolve().parents[2] / "simulator" / "distributions"
    for f in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("simpy", "simulator.engine", "random")), (f, name)
