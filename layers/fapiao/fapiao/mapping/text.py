"""Text on the providers' wire: decimals written exactly, blanks read as nothing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fapiao.dates import InvalidDate, parse_date, parse_hhmm

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


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


class InvalidAmountError(ValueError):
    """A wire amount that is not a decimal number."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} is not a decimal amount: {value!r}")
        self.field = field
        self.value = value


def blank_if_none(value: str | None) -> str:
    """The providers write an empty string, not null, for a field with nothing in it."""
    return value or ""


def wire_decimal(value: str | None, field: str) -> Decimal | None:
    """An amount as the providers write it ("1,300.00", "¥23.30"); blank is None."""
    text = wire_text(value)
    if text is None:
        return None
    try:
        return Decimal(text.replace(",", "").lstrip("¥￥"))
    except InvalidOperation:
        raise InvalidAmountError(field, text) from None


def wire_rate(value: str | None) -> Decimal | None:
    """A tax rate as a fraction: "9", "9%" and "0.09" are all 0.09.

    Words such as 免税 or 不征税 are not rates and give None (the tax amount says 0).
    """
    text = wire_text(value)
    if text is None:
        return None
    percent = text.endswith("%")
    try:
        number = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        return None
    if not percent and "." in text and number < 1:
        return number  # already a fraction
    return number / _HUNDRED


def percent_text(rate: Decimal | None) -> str:
    """A fraction as percent text without the sign: 0.09 -> "9", 0.015 -> "1.5"."""
    if rate is None:
        return ""
    return format((rate * _HUNDRED).normalize(), "f")
