"""JSON text with exact decimals: JSON numbers are money here, so they never pass
through ``float``. ``load_json`` reads every number with a fraction as ``Decimal``
(996.00 stays 996.00), and ``dump_json`` writes ``Decimal`` back as a bare JSON number
with its scale.

It imports no pydantic (a model is serialised through its own ``model_dump``): the
authorizer writes its refusals with it and stays light to import (issue 13).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import simplejson

__all__ = ["WireError", "dump_json", "load_json"]


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
    model_dump = getattr(value, "model_dump", None)  # a pydantic model
    if callable(model_dump):
        return model_dump(mode="python", by_alias=True)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(value: object) -> str:
    """Serialise to JSON with ``Decimal`` as exact numbers and non-ASCII kept as is. A
    wire model (``fapiao.wire.common.WireModel``) is written with its wire names."""
    to_wire = getattr(value, "to_wire", None)
    if callable(to_wire):
        value = to_wire()
    text: str = simplejson.dumps(value, use_decimal=True, ensure_ascii=False, default=_default)
    return text
