"""Reading price-book files: unit-bearing field types, a strict YAML loader, dotted-path errors.

Each field type reads a number in the unit its YAML key names (``usd_per_gb_month``, $ per
instance-hour, "60 s", "100 GiB") and keeps it in dcsim's base units (USD, seconds, bytes).
GB in a price means 2^30 bytes and a month is 730 h; sizes written in decimal units ("100 GB")
are refused so that nobody mixes the two.  ``load_yaml`` refuses a key written twice;
``validation_problems`` turns pydantic errors into ``Problem`` records with dotted paths.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from simulator.units import (
    GIB,
    HOUR,
    MONTH,
    UnitError,
    parse_duration,
    parse_money_rate,
    parse_size,
)

MIB = 2.0**20
_DECIMAL_SIZE = re.compile(r"(?i)\d\s*([kmgtp]b)\s*$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _non_negative(value: Any, what: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0:
        raise ValueError(f"must be a non-negative {what}")
    return float(value)


def _price(what: str, factor: float, optional: bool = False) -> Any:
    """A non-negative number in the quoted unit `what`, kept multiplied by `factor`."""

    def check(value: Any) -> float | None:
        if value is None and optional:
            return None
        return _non_negative(value, what) * factor

    return Annotated[float | None if optional else float, BeforeValidator(check)]


def _hourly(value: Any) -> float:
    if isinstance(value, str):
        try:
            rate = parse_money_rate(value)
        except UnitError as exc:
            raise ValueError(f"must be a price in $/h such as 0.096 or '$0.096/h' ({exc})") from None
        return _non_negative(rate * HOUR, "price in $/h") / HOUR
    return _non_negative(value, "price in $/h") / HOUR


def _size(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str) and (m := _DECIMAL_SIZE.search(value)):
        unit = m.group(1)
        raise ValueError(f"write binary units ({unit[0].upper()}iB, not {unit}): GB = 2^30 bytes here")
    try:
        return _non_negative(parse_size(value), "size")
    except UnitError as exc:
        raise ValueError(str(exc)) from None


def _throughput(value: Any) -> float:
    if isinstance(value, str):
        if not value.strip().endswith("/s"):
            raise ValueError("must be a throughput such as '125 MiB/s'")
        value = value.strip()[:-2]
    return _size(value) or 0.0


def _duration(positive: bool) -> Any:
    def check(value: Any) -> float:
        try:
            seconds = parse_duration(value)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if seconds < 0 or (positive and seconds == 0) or not math.isfinite(seconds):
            raise ValueError(f"must be a {'positive' if positive else 'non-negative'} duration")
        return seconds

    return Annotated[float, BeforeValidator(check)]


def _date(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _DATE.match(text):
        raise ValueError("must be a date such as 2026-01-19 (or 2025-06, or 2025)")
    return text


def _empty(value: Any) -> None:
    if value in (None, {}, []):
        return None
    raise ValueError("not supported yet: leave it empty ({}) until dcsim bills this purchase option")


def ordered_tiers(tiers: tuple[Any, ...]) -> tuple[Any, ...]:
    """Check a cumulative tier list: `up_to` strictly increasing, only the last one open."""
    ends = [t.up_to_bytes for t in tiers]
    if not ends or ends[-1] is not None:
        raise ValueError("the last tier must be open-ended (up_to: null)")
    for i in range(len(ends) - 1):
        if ends[i] is None:
            raise ValueError(f"only the last tier may be open-ended, but tier {i} has up_to: null")
        if i and ends[i] <= ends[i - 1]:
            raise ValueError(
                f"tiers out of order: tier {i} ends at {ends[i] / GIB:g} GiB, not after tier "
                f"{i - 1} ({ends[i - 1] / GIB:g} GiB); list tiers by increasing up_to"
            )
    return tiers


UsdPerHour = Annotated[float, BeforeValidator(_hourly)]
UsdPerGb = _price("price in $/GB", 1 / GIB)
UsdPerGbMonth = _price("price in $/GB-month", 1 / (GIB * MONTH))
UsdPer1000 = _price("price in $ per 1,000", 1 / 1000)
OptUsdPer1000 = _price("price in $ per 1,000", 1 / 1000, optional=True)
OptUsdPerIopsMonth = _price("price in $ per IOPS-month", 1 / MONTH, optional=True)
OptUsdPerMibpsMonth = _price("price in $ per MiB/s-month", 1 / (MIB * MONTH), optional=True)
OptUsdPer1000ObjectMonths = _price("price in $ per 1,000 objects-month", 1 / (1000 * MONTH), True)
Count = _price("number", 1.0)
Duration = _duration(positive=False)
PositiveDuration = _duration(positive=True)
Throughput = Annotated[float, BeforeValidator(_throughput)]
Size = Annotated[float, BeforeValidator(_size)]
OptSize = Annotated[float | None, BeforeValidator(_size)]
IsoDate = Annotated[str, BeforeValidator(_date)]
Empty = Annotated[None, BeforeValidator(_empty)]
Text = Annotated[str, Field(min_length=1)]
