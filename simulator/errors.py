"""Input errors: one clear message per problem, naming the field, the bad value and the fix.

Every loader (scenario, sweep, price book, catalog, trace) raises ``InputError`` with a list of
``Problem`` records; the CLI prints them one per line and exits with code 2, never a traceback.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


MAX_SHOWN = 80
"""Characters of a value, or of a path, an error message shows at most."""
MAX_PROBLEMS = 20
"""Problems an error lists at most (the rest are counted)."""

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple = 2, 4, 4, 4
_REPR.maxstring = _REPR.maxother = MAX_SHOWN


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _show(value: Any) -> str:
    """A bounded rendering of a value: never walks or prints more than a prefix of it, so a
    huge or deeply shared value (a YAML alias bomb) costs nothing to name."""
    if isinstance(value, str):
        return _bounded(repr(value[:MAX_SHOWN]))
    if isinstance(value, int | float | bool) or value is None:
        try:
            return _bounded(str(value))
        except ValueError:  # an int too long to convert to text
            return "a number too long to show"
    return _bounded(_REPR.repr(value))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (dotted path), what, and the value found."""

    path: str
    message: str
    value: Any = field(default=_MISSING)

    def __str__(self) -> str:
        where = f"{_bounded(self.path)}: " if self.path else ""
        got = "" if self.value is _MISSING else f" (got {_show(self.value)})"
        return f"{where}{self.message}{got}"


class InputError(Exception):
    """Bad user input (a file, a flag, an override); carries every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return f"{head}{self.problems[0]}"
        lines = [f"{head}{len(self.problems)} problems:"]
        lines += [f"  {p}" for p in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - MAX_PROBLEMS} more")
        return "\n".join(lines)


def input_error(source: str, path: str, message: str, value: Any = _MISSING) -> InputError:
    """Shorthand for an InputError with a single problem."""
    return InputError(source, [Problem(path, message, value)])
