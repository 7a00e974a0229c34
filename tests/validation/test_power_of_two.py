"""Power-of-two-choices routing against the supermarket-model limit (Mitzenmacher).

N = 1,000 single-server instances, Poisson arrivals at rho = 0.9, exponential service: the
mean number in system per instance tends to sum_{i>=1} rho^(2^i - 1) as N grows.  Tolerance
5 % (the issue's, fixed in advance); batch means prove the test's power.
"""

from __future__ import annotations

import numpy as np

from simulator.compute.kernel import POWER_OF_TWO, QueueState, serve
from tests.validation.test_kernel_queueing import Z, batch_means

N, RHO, N_REQ = 1000, 0.9, 3_000_000


def test_power_of_two_matches_the_supermarket_limit():
    limit = sum(RHO ** (2 ** i - 1) for i in range(1, 40))
    rng = np.random.default_rng(20261202)
    lam = RHO * N  # mu = 1
    a = np.cumsum(rng.exponential(1 / lam, N_REQ))
    s = rng.exponential(1.0, N_REQ)
    r = serve(QueueState.empty([1] * N), a, s, rng.random(N_REQ), POWER_OF_TWO)
    # Little's law: number in system per instance = (lam / N) * mean response
    est, se = batch_means((r.done - a) * lam / N, warmup=0.1)
    tol = 0.05 * limit
    assert Z * se < tol, f"underpowered: 3.3 SE = {Z * se:.4g} >= {tol:.4g}"
    assert abs(est - limit) < tol, f"{est:.4f} vs supermarket limit {limit:.4f}"
