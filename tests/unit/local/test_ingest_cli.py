"""`fapiao ingest`'s lines and exit code: one line per invoice, seven fields; a file is
fine when every invoice of it is created or duplicate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fapiao.local.ingest_cli import Seen, Sent, fine, lines_of
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind

AT = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
OBJ = DroppedObject(bucket="drop", key="acme/ingest/0a1b-a.pdf", etag="e", version_id="v")
SENT = Sent(Path("scans/a.pdf"), OBJ, already=False)


def outcome(index: int, kind: OutcomeKind, **fields: object) -> Outcome:
    return Outcome.model_validate(
        {"outcome": kind, "object": OBJ, "index": index, "at": AT, **fields}
    )


CREATED = outcome(0, OutcomeKind.CREATED, status=InvoiceStatus.VERIFIED, invoice_key="k0")
DUPLICATE = outcome(
    1,
    OutcomeKind.DUPLICATE,
    status=InvoiceStatus.VERIFIED,
    message="发票已导入",
    message_code=907002,
)
UNREAD = outcome(2, OutcomeKind.UNRECOGNISABLE, status=InvoiceStatus.UNRECOGNISABLE)


def test_each_invoice_is_a_line_of_seven_fields() -> None:
    seen = Seen(ended=True, outcomes=(CREATED, DUPLICATE), invoices=2)
    assert lines_of(SENT, seen, 300) == [
        "scans/a.pdf\t0\tcreated\tY\t\tk0\tsent",
        "scans/a.pdf\t1\tduplicate\tY\t907002\t发票已导入\tsent",
    ]
    assert fine(seen)


def test_bytes_seen_before_say_already_processed() -> None:
    again = Sent(SENT.path, OBJ, already=True)
    (line,) = lines_of(again, Seen(ended=True, outcomes=(CREATED,)), 300)
    assert line.endswith("\tk0\talready processed")


@pytest.mark.parametrize(
    ("seen", "last"),
    [
        (Seen(ended=False, outcomes=(CREATED,)), "\t\tpending\t\t\tnot done within 2.5 s\tsent"),
        (Seen(ended=True, outcomes=(CREATED,), invoices=2), "\t1\tmissing\t\t\t"),
        (
            Seen(ended=True, failure="FAILED: States.Runtime"),
            "\t\tfailed\t\t\tFAILED: States.Runtime",
        ),
        (Seen(ended=True, outcomes=(CREATED, DUPLICATE, UNREAD)), "\t2\tunrecognisable\tU\t\t"),
    ],
)
def test_a_file_not_wholly_created_or_duplicate_is_not_fine(seen: Seen, last: str) -> None:
    lines = lines_of(SENT, seen, 2.5)
    assert last in lines[-1]
    assert all(len(line.split("\t")) == 7 for line in lines)
    assert not fine(seen)
