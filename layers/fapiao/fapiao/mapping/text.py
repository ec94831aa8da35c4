"""Text on the providers' wire: decimals written exactly, blanks read as nothing."""

from __future__ import annotations

from decimal import Decimal

from fapiao.dates import InvalidDate, parse_date, parse_hhmm

_CENT = Decimal("0.01")


def money_text(value: Decimal | None) -> str:
    """Money with at least two decimals, as exocr and yipiaoyun write it ("1300.00");
    a value with more decimals keeps them. None is ""."""
    if value is None:
        return ""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return format(value.quantize(_CENT), "f")
    return format(value, "f")


def number_text(value: Decimal | None) -> str:
    """A quantity or price as plain text ("3", "12.5"); None is ""."""
    return "" if value is None else format(value, "f")


def wire_text(value: str | None) -> str | None:
    """The wire's text, with "" (the providers' way of saying nothing) as None."""
    if value is None:
        return None
    text = value.strip()
    return text or None


def hhmm_or_text(value: str | None) -> str | None:
    """HH:mm when the text is a time of day; otherwise the text as it came."""
    try:
        return parse_hhmm(wire_text(value))
    except InvalidDate:
        return wire_text(value)


def iso_date_or_text(value: str | None) -> str | None:
    """A segment date as YYYY-MM-DD when it is a date; otherwise the text as it came."""
    try:
        day = parse_date(wire_text(value))
    except InvalidDate:
        return wire_text(value)
    return day.isoformat() if day is not None else None
