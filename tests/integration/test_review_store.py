"""One contract for both ReviewQueue adapters: MemoryReviewQueue (what the unit tests
stand on) and DynamoReviewQueue, on the local AWS (moto behind the hub's gateway) with
the tables and ``Attention`` indexes template.yaml declares. Records and outcomes are
written by their own stores, as the hub writes them.

Also: a data folder made before the indexes existed gets them at the next start.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fakes.memory import MemoryInvoiceStore
from fakes.review import MemoryReviewQueue
from fapiao.catalogue.errors import Problem, invoice_message
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.local.aws import LocalAws
from fapiao.local.resources import LocalNames, provision
from fapiao.local.template import Template
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.review import (
    OutcomeRef,
    ReviewCursor,
    ReviewEntry,
    ReviewQuery,
    outcome_ref,
    review_id,
)
from fapiao.model.stored import Correction, Expense, StoredInvoice, Transition
from fapiao.ports import InvoiceStore, ReviewQueue
from fapiao.store.invoices import DynamoInvoiceStore
from fapiao.store.outcomes import DynamoOutcomes
from fapiao.store.review import DynamoReviewQueue
from support import Session

C, F, Y = InvoiceStatus.AWAITING_CHECK, InvoiceStatus.CHECK_FAILED, InvoiceStatus.VERIFIED
NOW = dt.datetime(2024, 6, 1, 10, 30, 15, 123000, tzinfo=SHANGHAI)
CODE = "3100231130"


class Queue:
    """A queue and the stores that fill it, memory or DynamoDB."""

    def __init__(self, queue: ReviewQueue, store: InvoiceStore, outcomes: Any) -> None:
        self.queue = queue
        self.store = store
        self._outcomes = outcomes

    def invoice(
        self, number: str, status: InvoiceStatus, at: dt.datetime, owner: str = "a.b"
    ) -> str:
        problem = {C: Problem.CHECK_DEFERRED, F: Problem.CHECK_FAILED}.get(status)
        code, message = (None, None) if problem is None else invoice_message(problem)
        record = StoredInvoice(
            invoice_key=CODE + number,
            expense_id=int(number),
            user_code=owner,
            biz_id=f"biz-{number}",
            status=status,
            message=message,
            message_code=None if code is None else str(code),
            currency="CNY",
            invoice=Invoice(
                invoice_type=InvoiceType.VAT_SPECIAL,
                invoice_code=CODE,
                invoice_number=number,
                total_amount=Decimal("113.00"),
            ),
            created_at=at,
            transitions=[Transition(status=status, at=at, reason=message)],
        )
        self.store.create(
            record,
            Expense(
                expense_id=record.expense_id,
                user_code=owner,
                invoice_keys=[record.invoice_key],
                currency="CNY",
                created_at=at,
            ),
        )
        return record.invoice_key

    def outcome(
        self,
        name: str,
        at: dt.datetime,
        kind: OutcomeKind = OutcomeKind.UNRECOGNISABLE,
        owner: str = "a.b",
    ) -> str:
        code, message = invoice_message(Problem.UNRECOGNISABLE)
        outcome = Outcome(
            outcome=kind,
            object=DroppedObject(bucket="drop", key=f"{owner}/scan/{name}", etag="e1"),
            owner=owner,
            status=InvoiceStatus.UNRECOGNISABLE if kind is OutcomeKind.UNRECOGNISABLE else None,
            message=message,
            message_code=code,
            at=at,
        )
        if isinstance(self.queue, MemoryReviewQueue):
            if kind in (OutcomeKind.UNRECOGNISABLE, OutcomeKind.FAILED):
                self.queue.attend(outcome)
        else:
            self._outcomes.record(outcome)
        return review_id(outcome_ref(outcome))


@pytest.fixture(params=["memory", "dynamo"])
def world(request: pytest.FixtureRequest, names: LocalNames) -> Queue:
    if request.param == "memory":
        store = MemoryInvoiceStore()
        return Queue(MemoryReviewQueue(store), store, None)
    session = request.getfixturevalue("local_aws")
    client = session.client("dynamodb")
    invoices, outcomes = names.ref("InvoicesTable"), names.ref("OutcomesTable")
    return Queue(
        DynamoReviewQueue(invoices, outcomes, client=client),
        DynamoInvoiceStore(invoices, names.ref("ExpensesTable"), client=client),
        DynamoOutcomes(outcomes, client=client),
    )


def ago(minutes: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


def ids(entries: list[ReviewEntry]) -> list[str]:
    return [review_id(e) for e in entries]


def every_page(queue: ReviewQueue, **query: Any) -> tuple[list[str], int]:
    seen: list[str] = []
    cursor: ReviewCursor | None = None
    pages = 0
    while True:
        page = queue.page(ReviewQuery(after=cursor, **query))
        pages += 1
        seen += ids(page.entries)
        if page.next is None:
            return seen, pages
        cursor = ReviewCursor.decode(page.next.encode())


def test_both_tables_in_one_order_newest_first(world: Queue) -> None:
    refused = world.invoice("10000001", F, ago(30))
    waiting = world.invoice("10000002", C, ago(10))
    world.invoice("10000003", Y, ago(1))
    unread = world.outcome("a.png", ago(20))
    failed = world.outcome("b.png", ago(5), OutcomeKind.FAILED)
    world.outcome("c.png", ago(2), OutcomeKind.CREATED)

    page = world.queue.page(ReviewQuery())

    assert ids(page.entries) == [failed, waiting, unread, refused]
    assert page.next is None


def test_one_status_and_one_owner(world: Queue) -> None:
    world.invoice("10000001", F, ago(30), owner="x.y")
    mine = world.invoice("10000002", F, ago(20))
    world.invoice("10000003", C, ago(10))
    world.outcome("a.png", ago(15), owner="x.y")
    file = world.outcome("b.png", ago(25))

    only_f = world.queue.page(ReviewQuery(statuses=frozenset({F}), owner="a.b"))
    only_u = world.queue.page(ReviewQuery(statuses=frozenset({InvoiceStatus.UNRECOGNISABLE})))
    owners = world.queue.page(ReviewQuery(owner="a.b", limit=1))

    assert ids(only_f.entries) == [mine]
    assert len(only_u.entries) == 2
    assert ids(owners.entries) == [CODE + "10000003"]
    assert every_page(world.queue, owner="a.b", limit=1) == ([CODE + "10000003", mine, file], 3)


def test_pages_give_each_entry_once_across_equal_times_and_tables(world: Queue) -> None:
    for n in range(6):
        world.invoice(f"2000000{n}", C if n % 2 else F, NOW)
    for n in range(4):
        world.outcome(f"{n}.png", NOW)
    newest = world.invoice("20000009", F, ago(-1))

    seen, pages = every_page(world.queue, limit=4)

    assert pages == 3
    assert len(seen) == len(set(seen)) == 11
    assert seen[0] == newest
    assert seen == ids(world.queue.page(ReviewQuery(limit=200)).entries)


def test_a_filter_that_drops_most_still_fills_pages_in_order(world: Queue) -> None:
    for n in range(9):
        world.invoice(f"3000000{n}", F, ago(n), owner="many")
    kept = [world.invoice(f"3100000{n}", F, ago(n + 0.5)) for n in range(3)]

    assert every_page(world.queue, owner="a.b", limit=2) == (kept, 2)


def test_a_record_leaves_the_queue_when_it_is_verified(world: Queue) -> None:
    key = world.invoice("10000001", C, ago(30))
    record = world.store.get(key)
    assert record is not None

    world.store.replace(record.model_copy(update={"status": Y, "updated_at": NOW}))

    assert world.queue.page(ReviewQuery()).entries == []


def test_a_record_changed_moves_to_the_top(world: Queue) -> None:
    older = world.invoice("10000001", C, ago(30))
    world.invoice("10000002", C, ago(10))
    record = world.store.get(older)
    assert record is not None

    world.store.replace(record.model_copy(update={"status": F, "updated_at": NOW}))

    assert ids(world.queue.page(ReviewQuery(limit=1)).entries) == [older]


def test_a_corrected_record_is_listed_with_its_corrections(world: Queue) -> None:
    """A completed field had no value before (old null): the record reads back."""
    key = world.invoice("10000001", C, ago(30))
    record = world.store.get(key)
    assert record is not None
    corrections = [
        Correction(field="total_amount", old=None, new="113.00", at=NOW, by="dev"),
        Correction(field="remark", old="旧", new=None, at=NOW, by="dev"),
    ]

    world.store.replace(record.model_copy(update={"corrections": corrections, "updated_at": NOW}))

    (entry,) = world.queue.page(ReviewQuery()).entries
    assert isinstance(entry, StoredInvoice)
    assert entry.corrections == corrections
    assert entry.changed_at == NOW


def test_an_outcome_resolved_leaves_the_queue_and_names_its_invoice(world: Queue) -> None:
    name = world.outcome("a.png", ago(20))
    (entry,) = world.queue.page(ReviewQuery()).entries
    ref = OutcomeRef(entry.outcome.object.object_id, 0)  # type: ignore[union-attr]
    opened = world.queue.open_outcome(ref)
    assert opened is not None and opened.resolved_by is None
    assert review_id(opened) == name
    assert opened.changed_at == ago(20)

    world.queue.resolve(ref, CODE + "40000001")

    assert world.queue.page(ReviewQuery()).entries == []
    resolved = world.queue.open_outcome(ref)
    assert resolved is not None and resolved.resolved_by == CODE + "40000001"


def test_no_such_outcome(world: Queue) -> None:
    ref = OutcomeRef("drop/a.b/none.png#e1", 0)
    assert world.queue.open_outcome(ref) is None
    with pytest.raises(KeyError):
        world.queue.resolve(ref, CODE + "40000001")


# --- a data folder made before the indexes ---------------------------------------------


def test_an_older_data_folder_gets_the_new_indexes_and_keeps_its_items(
    tmp_path: Path, template: Template, names: LocalNames
) -> None:
    aws = LocalAws(tmp_path / "data")
    session = Session(aws.start())
    table = names.ref("InvoicesTable")
    try:
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(  # as an earlier template declared it: no Attention index
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "invoice_key", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "invoice_key", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        old = {
            "invoice_key": {"S": CODE + "10000001"},
            "attention": {"S": "C"},
            "changed_at": {"S": ago(5).isoformat()},
        }
        dynamodb.put_item(TableName=table, Item=old)

        made = provision(template, names, session)

        assert f"index Attention of table {table}" in made
        assert provision(template, names, session) == []  # nothing more the next time
    finally:
        aws.stop()
    # The index survives a restart, and holds the item written before it existed.
    again = LocalAws(tmp_path / "data")
    session = Session(again.start())
    try:
        found = session.client("dynamodb").query(
            TableName=table,
            IndexName="Attention",
            KeyConditionExpression="attention = :a",
            ExpressionAttributeValues={":a": {"S": "C"}},
        )["Items"]
        assert [item["invoice_key"]["S"] for item in found] == [CODE + "10000001"]
    finally:
        again.stop()
