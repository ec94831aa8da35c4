"""One contract for both ReviewQueue adapters: MemoryReviewQueue (what the unit tests
stand on) and DynamoReviewQueue, on the local AWS (moto behind the hub's gateway) with
the tables and ``Attention`` indexes template.yaml declares. Records and outcomes are
written by their own stores, as the hub writes them.

Also: a data folder made before the indexes existed gets them at the next start.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

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
    day_bounds,
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
U = InvoiceStatus.UNRECOGNISABLE
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
    session = request.getfixturevalue("tables")
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


# --- how many wait in each state (the console's overview) ------------------------------


def test_each_state_is_counted(world: Queue) -> None:
    assert [world.queue.count(s) for s in (U, F, C)] == [0, 0, 0]
    world.invoice("10000001", F, ago(30))
    world.invoice("10000002", F, ago(20), owner="x.y")
    world.invoice("10000003", C, ago(10))
    world.invoice("10000004", Y, ago(5))
    world.outcome("a.png", ago(15))
    world.outcome("b.png", ago(25), OutcomeKind.FAILED, owner="x.y")
    world.outcome("c.png", ago(2), OutcomeKind.CREATED)
    world.outcome("d.png", ago(3), OutcomeKind.DUPLICATE)

    assert [world.queue.count(s) for s in (U, F, C)] == [2, 2, 1]
    assert [world.queue.count(s) for s in (U, F, C)] == [
        len(world.queue.page(ReviewQuery(statuses=frozenset({s}))).entries) for s in (U, F, C)
    ]


def test_the_counts_follow_the_queue(world: Queue) -> None:
    waiting = world.invoice("10000001", C, ago(30))
    world.invoice("10000002", C, ago(20))
    world.outcome("a.png", ago(15))
    (unread,) = world.queue.page(ReviewQuery(statuses=frozenset({U}))).entries
    record = world.store.get(waiting)
    assert record is not None

    world.store.replace(record.model_copy(update={"status": F, "updated_at": NOW}))
    world.queue.resolve(OutcomeRef(unread.outcome.object.object_id, 0), CODE + "40000001")  # type: ignore[union-attr]

    assert [world.queue.count(s) for s in (U, F, C)] == [0, 1, 1]


def test_many_entries_are_all_counted(world: Queue) -> None:
    for n in range(30):
        world.invoice(f"5{n:07d}", C if n % 3 else F, ago(n))

    assert [world.queue.count(s) for s in (U, F, C)] == [0, 10, 20]


# --- dates: [since, until), Shanghai days; times written with or without microseconds --

DAY = dt.date(2024, 6, 1)
HALF_DAY = dt.timedelta(hours=12)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


def test_day_bounds_are_shanghai_midnights_both_days_included() -> None:
    assert day_bounds(DAY, DAY) == (midnight(DAY), midnight(DAY + dt.timedelta(days=1)))
    assert day_bounds(DAY, None) == (midnight(DAY), None)
    assert day_bounds(None, DAY) == (None, midnight(DAY + dt.timedelta(days=1)))
    assert day_bounds(None, None) == (None, None)
    with pytest.raises(ValueError, match="aware"):
        ReviewQuery(since=dt.datetime(2024, 6, 1))


def the_edges_of_a_day(world: Queue) -> list[str]:
    """Entries at and about the edges of DAY, both tables, with and without microseconds:
    the ones inside DAY, newest first."""
    start, end = midnight(DAY), midnight(DAY + dt.timedelta(days=1))
    us = dt.timedelta(microseconds=1)
    world.invoice("60000001", F, start - us)  # the day before, its last microsecond
    world.outcome("before.png", start - dt.timedelta(seconds=1))  # 23:59:59, no microseconds
    first = world.invoice("60000002", F, start)  # "...T00:00:00+08:00"
    first_u = world.outcome("first.png", start)
    early = world.invoice("60000003", C, start + us)  # "...T00:00:00.000001+08:00"
    noon = world.outcome("noon.png", start + dt.timedelta(hours=12, microseconds=250000))
    last_second = world.invoice("60000004", C, end - dt.timedelta(seconds=1))  # no microseconds
    last = world.outcome("last.png", end - us)  # "...T23:59:59.999999+08:00"
    world.invoice("60000005", F, end)  # the next day's midnight, no microseconds
    world.outcome("after.png", end + us)
    world.invoice("60000006", C, end + dt.timedelta(hours=1))
    # equal times: id order, newest first
    inside = [last, last_second, noon, early]
    return inside + sorted([first, first_u], reverse=True)


def test_a_day_holds_its_midnight_and_its_last_microsecond(world: Queue) -> None:
    inside = the_edges_of_a_day(world)
    since, until = day_bounds(DAY, DAY)

    page = world.queue.page(ReviewQuery(since=since, until=until))

    assert ids(page.entries) == inside
    assert page.next is None


def test_bounds_in_another_zone_are_the_same_instants(world: Queue) -> None:
    inside = the_edges_of_a_day(world)
    since, until = day_bounds(DAY, DAY)
    assert since is not None and until is not None

    page = world.queue.page(
        ReviewQuery(since=since.astimezone(dt.UTC), until=until.astimezone(dt.UTC))
    )

    assert ids(page.entries) == inside


def test_one_bound_only(world: Queue) -> None:
    inside = the_edges_of_a_day(world)
    since, until = day_bounds(DAY, DAY)
    everything = ids(world.queue.page(ReviewQuery(limit=200)).entries)
    assert len(everything) == 11

    from_day = ids(world.queue.page(ReviewQuery(since=since, limit=200)).entries)
    to_day = ids(world.queue.page(ReviewQuery(until=until, limit=200)).entries)

    assert from_day == everything[: everything.index(inside[-1]) + 1]
    assert to_day == everything[everything.index(inside[0]) :]


def test_bounds_to_the_microsecond_against_times_written_to_the_second(world: Queue) -> None:
    second = dt.datetime(2024, 6, 1, 9, 0, 15, tzinfo=SHANGHAI)
    half = dt.timedelta(microseconds=500000)
    world.invoice("70000001", F, second)  # "...:15+08:00": before since
    at_since = world.outcome("since.png", second + half)  # "...:15.500000+08:00"
    whole = world.invoice("70000002", C, second + dt.timedelta(seconds=1))  # "...:16+08:00"
    just_before = world.outcome("before.png", second + dt.timedelta(seconds=2) - half)
    world.invoice("70000003", F, second + dt.timedelta(seconds=2))  # == until: excluded
    world.outcome("until.png", second + dt.timedelta(seconds=2))

    page = world.queue.page(
        ReviewQuery(since=second + half, until=second + dt.timedelta(seconds=2))
    )

    assert ids(page.entries) == [just_before, whole, at_since]


def test_pages_within_dates_give_each_entry_once(world: Queue) -> None:
    inside = the_edges_of_a_day(world)
    for n in range(5):  # five more at one time, inside the day
        inside.append(world.invoice(f"6100000{n}", F if n % 2 else C, midnight(DAY) + HALF_DAY))
    since, until = day_bounds(DAY, DAY)
    expected = ids(world.queue.page(ReviewQuery(since=since, until=until, limit=200)).entries)
    assert sorted(expected) == sorted(inside)

    seen, pages = every_page(world.queue, since=since, until=until, limit=2)

    assert seen == expected
    assert pages == 6


def test_owner_statuses_and_dates_together(world: Queue) -> None:
    since, until = day_bounds(DAY, DAY + dt.timedelta(days=1))
    start = midnight(DAY)
    world.invoice("80000001", F, start - dt.timedelta(hours=1))  # mine, before
    mine_f = world.invoice("80000002", F, start)
    world.invoice("80000003", F, start + dt.timedelta(hours=2), owner="x.y")
    mine_c = world.invoice("80000004", C, start + dt.timedelta(hours=3))
    mine_u = world.outcome("mine.png", start + dt.timedelta(days=1, hours=23, minutes=59))
    world.outcome("theirs.png", start + dt.timedelta(hours=5), owner="x.y")
    world.invoice("80000005", F, start + dt.timedelta(days=2))  # mine, after

    assert every_page(world.queue, owner="a.b", since=since, until=until, limit=1) == (
        [mine_u, mine_c, mine_f],
        3,
    )
    only_f = world.queue.page(
        ReviewQuery(statuses=frozenset({F}), owner="a.b", since=since, until=until)
    )
    assert ids(only_f.entries) == [mine_f]
    their_f = world.queue.page(
        ReviewQuery(statuses=frozenset({F}), owner="x.y", since=since, until=until)
    )
    assert ids(their_f.entries) == [CODE + "80000003"]


def test_a_range_with_nothing_in_it(world: Queue) -> None:
    the_edges_of_a_day(world)
    since, until = day_bounds(DAY, DAY)
    assert since is not None and until is not None

    empty = world.queue.page(ReviewQuery(since=until, until=until))
    nothing_yet = world.queue.page(ReviewQuery(since=until + dt.timedelta(days=30)))
    nothing_then = world.queue.page(ReviewQuery(until=since - dt.timedelta(days=30)))

    assert (empty.entries, empty.next) == ([], None)
    assert nothing_yet.entries == nothing_then.entries == []


def test_since_after_until_is_an_empty_page(world: Queue) -> None:
    """Days asked the wrong way round (the last before the first) find nothing."""
    the_edges_of_a_day(world)
    since, _ = day_bounds(DAY + dt.timedelta(days=1), None)
    _, until = day_bounds(None, DAY - dt.timedelta(days=1))

    page = world.queue.page(ReviewQuery(since=since, until=until))

    assert (page.entries, page.next) == ([], None)


class StrictBetween:
    """The DynamoDB client, refusing a key condition ``BETWEEN :low AND :high`` whose low
    sorts after its high as DynamoDB does (ValidationException; moto answers it)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def query(self, **arguments: Any) -> Any:
        found = re.search(r"BETWEEN (:\w+) AND (:\w+)", arguments.get("KeyConditionExpression", ""))
        if found:
            values = arguments["ExpressionAttributeValues"]
            low, high = values[found[1]]["S"], values[found[2]]["S"]
            if low.encode() > high.encode():
                message = (
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound "
                    "to be greater than or equal to lower bound"
                )
                raise ClientError(
                    {"Error": {"Code": "ValidationException", "Message": message}}, "Query"
                )
        return self._client.query(**arguments)


@pytest.fixture
def strict(tables: Session, names: LocalNames) -> Queue:
    """The DynamoDB queue on a client that checks BETWEEN's bounds as DynamoDB does."""
    client = tables.client("dynamodb")
    invoices, outcomes = names.ref("InvoicesTable"), names.ref("OutcomesTable")
    return Queue(
        DynamoReviewQueue(invoices, outcomes, client=StrictBetween(client)),
        DynamoInvoiceStore(invoices, names.ref("ExpensesTable"), client=client),
        DynamoOutcomes(outcomes, client=client),
    )


def test_the_strict_client_answers_what_the_local_aws_answers(strict: Queue) -> None:
    inside = the_edges_of_a_day(strict)
    since, until = day_bounds(DAY, DAY)

    assert ids(strict.queue.page(ReviewQuery(since=since, until=until)).entries) == inside
    assert every_page(strict.queue, since=since, until=until, limit=2)[0] == inside


def test_since_after_until_is_an_empty_page_on_dynamodb_too(strict: Queue) -> None:
    the_edges_of_a_day(strict)
    since, _ = day_bounds(DAY + dt.timedelta(days=1), None)
    _, until = day_bounds(None, DAY - dt.timedelta(days=1))

    page = strict.queue.page(ReviewQuery(since=since, until=until))

    assert (page.entries, page.next) == ([], None)


def test_a_cursor_before_since_is_an_empty_page_on_dynamodb_too(strict: Queue) -> None:
    the_edges_of_a_day(strict)
    since, _ = day_bounds(DAY, DAY)
    assert since is not None
    cursor = ReviewCursor(since - dt.timedelta(days=2), CODE + "60000001")

    page = strict.queue.page(ReviewQuery(since=since, after=cursor))

    assert (page.entries, page.next) == ([], None)


def test_a_cursor_before_since_is_an_empty_page(world: Queue) -> None:
    the_edges_of_a_day(world)
    since, _ = day_bounds(DAY, DAY)
    assert since is not None
    cursor = ReviewCursor(since - dt.timedelta(days=2), CODE + "60000001")

    page = world.queue.page(ReviewQuery(since=since, after=cursor))

    assert (page.entries, page.next) == ([], None)
