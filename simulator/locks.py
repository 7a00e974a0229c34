"""One writer at a time per output folder: an advisory lock beside the folder.

``folder_lock(folder)`` holds ``<parent>/.<name>.lock`` with ``fcntl.flock`` for as long as
the block runs, and writes who holds it (pid, host, start time, command) into the lock file,
so a second process that wants the same folder fails at once with an ``InputError`` that says
who holds it.  The operating system drops the lock when its holder dies, so a killed run never
leaves a folder locked; the holder removes the lock file when it is done.  The lock is
re-entrant within one process (the CLI takes it before a run, ``write_run`` again inside).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from simulator.errors import input_error

_held: dict[Path, int] = {}  # folders this process holds, with their nesting depth


def lock_path(folder: Path) -> Path:
    """Where the lock of a folder lives: a hidden file beside it."""
    folder = Path(folder)
    return folder.parent / f".{folder.name}.lock"


def _holder() -> str:
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
    command = command if len(command) <= 200 else command[:197] + "..."
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}: {command}"


def _acquire(path: Path, folder: Path, what: str) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 1000).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise input_error(
                what, "", f"another dcsim process is writing this folder ({holder}); wait for it "
                f"to finish or choose another {what}", str(folder)) from None
        except BaseException:
            os.close(fd)
            raise
        try:  # the file we locked may have been removed by the holder we waited for
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def folder_lock(folder: Path, what: str = "--out") -> Iterator[Path]:
    """Hold the one-writer lock of `folder` for the block; InputError naming `what` if taken."""
    folder = Path(os.path.abspath(folder))
    if folder in _held:
        _held[folder] += 1
        try:
            yield folder
        finally:
            _held[folder] -= 1
        return
    path = lock_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, folder, what)
    _held[folder] = 1
    try:
        os.ftruncate(fd, 0)
        os.write(fd, (_holder() + "\n").encode())
        yield folder
    finally:
        del _held[folder]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # while still locked, so no one can lock the old file after us
        os.close(fd)
