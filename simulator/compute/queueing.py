"""Closed-form M/M/c results (Erlang C) for validating and approximating the request data plane.

Pure functions of scalars: arrival rate ``lam`` (1/s), service rate ``mu`` (1/s) per server,
``c`` servers, offered load ``a = lam / mu`` erlangs, utilisation ``rho = a / c``.  Unstable
systems (rho >= 1) are reported as certain waiting (C = 1) and infinite mean wait rather than
as errors, so an analytic fidelity can show overload instead of crashing.
"""

from __future__ import annotations

import math


def _check(c: int, a: float) -> None:
    if int(c) != c or c < 1:
        raise ValueError(f"number of servers c must be a positive integer, got {c}")
    if not a >= 0.0:
        raise ValueError(f"offered load a must be >= 0, got {a}")


def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability of M/M/c/c with offered load ``a`` (stable recursion)."""
    _check(c, a)
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a`` erlangs.

    C(c, a) = c B / (c - a (1 - B)) with B = Erlang B, algebraically equal to the textbook
    (a^c/c!)(1/(1-rho)) / (sum_{k<c} a^k/k! + (a^c/c!)(1/(1-rho))) without overflow.
    """
    _check(c, a)
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in queue W_q = C(c, a) / (c mu - lam) of M/M/c (seconds; inf if unstable)."""
    if mu <= 0.0:
        raise ValueError(f"service rate mu must be > 0, got {mu}")
    a = lam / mu
    if a >= c:
        _check(c, a)
        return math.inf
    return erlang_c(c, a) / (c * mu - lam)


def mmc_mean_response(lam: float, mu: float, c: int) -> float:
    """Mean response time W = W_q + 1/mu of M/M/c (seconds; inf if unstable)."""
    return mmc_mean_wait(lam, mu, c) + 1.0 / mu


def mmc_wait_tail(t: float, lam: float, mu: float, c: int) -> float:
    """P(wait > t) = C(c, a) exp(-(c mu - lam) t) of M/M/c for t >= 0 (1.0 if unstable)."""
    if t < 0.0:
        raise ValueError(f"t must be >= 0, got {t}")
    if mu <= 0.0:
        raise ValueError(f"service rate mu must be > 0, got {mu}")
    a = lam / mu
    if a >= c:
        _check(c, a)
        return 1.0
    return erlang_c(c, a) * math.exp(-(c * mu - lam) * t)


def allen_cunneen_wait(lam: float, mu: float, c: int, ca2: float, cs2: float) -> float:
    """Allen-Cunneen M/G/c (G/G/c) mean wait: W_q(M/M/c) * (ca2 + cs2) / 2.

    ``ca2`` and ``cs2`` are the squared coefficients of variation of inter-arrival and service
    times (1 and 1 for M/M/c, where the approximation is exact).
    """
    if ca2 < 0.0 or cs2 < 0.0:
        raise ValueError(f"squared coefficients of variation must be >= 0, got {ca2}, {cs2}")
    return mmc_mean_wait(lam, mu, c) * (ca2 + cs2) / 2.0
