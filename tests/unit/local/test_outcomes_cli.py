"""`fapiao outcomes --json`: the elements scripts read, and the one stderr line that
names each object that is off (missing, doubled, with a gap) by its key."""

from __future__ import annotations

import datetime as dt

from fapiao.local.outcomes_cli import outcomes_json
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.services.reconcile import ObjectOutcomes, Report

AT = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def row(key: str, *indexes: int) -> ObjectOutcomes:
    obj = DroppedObject(bucket="drop", key=key, etag="e", version_id="v1")
    return ObjectOutcomes(
        obj,
        tuple(
            Outcome(
                outcome=OutcomeKind.REJECTED,
                object=obj,
                index=i,
                status=InvoiceStatus.CHECK_FAILED,
                message="发票已作废",
                message_code=907003,
                invoice_key="key",
                expense_id=12,
                owner="acme",
                at=AT,
            )
            for i in indexes
        ),
    )


def test_each_outcome_is_an_element_of_exactly_the_contract_names() -> None:
    report = Report((row("acme/a.pdf", 0, 1), row("acme/lost.pdf")))
    assert outcomes_json(report) == [
        {
            "key": "acme/a.pdf",
            "index": index,
            "outcome": "rejected",
            "status": "F",
            "message_code": 907003,  # an integer, as the API gives it
            "message": "发票已作废",
            "invoice_key": "key",
            "at": "2024-05-01T09:30:00+08:00",
        }
        for index in (0, 1)
    ]


def test_problems_name_every_object_that_is_off_in_one_line() -> None:
    report = Report(
        (
            row("acme/fine.pdf", 0),
            row("acme/lost.pdf"),
            row("acme/twice.pdf", 0, 0),
            row("acme/gap.pdf", 0, 2),
        )
    )
    assert report.problems() == (
        "3 of 4 objects are off: missing acme/lost.pdf; doubled acme/twice.pdf; gap acme/gap.pdf"
    )
    assert Report((row("acme/fine.pdf", 0),)).problems() == ""
    assert report.lines()[-1] == report.summary()
    assert report.summary() == ("4 objects: 5 rejected; 1 missing, 1 doubled, 1 with a gap")
