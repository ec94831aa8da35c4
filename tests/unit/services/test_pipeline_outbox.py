"""record_outcome (services/pipeline.py): the OutcomesTable as an outbox of the ERP's
events. Each outcome of (object_id, index) is kept first, then published, then marked
published; a record task run again for the same invoice of an object (a retry, an
execution re-run after the hub died) answers the first outcome and publishes it at most
once in normal operation, at least once always."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest

from fakes.memory import MemoryBus, MemoryOutcomes
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.services.pipeline import PUBLICATION_LEASE_SECONDS, record_outcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 5, 1, 10, 30, tzinfo=SHANGHAI)
LATER = NOW + dt.timedelta(minutes=7)


class BusDownOnce(MemoryBus):
    """The bus fails the first publication: the record task dies after keeping it."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def publish(self, outcome: Outcome) -> None:
        if self.down:
            self.down = False
            raise ConnectionError("the event bus did not answer")
        super().publish(outcome)


class MarkerLostOnce(MemoryOutcomes):
    """The task dies after publishing, before the published marker is written."""

    def __init__(self) -> None:
        super().__init__()
        self.lose = True

    def mark_published(self, outcome: Outcome) -> None:
        if self.lose:
            self.lose = False
            raise ConnectionError("the table did not answer")
        super().mark_published(outcome)


def dropped(etag: str = "e1") -> DroppedObject:
    return DroppedObject(bucket="fapiao-drop", key="acme/2024/05/a.pdf", etag=etag)


def an_outcome(
    index: int = 0,
    kind: OutcomeKind = OutcomeKind.CREATED,
    at: dt.datetime = NOW,
    etag: str = "e1",
) -> Outcome:
    return Outcome(
        outcome=kind,
        object=dropped(etag),
        index=index,
        owner="acme",
        invoice_key="03302210021168552329",
        expense_id=382680158296375431,
        status=InvoiceStatus.AWAITING_CHECK,
        at=at,
    )


def test_an_outcome_is_kept_and_published_once() -> None:
    outbox, bus = MemoryOutcomes(), MemoryBus()

    recorded = record_outcome(an_outcome(), outbox, bus)

    assert recorded == an_outcome()
    assert bus.published == [an_outcome()]
    assert outbox.of_object(dropped().object_id) == [an_outcome()]
    assert outbox.record(an_outcome()).published


def test_the_same_outcome_recorded_twice_publishes_one_event_and_answers_the_first_at() -> None:
    outbox, bus = MemoryOutcomes(), MemoryBus()
    first = an_outcome(at=NOW)

    record_outcome(first, outbox, bus)
    again = record_outcome(an_outcome(at=LATER), outbox, bus)

    assert again == first
    assert again.at == NOW
    assert bus.published == [first]
    assert outbox.of_object(dropped().object_id) == [first]


def test_the_first_outcome_counts_even_when_a_rerun_ends_otherwise() -> None:
    outbox, bus = MemoryOutcomes(), MemoryBus()
    first = an_outcome(kind=OutcomeKind.CREATED)
    record_outcome(first, outbox, bus)

    again = record_outcome(an_outcome(kind=OutcomeKind.DUPLICATE, at=LATER), outbox, bus)

    assert again == first
    assert [e.outcome for e in bus.published] == [OutcomeKind.CREATED]


def test_a_crash_between_keeping_and_publishing_is_published_by_the_next_run_once() -> None:
    outbox, bus = MemoryOutcomes(), BusDownOnce()
    first = an_outcome(at=NOW)

    with pytest.raises(ConnectionError):
        record_outcome(first, outbox, bus)

    assert bus.published == []
    assert outbox.of_object(dropped().object_id) == [first]  # kept, not yet published
    assert not outbox.record(first).published

    assert record_outcome(an_outcome(at=LATER), outbox, bus) == first
    assert bus.published == [first]  # the first outcome, with its own time
    assert record_outcome(an_outcome(at=LATER), outbox, bus) == first
    assert bus.published == [first]


def test_an_outcome_published_already_is_never_sent_again() -> None:
    outbox, bus = MemoryOutcomes(), MemoryBus()
    first = an_outcome(at=NOW)
    outbox.record(first)
    outbox.mark_published(first)

    for minutes in range(3):
        later = an_outcome(at=LATER + dt.timedelta(minutes=minutes))
        assert record_outcome(later, outbox, bus) == first

    assert bus.published == []


def test_a_crash_after_publishing_publishes_again_at_least_once() -> None:
    outbox, bus = MarkerLostOnce(), MemoryBus()
    first = an_outcome(at=NOW)

    with pytest.raises(ConnectionError):
        record_outcome(first, outbox, bus)
    assert record_outcome(an_outcome(at=LATER), outbox, bus) == first
    assert record_outcome(an_outcome(at=LATER), outbox, bus) == first

    assert bus.published == [first, first]  # told twice rather than never, then no more


def test_each_invoice_of_an_object_is_published_once() -> None:
    outbox, bus = MemoryOutcomes(), MemoryBus()
    record_outcome(an_outcome(1, OutcomeKind.DUPLICATE), outbox, bus)
    record_outcome(an_outcome(0), outbox, bus)
    record_outcome(an_outcome(0, at=LATER), outbox, bus)  # a record task retried: still one
    record_outcome(an_outcome(0, etag="another"), outbox, bus)  # another version

    assert [(o.index, o.outcome) for o in outbox.of_object(dropped().object_id)] == [
        (0, OutcomeKind.CREATED),
        (1, OutcomeKind.DUPLICATE),
    ]
    assert [(o.object.etag, o.index) for o in bus.published] == [
        ("e1", 1),
        ("e1", 0),
        ("another", 0),
    ]


class SlowBus(MemoryBus):
    """A publication that takes a while: a second run arrives meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Event()
        self.go_on = threading.Event()

    def publish(self, outcome: Outcome) -> None:
        self.inside.set()
        self.go_on.wait(timeout=5)
        super().publish(outcome)


def test_two_runs_at_once_publish_the_outcome_once() -> None:
    """Express executions of one file may run at once: both keep the same outcome, one
    publishes it, the other waits for its marker instead of publishing it again."""
    outbox, bus = MemoryOutcomes(), SlowBus()
    first = threading.Thread(target=record_outcome, args=(an_outcome(at=NOW), outbox, bus))
    first.start()
    assert bus.inside.wait(timeout=5)
    answers: list[Outcome] = []
    second = threading.Thread(
        target=lambda: answers.append(record_outcome(an_outcome(at=LATER), outbox, bus))
    )
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive()  # waiting for the first run's publication
    bus.go_on.set()
    first.join(timeout=5)
    second.join(timeout=5)

    assert answers == [an_outcome(at=NOW)]
    assert bus.published == [an_outcome(at=NOW)]


def test_a_claim_whose_holder_died_is_taken_over_when_its_lease_ends() -> None:
    outbox, bus = MemoryOutcomes(), MemoryBus()
    first = an_outcome(at=NOW)
    outbox.record(first)
    # a run claimed the publication at t=100 and died (kill -9): nobody releases it
    assert outbox.claim_publication(first, until=100 + PUBLICATION_LEASE_SECONDS, now=100.0)
    clock = [101.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    assert record_outcome(first, outbox, bus, clock=lambda: clock[0], sleep=sleep) == first
    assert bus.published == [first]
    assert PUBLICATION_LEASE_SECONDS - 1 <= sum(slept) <= PUBLICATION_LEASE_SECONDS
