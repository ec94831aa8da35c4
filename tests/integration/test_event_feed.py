"""The ERP's pull feed on the local AWS (EventsTable of template.yaml): numbers given in
the same transaction that stores each event, contiguous under concurrent writers, one id
stored once, and a cursor that reads on without gap or repeat."""

from __future__ import annotations

import datetime as dt
import json
import threading
from zoneinfo import ZoneInfo

import pytest

from fapiao.catalogue.errors import HubError, Problem
from fapiao.local.resources import LocalNames
from fapiao.model import InvoiceStatus
from fapiao.model.erp import ErpEvent, event_of_outcome
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.store.events import DynamoEventFeed, cursor_of, seq_of_cursor
from support import Session

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)


def an_event(n: int, at: dt.datetime = NOW) -> ErpEvent:
    outcome = Outcome(
        outcome=OutcomeKind.CREATED,
        object=DroppedObject(bucket="fapiao-drop", key=f"acme/inbox/{n}.pdf", etag=f"e{n}"),
        owner="acme",
        invoice_key=f"0330221002{n:010d}",
        status=InvoiceStatus.VERIFIED,
        at=at,
    )
    return event_of_outcome(outcome)


@pytest.fixture
def feed(tables: Session, names: LocalNames) -> DynamoEventFeed:
    return DynamoEventFeed(names.ref("EventsTable"), client=tables.client("dynamodb"))


def read_all(feed: DynamoEventFeed, limit: int) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while True:
        page = feed.page(after, limit)
        assert page.next, "next is always a cursor"
        if not page.bodies:
            return ids
        ids.extend(json.loads(body)["id"] for body in page.bodies)
        after = page.next


def test_events_are_numbered_in_order_and_read_back_the_same_with_any_page_size(
    feed: DynamoEventFeed,
) -> None:
    events = [an_event(n) for n in range(7)]
    numbers = [feed.append(event) for event in events]
    assert numbers == [1, 2, 3, 4, 5, 6, 7]
    expected = [event.id for event in events]
    assert read_all(feed, 2) == expected
    assert read_all(feed, 10) == expected
    first = feed.page(None, 1)
    assert ErpEvent.model_validate_json(first.bodies[0]) == events[0]


def test_an_event_published_again_keeps_its_one_number(feed: DynamoEventFeed) -> None:
    event = an_event(1)
    assert feed.append(event) == 1
    assert feed.append(an_event(2)) == 2
    assert feed.append(event) == 1  # a record task run again after a crash
    assert read_all(feed, 10) == [event.id, an_event(2).id]
    assert feed.get(event.id) == event
    assert feed.get("evt_unknown") is None


def test_concurrent_writers_get_contiguous_numbers_and_readers_never_see_a_gap(
    feed: DynamoEventFeed, tables: Session, names: LocalNames
) -> None:
    writers, each = 6, 15
    numbers: list[int] = []
    lock = threading.Lock()
    seen_gap: list[str] = []
    done = threading.Event()

    def write(w: int) -> None:
        mine = DynamoEventFeed(names.ref("EventsTable"), client=tables.client("dynamodb"))
        for i in range(each):
            number = mine.append(an_event(w * 1000 + i))
            with lock:
                numbers.append(number)

    def read() -> None:
        reader = DynamoEventFeed(names.ref("EventsTable"), client=tables.client("dynamodb"))
        while not done.is_set():
            page = reader.page(None, 500)
            # n events, the last numbered n: they are 1..n, none missing
            if page.bodies and seq_of_cursor(page.next) != len(page.bodies):
                seen_gap.append(f"{len(page.bodies)} events end at {seq_of_cursor(page.next)}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    watcher = threading.Thread(target=read)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()
    assert sorted(numbers) == list(range(1, writers * each + 1))
    assert not seen_gap
    assert len(read_all(feed, 7)) == writers * each


def test_a_cursor_reads_on_from_where_it_stood(feed: DynamoEventFeed) -> None:
    for n in range(3):
        feed.append(an_event(n))
    page = feed.page(None, 2)
    assert len(page.bodies) == 2
    empty = feed.page(feed.page(page.next, 10).next, 10)
    assert empty.bodies == [] and seq_of_cursor(empty.next) == 3  # nothing new: same place
    feed.append(an_event(9))
    later = feed.page(page.next, 10)
    assert [json.loads(b)["id"] for b in later.bodies] == [an_event(2).id, an_event(9).id]


@pytest.mark.parametrize("cursor", ["", "abc", "djE6eA", cursor_of(3) + "!", "../../etc"])
def test_a_cursor_not_made_by_the_feed_is_refused(cursor: str) -> None:
    with pytest.raises(HubError) as refused:
        seq_of_cursor(cursor)
    assert refused.value.problem is Problem.INVALID_REQUEST


def test_events_since_a_time(feed: DynamoEventFeed) -> None:
    early = an_event(1, NOW - dt.timedelta(hours=2))
    late = an_event(2, NOW)
    feed.append(early)
    feed.append(late)
    assert [e.id for e in feed.since(NOW - dt.timedelta(hours=1))] == [late.id]
    assert [e.id for e in feed.since(NOW - dt.timedelta(hours=3))] == [early.id, late.id]


def test_events_past_their_keeping_time_are_not_served(feed: DynamoEventFeed) -> None:
    old = an_event(1, dt.datetime.now(SHANGHAI) - dt.timedelta(days=31))
    new = an_event(2, dt.datetime.now(SHANGHAI))
    feed.append(old)
    feed.append(new)
    page = feed.page(None, 1)
    assert [json.loads(b)["id"] for b in page.bodies] == [new.id]
    assert seq_of_cursor(page.next) == 2
    nothing = feed.page(page.next, 10)
    assert nothing.bodies == [] and nothing.next == page.next
