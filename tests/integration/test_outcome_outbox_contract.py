"""One contract for both OutcomeOutbox adapters: MemoryOutcomes and DynamoOutcomes.

The Dynamo adapter runs on the local AWS (moto behind the hub's gateway) with the
OutcomesTable template.yaml declares; the memory adapter is what the unit tests stand on,
so every test here holds for both. The first outcome kept for (object_id, index) is the
one that counts: never overwritten, answered to every later ``record`` with its
``published`` marker; except a failed one, which a later outcome that is not a failure
replaces (and is published in turn).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fakes.memory import MemoryOutcomes
from fapiao.local.resources import LocalNames
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind, Publication, Recorded
from fapiao.model.status import InvoiceTypeName
from fapiao.ports import OutcomeOutbox
from fapiao.services.reconcile import outcomes_in, reconcile
from fapiao.store.outcomes import DynamoOutcomes

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 5, 1, 10, 30, 15, 123456, tzinfo=SHANGHAI)
LATER = NOW + dt.timedelta(minutes=7)


@pytest.fixture(params=["memory", "dynamo"])
def outbox(request: pytest.FixtureRequest, names: LocalNames) -> OutcomeOutbox:
    if request.param == "memory":
        return MemoryOutcomes()
    session = request.getfixturevalue("tables")  # started only for this adapter
    return DynamoOutcomes(names.ref("OutcomesTable"), client=session.client("dynamodb"))


def dropped(etag: str = "e1", version_id: str | None = None) -> DroppedObject:
    return DroppedObject(
        bucket="fapiao-drop", key="acme/2024/05/发票 1+1.pdf", etag=etag, version_id=version_id
    )


def an_outcome(
    index: int = 0,
    kind: OutcomeKind = OutcomeKind.CREATED,
    at: dt.datetime = NOW,
    obj: DroppedObject | None = None,
    **changes: Any,
) -> Outcome:
    fields: dict[str, Any] = {
        "outcome": kind,
        "object": obj or dropped(),
        "index": index,
        "owner": "acme",
        "invoice_key": "03302210021168552329",
        "invoice_type": InvoiceTypeName(code="10", name="增值税电子普通发票"),
        "expense_id": 382680158296375431,  # beyond a double's 53 bits
        "status": InvoiceStatus.AWAITING_CHECK,
        "message": "发票已导入",
        "message_code": 907002,
        "at": at,
    }
    fields.update(changes)
    return Outcome(**fields)


def test_a_new_outcome_is_kept_unpublished(outbox: OutcomeOutbox) -> None:
    recorded = outbox.record(an_outcome())

    assert recorded == Recorded(an_outcome(), published=False)
    assert outbox.of_object(dropped().object_id) == [an_outcome()]


def test_every_field_round_trips_exactly(outbox: OutcomeOutbox) -> None:
    outbox.record(an_outcome())

    (kept,) = outbox.of_object(dropped().object_id)
    again = outbox.record(an_outcome(at=LATER)).outcome

    for got in (kept, again):
        assert got.model_dump() == an_outcome().model_dump()
        assert got.at.isoformat() == "2024-05-01T10:30:15.123456+08:00"
        assert got.expense_id == 382680158296375431


def test_a_sparse_outcome_round_trips(outbox: OutcomeOutbox) -> None:
    failed = Outcome(outcome=OutcomeKind.FAILED, object=dropped(version_id="v1"), at=NOW)

    outbox.record(failed)

    assert outbox.of_object(dropped(version_id="v1").object_id) == [failed]


def test_an_outcome_recorded_again_answers_the_first_unchanged(outbox: OutcomeOutbox) -> None:
    first = an_outcome(at=NOW)
    outbox.record(first)

    rerun = an_outcome(kind=OutcomeKind.DUPLICATE, at=LATER, expense_id=1, message="again")
    recorded = outbox.record(rerun)

    assert recorded == Recorded(first, published=False)
    assert outbox.of_object(dropped().object_id) == [first]


def test_a_published_outcome_is_answered_published(outbox: OutcomeOutbox) -> None:
    first = an_outcome(at=NOW)
    outbox.record(first)

    outbox.mark_published(an_outcome(at=LATER))  # the key names it, not the time

    assert outbox.record(an_outcome(at=LATER)) == Recorded(first, published=True)
    assert outbox.record(first) == Recorded(first, published=True)
    assert outbox.of_object(dropped().object_id) == [first]


def test_marking_an_outcome_never_kept_raises_and_keeps_nothing(outbox: OutcomeOutbox) -> None:
    with pytest.raises(KeyError):
        outbox.mark_published(an_outcome())

    assert outbox.of_object(dropped().object_id) == []
    assert outbox.record(an_outcome()) == Recorded(an_outcome(), published=False)


def test_a_failed_outcome_is_replaced_by_a_later_one_and_published_again(
    outbox: OutcomeOutbox,
) -> None:
    failed = an_outcome(kind=OutcomeKind.FAILED, at=NOW, message="系统内部错误")
    outbox.record(failed)
    outbox.mark_published(failed)

    created = an_outcome(at=LATER)
    recorded = outbox.record(created)

    assert recorded == Recorded(created, published=False)  # the ERP hears of it too
    assert outbox.of_object(dropped().object_id) == [created]
    outbox.mark_published(created)
    assert outbox.record(an_outcome(kind=OutcomeKind.DUPLICATE, at=LATER)) == Recorded(
        created, published=True
    )


def test_a_failure_recorded_again_is_the_first_failure(outbox: OutcomeOutbox) -> None:
    first = an_outcome(kind=OutcomeKind.FAILED, at=NOW)
    outbox.record(first)
    outbox.mark_published(first)

    again = an_outcome(kind=OutcomeKind.FAILED, at=LATER, message="again")

    assert outbox.record(again) == Recorded(first, published=True)  # not published twice


def test_a_replaced_failure_marks_nothing_of_the_outcome_that_replaced_it(
    outbox: OutcomeOutbox,
) -> None:
    failed = an_outcome(kind=OutcomeKind.FAILED, at=NOW)
    outbox.record(failed)
    created = an_outcome(at=LATER)
    outbox.record(created)  # another run got further before the failure was published

    outbox.mark_published(failed)

    assert outbox.record(created) == Recorded(created, published=False)


def test_outcomes_are_kept_per_object_and_invoice_index(outbox: OutcomeOutbox) -> None:
    for index in (10, 1, 0, 2):  # 10 after 2: numbers, not text
        outbox.record(an_outcome(index))
    outbox.mark_published(an_outcome(1))
    other = dropped(etag="e2")
    outbox.record(an_outcome(0, OutcomeKind.REJECTED, obj=other))

    assert [o.index for o in outbox.of_object(dropped().object_id)] == [0, 1, 2, 10]
    assert outbox.record(an_outcome(1)).published
    assert not outbox.record(an_outcome(0)).published
    assert [o.outcome for o in outbox.of_object(other.object_id)] == [OutcomeKind.REJECTED]
    assert not outbox.record(an_outcome(0, obj=other)).published
    assert outbox.of_object(dropped(etag="e3").object_id) == []


def test_reconciliation_reads_what_the_outbox_keeps(outbox: OutcomeOutbox) -> None:
    outbox.record(an_outcome(0))
    outbox.record(an_outcome(0, OutcomeKind.DUPLICATE, at=LATER))  # a re-run
    outbox.record(an_outcome(1, OutcomeKind.REJECTED))

    report = reconcile([dropped()], outcomes_in(outbox))

    assert report.complete
    assert report.objects[0].kinds == (OutcomeKind.CREATED, OutcomeKind.REJECTED)


# --- the DynamoDB items -----------------------------------------------------------------


@pytest.fixture
def table(names: LocalNames, tables: Any) -> tuple[DynamoOutcomes, Any]:
    client = tables.client("dynamodb")
    return DynamoOutcomes(names.ref("OutcomesTable"), client=client), client


def item_of(table: tuple[DynamoOutcomes, Any], outcome: Outcome) -> dict[str, Any]:
    outbox, client = table
    key = {"object_id": {"S": outcome.object.object_id}, "index": {"N": str(outcome.index)}}
    found: dict[str, Any] = client.get_item(TableName=outbox.table, Key=key, ConsistentRead=True)
    return found["Item"]


def test_an_item_holds_the_detail_reconciliation_reads_and_the_marker(
    table: tuple[DynamoOutcomes, Any],
) -> None:
    outbox, _ = table
    outbox.record(an_outcome(3))

    item = item_of(table, an_outcome(3))
    assert item == {
        "object_id": {"S": dropped().object_id},
        "index": {"N": "3"},
        "outcome": {"S": "created"},
        "detail": {"S": an_outcome(3).model_dump_json()},
        "published": {"BOOL": False},
    }
    outbox.mark_published(an_outcome(3))
    assert item_of(table, an_outcome(3)) == {**item, "published": {"BOOL": True}}


@pytest.mark.parametrize("kind", [OutcomeKind.UNRECOGNISABLE, OutcomeKind.FAILED])
def test_an_item_nobody_but_a_person_can_resolve_is_in_the_attention_index(
    table: tuple[DynamoOutcomes, Any], kind: OutcomeKind
) -> None:
    outbox, client = table
    outcome = an_outcome(5, kind)
    outbox.record(outcome)

    item = item_of(table, outcome)
    assert (item["attention"], item["changed_at"]) == (
        {"S": "U"},
        {"S": "2024-05-01T10:30:15.123456+08:00"},
    )
    listed = client.query(
        TableName=outbox.table,
        IndexName="Attention",
        KeyConditionExpression="attention = :u",
        ExpressionAttributeValues={":u": {"S": "U"}},
    )["Items"]
    assert [i["object_id"]["S"] for i in listed] == [outcome.object.object_id]

    outbox.record(an_outcome(5, OutcomeKind.CREATED, at=LATER))
    # a failure that a later run got past is resolved; an unreadable file stays listed
    assert ("attention" in item_of(table, outcome)) is (kind is OutcomeKind.UNRECOGNISABLE)


def test_an_item_written_before_the_outbox_counts_as_unpublished(
    table: tuple[DynamoOutcomes, Any],
) -> None:
    outbox, client = table
    old = an_outcome()
    client.put_item(
        TableName=outbox.table,
        Item={
            "object_id": {"S": old.object.object_id},
            "index": {"N": "0"},
            "outcome": {"S": old.outcome.value},
            "detail": {"S": old.model_dump_json()},
        },
    )

    assert outbox.record(an_outcome(at=LATER)) == Recorded(old, published=False)
    # and its publication may be claimed, though the item has no marker at all
    assert outbox.claim_publication(old, until=110.0, now=100.0) is Publication.CLAIMED


# --- who publishes: one run at a time, a dead run's claim taken over at its lease's end


def test_one_run_claims_the_publication_and_another_finds_it_held(
    outbox: OutcomeOutbox,
) -> None:
    kept = outbox.record(an_outcome()).outcome

    assert outbox.claim_publication(kept, until=110.0, now=100.0) is Publication.CLAIMED
    assert outbox.claim_publication(kept, until=111.0, now=101.0) is Publication.HELD
    assert outbox.claim_publication(kept, until=121.0, now=111.0) is Publication.CLAIMED


def test_a_published_or_replaced_outcome_needs_no_publisher(outbox: OutcomeOutbox) -> None:
    kept = outbox.record(an_outcome()).outcome
    outbox.mark_published(kept)
    assert outbox.claim_publication(kept, until=110.0, now=100.0) is Publication.DONE

    failed = outbox.record(an_outcome(1, OutcomeKind.FAILED)).outcome
    outbox.record(an_outcome(1))  # a later run got further: it replaced the failure
    assert outbox.claim_publication(failed, until=110.0, now=100.0) is Publication.DONE


def test_a_released_claim_is_free_at_once(outbox: OutcomeOutbox) -> None:
    kept = outbox.record(an_outcome()).outcome
    assert outbox.claim_publication(kept, until=110.0, now=100.0) is Publication.CLAIMED

    outbox.release_publication(kept)

    assert outbox.claim_publication(kept, until=111.0, now=101.0) is Publication.CLAIMED


def test_claiming_an_outcome_never_kept_raises(outbox: OutcomeOutbox) -> None:
    with pytest.raises(KeyError):
        outbox.claim_publication(an_outcome(), until=110.0, now=100.0)


def test_an_outcome_kept_with_a_claim_is_claimed_in_the_same_write(
    outbox: OutcomeOutbox,
) -> None:
    recorded = outbox.record(an_outcome(), claim_until=110.0)

    assert recorded.claimed
    assert outbox.claim_publication(recorded.outcome, until=111.0, now=101.0) is (Publication.HELD)
    assert outbox.claim_publication(recorded.outcome, until=121.0, now=111.0) is (
        Publication.CLAIMED
    )
    again = outbox.record(an_outcome(at=LATER), claim_until=130.0)
    assert not again.claimed  # kept already: the first one's, not this call's
    assert again.outcome == recorded.outcome
