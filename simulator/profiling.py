"""Profiles of a run, written beside its results (`dcsim run --profile`, `make profile`).

A profile covers what the command waits for: loading and validating the scenario, building the
World, the simulation, tables, billing, the summary, and writing the tables, reports and plots
(all but the final swap of the folder).  Two files go
into the run folder's ``profile/``: ``run.pstats`` (cProfile's statistics, for ``python -m
pstats``, snakeviz or ``pstats.Stats``) and ``run.txt`` (the wall time and the top functions
by cumulative and by own time).  Compiled numba kernels appear as one call each: their time
is their own, not split further.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import marshal
import pstats
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

TOP = 40
"""Functions listed in run.txt for each ordering."""


@dataclass(eq=False)
class Profile:
    """A profiler and the wall time of the block it ran in (engine state, filled by `profiled`)."""

    profiler: cProfile.Profile = field(default_factory=cProfile.Profile)
    wall_s: float = 0.0
    _since: float | None = None  # start of the block running now

    @contextlib.contextmanager
    def running(self) -> Iterator[Profile]:
        """Profile the block too (its wall time is added to wall_s)."""
        self._since = time.perf_counter()
        self.profiler.enable()
        try:
            yield self
        finally:
            self.profiler.disable()
            self._stop_clock()

    def _stop_clock(self) -> None:
        if self._since is not None:
            self.wall_s += time.perf_counter() - self._since
            self._since = None

    def files(self, command: str) -> dict[str, bytes]:
        """The run folder's profile files, by path relative to the folder (this ends the
        profile: called inside `running`, the block's time so far is counted)."""
        self.profiler.create_stats()  # disables the profiler
        self._stop_clock()
        raw = marshal.dumps(self.profiler.stats)  # before pstats.Stats, which takes them away
        text = io.StringIO()
        text.write(f"dcsim profile of: {command}\nwall time profiled: {self.wall_s:.3f} s "
                   "(loading, building, simulating, tables, billing, summary, writing the "
                   "tables and reports)\nload run.pstats with `python -m pstats profile/run.pstats` "
                   "or pstats.Stats\n\n")
        stats = pstats.Stats(self.profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(TOP)
        stats.sort_stats("tottime").print_stats(TOP)
        return {"profile/run.pstats": raw,
                "profile/run.txt": text.getvalue().encode()}


@contextlib.contextmanager
def profiled(enabled: bool = True) -> Iterator[Profile | None]:
    """Profile the block and yield its Profile (resume it with `running`), or yield None."""
    if not enabled:
        yield None
        return
    with Profile().running() as profile:
        yield profile
