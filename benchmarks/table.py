"""One table for every benchmark figure: its value, the baseline measured beside it, the ratio
and the goal it is held to.

Each case module offers ``rows(quick: bool) -> list[Row]``; ``python -m benchmarks`` gathers
the rows of every case and prints them as one table (``--quick``: the subset that runs in
under a minute).
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One figure of a benchmark case, beside its baseline (if any) and its goal (if any).

    ``ratio`` is value / baseline when both are rates (higher is better) and baseline / value
    when ``unit`` is seconds (lower is better), so that > 1 always means dcsim is ahead.
    ``min_ratio`` holds the ratio to a goal; ``max_value`` / ``min_value`` hold the value
    itself to one (for figures such as a whole-process time, whose goal is absolute).
    """

    case: str
    figure: str
    value: float
    unit: str
    baseline: str = ""
    base_value: float | None = None
    min_ratio: float | None = None
    max_value: float | None = None
    min_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.base_value is None or not self.value or not self.base_value:
            return None
        return self.base_value / self.value if self.unit == "s" else self.value / self.base_value

    @property
    def goal(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"≥ {self.min_ratio:g}×")
        if self.max_value is not None:
            parts.append(f"≤ {_fmt(self.max_value)} {self.unit}")
        if self.min_value is not None:
            parts.append(f"≥ {_fmt(self.min_value)} {self.unit}")
        return ", ".join(parts)

    @property
    def met(self) -> bool | None:
        """Whether the figure meets its goal (None: it has none)."""
        if self.min_ratio is None and self.max_value is None and self.min_value is None:
            return None
        ok = True
        if self.min_ratio is not None:
            ok = ok and self.ratio is not None and self.ratio >= self.min_ratio
        if self.max_value is not None:
            ok = ok and self.value <= self.max_value
        if self.min_value is not None:
            ok = ok and self.value >= self.min_value
        return ok


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def render(rows: list[Row]) -> str:
    """The rows as one aligned text table, grouped by case in the order given."""
    head = ("case", "figure", "value", "unit", "baseline", "baseline value", "ratio", "goal", "",
            "note")
    body = []
    for r in rows:
        met = {True: "met", False: "MISSED", None: ""}[r.met]
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else ""
        body.append((r.case, r.figure, _fmt(r.value), r.unit, r.baseline, _fmt(r.base_value),
                     ratio, r.goal, met, r.note))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    right = {2, 5, 6}

    def line(cells) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [line(head), line(["-" * w for w in widths])]
    last = None
    for cells in body:
        shown = list(cells)
        if cells[0] == last:
            shown[0] = ""
        last = cells[0]
        out.append(line(shown))
    missed = sum(r.met is False for r in rows)
    goals = sum(r.met is not None for r in rows)
    out.append(f"\n{goals - missed} of {goals} goals met" + (f"; {missed} missed" if missed else ""))
    return "\n".join(out)


def quiet(fn, *args):
    """fn(*args) with the detail lines it prints shown only under ``--verbose``: the table
    is the output."""
    if "--verbose" in sys.argv:
        return fn(*args)
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)
