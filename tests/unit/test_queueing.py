"""Erlang C closed forms against the textbook formula and known special cases."""

from __future__ import annotations

import math

import pytest

from simulator.compute.queueing import (
    allen_cunneen_wait,
    erlang_b,
    erlang_c,
    mmc_mean_response,
    mmc_mean_wait,
    mmc_wait_tail,
)


def textbook_c(c: int, a: float) -> float:
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (2, 1.0), (4, 3.2), (16, 12.8), (50, 45.0)])
def test_erlang_c_matches_textbook(c, a):
    assert erlang_c(c, a) == pytest.approx(textbook_c(c, a), rel=1e-12)


def test_special_cases():
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.8) == pytest.approx(0.8)  # M/M/1: P(wait) = rho
    assert mmc_mean_response(8.0, 10.0, 1) == pytest.approx(0.5)  # 1/(mu - lam)
    assert mmc_mean_wait(0.0, 10.0, 3) == 0.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert mmc_wait_tail(0.0, 32.0, 10.0, 4) == pytest.approx(erlang_c(4, 3.2))
    assert mmc_wait_tail(0.1, 32.0, 10.0, 4) == pytest.approx(erlang_c(4, 3.2) * math.exp(-0.8))
    assert allen_cunneen_wait(32.0, 10.0, 4, 1.0, 1.0) == pytest.approx(mmc_mean_wait(32, 10, 4))
    assert allen_cunneen_wait(32.0, 10.0, 4, 1.0, 0.0) == pytest.approx(
        mmc_mean_wait(32, 10, 4) / 2)


def test_large_c_does_not_overflow():
    assert 0.0 < erlang_c(2000, 1900.0) < 1.0


def test_unstable_and_invalid():
    assert erlang_c(4, 4.0) == 1.0
    assert mmc_mean_wait(50.0, 10.0, 4) == math.inf
    assert mmc_wait_tail(1.0, 50.0, 10.0, 4) == 1.0
    with pytest.raises(ValueError):
        erlang_c(0, 1.0)
    with pytest.raises(ValueError):
        mmc_mean_wait(1.0, 0.0, 2)
