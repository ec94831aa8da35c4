"""The review queue (services/review.py): what needs attention in one order, a fix that
corrects a record or creates a file's invoice, a re-check by hand.

Memory fakes for the store, the queue, the bus and the scheduler; the verifier answers
with the verifications a provider's answers end in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from fakes.memory import MemoryInvoiceStore, MemoryKnownInvoices, MemoryVerificationCache
from fakes.rechecks import MemoryRecheckScheduler, MemoryStatusBus
from fakes.review import MemoryReviewQueue
from fapiao.catalogue.errors import HubError, Problem, invoice_message
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.mapping.review import parse_fields
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.review import (
    OpenOutcome,
    OutcomeRef,
    ReviewCursor,
    ReviewEntry,
    ReviewQuery,
    parse_review_id,
    review_id,
)
from fapiao.model.stored import Expense, StoredInvoice, Transition
from fapiao.ports import VerifyDeps
from fapiao.results import Source, Verification
from fapiao.services.recheck import DAILY_CHECKS, RecheckDeps
from fapiao.services.review import (
    ReviewDeps,
    find_entry,
    fix_entry,
    recheck_entry,
    review_page,
)
from fapiao.settings import CompanySettings

C, Y, F, U = (
    InvoiceStatus.AWAITING_CHECK,
    InvoiceStatus.VERIFIED,
    InvoiceStatus.CHECK_FAILED,
    InvoiceStatus.UNRECOGNISABLE,
)
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI)
CODE = "3100231130"
E_CODE = "033022100211"  # an electronic normal invoice's (12 digits, ...11)
OWNER = "sss.ddd"
CLIENT = "finance-desk"


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Verifier:
    """The tax authority, scripted: verified unless told otherwise; counts its calls."""

    def __init__(self) -> None:
        self.answer: Callable[[Invoice], Verification] = verified
        self.calls: list[Invoice] = []

    @property
    def remote(self) -> bool:
        return True

    def verify(self, invoice: Invoice) -> Verification:
        self.calls.append(invoice)
        return self.answer(invoice)


def verified(asked: Invoice) -> Verification:
    check = CheckResult(success=True, message="查验成功", invoice=asked)
    return Verification(
        invoice_key=asked.invoice_key, status=Y, source=Source.PROVIDER, check=check, code="1"
    )


def refused(asked: Invoice) -> Verification:
    check = CheckResult(success=False, error="9", message="查无此票", invoice=asked)
    return Verification(
        invoice_key=asked.invoice_key, status=F, source=Source.PROVIDER, check=check, code="9"
    )


def invoice(number: str = "12345678", **fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": InvoiceType.VAT_SPECIAL,
        "invoice_code": CODE,
        "invoice_number": number,
        "receipt_date": dt.date(2024, 5, 6),
        "amount": Decimal("100.00"),
        "tax_amount": Decimal("13.00"),
        "total_amount": Decimal("113.00"),
        "buyer_name": "上海某某科技有限公司",
        "buyer_tax_code": "91310000MA1FL8XQ37",
        "seller_tax_code": "91110000600037341L",
        "attachment_url": f"s3://drop/{OWNER}/scan/{number}.png",
    }
    base.update(fields)
    return Invoice(**base)


def record(
    number: str,
    status: InvoiceStatus,
    problem: Problem | None,
    at: dt.datetime,
    detail: str | None = None,
    owner: str = OWNER,
    **fields: Any,
) -> StoredInvoice:
    code, message = (None, None) if problem is None else invoice_message(problem, detail)
    printed = invoice(number, **fields)
    assert printed.invoice_key is not None
    return StoredInvoice(
        invoice_key=printed.invoice_key,
        expense_id=int(number),
        user_code=owner,
        biz_id=f"biz-{number}",
        status=status,
        message=message,
        message_code=None if code is None else str(code),
        currency="CNY",
        invoice=printed,
        created_at=at,
        transitions=[Transition(status=status, at=at, reason=message)],
    )


def unread(name: str, at: dt.datetime, owner: str = OWNER, index: int = 0) -> Outcome:
    code, message = invoice_message(Problem.UNRECOGNISABLE, "no invoice found in the file")
    return Outcome(
        outcome=OutcomeKind.UNRECOGNISABLE,
        object=DroppedObject(bucket="drop", key=f"{owner}/scan/{name}", etag="e1"),
        index=index,
        owner=owner,
        status=U,
        message=message,
        message_code=code,
        at=at,
    )


class World:
    def __init__(self) -> None:
        self.clock = Clock(NOW)
        self.store = MemoryInvoiceStore()
        self.queue = MemoryReviewQueue(self.store)
        self.bus = MemoryStatusBus()
        self.scheduler = MemoryRecheckScheduler()
        self.verifier = Verifier()
        self.known = MemoryKnownInvoices()
        cache = MemoryVerificationCache()
        self.deps = ReviewDeps(
            queue=self.queue,
            recheck=RecheckDeps(
                store=self.store,
                verify=VerifyDeps(verifier=self.verifier, cache=cache, clock=self.clock),
                bus=self.bus,
                scheduler=self.scheduler,
                company=CompanySettings(),
            ),
            verify_new=VerifyDeps(
                verifier=self.verifier, cache=cache, known=self.known, clock=self.clock
            ),
        )

    def put(self, stored: StoredInvoice) -> StoredInvoice:
        expense = Expense(
            expense_id=stored.expense_id,
            user_code=stored.user_code,
            invoice_keys=[stored.invoice_key],
            currency="CNY",
            created_at=stored.created_at,
        )
        self.store.create(stored, expense)
        self.known.keys.add(stored.invoice_key)
        return stored

    def get(self, key: str) -> StoredInvoice:
        found = self.store.get(key)
        assert found is not None
        return found

    def fix(self, name: str, **values: Any) -> tuple[str, Any]:
        return fix_entry(name, parse_fields(values), by=CLIENT, deps=self.deps)


@pytest.fixture
def world() -> World:
    return World()


def minutes_ago(minutes: int) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


def awaiting_completion(world: World, number: str = "20000001") -> StoredInvoice:
    """A QR-only reading: code, number, date and pre-tax amount, no total (C 907010)."""
    return world.put(
        record(
            number,
            C,
            Problem.AWAITING_COMPLETION,
            minutes_ago(5),
            "total_amount",
            invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
            invoice_code=E_CODE,
            check_code="12345678901234567890",
            tax_amount=None,
            total_amount=None,
        )
    )


def ids(entries: list[ReviewEntry]) -> list[str]:
    return [review_id(e) for e in entries]


# --- what needs attention -----------------------------------------------------------------


def test_the_queue_lists_files_refused_and_unchecked_invoices_newest_first(world: World) -> None:
    world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30)))
    world.put(record("10000002", C, Problem.CHECK_DEFERRED, minutes_ago(10)))
    world.put(record("10000003", Y, None, minutes_ago(1)))  # verified: nothing to do
    file = world.queue.attend(unread("a.png", minutes_ago(20)))

    page = review_page(world.queue, ReviewQuery())

    assert ids(page.entries) == [CODE + "10000002", review_id(file), CODE + "10000001"]
    assert page.next is None


def status_of(entry: ReviewEntry) -> str:
    return "U" if isinstance(entry, OpenOutcome) else entry.status.value


def owner_of(entry: ReviewEntry) -> str | None:
    return entry.outcome.owner if isinstance(entry, OpenOutcome) else entry.user_code


@pytest.mark.parametrize("status", [U, F, C])
def test_the_queue_lists_one_status(world: World, status: InvoiceStatus) -> None:
    world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30)))
    world.put(record("10000002", C, Problem.CHECK_DEFERRED, minutes_ago(10)))
    world.queue.attend(unread("a.png", minutes_ago(20)))

    page = review_page(world.queue, ReviewQuery(statuses=frozenset({status})))

    assert [status_of(e) for e in page.entries] == [status.value]


def test_the_queue_lists_one_owner(world: World) -> None:
    world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30), owner="a.b"))
    world.put(record("10000002", C, Problem.CHECK_DEFERRED, minutes_ago(10)))
    world.queue.attend(unread("a.png", minutes_ago(20), owner="a.b"))
    world.queue.attend(unread("b.png", minutes_ago(25)))

    page = review_page(world.queue, ReviewQuery(owner="a.b"))

    assert [(status_of(e), owner_of(e)) for e in page.entries] == [("U", "a.b"), ("F", "a.b")]


def test_pages_give_every_entry_once_even_when_many_share_a_time(world: World) -> None:
    same = minutes_ago(7)
    for n in range(7):
        world.put(record(f"3000000{n}", C, Problem.CHECK_DEFERRED, same))
    for n in range(3):
        world.queue.attend(unread(f"{n}.png", same))
    world.put(record("30000009", F, Problem.CHECK_FAILED, minutes_ago(1)))

    seen: list[str] = []
    cursor: ReviewCursor | None = None
    pages = 0
    while True:
        page = review_page(world.queue, ReviewQuery(limit=3, after=cursor))
        seen += ids(page.entries)
        pages += 1
        if page.next is None:
            break
        cursor = ReviewCursor.decode(page.next.encode())  # as a client sends it back
    assert pages == 4
    assert len(seen) == len(set(seen)) == 11
    assert seen[0] == CODE + "30000009"
    assert seen == ids(review_page(world.queue, ReviewQuery(limit=200)).entries)


def test_a_review_id_of_a_file_names_its_object_and_index() -> None:
    outcome = unread("发票 1.png", NOW, index=3)
    name = review_id(OutcomeRef(outcome.object.object_id, 3))
    assert name.startswith("U-")
    assert parse_review_id(name) == OutcomeRef(outcome.object.object_id, 3)
    assert parse_review_id("3100231130abc") == "3100231130ABC"


@pytest.mark.parametrize("name", ["U-", "U-abc", "U-!!.1", "with space", "a/b", "U-YWJj.x"])
def test_a_name_the_hub_never_gave_is_invalid(world: World, name: str) -> None:
    with pytest.raises(HubError) as refused_:
        find_entry(name, world.deps)
    assert refused_.value.problem is Problem.INVALID_REQUEST


def test_an_unknown_invoice_is_not_found(world: World) -> None:
    with pytest.raises(HubError) as refused_:
        find_entry(CODE + "99999999", world.deps)
    assert refused_.value.problem is Problem.NOT_FOUND


# --- fixing an invoice record -------------------------------------------------------------


def test_completing_an_invoice_keeps_the_correction_and_checks_it_again(world: World) -> None:
    stored = awaiting_completion(world)

    name, outcome = world.fix(stored.invoice_key, total_amount="113.00")

    assert name == stored.invoice_key
    assert (outcome.status, outcome.message_code) == (Y, None)
    after = world.get(stored.invoice_key)
    assert after.status is Y
    assert after.invoice.total_amount == Decimal("113.00")
    assert after.invoice.tax_amount == Decimal("13.00")  # the missing piece, computed
    (correction,) = after.corrections
    assert (correction.field, correction.old, correction.new) == ("total_amount", None, "113.00")
    assert (correction.at, correction.by) == (NOW, CLIENT)
    assert world.verifier.calls[-1].total_amount == Decimal("113.00")
    assert [(c.previous_status, c.status) for c in world.bus.changes] == [(C, Y)]
    assert stored.invoice_key not in ids(review_page(world.queue, ReviewQuery()).entries)


def test_a_correction_the_tax_authority_refuses_is_f_with_its_reason(world: World) -> None:
    stored = awaiting_completion(world)
    world.verifier.answer = refused

    _, outcome = world.fix(stored.invoice_key, total_amount="999.00", amount="884.07")

    assert outcome.status is F
    assert outcome.message_code == "907001"
    assert [c.field for c in world.get(stored.invoice_key).corrections] == [
        "total_amount",
        "amount",
    ]


def test_a_correction_keeps_the_old_value(world: World) -> None:
    stored = world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30)))

    world.fix(stored.invoice_key, buyer_name="上海某某科技有限公司二部", company_seal="Y")

    corrections = world.get(stored.invoice_key).corrections
    assert [(c.field, c.old, c.new) for c in corrections] == [
        ("buyer_name", "上海某某科技有限公司", "上海某某科技有限公司二部"),
        ("company_seal", None, "Y"),
    ]


def test_the_same_values_again_change_nothing_and_check_nothing(world: World) -> None:
    stored = world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30)))

    _, outcome = world.fix(stored.invoice_key, total_amount="113", receipt_date="2024-05-06")

    assert outcome.status is F
    assert world.verifier.calls == []
    assert world.get(stored.invoice_key).corrections == []


def test_a_fix_never_changes_which_invoice_a_record_is(world: World) -> None:
    stored = world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30)))

    with pytest.raises(HubError) as refused_:
        world.fix(stored.invoice_key, invoice_number="10000009")

    assert refused_.value.problem is Problem.INVALID_REQUEST
    assert "invoice_number" in (refused_.value.detail or "")
    assert world.get(stored.invoice_key).corrections == []


def test_a_verified_invoice_is_not_corrected(world: World) -> None:
    stored = world.put(record("10000001", Y, None, minutes_ago(30)))
    with pytest.raises(HubError) as refused_:
        world.fix(stored.invoice_key, total_amount="1.00")
    assert refused_.value.problem is Problem.INVALID_REQUEST


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"receipt_date": "20991231"}, Problem.RECEIPT_DATE_IN_FUTURE),
        ({"total_amount": "1E+30"}, Problem.AMOUNT_OUT_OF_RANGE),
        ({"total_amount": "-250"}, Problem.NEGATIVE_TOTAL),
        ({"tax_amount": "50.00"}, Problem.TAX_MISMATCH),
    ],
)
def test_a_correction_no_invoice_could_hold_is_refused(
    world: World, values: dict[str, str], problem: Problem
) -> None:
    stored = world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30)))
    with pytest.raises(HubError) as refused_:
        world.fix(stored.invoice_key, **values)
    assert refused_.value.problem is problem
    assert world.get(stored.invoice_key).corrections == []


# --- fixing a file's invoice that was never stored --------------------------------------


def test_a_file_that_could_not_be_read_is_created_from_its_fields(world: World) -> None:
    file = world.queue.attend(unread("a.png", minutes_ago(20)))
    name = review_id(file)

    key, outcome = world.fix(
        name,
        invoice_type="01",
        invoice_code=CODE,
        invoice_number="40000001",
        receipt_date="20240506",
        amount="100.00",
        total_amount="113.00",
    )

    assert key == CODE + "40000001"
    assert outcome.status is Y
    created = world.get(key)
    assert created.user_code == OWNER
    assert created.invoice.attachment_url == f"s3://drop/{OWNER}/scan/a.png"
    assert created.invoice.tax_amount == Decimal("13.00")
    assert [t.status for t in created.transitions] == [U, Y]
    assert ("invoice_number", None, "40000001") in [
        (c.field, c.old, c.new) for c in created.corrections
    ]
    assert {c.by for c in created.corrections} == {CLIENT}
    assert [(c.previous_status, c.status, c.invoice_key) for c in world.bus.changes] == [
        (U, Y, key)
    ]
    opened = world.queue.open_outcome(OutcomeRef(file.outcome.object.object_id, 0))
    assert opened is not None and opened.resolved_by == key
    assert name not in ids(review_page(world.queue, ReviewQuery()).entries)


def test_a_file_resolved_already_says_by_which_invoice(world: World) -> None:
    name = review_id(world.queue.attend(unread("a.png", minutes_ago(20))))
    fields = {
        "invoice_type": "01",
        "invoice_code": CODE,
        "invoice_number": "40000001",
        "receipt_date": "20240506",
        "amount": "100.00",
    }
    world.fix(name, **fields)
    with pytest.raises(HubError) as refused_:
        world.fix(name, **fields)
    assert refused_.value.problem is Problem.INVALID_REQUEST
    assert CODE + "40000001" in (refused_.value.detail or "")


def test_a_file_needs_its_type_number_date_and_amount(world: World) -> None:
    name = review_id(world.queue.attend(unread("a.png", minutes_ago(20))))
    with pytest.raises(HubError) as refused_:
        world.fix(name, invoice_type="01", invoice_code=CODE, invoice_number="40000001")
    assert refused_.value.problem is Problem.INVALID_REQUEST
    assert "receipt_date" in (refused_.value.detail or "")
    assert "amount" in (refused_.value.detail or "")
    assert len(world.store) == 0


def test_a_file_whose_invoice_is_imported_already_is_a_duplicate(world: World) -> None:
    world.put(record("40000001", Y, None, minutes_ago(60), owner="other.one"))
    name = review_id(world.queue.attend(unread("a.png", minutes_ago(20))))

    key, outcome = world.fix(
        name,
        invoice_type="01",
        invoice_code=CODE,
        invoice_number="40000001",
        receipt_date="20240506",
        amount="100.00",
    )

    assert (key, outcome.status, outcome.message_code) == (CODE + "40000001", F, "907002")
    assert world.verifier.calls == []  # a duplicate is never paid for
    assert world.get(key).user_code == "other.one"


# --- checking again -----------------------------------------------------------------------


def test_a_recheck_checks_now_and_stores_what_is_true(world: World) -> None:
    stored = world.put(record("10000001", C, Problem.CHECK_DEFERRED, minutes_ago(30)))

    outcome = recheck_entry(stored.invoice_key, world.deps)

    assert outcome.status is Y
    assert len(world.verifier.calls) == 1
    assert world.get(stored.invoice_key).status is Y


def test_a_recheck_past_the_days_checks_is_refused_with_its_code(world: World) -> None:
    stored = world.put(
        record(
            "10000001",
            C,
            Problem.CHECK_DEFERRED,
            minutes_ago(30),
        ).model_copy(update={"check_attempts": [minutes_ago(m) for m in range(DAILY_CHECKS)]})
    )
    with pytest.raises(HubError) as refused_:
        recheck_entry(stored.invoice_key, world.deps)
    assert refused_.value.problem is Problem.RATE_LIMITED
    assert world.verifier.calls == []


def test_a_file_never_stored_is_fixed_not_rechecked(world: World) -> None:
    name = review_id(world.queue.attend(unread("a.png", minutes_ago(20))))
    with pytest.raises(HubError) as refused_:
        recheck_entry(name, world.deps)
    assert refused_.value.problem is Problem.INVALID_REQUEST
