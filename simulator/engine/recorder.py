"""The recorder: append-only observations of a run, turned into DataFrames at the end.

Components never write results; they hand the recorder frozen dataclass records (one row each)
or, on hot paths, column batches of NumPy arrays.  ``tables()`` returns one DataFrame per table
name, with columns in declaration order, so money, percentiles and durability are computed
afterwards from the records alone.
"""

from __future__ import annotations

import dataclasses
import operator
from collections import defaultdict
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd


class Record(Protocol):
    """A frozen dataclass with a TABLE class attribute naming its table."""

    TABLE: ClassVar[str]


class Recorder:
    """Collects records and column batches per table name."""

    def __init__(self) -> None:
        self._rows: dict[str, list[tuple]] = defaultdict(list)
        self._fields: dict[str, tuple[str, ...]] = {}
        self._getters: dict[type, operator.attrgetter] = {}
        self._batches: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)
        self._frames: dict[str, pd.DataFrame] = {}

    def add(self, record: Any) -> None:
        """Append one record (a frozen dataclass instance with a TABLE class attribute)."""
        getter = self._getters.get(type(record))
        if getter is None:
            names = tuple(f.name for f in dataclasses.fields(record))
            self._fields.setdefault(record.TABLE, names)
            getter = self._getters[type(record)] = operator.attrgetter(*names)
        self._rows[record.TABLE].append(getter(record))

    def add_row(self, record_type: type, values: tuple) -> None:
        """Append one row of `record_type`'s table given as a tuple in field order (hot paths).

        Equivalent to ``add(record_type(*values))`` without building the dataclass.
        """
        table = record_type.TABLE
        if table not in self._fields:
            self.declare(record_type)
        self._rows[table].append(values)

    def appender(self, record_type: type):
        """A bound `append` for rows of `record_type` (tuples in field order), for hot loops."""
        self.declare(record_type)
        return self._rows[record_type.TABLE].append

    def add_columns(self, table: str, columns: dict[str, np.ndarray]) -> None:
        """Append a batch of rows given as equal-length arrays, one per column."""
        self._batches[table].append(columns)

    def declare(self, record_type: type, table: str | None = None) -> None:
        """Make sure a table exists (with its columns) even if no record is ever added."""
        name = table or record_type.TABLE
        self._fields.setdefault(name, tuple(f.name for f in dataclasses.fields(record_type)))
        self._rows.setdefault(name, [])

    def set_frame(self, table: str, frame: pd.DataFrame) -> None:
        """Store a whole table computed at the end of a run (e.g. latency statistics)."""
        self._frames[table] = frame

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table as a DataFrame (fresh objects; the recorder keeps its data)."""
        out: dict[str, pd.DataFrame] = {}
        for table, fields in self._fields.items():
            out[table] = pd.DataFrame.from_records(self._rows[table], columns=list(fields))
        for table, batches in self._batches.items():
            if not batches:
                continue
            cols = batches[0].keys()
            out[table] = pd.DataFrame({c: np.concatenate([b[c] for b in batches]) for c in cols})
        out.update({k: v.copy() for k, v in self._frames.items()})
        return dict(sorted(out.items()))
