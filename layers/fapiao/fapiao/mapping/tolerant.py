"""Tolerant reading of a provider's JSON: what a spec does not name is dropped, not refused.

The wire models are strict (``extra="forbid"``) so that the hub never answers a field it
does not know; a provider, though, may add fields to its answers at any time. Before its
answer is validated, each object is pruned to the fields its model declares, and the
dotted paths of what was dropped are collected for a debug log (names, never values).
The per-spec parsers are beside their mappers: ``fapiao.mapping.exocr.parse_verify_response``
and ``fapiao.mapping.yipiaoyun.parse_send_response`` / ``parse_result_response``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel

__all__ = ["prune", "prune_items", "wire_names"]


@cache
def wire_names(model: type[BaseModel]) -> frozenset[str]:
    """The names ``model``'s fields have on the wire (their aliases, else their names)."""
    return frozenset(info.alias or name for name, info in model.model_fields.items())


def prune(
    value: Mapping[str, Any], model: type[BaseModel], dropped: list[str], path: str
) -> dict[str, Any]:
    """``value`` without the fields ``model`` does not declare; their names, prefixed with
    ``path`` ("result.data."), are appended to ``dropped``."""
    allowed = wire_names(model)
    kept: dict[str, Any] = {}
    for name, item in value.items():
        if name in allowed:
            kept[name] = item
        else:
            dropped.append(f"{path}{name}")
    return kept


def prune_items(
    items: list[Any], model: type[BaseModel], dropped: list[str], path: str
) -> list[Any]:
    """Each object of a list pruned to ``model`` (``path`` "data.flightInfos" names the
    dropped ``data.flightInfos[0].cabin``); what is not an object is left to validation."""
    return [
        prune(item, model, dropped, f"{path}[{index}].") if isinstance(item, Mapping) else item
        for index, item in enumerate(items)
    ]
