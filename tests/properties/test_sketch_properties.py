"""Property: every sketch quantile is within alpha of the exact lower order statistic."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.compute.sketch import LatencySketch

values = arrays(
    np.float64,
    st.integers(1, 300),
    elements=st.one_of(
        st.floats(1e-9, 1e9, allow_nan=False, allow_infinity=False),
        st.floats(0.0, 1e-9, allow_nan=False),  # zero bucket
        st.sampled_from([1.0, 0.001, 1.005 / 0.995]),  # exact ties and a bucket bound
    ),
)


@settings(max_examples=300, deadline=None)
@given(x=values, qs=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=10),
       alpha=st.sampled_from([0.001, 0.005, 0.02, 0.1]), split=st.integers(0, 300))
def test_quantile_within_alpha_of_lower_order_statistic(x, qs, alpha, split):
    a, b = LatencySketch(alpha=alpha), LatencySketch(alpha=alpha)
    a.add(x[:split])
    b.add(x[split:])
    a.merge(b)
    assert a.count == x.size
    srt = np.sort(x)
    for q in qs:
        exact = srt[math.floor(q * (x.size - 1))]
        est = a.quantile(q)
        if exact < a.min_value:
            assert est == 0.0
        else:
            assert abs(est - exact) <= alpha * exact * (1 + 1e-9)
