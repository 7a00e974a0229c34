"""Turn numbers and nested summary sections into display strings with their units.

Reports state units in column headers ("Total cost ($)", "p99 (ms)", "SLO violations (%)"), so
cells hold bare numbers formatted here.  Unknown summary sections are flattened into dotted
key/value rows; a key's suffix (``_usd``, ``_s``, ``_fraction`` ...) picks its display unit, and
children inherit the unit of a parent key that names one (``by_service_usd.ec2``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from simulator.units import Seconds, Usd

MISSING = "–"
MAX_ROWS = 200  # key/value rows shown per generic section before truncating


def finite(value: Any) -> float | None:
    """Return value as a float if it is a finite real number, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def usd(value: Usd | None) -> str:
    """Dollars: two decimals from $1 up, four below so small runs do not show 0.00."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{number:,.2f}" if abs(number) >= 1 or number == 0 else f"{number:,.4f}"


def ms(value: Seconds | None) -> str:
    """A duration in seconds shown in milliseconds with three significant digits or more."""
    number = finite(value)
    if number is None:
        return MISSING
    millis = number * 1e3
    if abs(millis) >= 100:
        return f"{millis:,.0f}"
    if abs(millis) >= 10:
        return f"{millis:.1f}"
    return f"{millis:.3g}"


def pct(value: float | None) -> str:
    """A fraction shown in percent (0.0012 -> "0.12")."""
    number = finite(value)
    if number is None:
        return MISSING
    percent = number * 100
    if percent == 0:
        return "0"
    if abs(percent) >= 10:
        return f"{percent:.1f}"
    if abs(percent) >= 0.01:
        return f"{percent:.2f}"
    return f"{percent:.2g}"


def num(value: Any) -> str:
    """A plain number: thousands separators, two decimals from 1 up, three digits below."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    number = finite(value)
    if number is None:
        return MISSING if value is None or _is_nan(value) else str(value)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:.2f}".rstrip("0").rstrip(".")
    return f"{number:.3g}"


def _is_nan(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def hours(value: Seconds | None) -> str:
    """A duration in seconds shown in hours."""
    number = finite(value)
    return MISSING if number is None else num(round(number / 3600.0, 4))


# (suffix, unit label, formatter); the first matching suffix wins, so longer ones come first.
_SUFFIXES: list[tuple[str, str, Callable[[Any], str]]] = [
    ("_usd", "$", usd),
    ("usd", "$", usd),
    ("_ms", "ms", num),
    ("_fraction", "%", pct),
    ("utilization", "%", pct),
    ("_pct", "%", num),
    ("_hours", "h", num),
    ("_kwh", "kWh", num),
    ("_bytes", "B", num),
    ("_per_s", "/s", num),
    ("_gib", "GiB", num),
    ("_s", "s", num),
]


def unit_of(key: str) -> tuple[str, str, Callable[[Any], str]] | None:
    """The (suffix, unit, formatter) a key's name implies, or None for a unitless key."""
    lowered = key.lower()
    for suffix, unit, fmt in _SUFFIXES:
        bare = not suffix.startswith("_")  # "utilization" alone still names a unit
        if lowered.endswith(suffix) and (bare or len(lowered) > len(suffix)):
            return suffix, unit, fmt
    return None


def label(key: str) -> str:
    """A readable label for a summary key with its unit: "instance_hours" -> "instance hours (h)"."""
    found = unit_of(key)
    if found is None:
        return key.replace("_", " ")
    suffix, unit, _ = found
    # "instance_hours" keeps its noun; other suffixes are just the unit ("total_usd" -> total).
    keep = not suffix.startswith("_") or suffix == "_hours"
    stem = key if keep else key[: len(key) - len(suffix)]
    return f"{stem.replace('_', ' ')} ({unit})"


def flatten(value: Any, prefix: str = "", fmt: Callable[[Any], str] | None = None,
            unit: str = "") -> list[tuple[str, str]]:
    """Flatten a nested mapping/list into (dotted label, formatted value) rows.

    A key that names a unit labels its row with that unit and passes its formatter to its
    children, so ``{"by_az_usd": {"a": 1.5}}`` becomes ``("by az ($).a", "1.50")``.
    """
    if isinstance(value, Mapping):
        if not value:
            return [(prefix or "(empty)", MISSING)]
        rows: list[tuple[str, str]] = []
        for key in value:
            found = unit_of(str(key))
            child_fmt, child_unit = (found[2], found[1]) if found else (fmt, unit)
            name = label(str(key))
            rows += flatten(value[key], f"{prefix}.{name}" if prefix else name, child_fmt,
                            child_unit)
        return rows
    if isinstance(value, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in value):
            text = ", ".join((fmt or num)(item) for item in value)
            return [(prefix, text or MISSING)]
        rows = []
        for index, item in enumerate(value):
            rows += flatten(item, f"{prefix}[{index}]", fmt, unit)
        return rows
    if isinstance(value, str):
        return [(prefix, value)]
    return [(prefix, (fmt or num)(value))]


def key_value_rows(section: Mapping[str, Any]) -> tuple[list[list[str]], int]:
    """Rows for a generic key/value table and how many rows were left out past MAX_ROWS."""
    rows = [[key, value] for key, value in flatten(section)]
    return rows[:MAX_ROWS], max(0, len(rows) - MAX_ROWS)


def title(key: str) -> str:
    """A section title from a summary key: "spot_market" -> "Spot market"."""
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else key


def by_unit(unit: str) -> Callable[[Any], str]:
    """The formatter of a metric's display unit ("$", "ms", "%", "h" or "")."""
    return {"$": usd, "ms": ms, "%": pct}.get(unit, num)


def header(title_text: str, unit: str) -> str:
    """A column header with its unit: "p99 latency (ms)"."""
    return f"{title_text} ({unit})" if unit else title_text


def lookup(summary: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of a nested summary, or None."""
    node: Any = summary
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node
