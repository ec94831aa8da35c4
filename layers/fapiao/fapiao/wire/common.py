"""What every wire model shares: tolerant input, strict output, exact decimals in JSON
(``load_json`` and ``dump_json``, from ``fapiao.jsontext``)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import ConfigDict

from fapiao.basemodel import HubModel
from fapiao.jsontext import WireError, dump_json, load_json

__all__ = ["StrictWireModel", "WireError", "WireModel", "dump_json", "load_json"]


class WireModel(HubModel):
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
