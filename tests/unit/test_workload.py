"""Request streams: rates, periodic schedules and the time grid (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from simulator.compute.workload import RequestSource, expected_arrivals
from simulator.distributions import build
from simulator.engine.streams import Streams
from simulator.scenario.schema import Arrivals, Service, SizeDist, TimeDist

ARRIVALS = TypeAdapter(Arrivals)
DAILY = {"process": "piecewise", "period": "1 d",
         "steps": [{"at": 0, "rate": "10/s"}, {"at": "8 h", "rate": "50/s"}, {"at": "20 h", "rate": "20/s"}]}


def test_expected_arrivals_of_a_periodic_schedule():
    daily = ARRIVALS.validate_python(DAILY)
    one_day = 10 * 8 * 3600 + 50 * 12 * 3600 + 20 * 4 * 3600
    assert expected_arrivals(daily, 86400) == pytest.approx(one_day)
    assert expected_arrivals(daily, 7 * 86400) == pytest.approx(7 * one_day)
    assert expected_arrivals(daily, 86400 + 9 * 3600) == pytest.approx(one_day + 10 * 8 * 3600 + 50 * 3600)


def test_a_step_outside_the_period_is_rejected():
    bad = DAILY | {"steps": [{"at": 0, "rate": 1}, {"at": "25 h", "rate": 2}]}
    with pytest.raises(ValidationError, match="within the period"):
        ARRIVALS.validate_python(bad)


def test_periodic_arrivals_follow_the_profile():
    """Counts per phase over 5 days are Poisson: tolerance 3.3 standard deviations each."""
    service = Service.model_validate({"fleet": "w", "arrivals": DAILY,
                                      "service_time": {"dist": "fixed", "value": 0.01}})
    batch = RequestSource("api", service, Streams(3)).window(0, 5 * 86400)
    phase = batch.arrival % 86400
    for lo, hi, rate in ((0, 8 * 3600, 10), (8 * 3600, 20 * 3600, 50), (20 * 3600, 86400, 20)):
        expected = 5 * rate * (hi - lo)
        count = np.count_nonzero((phase >= lo) & (phase < hi))
        assert abs(count - expected) < 3.3 * np.sqrt(expected)


def test_windows_are_the_same_requests_however_they_are_cut():
    service = Service.model_validate({"fleet": "w", "arrivals": DAILY,
                                      "service_time": {"dist": "exponential", "mean": 0.01}})
    whole = RequestSource("api", service, Streams(5)).window(0, 1000)
    source = RequestSource("api", service, Streams(5))
    cuts = [0, 7.5, 60, 61, 300, 999.9, 1000]
    parts = [source.window(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    for field in ("arrival", "service", "size", "route_u"):
        assert np.array_equal(getattr(whole, field), np.concatenate([getattr(p, field) for p in parts]))


def test_blocks_drawn_ahead_are_the_blocks_drawn_in_turn():
    """Drawing the next block on the worker thread (while sub-blocks split a busy block, and
    windows cut anywhere) gives exactly the requests of drawing each block when first used;
    the worker ends with close() and draws nothing from until_s on."""
    busy = {"process": "piecewise", "steps": [{"at": 0, "rate": "30000/s"},
                                              {"at": "150 s", "rate": "50/s"}]}
    service = Service.model_validate({"fleet": "w", "arrivals": busy,
                                      "service_time": {"dist": "lognormal", "mean": 0.04, "cv": 1},
                                      "response_size": {"dist": "exponential", "mean": 1000}})
    in_turn = RequestSource("api", service, Streams(11), until_s=0.0)  # never draws ahead
    ahead = RequestSource("api", service, Streams(11), until_s=300.0)
    cuts = [0, 0.5, 59.99, 61, 61.5, 130, 150, 151, 240, 299.5, 300]
    for a, b in zip(cuts, cuts[1:], strict=False):
        x, y = in_turn.window(a, b), ahead.window(a, b)
        for field in ("arrival", "service", "size", "route_u"):
            assert np.array_equal(getattr(x, field), getattr(y, field))
    assert in_turn._worker is None and ahead._worker is not None
    assert all(k * 60.0 < 300.0 for k, _ in ahead._ahead)
    workers = list(ahead._worker._threads)
    assert workers and all(w.is_alive() for w in workers)
    ahead.close()
    assert not any(w.is_alive() for w in workers) and not ahead._ahead and ahead._worker is None


@pytest.mark.parametrize("spec, mean, scv", [
    ({"dist": "exponential", "mean": 2.0}, 2.0, 1.0),
    ({"dist": "lognormal", "mean": 2.0, "cv": 1.5}, 2.0, 2.25),
    ({"dist": "fixed", "value": 2.0}, 2.0, 0.0),
])
def test_distribution_moments(spec, mean, scv):
    """Sample mean within 3.3 standard errors of the analytic mean (n = 400,000)."""
    for adapter in (TypeAdapter(TimeDist), TypeAdapter(SizeDist)):
        dist = adapter.validate_python(spec)
        x = build(dist).sample(np.random.default_rng(1), 400_000)
        se = mean * np.sqrt(scv / len(x))
        assert abs(x.mean() - mean) <= 3.3 * se + 1e-12
