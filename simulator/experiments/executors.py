"""Executors: where the runs of a sweep execute, streaming results back as they finish.

- ``LocalExecutor``: a process pool on this machine (``--jobs N``; 1 runs in-process).  A
  worker that dies (killed, out of memory) breaks the pool; the executor starts a new pool and
  resubmits only the runs whose results have not come back, so no finished run is lost or run
  twice.  Workers end when the sweep's process ends, however it ends (``_watch_parent``).
- ``DaskExecutor``: a Dask distributed cluster (``--scheduler tcp://HOST:8786``) or a
  LocalCluster it starts itself; Dask reschedules the tasks of lost workers.

Both yield ``(item, result)`` pairs in completion order; the caller writes each result
atomically as it arrives.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol


class Executor(Protocol):
    """Runs fn over items and yields (item, result) as each finishes."""

    name: str

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """A local process pool; jobs=1 runs every item in this process, in order."""

    name = "local"

    def __init__(self, jobs: int = 1, max_restarts: int = 5):
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs
        self.max_restarts = max_restarts
        self.restarts = 0

    def map_unordered(self, fn, items):
        items = list(items)
        if self.jobs == 1:
            for item in items:
                yield item, fn(item)
            return
        pending = list(items)
        while pending:
            pool = ProcessPoolExecutor(max_workers=min(self.jobs, len(pending)),
                                       initializer=_watch_parent, initargs=(os.getpid(),))
            futures = {pool.submit(fn, item): item for item in pending}
            broken = False
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in done:
                        item = futures.pop(fut)
                        try:
                            result = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            continue
                        pending.remove(item)
                        yield item, result
                    if broken:
                        break
            except BaseException:  # SIGTERM, Ctrl-C, an error: no run is waited for
                _kill_workers(pool)
                raise
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)
            if broken:
                self.restarts += 1
                if self.restarts > self.max_restarts:
                    raise RuntimeError(
                        f"worker processes died {self.restarts} times; giving up "
                        f"({len(pending)} runs unfinished; run the sweep again to resume)"
                    )

    def close(self) -> None:
        pass


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's worker processes now (shutdown alone waits for the runs they are in, and
    so would the interpreter's exit)."""
    for process in list(getattr(pool, "_processes", {}).values()):  # no public API before 3.14
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()


def _watch_parent(parent: int, poll_s: float = 0.5) -> None:
    """Worker initializer: end this worker when the process that started it ends (even by
    SIGKILL, which runs no clean-up), so no orphan keeps computing.  On Linux the kernel sends
    SIGKILL at the parent's death (PR_SET_PDEATHSIG); elsewhere a daemon thread polls the parent."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the worker got here
        os._exit(1)

    def poll() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=poll, name="dcsim-parent-watch", daemon=True).start()


class DaskExecutor:
    """A Dask distributed cluster: an existing scheduler address, or a LocalCluster of `jobs`."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, jobs: int = 2):
        from dask.distributed import Client, LocalCluster

        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536, which makes every large NumPy
            # allocation of a run go back to the OS and fault in again (about 10% slower here).
            self.cluster = LocalCluster(
                n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                env={"MALLOC_TRIM_THRESHOLD_": str(2**30)},
            )
            self.client = Client(self.cluster)
        self.client.run(_warm_worker)  # imports once per worker, before any run is timed

    def map_unordered(self, fn, items):
        from dask.distributed import as_completed

        items = list(items)
        futures = self.client.map(fn, items, pure=False)
        index = {f.key: item for f, item in zip(futures, items, strict=True)}
        for fut in as_completed(futures):
            yield index[fut.key], fut.result()
            fut.release()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _warm_worker() -> None:
    """Load the engine and its compiled kernels in a fresh worker (simulator.warmup), so that
    they are loaded once at start-up rather than inside the first run."""
    from simulator.warmup import warm

    warm()


def make_executor(kind: str = "local", jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for `--executor KIND --jobs N --scheduler ADDRESS`."""
    if scheduler or kind == "dask":
        return DaskExecutor(scheduler, jobs=max(jobs, 1))
    if kind == "local":
        return LocalExecutor(jobs)
    raise ValueError(f"unknown executor {kind!r}; use local or dask")
