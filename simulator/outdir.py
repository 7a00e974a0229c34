"""Output folders: checked before a run starts, and replaced whole, never mixed or clobbered.

``check_out_dir(path, what)`` says, before any simulation, whether a folder can be written: not
an existing file or device, not under a file, on a writable file system, names the file system
accepts, and either new, empty or a folder dcsim wrote (``run_folder_problem`` decides for run
folders; a sweep passes its own test).  Every refusal is an ``InputError`` naming `what`
(``--out``), the value and the fix.

``replacing(folder)`` builds a folder's new contents in a hidden sibling
(``.<name>.tmp-<pid>-<random>``) and swaps it in whole when the block succeeds: one atomic
``renameat2(RENAME_EXCHANGE)`` on Linux, otherwise rename old away, rename new in, both
recoverable.  A failure or kill at any point leaves the previous folder as it was; siblings a
killed process left behind are removed (or, for a half-done swap, put back) by the next
writer of that folder, which must hold its ``folder_lock``.

A run folder is recognised by its marker ``.dcsim-run`` (a manifest ``write_run`` writes, with
the size of every table, so a truncated file is found), or, for folders written before the
marker existed, by summary.json beside scenario.resolved.yaml.  A run folder that also holds
files dcsim did not write is refused too: a rerun replaces the whole folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from simulator.errors import input_error
from simulator.io import umask

MARKER = ".dcsim-run"
RUN_ENTRIES = {MARKER, "scenario.resolved.yaml", "summary.json", "report.md", "report.html",
               "tables", "plots", "profile"}
RUN_SUBFOLDERS = {"tables": ".parquet", "plots": ".png", "profile": (".pstats", ".txt")}
_OUR_TEMP = re.compile(r"^\..+\.tmp$")  # an atomic write that was cut short (simulator.io)


def _listing(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(sorted(names)[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def run_folder_problem(folder: Path) -> str | None:
    """Why an existing folder may not be replaced by a run (None when it may: empty or ours)."""
    entries = os.listdir(folder)
    if not entries:
        return None
    ours = MARKER in entries or {"summary.json", "scenario.resolved.yaml"} <= set(entries)
    foreign = [e for e in entries if e not in RUN_ENTRIES and not _OUR_TEMP.match(e)]
    for sub, suffix in RUN_SUBFOLDERS.items():
        if sub in entries and (folder / sub).is_dir():
            foreign += [f"{sub}/{e}" for e in os.listdir(folder / sub)
                        if not (e.endswith(suffix) or _OUR_TEMP.match(e))]
        elif sub in entries:
            foreign.append(sub)
    if not ours:
        return (f"is a folder that dcsim did not write (it holds {_listing(entries)}); a run "
                "replaces its whole folder, so choose a new or empty folder")
    if foreign:
        return (f"is a dcsim run folder but also holds files dcsim did not write "
                f"({_listing(foreign)}); a rerun replaces the whole folder, so move them away "
                "or choose another folder")
    return None


def check_out_dir(path: Path, what: str = "--out",
                  reusable: Callable[[Path], str | None] = run_folder_problem) -> None:
    """Refuse (InputError naming `what`) an output folder that cannot or must not be written.

    `reusable(folder)` judges an existing non-empty folder: None to accept it, else why not.
    """
    path = Path(path)
    value = str(path)

    def fail(message: str) -> None:
        raise input_error(what, "", message, value)

    if not value or not path.name and path == Path(path.anchor):
        fail("names no folder to write into; give a folder path")
    for part in path.parts:
        if len(os.fsencode(part)) > 255:
            fail(f"has a name of {len(os.fsencode(part))} bytes, longer than the 255 a file "
                 "system allows; choose a shorter name")
    absolute = os.path.abspath(path)
    if len(os.fsencode(absolute)) >= 4096:
        fail("is a path longer than the system allows; choose a shorter one")
    target = Path(absolute)
    place = target
    while True:  # the nearest part of the path that exists
        try:
            st = os.stat(place)
            break
        except FileNotFoundError:
            if os.path.islink(place):
                fail(f"{place} is a broken symbolic link; fix or remove it")
            place = place.parent
        except NotADirectoryError:
            place = place.parent
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                fail("has a name longer than the file system allows; choose a shorter name")
            fail(f"cannot be examined ({exc.strerror}); choose another folder")
    if not stat.S_ISDIR(st.st_mode):
        kind = "a file" if stat.S_ISREG(st.st_mode) else "a device or special file"
        if place == target:
            fail(f"is {kind}, not a folder; name a folder (dcsim writes several files into it)")
        fail(f"lies under {place}, which is {kind}, so no folder can be made there; "
             "choose a folder elsewhere")
    try:
        read_only = bool(os.statvfs(place).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        fail(f"is on a read-only file system ({place}); choose a writable place")
    if not os.access(place, os.W_OK | os.X_OK):
        fail(f"cannot be written: {place} is not writable by this user; choose another folder")
    if place == target:
        try:
            problem = reusable(target)
        except OSError as exc:
            fail(f"cannot be listed ({exc.strerror}); choose another folder")
        if problem:
            fail(problem)


def _leftover(folder: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(folder.name)}\.(tmp|old)-\d+-[a-z0-9_]{{8}}$")


def clean_leftovers(folder: Path) -> None:
    """Remove the hidden siblings a killed writer of `folder` left (caller holds its lock).

    If a two-step swap was cut between its renames, the previous folder is put back first.
    """
    folder = Path(folder)
    pattern = _leftover(folder)
    try:
        names = sorted(os.listdir(folder.parent), key=lambda n: ".old-" not in n)
    except FileNotFoundError:
        return
    for name in names:
        match = pattern.match(name)
        if not match:
            continue
        sibling = folder.parent / name
        if match.group(1) == "old" and not os.path.lexists(folder):
            os.rename(sibling, folder)
        else:
            shutil.rmtree(sibling, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(new: Path, folder: Path) -> None:
    """Put `new` where `folder` is, whole; the previous folder is deleted afterwards."""
    if not os.path.lexists(folder):
        os.rename(new, folder)
        return
    if _exchange(new, folder):
        shutil.rmtree(new, ignore_errors=True)  # `new` now names the previous folder
        return
    old = new.with_name(new.name.replace(".tmp-", ".old-", 1))
    os.rename(folder, old)
    try:
        os.rename(new, folder)
    except BaseException:
        os.rename(old, folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def replacing(folder: Path) -> Iterator[Path]:
    """Yield a new empty sibling folder to fill; on success it replaces `folder` whole.

    The caller must hold ``folder_lock(folder)``.  On any failure (or KeyboardInterrupt) the
    sibling is removed and `folder` is left as it was.
    """
    folder = Path(os.path.abspath(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(folder)
    new = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-{os.getpid()}-", dir=folder.parent))
    try:
        os.chmod(new, 0o777 & ~umask())
        yield new
        _swap_in(new, folder)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    _sync_dir(folder.parent)
