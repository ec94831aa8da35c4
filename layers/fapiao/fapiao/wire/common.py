"""What every wire model shares: tolerant input, strict output, exact decimals in JSON.

JSON numbers are money here, so they never pass through ``float``: ``load_json`` reads
every number with a fraction as ``Decimal`` (996.00 stays 996.00), and ``dump_json``
writes ``Decimal`` back as a bare JSON number with its scale.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

import simplejson
from pydantic import BaseModel, ConfigDict


class WireError(ValueError):
    """A body that is not JSON at all (pydantic's ValidationError covers the rest)."""


def load_json(text: str | bytes) -> Any:
    """Parse a JSON body; numbers with a fraction or exponent become ``Decimal``."""
    try:
        return simplejson.loads(text, use_decimal=True)
    except (simplejson.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
        raise WireError(f"body is not valid JSON: {error}") from error


def _default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", by_alias=True)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(value: object) -> str:
    """Serialise to JSON with ``Decimal`` as exact numbers and non-ASCII kept as is."""
    if isinstance(value, WireModel):
        value = value.to_wire()
    text: str = simplejson.dumps(value, use_decimal=True, ensure_ascii=False, default=_default)
    return text


class WireModel(BaseModel):
    """Base of request models: tolerant of extra fields and of names or aliases."""

    model_config = ConfigDict(
        populate_by_name=True,
        extra="ignore",
        coerce_numbers_to_str=True,
        str_strip_whitespace=False,
    )

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        return cls.model_validate(load_json(text))

    def to_wire(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """The dict to serialise: wire field names, Python values (Decimal kept)."""
        return self.model_dump(mode="python", by_alias=True, exclude_none=exclude_none)

    def to_json(self, *, exclude_none: bool = False) -> str:
        return dump_json(self.to_wire(exclude_none=exclude_none))


class StrictWireModel(WireModel):
    """Base of response models: the hub writes exactly the fields it declares."""

    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        coerce_numbers_to_str=False,
    )
