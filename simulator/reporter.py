"""A report builder made ready while the run goes on: a process forked at the start that
imports the report code (matplotlib, the plot modules) in parallel with the simulation.

``dcsim run`` spends a few tenths of a second importing matplotlib and the plot code before
it can draw; on a machine with a second core that can happen while the simulation runs.
``ready_reports()`` forks such a process and gives a ``build(folder)`` that hands it the
folder once the tables are written and waits for its reports.  Nothing is lost if it
cannot help: without fork, in a multi-threaded process (a notebook kernel: forking it could
deadlock), or when the process fails or dies, ``build`` builds the reports here instead, so
the outcome, and any error, is that of ``simulator.report.build_reports``.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from simulator.signals import held

Build = Callable[[Path], list[Path]]


def build_here(folder: Path) -> list[Path]:
    """Build the reports of a run folder in this process."""
    from simulator.report import build_reports

    return build_reports(folder)


@contextmanager
def ready_reports() -> Iterator[Build]:
    """A report builder for the block: a forked process importing the report code now, or
    ``build_here`` when forking is not possible.  The process ends with the block."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        yield build_here
        return
    from_parent, to_child = os.pipe()  # (read end, write end)
    from_child, to_parent = os.pipe()
    with held():  # a signal inside the interpreter's fork handlers could not be raised
        pid = os.fork()
        if pid == 0:  # pragma: no cover - measured through the parent
            os.close(to_child)
            os.close(from_child)
            _serve(from_parent, to_parent)
        with suppress(OSError):  # its own process group, with the plotting child it forks
            os.setpgid(pid, pid)
    os.close(from_parent)
    os.close(to_parent)
    state = {"pid": pid}

    def build(folder: Path) -> list[Path]:
        child = state.pop("pid", None)
        if child is None:  # used already
            return build_here(folder)
        answer, open_fds = None, [to_child, from_child]
        try:
            os.write(to_child, os.fsencode(str(folder)) + b"\n")
            os.close(open_fds.pop(0))
            with os.fdopen(open_fds.pop(0), "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(child, 0)
            if status == 0 and data:
                answer = json.loads(data)
        except BaseException as exc:  # interrupted, or it died: nothing may write into the
            _end(child)  # folder once this unwinds or builds it again
            for fd in open_fds:
                os.close(fd)
            if not isinstance(exc, OSError | ValueError):
                raise
        if answer is None or "paths" not in answer:  # it failed: again here, for its error
            return build_here(folder)
        return [Path(p) for p in answer["paths"]]

    try:
        yield build
    finally:
        child = state.pop("pid", None)
        if child is not None:  # unused, or the block was interrupted: end it now
            for fd in (to_child, from_child):
                with suppress(OSError):
                    os.close(fd)
            _end(child)


def _end(pid: int) -> None:
    """Kill the process and the plotting child it may have forked (its process group), and
    return once they are gone (so that neither writes into a folder being removed)."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with suppress(ChildProcessError):
        os.waitpid(pid, 0)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:  # a grandchild is reaped by init, soon
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.002)


def _serve(read_fd: int, write_fd: int) -> None:  # pragma: no cover - a forked child
    """The forked process: import the report code, wait for a folder, build its reports,
    answer with their paths (or nothing, when it failed), exit (never return).  It ends
    with no answer when the parent closes the pipe first, and at once on SIGTERM."""
    code = 0
    try:
        os.setpgid(0, 0)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        import pyarrow.parquet  # noqa: F401 - the point: imported while the run goes on

        import simulator.report  # noqa: F401
        import simulator.report.plots  # noqa: F401
        from simulator.sections import sections

        sections()  # every section's modules, as the report will ask for them

        with os.fdopen(read_fd, "rb") as pipe:
            line = pipe.readline()
        if line.endswith(b"\n"):
            paths = build_here(Path(os.fsdecode(line[:-1])))
            with os.fdopen(write_fd, "wb") as out:
                out.write(json.dumps({"paths": [str(p) for p in paths]}).encode())
    except BaseException:  # noqa: BLE001 - the parent builds them again, for its error
        code = 1
    finally:
        os._exit(code)
