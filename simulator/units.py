"""Quantities with units, parsed once at the edge into one base unit per dimension.

Inside dcsim every duration is in seconds, every size in bytes, every amount of money in US
dollars, every rate in events per second and every money rate in dollars per second.  YAML
scenarios, price books and CLI overrides may write quantities with units ("15 min", "16 GiB",
"$0.096/h", "600/s", "2%"); the parsers here turn them into those base units and reject anything
ambiguous with a message that says what was expected.

The pydantic-ready aliases (``Duration``, ``Size``, ``Rate``, ``Money``, ``MoneyRate``,
``Fraction``) validate either a plain number (already in base units) or a string with a unit.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator

Seconds = float
Bytes = float
Usd = float
PerSecond = float
UsdPerSecond = float

HOUR = 3600.0
DAY = 86400.0
MONTH = 730.0 * HOUR  # AWS Pricing Calculator convention: 730 h per month
YEAR = 365.0 * DAY  # AWS reserved-instance term convention: 365 d per year
GIB = float(2**30)

_TIME_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": HOUR,
    "hr": HOUR,
    "hrs": HOUR,
    "hour": HOUR,
    "hours": HOUR,
    "d": DAY,
    "day": DAY,
    "days": DAY,
    "w": 7 * DAY,
    "week": 7 * DAY,
    "weeks": 7 * DAY,
    "mo": MONTH,
    "month": MONTH,
    "months": MONTH,
    "y": YEAR,
    "yr": YEAR,
    "year": YEAR,
    "years": YEAR,
}

_SIZE_UNITS: dict[str, float] = {
    "b": 1.0,
    "byte": 1.0,
    "bytes": 1.0,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "pb": 1e15,
    "kib": 2.0**10,
    "mib": 2.0**20,
    "gib": 2.0**30,
    "tib": 2.0**40,
    "pib": 2.0**50,
}

_NUMBER = r"[-+]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµ%]*)\s*$")


class UnitError(ValueError):
    """A quantity that could not be parsed; the message says what was expected."""


def _number(text: str) -> float:
    return float(text.replace("_", ""))


_NUMBERS = (int, float)  # a tuple: `int | float` would build a union object on every call


def _plain_number(value: object, what: str, example: str) -> float | None:
    """Return value as a float if it is already a number; None if it is a string to parse."""
    if isinstance(value, bool):
        raise UnitError(f"expected {what} such as {example!r}, not a boolean")
    if isinstance(value, _NUMBERS):
        try:
            x = float(value)
        except OverflowError:  # an integer beyond any float
            x = math.inf
        if not math.isfinite(x):
            raise UnitError(f"expected {what} such as {example!r}, a finite number, "
                            f"not {value!r}"[:200])
        return x
    if not isinstance(value, str):
        raise UnitError(f"expected {what} such as {example!r}")
    return None


def _split(text: str, what: str, example: str) -> tuple[float, str]:
    m = _QUANTITY.match(text)
    if not m:
        raise UnitError(f"expected {what} such as {example!r}")
    return _number(m.group(1)), m.group(2)


def _scaled(value: object, what: str, example: str, units: dict[str, float], kind: str,
            hint: str) -> float:
    """A number, or a number with a unit from `units` (case-sensitive first), times its factor."""
    if type(value) is not str:
        plain = _plain_number(value, what, example)
        if plain is not None:
            return plain
    number, unit = _split(value, what, example)
    if unit == "":
        return number
    factor = units.get(unit) or units.get(unit.lower())
    if factor is None:
        raise UnitError(f"unknown {kind} unit {unit!r}; use one of {hint}")
    return number * factor


def parse_duration(value: object) -> Seconds:
    """Parse a duration ("90 s", "15 min", "7 d", "250 ms", or seconds as a number) to seconds."""
    return _scaled(value, "a duration", "15 min", _TIME_UNITS, "time",
                   "ms, s, min, h, d, w, mo (730 h), y (365 d)")


def parse_size(value: object) -> Bytes:
    """Parse a size ("16 GiB", "4 KB", or bytes as a number) to bytes (KB = 1000, KiB = 1024)."""
    return _scaled(value, "a size", "16 GiB", _SIZE_UNITS, "size",
                   "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB")


def parse_rate(value: object) -> PerSecond:
    """Parse an event rate ("600/s", "36000/h", or events per second as a number) to 1/s."""
    plain = _plain_number(value, "a rate", "600/s")
    if plain is not None:
        return plain
    text = str(value).strip()
    if "/" not in text:
        raise UnitError("expected a rate such as '600/s' or '1000/min'")
    count_text, _, per = text.partition("/")
    count, count_unit = _split(count_text, "a rate", "600/s")
    if count_unit not in ("", "req", "reqs", "requests", "events", "objects"):
        raise UnitError(f"unexpected word {count_unit!r} in a rate; write e.g. '600/s'")
    return count / _period(per, "rate")


def _period(per: str, what: str) -> Seconds:
    """The period after the slash of "600/s", "$70/mo", "5/10 s" in seconds (must be positive)."""
    per = per.strip()
    seconds = parse_duration(per if per[:1].isdigit() else "1 " + per)
    if seconds <= 0:
        raise UnitError(f"the period of a {what} must be positive")
    return seconds


def parse_money(value: object) -> Usd:
    """Parse an amount of money ("$12.50", "12.5 USD", or dollars as a number) to US dollars."""
    plain = _plain_number(value, "an amount of money", "$12.50")
    if plain is not None:
        return plain
    text = str(value).strip().replace(",", "")
    if text.upper().endswith("USD"):
        text = text[:-3].strip()
    if text.startswith("$"):
        text = text[1:].strip()
    try:
        return _number(text)
    except ValueError:
        raise UnitError("expected an amount of money such as '$12.50'") from None


def parse_money_rate(value: object) -> UsdPerSecond:
    """Parse a price per time ("$0.096/h", "$70/mo", or dollars per second as a number) to $/s."""
    plain = _plain_number(value, "a price per time", "$0.096/h")
    if plain is not None:
        return plain
    text = str(value).strip()
    if "/" not in text:
        raise UnitError("expected a price per time such as '$0.096/h'")
    amount_text, _, per = text.partition("/")
    return parse_money(amount_text) / _period(per, "price")


def parse_fraction(value: object) -> float:
    """Parse a fraction ("2%", "0.02") to a plain number (0.02)."""
    plain = _plain_number(value, "a fraction", "2%")
    if plain is not None:
        return plain
    number, unit = _split(str(value), "a fraction", "2%")
    if unit == "":
        return number
    if unit == "%":
        return number / 100.0
    raise UnitError(f"unknown unit {unit!r} for a fraction; write '2%' or 0.02")


def parse_annual_rate(value: object) -> PerSecond:
    """Parse a fraction per time ("2%/y", "0.5%/mo") to a hazard rate per second.

    A fraction f per period T is read as a constant hazard with P(event within T) = f, so the
    rate is -ln(1 - f) / T; f must lie in [0, 1).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if "/" not in text:
        raise UnitError("expected a fraction per time such as '2%/y'")
    frac_text, _, per = text.partition("/")
    f = parse_fraction(frac_text)
    if not 0 <= f < 1:
        raise UnitError("a fraction per time must lie in [0%, 100%)")
    return -math.log1p(-f) / _period(per, "fraction per time")


def _common(text: str, units: dict[str, float]) -> float | None:
    """The quantity in text written the common way ("250 ms", "16 GiB"), else None.

    float() reads exactly what _NUMBER does for such text (digits first, no sign, no
    underscores), so the result is the general parser's, bit for bit; anything else (and a
    mistake) is left to the general parser, which says what was expected.
    """
    number, space, unit = text.partition(" ")
    if space and number[:1].isdigit() and number.isascii() and "_" not in number:
        factor = units.get(unit) or units.get(unit.lower())  # as _scaled looks units up
        if factor is not None:
            try:
                return float(number) * factor
            except ValueError:
                return None
    return None


_CACHE_SIZE = 4096
"""Distinct texts a unit field remembers the value of (the first ones seen)."""


def _validator(parse, units: dict[str, float] | None = None):
    """The pydantic validator of a unit type: `parse` the value to a finite float in base units.

    With `units`, the common form "<number> <unit>" is read first without the general parser
    (a generated scenario's 10^6 distinct times); other texts are parsed once and remembered
    (the first few thousand: generated scenarios repeat quantities such as "400/s").
    """
    cache: dict[str, float] = {}

    def check(value: object) -> float:
        try:
            if type(value) is not str:
                x = parse(value)
            elif units is not None and (x := _common(value, units)) is not None:
                pass
            else:
                x = cache.get(value)
                if x is None:
                    x = parse(value)
                    if len(cache) < _CACHE_SIZE:
                        cache[value] = x
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if not math.isfinite(x):  # e.g. "1e400 GiB": finite text, infinite quantity
            raise ValueError("the quantity is too large to be a finite number; write a value "
                             "within the field's range")
        return x

    check.__qualname__ = parse.__name__  # lets the reference generator name the unit
    return BeforeValidator(check)


Duration = Annotated[float, _validator(parse_duration, _TIME_UNITS)]
Size = Annotated[float, _validator(parse_size, _SIZE_UNITS)]
Rate = Annotated[float, _validator(parse_rate)]
Money = Annotated[float, _validator(parse_money)]
MoneyRate = Annotated[float, _validator(parse_money_rate)]
Fraction = Annotated[float, _validator(parse_fraction)]
AnnualRate = Annotated[float, _validator(parse_annual_rate)]


def format_duration(seconds: Seconds) -> str:
    """Format seconds for people: '45 s', '15 min', '2.5 h', '7 d'."""
    s = float(seconds)
    for unit, size in (("d", DAY), ("h", HOUR), ("min", 60.0)):
        if abs(s) >= size:
            return f"{s / size:g} {unit}"
    if abs(s) >= 1 or s == 0:
        return f"{s:g} s"
    return f"{s * 1e3:g} ms"
