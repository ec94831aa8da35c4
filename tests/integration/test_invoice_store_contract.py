"""One contract for both InvoiceStore adapters: MemoryInvoiceStore and DynamoInvoiceStore.

The Dynamo adapter runs on the local AWS (moto behind the hub's gateway) with the tables
template.yaml declares; the memory adapter is what the unit tests stand on, so every
test here holds for both.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fakes.memory import MemoryInvoiceStore
from fapiao.catalogue.types import InvoiceType
from fapiao.local.resources import LocalNames
from fapiao.model import (
    CheckResult,
    FlightSegment,
    Invoice,
    InvoiceState,
    InvoiceStatus,
    LineItem,
)
from fapiao.model.stored import (
    CheckRecord,
    DuplicateInvoice,
    Expense,
    ExpenseIdTaken,
    ExpenseLocked,
    ExpenseNotFound,
    ExpenseState,
    Provenance,
    ReadingDisagreement,
    StaleInvoice,
    StoredInvoice,
    Transition,
    expense_code,
    expense_id_of,
    new_expense_id,
)
from fapiao.ports import InvoiceStore
from fapiao.store.invoices import DynamoInvoiceStore

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 5, 1, 10, 30, 15, 123000, tzinfo=SHANGHAI)
KEY = "03302210021168552329"


@pytest.fixture(params=["memory", "dynamo"])
def store(request: pytest.FixtureRequest, names: LocalNames) -> InvoiceStore:
    if request.param == "memory":
        return MemoryInvoiceStore()
    session = request.getfixturevalue("tables")  # started only for this adapter
    return DynamoInvoiceStore(
        names.ref("InvoicesTable"),
        names.ref("ExpensesTable"),
        client=session.client("dynamodb"),
    )


def full_invoice(**changes: Any) -> Invoice:
    """An invoice with every kind of field set: money with its scale, a date, lists,
    nested models, flags true and false, an empty text."""
    fields: dict[str, Any] = {
        "invoice_type": InvoiceType.VAT_ELECTRONIC_NORMAL,
        "invoice_code": "033022100211",
        "invoice_number": "68552329",
        "receipt_date": dt.date(2022, 6, 27),
        "check_code": "58053893572132760108",
        "title": "宁波增值税电子普通发票",
        "amount": D("996.00"),
        "tax_amount": D("129.48"),
        "total_amount": D("1125.48"),
        "tax_rate": D("0.130"),
        "currency": "CNY",
        "buyer_name": "快舱(江苏)供应链管理有限公司常州分公司",
        "buyer_tax_code": "91320402MA1YA9ELXL",
        "seller_name": "宁波港东南扬子江物流有限公司",
        "remark": "JI HAI RONG v.2225 / 219359778 /  / CHATTOGRAM /",
        "company_seal": False,
        "purchase_invoice": True,
        "mileage": D("12.30"),
        "fare": D("0.01"),
        "start_time": "08:05",
        "international_flag": "D",
        "flight_detail": [
            FlightSegment(departure="PEK", arrival="SHA", flight_number="CA1501", time="09:00")
        ],
        "items": [
            LineItem(
                name="*经纪代理服务*国际货物运输代理服务费",
                specification="",  # as in 001's example
                unit="票",
                quantity=D("1"),
                unit_price=D("996.00"),
                amount=D("996.00"),
                tax_rate=D("0.13"),
                tax_amount=D("129.48"),
                total_amount=D("1125.48"),
            )
        ],
        "attachment_url": "22067/2022/07-22/receipt/04a8454b.jpg",
        "image_size": [720, 1280],
        "direction": 3,
        "region": [0, 75, 720, 1280],
    }
    fields.update(changes)
    return Invoice(**fields)


def record(key: str = KEY, expense_id: int = 41981033, **changes: Any) -> StoredInvoice:
    invoice = full_invoice(
        invoice_code=key[:12] if len(key) == 20 else None, invoice_number=key[-8:]
    )
    check = CheckResult(
        success=True,
        message="查验成功",
        checked_at=dt.datetime(2022, 7, 22, 1, 7, 42, tzinfo=SHANGHAI),
        invoice=invoice.model_copy(update={"attachment_url": None}),
        cancelled=False,
        state=InvoiceState.PARTLY_RED_REVERSED,
        verify_count=2,
    )
    fields: dict[str, Any] = {
        "invoice_key": key,
        "expense_id": expense_id,
        "user_code": "sss.ddd",
        "biz_id": "1659685330206",
        "status": InvoiceStatus.CHECK_FAILED,
        "message": "发票已红冲",
        "message_code": "907004",
        "currency": "CNY",
        "title_conflict": True,
        "invoice": invoice,
        "check": check,
        "created_at": NOW,
        "transitions": [Transition(status=InvoiceStatus.CHECK_FAILED, at=NOW, reason="发票已红冲")],
    }
    fields.update(changes)
    return StoredInvoice(**fields)


def expense_of(stored: StoredInvoice, expense_id: int | None = None) -> Expense:
    return Expense(
        expense_id=stored.expense_id if expense_id is None else expense_id,
        user_code=stored.user_code,
        invoice_keys=[stored.invoice_key],
        currency=stored.currency,
        total_amount=stored.invoice.total_amount,
        created_at=stored.created_at,
    )


def exact(value: Any) -> Any:
    """A model dump where each Decimal is its text (scale included), each datetime its ISO
    form (offset included), each date tagged: equality then means exactly equal."""
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact(v) for v in value]
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, dt.date):
        return ("date", value.isoformat())
    return (type(value).__name__, value)


# --- create and get ---------------------------------------------------------------------


def test_create_then_get_round_trips_every_field(store: InvoiceStore) -> None:
    stored = record()
    store.create(stored, expense_of(stored))
    got = store.get(KEY)
    assert got == stored
    assert got is not None
    assert exact(got.model_dump()) == exact(stored.model_dump())
    assert str(got.invoice.amount) == "996.00"  # 996.00 stays 996.00
    assert str(got.invoice.tax_rate) == "0.130"
    assert type(got.invoice.receipt_date) is dt.date
    assert got.created_at.utcoffset() == dt.timedelta(hours=8)


def test_get_expense_round_trips(store: InvoiceStore) -> None:
    expense_id = new_expense_id()  # a real 64-bit id, beyond a double's 53 bits
    stored = record(expense_id=expense_id)
    store.create(stored, expense_of(stored))
    got = store.get_expense(expense_id)
    assert got == expense_of(stored)
    assert got is not None
    assert exact(got.model_dump()) == exact(expense_of(stored).model_dump())
    assert got.expense_id == expense_id
    assert str(got.total_amount) == "1125.48"
    got_invoice = store.get(KEY)
    assert got_invoice is not None
    assert got_invoice.expense_id == expense_id


def test_sparse_record_round_trips(store: InvoiceStore) -> None:
    taxi = Invoice(
        invoice_type=InvoiceType.TAXI, invoice_number="12345678", total_amount=D("36.50")
    )
    sparse = StoredInvoice(
        invoice_key="12345678",
        expense_id=7,
        user_code="u",
        biz_id="b",
        status=InvoiceStatus.RECOGNIZED,
        currency="CNY",
        invoice=taxi,
        created_at=NOW,
    )
    store.create(sparse, expense_of(sparse))
    got = store.get("12345678")
    assert got is not None
    assert exact(got.model_dump()) == exact(sparse.model_dump())


def test_empty_lists_round_trip(store: InvoiceStore) -> None:
    stored = record()
    stored.invoice = full_invoice(image_size=[], region=[])
    store.create(stored, expense_of(stored))
    got = store.get(KEY)
    assert got is not None
    assert (got.invoice.image_size, got.invoice.region) == ([], [])


# --- how it was read and every check of it (issue 18) ----------------------------------


def test_provenance_and_checks_round_trip(store: InvoiceStore) -> None:
    provenance = Provenance(
        sources={
            "invoice_number": ["text_layer", "qr"],
            "seller_name": ["ofd_xml", "ofd_text", "ocr"],
            "buyer_account": ["provider"],
        },
        disagreements=[
            ReadingDisagreement(
                field="total_amount", readings={"ofd_xml": "1125.48", "ofd_text": "99999.99"}
            ),
            ReadingDisagreement(field="seller_name", readings={"ocr": "宁波港", "qr": ""}),
        ],
    )
    checks = [
        CheckRecord(at=NOW, status=InvoiceStatus.AWAITING_CHECK, source="no_provider"),
        CheckRecord(
            at=dt.datetime(2024, 5, 1, 3, 0, 0, 5, tzinfo=dt.UTC),
            status=InvoiceStatus.CHECK_FAILED,
            message_code="907004",
            message="发票已红冲",
            source="provider",
            paid=True,
        ),
    ]
    stored = record(provenance=provenance, checks=checks)
    store.create(stored, expense_of(stored))

    got = store.get(KEY)

    assert got is not None
    assert (got.provenance, got.checks) == (provenance, checks)
    assert exact(got.model_dump()) == exact(stored.model_dump())
    assert [c.at.utcoffset() for c in got.checks] == [dt.timedelta(hours=8), dt.timedelta(0)]
    assert got.checks[1].at.microsecond == 5


def test_a_record_without_provenance_or_checks_round_trips(store: InvoiceStore) -> None:
    stored = record(provenance=Provenance(), checks=[])
    store.create(stored, expense_of(stored))
    got = store.get(KEY)
    assert got is not None
    assert (got.provenance, got.checks) == (Provenance(), [])

    other = record(key="03302210021168552330", expense_id=41981034)
    assert other.provenance is None  # told by a client: no provenance at all
    store.create(other, expense_of(other))
    read = store.get(other.invoice_key)
    assert read is not None
    assert (read.provenance, read.checks) == (None, [])


def test_a_check_appended_by_replace_is_kept_in_order(store: InvoiceStore) -> None:
    first = CheckRecord(at=NOW, status=InvoiceStatus.AWAITING_CHECK, source="hub")
    stored = record(
        status=InvoiceStatus.AWAITING_CHECK,
        message=None,
        message_code=None,
        checks=[first],
        provenance=Provenance(sources={"invoice_number": ["qr"]}),
    )
    store.create(stored, expense_of(stored))
    read = store.get(KEY)
    assert read is not None
    later = NOW + dt.timedelta(minutes=5)
    second = CheckRecord(at=later, status=InvoiceStatus.VERIFIED, source="provider", paid=True)

    store.replace(read.model_copy(update={"checks": [*read.checks, second], "updated_at": later}))

    got = store.get(KEY)
    assert got is not None
    assert got.checks == [first, second]
    assert got.provenance == stored.provenance  # a re-check leaves the reading as it was


def test_get_of_a_missing_key_is_none(store: InvoiceStore) -> None:
    assert store.get(KEY) is None
    assert store.get_expense(41981033) is None


# --- one invoice per key ----------------------------------------------------------------


def test_taken_key_raises_duplicate_with_the_existing_record(store: InvoiceStore) -> None:
    first = record(expense_id=1001)
    store.create(first, expense_of(first))
    second = record(expense_id=1002, biz_id="another", user_code="someone.else")

    with pytest.raises(DuplicateInvoice) as caught:
        store.create(second, expense_of(second))

    assert caught.value.existing == first
    assert store.get_expense(1002) is None  # the second expense is not written
    assert store.get(KEY) == first
    assert store.get_expense(1001) == expense_of(first)


def test_same_record_twice_is_a_duplicate_not_an_id_collision(store: InvoiceStore) -> None:
    first = record(expense_id=1001)
    store.create(first, expense_of(first))
    with pytest.raises(DuplicateInvoice) as caught:
        store.create(first, expense_of(first))
    assert caught.value.existing == first


def test_expense_id_collision_raises_and_writes_no_invoice(store: InvoiceStore) -> None:
    first = record(expense_id=1001)
    store.create(first, expense_of(first))
    other = record(key="03302210021168552330", expense_id=1001)

    with pytest.raises(ExpenseIdTaken):
        store.create(other, expense_of(other))

    assert store.get("03302210021168552330") is None
    expense = store.get_expense(1001)
    assert expense is not None
    assert expense.invoice_keys == [KEY]  # the first expense is not overwritten


# --- replace (re-checks, corrections, completions) -------------------------------------


def test_replace_writes_over_the_version_it_read(store: InvoiceStore) -> None:
    stored = record(
        status=InvoiceStatus.AWAITING_CHECK,
        message=None,
        message_code=None,
        transitions=[Transition(status=InvoiceStatus.AWAITING_CHECK, at=NOW)],
    )
    store.create(stored, expense_of(stored))
    later = NOW + dt.timedelta(minutes=5)
    read = store.get(KEY)
    assert read is not None and read.version == 0
    changed = read.model_copy(
        update={
            "status": InvoiceStatus.VERIFIED,
            "updated_at": later,
            "transitions": [*read.transitions, Transition(status=InvoiceStatus.VERIFIED, at=later)],
        }
    )
    written = store.replace(changed)
    assert written.version == 1
    got = store.get(KEY)
    assert got is not None
    assert got.status is InvoiceStatus.VERIFIED and got.version == 1
    assert got.transitions == [
        Transition(status=InvoiceStatus.AWAITING_CHECK, at=NOW),
        Transition(status=InvoiceStatus.VERIFIED, at=later),
    ]
    assert got.invoice == stored.invoice  # nothing else changes


def test_replace_over_another_version_is_stale_and_changes_nothing(store: InvoiceStore) -> None:
    stored = record(status=InvoiceStatus.AWAITING_CHECK, message=None, message_code=None)
    store.create(stored, expense_of(stored))
    read = store.get(KEY)
    assert read is not None
    store.replace(read.model_copy(update={"status": InvoiceStatus.VERIFIED}))
    with pytest.raises(StaleInvoice):  # the first writer won: the second read version 0
        store.replace(read.model_copy(update={"status": InvoiceStatus.CHECK_FAILED}))
    got = store.get(KEY)
    assert got is not None
    assert (got.status, got.version) == (InvoiceStatus.VERIFIED, 1)


def test_replace_of_a_missing_key_raises_and_creates_nothing(store: InvoiceStore) -> None:
    with pytest.raises(KeyError):
        store.replace(record())
    assert store.get(KEY) is None


# --- expense ids ------------------------------------------------------------------------

_MS_2093 = int(dt.datetime(2093, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
_LOW_BITS = 2**22 - 1


def test_expense_id_is_positive_and_fits_a_signed_long() -> None:
    for expense_id in (new_expense_id(), new_expense_id(now_ms=_MS_2093)):
        assert 0 < expense_id < 2**63


def test_expense_id_increases_with_time() -> None:
    first = new_expense_id()
    time.sleep(0.002)
    assert new_expense_id() > first
    base = int(NOW.timestamp() * 1000)
    for ms in range(base, base + 50):
        # whatever the random bits drawn, a later millisecond gives a larger id
        assert max(new_expense_id(now_ms=ms) for _ in range(20)) < min(
            new_expense_id(now_ms=ms + 1) for _ in range(20)
        )


def test_1000_draws_are_unique() -> None:
    base = int(NOW.timestamp() * 1000)
    ids = [new_expense_id(now_ms=base + i) for i in range(1000)]
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)
    # Within one millisecond only the 22 random bits tell ids apart: 1000 draws there
    # collide about once in eight runs (what the store's ExpenseIdTaken retry is for),
    # but never by more than a few.
    same_ms = [new_expense_id(now_ms=base) for _ in range(1000)]
    assert len({i >> 22 for i in same_ms}) == 1
    assert len({i & _LOW_BITS for i in same_ms}) >= 990


OTHER_KEY = "03302210021199999999"


def test_bind_adds_the_invoice_to_an_open_expense(store: InvoiceStore) -> None:
    first = record()
    store.create(first, expense_of(first))
    second = record(OTHER_KEY)
    store.bind(second)
    assert store.get(OTHER_KEY) is not None
    expense = store.get_expense(first.expense_id)
    assert expense is not None
    assert expense.invoice_keys == [KEY, OTHER_KEY]


def test_bind_to_a_missing_expense_raises_and_writes_nothing(store: InvoiceStore) -> None:
    with pytest.raises(ExpenseNotFound):
        store.bind(record(OTHER_KEY, expense_id=777))
    assert store.get(OTHER_KEY) is None


def test_bind_to_an_expense_in_approval_raises_and_writes_nothing(store: InvoiceStore) -> None:
    first = record()
    store.create(first, expense_of(first))
    store.set_expense_state(first.expense_id, ExpenseState.IN_APPROVAL)  # type: ignore[attr-defined]
    with pytest.raises(ExpenseLocked):
        store.bind(record(OTHER_KEY))
    assert store.get(OTHER_KEY) is None
    expense = store.get_expense(first.expense_id)
    assert expense is not None
    assert expense.invoice_keys == [KEY]
    assert expense.state is ExpenseState.IN_APPROVAL


def test_bind_of_a_taken_key_is_a_duplicate_and_leaves_the_expense(store: InvoiceStore) -> None:
    first = record()
    store.create(first, expense_of(first))
    with pytest.raises(DuplicateInvoice):
        store.bind(record())
    expense = store.get_expense(first.expense_id)
    assert expense is not None
    assert expense.invoice_keys == [KEY]


def test_expense_codes_name_their_expense() -> None:
    assert expense_code(41981033) == "FD41981033"
    assert expense_id_of("FD41981033") == 41981033
    assert expense_id_of("fd41981033") == 41981033
    assert expense_id_of("FD231231X") is None
    assert expense_id_of("FD" + "9" * 30) is None
