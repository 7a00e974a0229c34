"""Atomic file output: every result file appears whole or not at all.

Each writer writes to a temporary file in the destination folder, flushes and fsyncs it, then
renames it over the destination, so a run or sweep killed midway never leaves a half-written
file that a later resume would mistake for a finished one.  Files get the permissions the
process umask allows (0666 & ~umask), like any file a program creates, not mkstemp's 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd


def umask() -> int:
    """The process umask, read without changing it where the system allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def _atomic(path: Path, mode: str, write: Callable[[IO[Any]], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            os.fchmod(fh.fileno(), 0o666 & ~umask())
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write bytes to path atomically."""
    return _atomic(path, "wb", lambda fh: fh.write(data))


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text to path atomically."""
    return _atomic(path, "w", lambda fh: fh.write(text))


def write_json(path: Path, obj: Any) -> Path:
    """Write obj as indented, key-sorted JSON atomically (stable bytes for equal objects)."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as Parquet atomically (no index)."""
    return _atomic(path, "wb", lambda fh: frame.to_parquet(fh, index=False))


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())
