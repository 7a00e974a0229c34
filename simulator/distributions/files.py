"""Reading the sample of an empirical distribution from one column of a CSV file, cached.

A file is read once per (path, column, modification time, size): validating a scenario and
building its distributions, or building them again in every replication, does not reread it,
while an edited file is read afresh.  Values are returned sorted, in the unit of the file.
"""

from __future__ import annotations

import csv
import functools
import math
import os

import numpy as np


def read_column(path: str, column: str) -> np.ndarray:
    """The sorted values of `column` in the CSV file at `path` (read-only array).

    Blank cells are skipped.  Raises ValueError with the file, row and column if the file or
    the column is missing, a cell is not a number, a value is negative, infinite or NaN, or
    fewer than two distinct values remain.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _read_column(path, column, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _read_column(path: str, column: str, mtime_ns: int, size: int) -> np.ndarray:
    """The cached body of ``read_column``; the stat fields only key the cache."""
    del mtime_ns, size
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = csv.reader(fh)
            header = [h.strip() for h in next(rows, [])]
            if column not in header:
                shown = ", ".join(repr(h) for h in header) or "none"
                raise ValueError(f"no column {column!r} in {path} (its columns: {shown})")
            j = header.index(column)
            values = [_cell(row, j, line, path, column) for line, row in enumerate(rows, start=2)]
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path} is not a readable CSV file ({exc})") from None
    out = np.sort(np.array([v for v in values if v is not None], dtype=np.float64))
    if len(out) < 2 or out[0] == out[-1]:
        raise ValueError(
            f"column {column!r} of {path} needs at least two distinct values, "
            f"it has {len(out)} value(s){' all equal' if len(out) >= 2 else ''} "
            "(for a constant use dist: fixed)"
        )
    out.flags.writeable = False
    return out


def _cell(row: list[str], j: int, line: int, path: str, column: str) -> float | None:
    """The value of one cell (None if blank); ValueError naming the line if it is not valid."""
    text = row[j].strip() if j < len(row) else ""
    if text == "":
        return None
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"{path}, line {line}: {text!r} in column {column!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(
            f"{path}, line {line}: {text!r} in column {column!r}; values must be finite and >= 0"
        )
    return x
