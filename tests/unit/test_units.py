"""Units are parsed once, at the edge, into seconds, bytes, dollars and events per second."""

import math

import pytest

from simulator.units import (
    UnitError,
    format_duration,
    parse_annual_rate,
    parse_duration,
    parse_fraction,
    parse_money,
    parse_money_rate,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("90 s", 90), ("90s", 90), ("15 min", 900), ("1.5 h", 5400), ("7 d", 604800),
        ("250 ms", 0.25), ("2 w", 1209600), ("1 mo", 730 * 3600), ("1 y", 365 * 86400),
        ("1e3 ms", 1.0), ("1_000 s", 1000), (42, 42), (0.5, 0.5), ("3", 3), ("10 us", 1e-5),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize(
    "text, size",
    [
        ("16 GiB", 16 * 2**30), ("4 KB", 4000), ("1 MiB", 2**20), ("2 TB", 2e12),
        ("512 B", 512), ("1.5 kib", 1536), (1024, 1024), ("8 PiB", 8 * 2**50),
    ],
)
def test_sizes(text, size):
    assert parse_size(text) == pytest.approx(size, rel=1e-12)


@pytest.mark.parametrize(
    "text, rate",
    [("600/s", 600), ("36000/h", 10), ("60/min", 1), ("600 /s", 600), ("5/10 s", 0.5),
     ("100 req/s", 100), (12.5, 12.5)],
)
def test_rates(text, rate):
    assert parse_rate(text) == pytest.approx(rate, rel=1e-12)


@pytest.mark.parametrize(
    "text, usd", [("$12.50", 12.5), ("12.5 USD", 12.5), ("$1,000", 1000), (3, 3.0)]
)
def test_money(text, usd):
    assert parse_money(text) == pytest.approx(usd)


@pytest.mark.parametrize(
    "text, per_s",
    [("$0.096/h", 0.096 / 3600), ("$73/mo", 73 / (730 * 3600)), ("$1/s", 1.0), ("$36/10 h", 0.001)],
)
def test_money_rates(text, per_s):
    assert parse_money_rate(text) == pytest.approx(per_s, rel=1e-12)


@pytest.mark.parametrize("text, f", [("2%", 0.02), ("0.02", 0.02), (0.5, 0.5), ("100%", 1.0)])
def test_fractions(text, f):
    assert parse_fraction(text) == pytest.approx(f)


def test_annual_rate_is_a_constant_hazard():
    rate = parse_annual_rate("2%/y")
    year = 365 * 86400
    assert 1 - math.exp(-rate * year) == pytest.approx(0.02, rel=1e-12)


@pytest.mark.parametrize(
    "parse, bad",
    [
        (parse_duration, "15 parsecs"), (parse_duration, "fast"), (parse_duration, True),
        (parse_duration, "1 h 30 min"), (parse_duration, None), (parse_duration, float("nan")),
        (parse_size, "16 GiBs"), (parse_size, "big"), (parse_rate, "600"), (parse_rate, "600/fortnight"),
        (parse_rate, "600/0 s"), (parse_money_rate, "$0.096"), (parse_money, "ten dollars"),
        (parse_fraction, "2 percent"), (parse_annual_rate, "200%/y"),
    ],
)
def test_bad_units_say_what_was_expected(parse, bad):
    with pytest.raises(UnitError) as err:
        parse(bad)
    assert str(err.value)


def test_format_duration():
    assert format_duration(45) == "45 s"
    assert format_duration(900) == "15 min"
    assert format_duration(0.25) == "250 ms"
    assert format_duration(2 * 86400) == "2 d"
