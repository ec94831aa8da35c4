"""Reconciliation: every listed object with its outcomes; missing, doubled and gapped
objects named; a bucket listing read as the pipeline names its objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from fakes.memory import MemoryOutcomes
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.services.reconcile import listed_object, outcomes_in, reconcile

BUCKET = "drop"
AT = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def obj(key: str, etag: str = "e1", version_id: str | None = None) -> DroppedObject:
    return DroppedObject(bucket=BUCKET, key=key, etag=etag, version_id=version_id)


def outcome(o: DroppedObject, kind: OutcomeKind, index: int = 0, minute: int = 0) -> Outcome:
    return Outcome(
        outcome=kind, object=o, index=index, owner="acme", at=AT + dt.timedelta(minutes=minute)
    )


def test_each_object_is_listed_with_its_outcomes_in_index_order() -> None:
    one, two = obj("acme/a.pdf"), obj("acme/b.pdf")
    log = MemoryOutcomes()
    log.record(outcome(two, OutcomeKind.DUPLICATE, index=1))
    log.record(outcome(two, OutcomeKind.CREATED, index=0))
    log.record(outcome(one, OutcomeKind.UNRECOGNISABLE))

    report = reconcile([one, two], outcomes_in(log))

    assert [row.object for row in report.objects] == [one, two]
    assert report.objects[0].kinds == (OutcomeKind.UNRECOGNISABLE,)
    assert report.objects[1].kinds == (OutcomeKind.CREATED, OutcomeKind.DUPLICATE)
    assert report.complete
    assert report.missing == () and report.doubled == () and report.gapped == ()
    assert report.counts() == {
        OutcomeKind.CREATED: 1,
        OutcomeKind.DUPLICATE: 1,
        OutcomeKind.UNRECOGNISABLE: 1,
    }


def test_an_object_without_outcome_is_missing() -> None:
    done, lost = obj("acme/a.pdf"), obj("acme/lost.pdf")
    log = MemoryOutcomes()
    log.record(outcome(done, OutcomeKind.CREATED))

    report = reconcile([done, lost], outcomes_in(log))

    assert report.missing == (lost,)
    assert not report.complete
    assert report.lines()[1] == f"{lost.object_id}  MISSING"
    assert "1 missing" in report.lines()[-1]


def test_two_outcomes_for_one_invoice_are_doubled() -> None:
    # A table keyed by (object, index) cannot hold two; a log of events can.
    o = obj("acme/a.pdf")
    twice = [outcome(o, OutcomeKind.CREATED), outcome(o, OutcomeKind.DUPLICATE, minute=1)]

    def outcomes_of(asked: DroppedObject) -> Sequence[Outcome]:
        return twice if asked == o else ()

    report = reconcile([o], outcomes_of)

    (row,) = report.doubled
    assert row.kinds == (OutcomeKind.CREATED, OutcomeKind.DUPLICATE)
    assert not report.complete
    assert report.lines()[0].endswith("DOUBLED")
    assert report.counts() == {OutcomeKind.CREATED: 1, OutcomeKind.DUPLICATE: 1}


def test_a_skipped_invoice_index_is_a_gap() -> None:
    o = obj("acme/three.pdf")
    log = MemoryOutcomes()
    log.record(outcome(o, OutcomeKind.CREATED, index=0))
    log.record(outcome(o, OutcomeKind.CREATED, index=2))

    report = reconcile([o], outcomes_in(log))

    assert report.gapped == report.objects
    assert report.missing == () and report.doubled == ()
    assert not report.complete


def test_an_object_listed_twice_is_reported_once() -> None:
    o = obj("acme/a.pdf")
    log = MemoryOutcomes()
    log.record(outcome(o, OutcomeKind.CREATED))

    report = reconcile([o, o.model_copy()], outcomes_in(log))

    assert len(report.objects) == 1
    assert report.counts() == {OutcomeKind.CREATED: 1}


def test_outcomes_of_another_version_are_not_this_objects() -> None:
    first = obj("acme/a.pdf", etag="e1", version_id="v1")
    second = obj("acme/a.pdf", etag="e2", version_id="v2")
    log = MemoryOutcomes()
    log.record(outcome(first, OutcomeKind.CREATED))

    report = reconcile([first, second], outcomes_in(log))

    assert report.missing == (second,)


def test_listing_entries_become_the_objects_the_pipeline_names() -> None:
    contents = {"Key": "acme/inbox/a b+c.pdf", "ETag": '"9b2cf535f27731c974343645a3985328"'}
    version = {**contents, "VersionId": "3HL4kqtJlcpXroDTDmJ"}
    unversioned = {**contents, "VersionId": "null"}

    assert listed_object(BUCKET, contents) == DroppedObject(
        bucket=BUCKET, key="acme/inbox/a b+c.pdf", etag="9b2cf535f27731c974343645a3985328"
    )
    assert listed_object(BUCKET, version).version_id == "3HL4kqtJlcpXroDTDmJ"
    assert listed_object(BUCKET, unversioned).version_id is None


def test_a_version_the_events_did_not_name_is_found_by_its_etag() -> None:
    # moto's S3 events carry no versionId: the pipeline named the object by its ETag.
    by_etag = obj("acme/a.pdf", etag="e1")
    log = MemoryOutcomes()
    log.record(outcome(by_etag, OutcomeKind.CREATED))
    listed = obj("acme/a.pdf", etag="e1", version_id="v1")

    report = reconcile([listed], outcomes_in(log))

    assert report.objects[0].kinds == (OutcomeKind.CREATED,)
    assert report.complete


def test_the_report_prints_one_line_per_object_and_a_summary() -> None:
    o = obj("acme/a.pdf")
    log = MemoryOutcomes()
    log.record(outcome(o, OutcomeKind.CREATED, index=0))
    log.record(outcome(o, OutcomeKind.REJECTED, index=1))

    lines = reconcile([o, obj("acme/b.pdf")], outcomes_in(log)).lines()

    assert lines == [
        f"{o.object_id}  0:created 1:rejected",
        f"{BUCKET}/acme/b.pdf#e1  MISSING",
        "2 objects: 1 created, 1 rejected; 1 missing, 0 doubled, 0 with a gap",
    ]
