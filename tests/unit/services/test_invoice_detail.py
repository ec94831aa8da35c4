"""发票明细查询 (find_invoices): by code + number, by a split 数电 number, by expense."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fakes.memory import MemoryInvoiceStore
from fapiao.catalogue.errors import Family, HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.stored import Expense, StoredInvoice
from fapiao.services.invoice_detail import find_invoices

NOW = dt.datetime(2024, 5, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CODE, NUMBER = "033022100211", "68552329"
DIGITAL_NUMBER = "22312000000012345678"
EXPENSE_ID, DIGITAL_EXPENSE_ID = 41981033, 41981034


def put(store: MemoryInvoiceStore, expense_id: int, invoice: Invoice) -> StoredInvoice:
    key = invoice.invoice_key
    assert key is not None
    record = StoredInvoice(
        invoice_key=key,
        expense_id=expense_id,
        user_code="sss.ddd",
        biz_id=f"biz-{expense_id}",
        status=InvoiceStatus.VERIFIED,
        currency="CNY",
        invoice=invoice,
        created_at=NOW,
    )
    expense = Expense(
        expense_id=expense_id,
        user_code="sss.ddd",
        invoice_keys=[key],
        currency="CNY",
        total_amount=invoice.total_amount,
        created_at=NOW,
    )
    store.create(record, expense)
    return record


@pytest.fixture
def store() -> MemoryInvoiceStore:
    store = MemoryInvoiceStore()
    put(
        store,
        EXPENSE_ID,
        Invoice(
            invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
            invoice_code=CODE,
            invoice_number=NUMBER,
            total_amount=Decimal("250"),
        ),
    )
    put(
        store,
        DIGITAL_EXPENSE_ID,
        Invoice(
            invoice_type=InvoiceType.DIGITAL_NORMAL,
            invoice_number=DIGITAL_NUMBER,
            total_amount=Decimal("113.00"),
        ),
    )
    return store


def numbers(found: list[StoredInvoice]) -> list[tuple[str | None, str | None]]:
    return [(s.invoice.invoice_code, s.invoice.invoice_number) for s in found]


def test_find_by_code_and_number(store: MemoryInvoiceStore) -> None:
    found = find_invoices(store, invoice_code=CODE, invoice_number=NUMBER)
    assert numbers(found) == [(CODE, NUMBER)]
    assert found[0].expense_id == EXPENSE_ID


def test_find_a_digital_invoice_by_its_number_alone(store: MemoryInvoiceStore) -> None:
    found = find_invoices(store, invoice_number=DIGITAL_NUMBER)
    assert numbers(found) == [(None, DIGITAL_NUMBER)]


def test_find_a_digital_invoice_by_its_number_split_12_plus_8(store: MemoryInvoiceStore) -> None:
    found = find_invoices(
        store, invoice_code=DIGITAL_NUMBER[:12], invoice_number=DIGITAL_NUMBER[12:]
    )
    assert numbers(found) == [(None, DIGITAL_NUMBER)]
    assert found[0].expense_id == DIGITAL_EXPENSE_ID


def test_find_by_expense_id(store: MemoryInvoiceStore) -> None:
    assert numbers(find_invoices(store, expense_id=EXPENSE_ID)) == [(CODE, NUMBER)]
    assert numbers(find_invoices(store, expense_id=DIGITAL_EXPENSE_ID)) == [(None, DIGITAL_NUMBER)]


@pytest.mark.parametrize(
    "query",
    [
        {"invoice_code": CODE, "invoice_number": "68552330"},
        {"invoice_code": "033022100212", "invoice_number": NUMBER},
        {"invoice_number": NUMBER},  # the code is part of the key
        {"expense_id": 41981035},
    ],
)
def test_not_found(store: MemoryInvoiceStore, query: dict[str, str | int]) -> None:
    with pytest.raises(HubError) as caught:
        find_invoices(store, **query)  # type: ignore[arg-type]
    assert caught.value.problem is Problem.NOT_FOUND
    assert caught.value.entry(Family.PLATFORM).code == "404000"


@pytest.mark.parametrize("query", [{}, {"invoice_code": CODE}, {"invoice_number": ""}])
def test_neither_number_nor_expense_is_invalid(
    store: MemoryInvoiceStore, query: dict[str, str]
) -> None:
    with pytest.raises(HubError) as caught:
        find_invoices(store, **query)
    assert caught.value.problem is Problem.INVALID_REQUEST
    assert caught.value.entry(Family.PLATFORM).code == "400000"


def test_both_number_and_expense_is_invalid(store: MemoryInvoiceStore) -> None:
    with pytest.raises(HubError) as caught:
        find_invoices(store, invoice_code=CODE, invoice_number=NUMBER, expense_id=EXPENSE_ID)
    assert caught.value.problem is Problem.INVALID_REQUEST
