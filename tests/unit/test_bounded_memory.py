"""Memory bounded by a block, not by the arrival rate: split blocks, block-by-block routing and
interval sketches (compute.workload.BLOCK_REQUESTS, compute.dataplane.INTERVAL_EXACT).

The block size is made small here so that a run of a second or two behaves as a run at
millions of requests/s would with the real one.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from simulator import run
from simulator.compute import dataplane, targets, workload
from simulator.compute.workload import RequestSource, sorted_uniforms
from simulator.engine.streams import Streams
from simulator.scenario.loader import validate_scenario
from simulator.scenario.schema import Service

SMALL = 1 << 12


@pytest.fixture
def small_blocks(monkeypatch):
    for module in (workload, targets):
        monkeypatch.setattr(module, "BLOCK_REQUESTS", SMALL)
    monkeypatch.setattr(dataplane, "INTERVAL_EXACT", SMALL)


def _service(rate: float) -> Service:
    return Service.model_validate({"fleet": "w", "arrivals": {"process": "poisson", "rate": rate},
                                   "service_time": {"dist": "exponential", "mean": 0.01}})


def test_split_blocks_cover_time_once_and_cut_anywhere(small_blocks):
    """A block of 60 s at 5,000/s is drawn as 128 sub-blocks: arrivals sorted, inside the
    window, as many as Poisson says, and the same however the window is cut."""
    service = _service(5000.0)
    source = RequestSource("api", service, Streams(3))
    assert source.parts(0) == 128 and len(source.boundaries(0.0, 60.0)) == 127
    whole = source.window(0.0, 120.0)
    assert np.all(np.diff(whole.arrival) >= 0) and 0 <= whole.arrival[0] < whole.arrival[-1] < 120
    expected = 5000.0 * 120
    assert abs(len(whole) - expected) < 3.3 * np.sqrt(expected)
    cut = RequestSource("api", service, Streams(3))
    edges = [0.0, 0.3, 0.46875, 7.0, 59.99, 60.0, 61.2, 120.0]
    parts = [cut.window(a, b) for a, b in zip(edges, edges[1:], strict=False)]
    for field in ("arrival", "service", "size", "route_u"):
        assert np.array_equal(getattr(whole, field),
                              np.concatenate([getattr(p, field) for p in parts]))


def test_unsplit_blocks_draw_what_they_always_drew():
    """Below BLOCK_REQUESTS a block keeps its one chunk stream: the draws are those of
    Streams.chunk(name, k), as before blocks could split."""
    service = _service(50.0)
    batch = RequestSource("api", service, Streams(9)).window(0.0, 60.0)
    rng = Streams(9).chunk("service.api.arrivals", 0)
    n = rng.poisson(50.0 * 60.0)
    assert len(batch) == n
    assert np.array_equal(batch.arrival, sorted_uniforms(rng, 0.0, 60.0, n))


def _scenario(rate: float):
    """20 × 4 vCPUs at utilisation 0.5, one interval over the whole run (one long window)."""
    return validate_scenario({
        "name": "high-rate", "horizon": 4.0,
        "fleets": {"web": {"instance_type": "m5.xlarge", "count": 20, "volume": None}},
        "services": {"api": {"fleet": "web", "arrivals": {"process": "poisson", "rate": rate},
                             "service_time": {"dist": "exponential", "mean": 40.0 / rate}}},
        "output": {"observe_interval": 4.0, "latency": "sketch"},
    }, "test")


def _peak(rate: float) -> tuple[int, dict]:
    scenario = _scenario(rate)
    run(_scenario(1000.0))  # imports, compiled kernels and caches: not what is measured
    tracemalloc.start()
    try:
        result = run(scenario)
        return tracemalloc.get_traced_memory()[1], result.summary
    finally:
        tracemalloc.stop()


def test_peak_allocation_does_not_grow_with_the_rate(small_blocks):
    """Four times the rate (64,000 against 256,000 requests, far more than a block of 4,096)
    at the same block size: the peak traced allocation stays within 1.5x (it would be about
    4x if a window were drawn and routed whole), and every request is accounted for."""
    low, low_summary = _peak(16_000.0)
    high, high_summary = _peak(64_000.0)
    assert high < 1.5 * low, (low, high)
    for summary, rate in ((low_summary, 16_000.0), (high_summary, 64_000.0)):
        lat = summary["latency"]
        assert lat["arrivals"] == lat["requests"] + lat["rejected"] + lat["failed"]
        assert abs(lat["arrivals"] - 4 * rate) < 3.3 * np.sqrt(4 * rate)


def test_interval_p99_from_its_sketch_once_it_holds_too_many(small_blocks):
    """An interval of far more than INTERVAL_EXACT latencies takes its p99 from a sketch of
    them: within the sketch's relative error of the exact p99 of the same requests."""
    scenario = validate_scenario({
        "name": "p99", "horizon": 4.0,
        "fleets": {"web": {"instance_type": "m5.xlarge", "count": 4, "volume": None}},
        "services": {"api": {"fleet": "web", "arrivals": {"process": "poisson", "rate": 8000.0},
                             "service_time": {"dist": "exponential", "mean": 0.001}}},
        "output": {"observe_interval": 4.0, "latency": "exact", "requests": True},
    }, "test")
    result = run(scenario)
    row = result.tables["service_intervals"].iloc[0]
    req = result.tables["requests"]
    served = req["latency_s"].to_numpy()[req["outcome"].to_numpy() == "served"]
    assert len(served) > 4 * SMALL
    exact = np.sort(served)[int(np.floor(0.99 * (len(served) - 1)))]
    assert abs(row["p99_s"] - exact) <= 0.005 * exact * (1 + 1e-9)
