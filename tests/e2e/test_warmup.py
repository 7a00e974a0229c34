"""`python -m simulator.warmup` (run by make at install) leaves a first run nothing to compile."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

FIRST_RUN = """
from simulator import load_scenario, run
from simulator.compute import kernel, sketch
for policy in ("random", "round_robin", "least_outstanding"):
    run(load_scenario("scenarios/quickstart.yaml", [f"services.api.load_balancer.policy={policy}"],
                      test=True))
misses = sum(sum(f.stats.cache_misses.values()) for m in (kernel, sketch)
             for f in vars(m).values() if hasattr(f, "stats") and hasattr(f, "signatures"))
hits = sum(sum(f.stats.cache_hits.values()) for m in (kernel, sketch)
           for f in vars(m).values() if hasattr(f, "stats") and hasattr(f, "signatures"))
print(misses, hits)
"""


def test_after_the_warmup_a_first_run_loads_every_kernel_from_the_cache():
    warm = subprocess.run([sys.executable, "-m", "simulator.warmup"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert "kernels compiled and cached" in warm.stdout
    first = subprocess.run([sys.executable, "-c", FIRST_RUN], cwd=ROOT, capture_output=True,
                           text=True, check=True)
    misses, hits = map(int, first.stdout.split())
    assert misses == 0 and hits >= 3  # a fresh process compiled nothing
