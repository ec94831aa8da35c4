"""Printed values as the canonical model's types: money, rates, dates, codes, names.

Every parser returns None for what it cannot read; nothing is guessed. Money is
``Decimal`` from the printed digits. Exempt invoices print their tax as "***": that
reads as a tax of 0.00 (the invoice says no tax is due), never as a missing value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from fapiao.dates import InvalidDate, parse_date

EXEMPT_TAX = "***"
ZERO_TAX = Decimal("0.00")

_MONEY = re.compile(r"-?\d+(?:\.\d+)?")
_DATE = re.compile(r"(\d{4})\D{0,3}?(\d{1,2})\D{0,3}?(\d{1,2})")
_TAX_ID = re.compile(r"[0-9A-Z]{15,20}")
_SPACES = re.compile(r"[\s\u3000]+")
_EXEMPT_RATES = ("免税", "不征税", "免征")


def money(text: str | None) -> Decimal | None:
    """'¥1,234.50' / '￥ 1234.50' / '-10.62' -> Decimal; '***' -> 0.00 (exempt)."""
    if text is None:
        return None
    cleaned = _SPACES.sub("", text).replace(",", "").lstrip("¥￥:：")
    if cleaned.startswith(EXEMPT_TAX):
        return ZERO_TAX
    match = _MONEY.fullmatch(cleaned)
    if match is None:
        return None
    try:
        return Decimal(match.group(0))
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        return None


def tax_rate(text: str | None) -> Decimal | None:
    """'13%' -> 0.13, '13.00%' -> 0.13, '免税' / '不征税' -> 0; anything else None."""
    if text is None:
        return None
    cleaned = _SPACES.sub("", text)
    if any(word in cleaned for word in _EXEMPT_RATES) or cleaned == EXEMPT_TAX:
        return Decimal(0)
    if not cleaned.endswith("%"):
        return None
    value = money(cleaned[:-1])
    if value is None:
        return None
    return (value / 100).normalize()


def date(text: str | None) -> dt.date | None:
    """'2019年07月20日', '2019 07 20', ':2025 04 25', '2022-09-01', '20190720' -> date."""
    if text is None:
        return None
    compact = _SPACES.sub("", text)
    if re.fullmatch(r"\d{8}", compact):
        return _checked(compact)
    match = _DATE.search(text)
    if match is None:
        return None
    year, month, day = match.groups()
    return _checked(f"{year}{int(month):02d}{int(day):02d}")


def _checked(yyyymmdd: str) -> dt.date | None:
    try:
        return parse_date(yyyymmdd)
    except InvalidDate:
        return None


def digits(text: str | None, *lengths: int) -> str | None:
    """The digits of ``text`` (spaces dropped) if their count is one of ``lengths``."""
    if text is None:
        return None
    only = _SPACES.sub("", text)
    if only.isdigit() and (not lengths or len(only) in lengths):
        return only
    return None


def tax_id(text: str | None) -> str | None:
    """A taxpayer ID (15..20 digits or capitals), e.g. '91330000734500338C'."""
    if text is None:
        return None
    cleaned = _SPACES.sub("", text).upper()
    return cleaned if _TAX_ID.fullmatch(cleaned) else None


def name(text: str | None) -> str | None:
    """A printed name with its outer and doubled spaces dropped; None if empty."""
    if text is None:
        return None
    cleaned = _SPACES.sub(" ", text).strip(" :：")
    return cleaned or None


def same(a: object, b: object) -> bool:
    """Do two readings of one field say the same thing? Decimals by value, text by its
    NFKC form without spaces (full-width and half-width brackets agree)."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return _fold(a) == _fold(b)
    return a == b


def _fold(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def show(value: object) -> str:
    """A reading as text for a warning or a disagreement."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "name") and hasattr(value, "value") and not isinstance(value, str):
        return str(value.name)
    return str(value)
