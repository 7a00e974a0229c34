"""Input errors: one clear message per problem, naming the field, the bad value and the fix.

Every loader (scenario, sweep, price book, catalog, trace) raises ``InputError`` with a list of
``Problem`` records; the CLI prints them one per line and exits with code 2, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (dotted path), what, and the value found."""

    path: str
    message: str
    value: Any = field(default=_MISSING)

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
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
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def input_error(source: str, path: str, message: str, value: Any = _MISSING) -> InputError:
    """Shorthand for an InputError with a single problem."""
    return InputError(source, [Problem(path, message, value)])
