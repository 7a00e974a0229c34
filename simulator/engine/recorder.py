"""The recorder: append-only observations of a run, turned into DataFrames at the end.

Components never write results; they hand the recorder records (immutable typed rows whose
class names the table in ``TABLE``) or, on hot paths, column batches of NumPy arrays that
must name exactly the fields of their record type.  A record type is therefore the one schema
of its table: ``tables()`` returns one DataFrame per declared type with exactly its columns,
in field order, even when no row was ever added, so analysis and reports can rely on them.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd


class Record(Protocol):
    """A NamedTuple record type with a TABLE class attribute naming its table."""

    TABLE: str
    _fields: tuple[str, ...]


class Recorder:
    """Collects records and column batches per table, keyed by record type."""

    def __init__(self) -> None:
        self._types: dict[str, type] = {}
        self._rows: dict[str, list] = {}
        self._batches: dict[str, list[dict[str, np.ndarray]]] = {}
        self._frames: dict[str, pd.DataFrame] = {}

    def declare(self, record_type: type) -> None:
        """Make sure the table of `record_type` exists (with its columns) even with no rows."""
        table = record_type.TABLE
        known = self._types.get(table)
        if known is None:
            self._types[table] = record_type
            self._rows[table] = []
            self._batches[table] = []
        elif known is not record_type:
            raise ValueError(f"table {table!r} is declared by {known.__name__} and "
                             f"{record_type.__name__}")

    def add(self, record: Any) -> None:
        """Append one record (its type must have been declared)."""
        self._rows[record.TABLE].append(record)

    def appender(self, record_type: type):
        """The bound `append` of `record_type`'s rows, for hot loops (declares the type)."""
        self.declare(record_type)
        return self._rows[record_type.TABLE].append

    def add_columns(self, record_type: type, columns: dict[str, np.ndarray]) -> None:
        """Append a batch of rows of `record_type` given as equal-length arrays, one per field."""
        self.declare(record_type)
        if tuple(columns) != record_type._fields:
            raise ValueError(f"a {record_type.__name__} batch must have columns "
                             f"{record_type._fields}, got {tuple(columns)}")
        self._batches[record_type.TABLE].append(columns)

    def set_frame(self, table: str, frame: pd.DataFrame) -> None:
        """Store a whole table computed at the end of a run (e.g. latency statistics)."""
        self._frames[table] = frame

    def rows(self, record_type: type) -> list:
        """The records of `record_type` added so far (a live list: do not modify)."""
        return self._rows.get(record_type.TABLE, [])

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table as a DataFrame (fresh objects; the recorder keeps its data)."""
        out: dict[str, pd.DataFrame] = {}
        for table, rtype in self._types.items():
            fields = list(rtype._fields)
            batches = self._batches[table]
            frames = []
            if self._rows[table] or not batches:
                frames.append(pd.DataFrame.from_records(self._rows[table], columns=fields))
            if batches:
                frames.append(pd.DataFrame({c: np.concatenate([b[c] for b in batches])
                                            for c in fields}))
            out[table] = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        out.update({k: v.copy() for k, v in self._frames.items()})
        return dict(sorted(out.items()))
