"""The local hub loads a handler as a Lambda container would: each container a fresh
copy of the module (module state of its own), each copy under the same module name."""

from __future__ import annotations

from fapiao.local.apigw import load_module
from fapiao.local.template import Template
from support import TEMPLATE as HUB_TEMPLATE


def test_every_container_of_a_function_keys_idempotency_records_alike() -> None:
    """Powertools keys an idempotency record by the function's module and name: two
    containers of invoice/create must share them, or a bizId replayed on the other
    container would miss its first answer."""
    template = Template(HUB_TEMPLATE)
    (function,) = [f for f in template.functions if f.logical_id == "InvoiceCreateFunction"]
    first = load_module(template, function, "0")
    second = load_module(template, function, "1")
    assert first is not second and first.create_once is not second.create_once
    assert (first.create_once.__module__, first.create_once.__qualname__) == (
        second.create_once.__module__,
        second.create_once.__qualname__,
    )
