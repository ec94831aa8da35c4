"""The outcomes of dropped files counted per Asia/Shanghai day (the review console's chart):
DynamoOutcomes on the local AWS (moto) counts each newly kept outcome once into the
StatsTable (DynamoStats), takes a failure back when a later outcome replaces it, counts
nothing for an outcome recorded again, and never fails a record because counting did.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from fakes.stats import RefusingStats
from fapiao.dates import SHANGHAI
from fapiao.local.resources import LocalNames
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind, Recorded
from fapiao.ports import OUTCOME_COUNTS
from fapiao.store.outcomes import DynamoOutcomes
from fapiao.store.stats import DynamoStats
from support import Session

NOW = dt.datetime(2024, 5, 1, 10, 30, 15, 123456, tzinfo=SHANGHAI)
DAY = NOW.date()
NEXT_DAY = DAY + dt.timedelta(days=1)


class World:
    def __init__(self, session: Session, names: LocalNames) -> None:
        client = session.client("dynamodb")
        self.stats = DynamoStats(names.ref("StatsTable"), client=client)
        self.outcomes = DynamoOutcomes(names.ref("OutcomesTable"), client=client, stats=self.stats)

    def counted(self, *days: dt.date) -> dict[dt.date, dict[str, int]]:
        return self.stats.days(OUTCOME_COUNTS, list(days or (DAY,)))


@pytest.fixture
def world(tables: Session, names: LocalNames) -> World:
    return World(tables, names)


def an_outcome(
    kind: OutcomeKind, at: dt.datetime = NOW, name: str = "a.pdf", index: int = 0
) -> Outcome:
    status = {
        OutcomeKind.CREATED: InvoiceStatus.AWAITING_CHECK,
        OutcomeKind.REJECTED: InvoiceStatus.CHECK_FAILED,
        OutcomeKind.UNRECOGNISABLE: InvoiceStatus.UNRECOGNISABLE,
    }.get(kind)
    return Outcome(
        outcome=kind,
        object=DroppedObject(bucket="fapiao-drop", key=f"acme/{name}", etag="e1"),
        index=index,
        owner="acme",
        status=status,
        at=at,
    )


@pytest.mark.parametrize(
    "kind",
    [
        OutcomeKind.CREATED,
        OutcomeKind.DUPLICATE,
        OutcomeKind.REJECTED,
        OutcomeKind.UNRECOGNISABLE,
    ],
)
def test_a_kept_outcome_counts_once_even_when_recorded_again(
    world: World, kind: OutcomeKind
) -> None:
    first = world.outcomes.record(an_outcome(kind))
    again = world.outcomes.record(an_outcome(kind, at=NOW + dt.timedelta(minutes=3)))

    assert first == Recorded(an_outcome(kind), published=False)
    assert again.outcome == an_outcome(kind)
    assert world.counted() == {DAY: {kind.value: 1}}


def test_a_rerun_ending_otherwise_counts_nothing_more(world: World) -> None:
    world.outcomes.record(an_outcome(OutcomeKind.CREATED))
    world.outcomes.record(an_outcome(OutcomeKind.DUPLICATE))
    world.outcomes.record(an_outcome(OutcomeKind.FAILED))

    assert world.counted() == {DAY: {"created": 1}}


def test_each_invoice_and_object_counts(world: World) -> None:
    world.outcomes.record(an_outcome(OutcomeKind.CREATED, index=0))
    world.outcomes.record(an_outcome(OutcomeKind.CREATED, index=1))
    world.outcomes.record(an_outcome(OutcomeKind.REJECTED, name="b.pdf"))
    world.outcomes.record(an_outcome(OutcomeKind.UNRECOGNISABLE, name="c.png"))

    assert world.counted() == {DAY: {"created": 2, "rejected": 1, "unrecognisable": 1}}


def test_a_failure_replaced_is_taken_back_on_its_day(world: World) -> None:
    world.outcomes.record(an_outcome(OutcomeKind.FAILED))
    world.outcomes.record(an_outcome(OutcomeKind.FAILED, at=NOW + dt.timedelta(minutes=1)))
    assert world.counted() == {DAY: {"failed": 1}}

    world.outcomes.record(an_outcome(OutcomeKind.CREATED, at=NOW + dt.timedelta(minutes=5)))

    assert world.counted() == {DAY: {"failed": 0, "created": 1}}


def test_a_failure_replaced_the_next_day_is_taken_back_on_the_failures_day(
    world: World,
) -> None:
    world.outcomes.record(an_outcome(OutcomeKind.FAILED))
    redrive = NOW + dt.timedelta(days=1)

    recorded = world.outcomes.record(an_outcome(OutcomeKind.CREATED, at=redrive))

    assert recorded == Recorded(an_outcome(OutcomeKind.CREATED, at=redrive), published=False)
    assert world.counted(DAY, NEXT_DAY) == {DAY: {"failed": 0}, NEXT_DAY: {"created": 1}}
    # ... and once replaced, nothing more: neither a rerun nor a late failure count
    world.outcomes.record(an_outcome(OutcomeKind.CREATED, at=redrive))
    world.outcomes.record(an_outcome(OutcomeKind.FAILED, at=redrive))
    assert world.counted(DAY, NEXT_DAY) == {DAY: {"failed": 0}, NEXT_DAY: {"created": 1}}


def test_the_day_is_the_shanghai_day_of_the_outcome(world: World) -> None:
    """17:30 UTC on 1 May is 01:30 on 2 May in Shanghai; 15:30 UTC is 23:30 on 1 May."""
    late = dt.datetime(2024, 5, 1, 17, 30, tzinfo=dt.UTC)
    evening = dt.datetime(2024, 5, 1, 15, 30, tzinfo=dt.UTC)
    world.outcomes.record(an_outcome(OutcomeKind.FAILED, at=evening, name="b.pdf"))
    world.outcomes.record(an_outcome(OutcomeKind.CREATED, at=late))
    world.outcomes.record(an_outcome(OutcomeKind.DUPLICATE, at=late, name="b.pdf"))

    assert world.counted(DAY, NEXT_DAY) == {
        DAY: {"failed": 0},
        NEXT_DAY: {"created": 1, "duplicate": 1},
    }


def test_a_counter_that_fails_never_fails_the_record(
    tables: Session, names: LocalNames, caplog: pytest.LogCaptureFixture
) -> None:
    stats = RefusingStats()
    outcomes = DynamoOutcomes(
        names.ref("OutcomesTable"), client=tables.client("dynamodb"), stats=stats
    )
    failed = an_outcome(OutcomeKind.FAILED)
    created = an_outcome(OutcomeKind.CREATED, at=NOW + dt.timedelta(minutes=5))

    with caplog.at_level(logging.WARNING, logger="fapiao.store.outcomes"):
        assert outcomes.record(failed) == Recorded(failed, published=False)
        assert outcomes.record(created) == Recorded(created, published=False)

    assert outcomes.of_object(failed.object.object_id) == [created]
    assert stats.tried == 2
    assert any(r.getMessage() == "outcome not counted" for r in caplog.records)


def test_without_counters_nothing_is_counted(world: World, tables: Session) -> None:
    plain = DynamoOutcomes(world.outcomes.table, client=tables.client("dynamodb"))

    assert plain.record(an_outcome(OutcomeKind.CREATED)).outcome == an_outcome(OutcomeKind.CREATED)
    assert world.counted() == {DAY: {}}
