"""The compiled data plane against Erlang C (M/M/c closed forms).

Statistical policy: one fixed seed; tolerances fixed in advance from the theory (2 % of the
exact value), never tuned to the seed; standard errors by batch means (30 batches after a 5 %
warm-up, because consecutive queue outputs are autocorrelated); every test also asserts that
3.3 batch-means standard errors fit inside its tolerance, so it proves its own power.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.compute.kernel import (
    LEAST_OUTSTANDING,
    RANDOM,
    ROUND_ROBIN,
    QueueState,
    fcfs_multiserver_bare,
    serve,
)
from simulator.compute.queueing import erlang_c, mmc_mean_response, mmc_wait_tail

N_INST, CPUS, RHO, MU = 4, 4, 0.8, 10.0  # 4 instances x 4 vCPUs, mean service 100 ms
LAM = RHO * N_INST * CPUS * MU  # total arrival rate, 1/s
N_REQ = 4_000_000
REL_TOL = 0.02
Z = 3.3


def batch_means(x: np.ndarray, batches: int = 30, warmup: float = 0.05) -> tuple[float, float]:
    """(mean, standard error) of an autocorrelated output series by the batch-means method."""
    x = x[int(len(x) * warmup):]
    m = len(x) // batches
    b = x[: m * batches].reshape(batches, m).mean(axis=1)
    return float(b.mean()), float(b.std(ddof=1) / np.sqrt(batches))


def assert_close(series: np.ndarray, exact: float, what: str) -> None:
    est, se = batch_means(series)
    tol = REL_TOL * exact
    assert Z * se < tol, f"{what}: underpowered test, 3.3 SE = {Z * se:.4g} >= tol {tol:.4g}"
    assert abs(est - exact) < tol, f"{what}: {est:.5g} vs exact {exact:.5g} (tol {tol:.3g})"


@pytest.fixture(scope="module")
def workload():
    rng = np.random.default_rng(20240611)
    arrivals = np.cumsum(rng.exponential(1.0 / LAM, N_REQ))
    service = rng.exponential(1.0 / MU, N_REQ)
    route_u = rng.random(N_REQ)
    return arrivals, service, route_u


@pytest.fixture(scope="module")
def bounds():
    separate = mmc_mean_response(LAM / N_INST, MU, CPUS)  # N independent M/M/c
    pooled = mmc_mean_response(LAM, MU, N_INST * CPUS)  # one M/M/(N c)
    return pooled, separate


def test_closed_forms_sanity():
    # M/M/1: C = rho, W = 1/(mu - lam); textbook Erlang C for c=2, a=1 is 1/3
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_response(7.0, 10.0, 1) == pytest.approx(1 / 3)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_random_routing_is_n_independent_mmc(workload):
    a, s, u = workload
    r = serve(QueueState.empty([CPUS] * N_INST), a, s, u, RANDOM)
    lam_i = LAM / N_INST
    assert_close(r.done - a, mmc_mean_response(lam_i, MU, CPUS), "mean response")
    wait = r.start - a
    assert_close((wait > 0).astype(np.float64), erlang_c(CPUS, lam_i / MU), "P(wait > 0)")
    t = 0.5 / MU  # half a mean service time: P(wait > t) ~ 0.4, well inside the power budget
    assert_close((wait > t).astype(np.float64), mmc_wait_tail(t, lam_i, MU, CPUS),
                 "P(wait > 50 ms)")


def test_bare_kernel_is_pooled_mmc(workload):
    a, s, _ = workload
    done = fcfs_multiserver_bare(a, s, N_INST * CPUS)
    assert_close(done - a, mmc_mean_response(LAM, MU, N_INST * CPUS), "pooled mean response")


def _assert_between(series: np.ndarray, pooled: float, separate: float, what: str) -> float:
    est, se = batch_means(series)
    tol = REL_TOL * pooled
    assert Z * se < tol, f"{what}: underpowered test, 3.3 SE = {Z * se:.4g} >= tol {tol:.4g}"
    assert pooled - tol < est < separate - tol, f"{what}: {est:.5g} not in ({pooled}, {separate})"
    return est


def test_least_outstanding_lies_between_pooled_and_separate(workload, bounds):
    a, s, u = workload
    pooled, separate = bounds
    r = serve(QueueState.empty([CPUS] * N_INST), a, s, u, LEAST_OUTSTANDING)
    est = _assert_between(r.done - a, pooled, separate, "least outstanding")
    # it approaches the pooled queue: closer to it than to N separate queues
    assert est < (pooled + separate) / 2


def test_round_robin_lies_between_pooled_and_separate(workload, bounds):
    # Poisson split round robin: each instance sees Erlang-4 inter-arrivals, less variable
    # than Poisson, so it beats random routing but cannot beat one pooled queue.
    a, s, u = workload
    pooled, separate = bounds
    r = serve(QueueState.empty([CPUS] * N_INST), a, s, u, ROUND_ROBIN)
    _assert_between(r.done - a, pooled, separate, "round robin")
