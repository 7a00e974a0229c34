"""Timing helpers shared by the benchmark cases."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeats: int = 3,
            setup: Callable[[], object] | None = None) -> float:
    """The shortest wall time in seconds of `repeats` calls of fn (the least disturbed run).

    `setup`, when given, runs untimed before every call (e.g. ``gc.collect`` so that one
    repeat does not pay for collecting the garbage the previous one left).
    """
    best = float("inf")
    for _ in range(repeats):
        if setup is not None:
            setup()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best
