"""The cyclic collector's policy for phases that allocate much and free nothing cyclic.

A simulation run and the validation of a large scenario both build hundreds of thousands of
objects that stay alive (records, instances, validated models); Python's default young-
generation threshold (700 allocations) then makes the collector re-walk a growing heap again
and again.  Reference counting frees everything as usual either way.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_THRESHOLD = 1_000_000
"""Allocations between young-generation collections inside the block (Python's default: 700)."""


@contextmanager
def rare_collections(threshold: int | None = GC_THRESHOLD) -> Iterator[None]:
    """Freeze the cyclic collector on what exists and collect rarely until the block ends.

    Frequent collections were over half the time of a 100,000-instance lifecycle.  With
    `threshold` None the collector does not run at all inside the block: for a phase whose
    allocations are bounded by its input and almost all kept (loading a scenario, where even
    one young collection per million allocations was a tenth of validating a 60 MB file).  At
    the end, what the block made is frozen too, so it joins the oldest generation with the rest
    instead of being walked by the young collection the restored threshold would start at
    once; cyclic garbage it left is collected at the next full collection.  Blocks nest.
    """
    old = gc.get_threshold()
    enabled = gc.isenabled()
    gc.freeze()
    if threshold is None:
        gc.disable()
    else:
        gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*old)
        if enabled:
            gc.enable()
        gc.unfreeze()
