"""Decimals as the providers write them on the wire: text, never floats."""

from __future__ import annotations

from decimal import Decimal

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
