"""The invoice store's own DynamoDB attribute values equal boto3's for what it stores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from fapiao.store.invoices import _attribute, _plain, _value, from_item

VALUES: list[Any] = [
    "发票",
    "",
    0,
    -12,
    2**62,
    True,
    False,
    [],
    ["a", 1, [True, {"x": "y"}]],
    {"amount": "996.00", "lines": [{"name": "餐饮服务", "qty": 1}], "ok": False},
    _plain({"when": Decimal("1.10"), "none": None, "floats": 0.5}),
]


@pytest.mark.parametrize("value", VALUES)
def test_written_as_boto3_writes_it(value: Any) -> None:
    assert _attribute(value) == TypeSerializer().serialize(value)


@pytest.mark.parametrize("value", VALUES)
def test_read_back_as_boto3_reads_it(value: Any) -> None:
    attribute = TypeSerializer().serialize(value)
    assert _value(attribute) == TypeDeserializer().deserialize(attribute)


def test_an_item_round_trips_and_money_keeps_its_scale() -> None:
    item = {"k": _attribute(_plain({"total": Decimal("996.00"), "n": 3}))}
    assert from_item(item) == {"k": {"total": "996.00", "n": Decimal(3)}}


def test_what_is_never_stored_is_refused() -> None:
    with pytest.raises(TypeError):
        _attribute(b"bytes")
    with pytest.raises(TypeError):
        _value({"B": b"x"})
