"""200 files written into the inbox of `fapiao serve` (a process, as a user runs it) end
in exactly 200 terminal outcomes: 120 distinct invoices created, 40 copies of some of
them (the same bytes under another name: another object, the same invoice) duplicate,
40 photos with nothing machine-readable unrecognisable. The drop bucket and the
OutcomesTable are reconciled with fapiao.services.reconcile: every object has exactly
its outcome, none is missing, none doubled; the ERP's queue got one event for each."""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ingest_runs
import pytest
from fixtures.generate import invoice_pdf, qr_photo
from fixtures.served import recent_invoice

from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.services.reconcile import Report, listed_object, outcomes_in, reconcile
from fapiao.store.outcomes import DynamoOutcomes
from hubprocess import RunningHub, start_hub
from support import REGION, TEMPLATE, Session

pytestmark = [pytest.mark.slow, pytest.mark.alone]

INVOICES, COPIES, PHOTOS = 120, 40, 40
FILES = INVOICES + COPIES + PHOTOS
OWNER = "local.user"  # FAPIAO_INBOX_OWNER's default
DEADLINE_SECONDS = 200.0  # measured: 45 s for the 200 files on 2 cores


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningHub]:
    # The embedded engine alone: what it cannot read stays U (no provider is asked).
    monkeypatch.delenv("FAPIAO_IDENTIFIER", raising=False)
    monkeypatch.delenv("FAPIAO_INBOX_OWNER", raising=False)
    running = start_hub(tmp_path / "data")
    yield running
    if running.process.poll() is None:
        running.stop()


def inbox_files() -> dict[str, tuple[bytes, str | None]]:
    """File name -> (bytes, invoice key or None for a photo)."""
    files: dict[str, tuple[bytes, str | None]] = {}
    for n in range(INVOICES):
        spec = recent_invoice(20_000 + n)
        key = f"{spec.invoice_code}{spec.invoice_number}"
        files[f"invoice-{n:03d}.pdf"] = (invoice_pdf(spec), key)
    for n in range(COPIES):
        files[f"copy-of-invoice-{n * 3:03d}.pdf"] = files[f"invoice-{n * 3:03d}.pdf"]
    for n in range(PHOTOS):
        photo = qr_photo([], size=(320 + n, 240))  # no QR code: nothing machine-readable
        files[f"photo-{n:03d}.jpg"] = (photo, None)
    return files


def write_into(inbox: Path, files: dict[str, tuple[bytes, str | None]]) -> None:
    for name, (data, _) in files.items():
        hidden = inbox / f".{name}.part"  # the watcher skips dot-files
        hidden.write_bytes(data)
        os.replace(hidden, inbox / name)


class Drop:
    """The drop bucket and the OutcomesTable of the running hub."""

    def __init__(self, hub: RunningHub) -> None:
        self.session = Session(hub.aws)
        self.names = LocalNames(Template(TEMPLATE), REGION)
        self.bucket = self.names.ref("DropBucket")
        self.table = DynamoOutcomes(
            self.names.ref("OutcomesTable"), self.session.client("dynamodb")
        )

    def objects(self) -> list[DroppedObject]:
        """Every version dropped (the bucket is versioned; each PUT was one drop)."""
        pages = self.session.client("s3").get_paginator("list_object_versions")
        return [
            listed_object(self.bucket, entry)
            for page in pages.paginate(Bucket=self.bucket)
            for entry in page.get("Versions", [])
        ]

    def reconcile(self) -> Report:
        return reconcile(self.objects(), outcomes_in(self.table))

    def erp_events(self) -> list[dict[str, Any]]:
        sqs = self.session.client("sqs")
        url = sqs.get_queue_url(QueueName=self.names.queue_name("ErpQueue"))["QueueUrl"]
        events: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            events.extend(json.loads(m["Body"]) for m in messages)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        return events

    def executions(self) -> Counter[str]:
        """Executions of both ingest machines by status (Express, and Standard)."""
        sfn = self.session.client("stepfunctions")
        return Counter(e["status"] for e in ingest_runs.runs(sfn, self.names))

    def finished(self, timeout: float) -> Counter[str]:
        """The executions by status once none runs (an outcome is recorded, and the
        ERP's event sent, just before its execution ends)."""
        deadline = time.monotonic() + timeout
        statuses = self.executions()
        while statuses["RUNNING"] and time.monotonic() < deadline:
            time.sleep(0.5)
            statuses = self.executions()
        return statuses


def test_200_inbox_files_end_in_exactly_200_terminal_outcomes(
    hub: RunningHub, tmp_path: Path
) -> None:
    files = inbox_files()
    assert len(files) == FILES
    assert len({key for _, key in files.values() if key}) == INVOICES  # distinct invoices
    inbox = tmp_path / "inbox"
    drop = Drop(hub)

    started = time.monotonic()
    write_into(inbox, files)
    report = drop.reconcile()
    while time.monotonic() - started < DEADLINE_SECONDS:
        report = drop.reconcile()
        if len(report.objects) == FILES and not report.missing:
            break
        time.sleep(2)
    elapsed = time.monotonic() - started
    print(f"\n{FILES} inbox files reconciled in {elapsed:.1f} s")

    assert len(report.objects) == FILES, f"{len(report.objects)} objects in the bucket"
    assert report.missing == (), "\n".join(report.lines()[-20:])
    assert report.doubled == () and report.gapped == ()
    assert report.complete
    assert all(len(row.outcomes) == 1 for row in report.objects)  # one invoice a file
    assert report.counts() == {
        OutcomeKind.CREATED: INVOICES,
        OutcomeKind.DUPLICATE: COPIES,
        OutcomeKind.UNRECOGNISABLE: PHOTOS,
    }

    # Each object is the file it came from: <owner>/inbox/<sha256[:12]>-<name>.
    by_name = {row.object.key.split("-", 1)[1]: row for row in report.objects}
    assert sorted(by_name) == sorted(files)
    assert all(row.object.key.startswith(f"{OWNER}/inbox/") for row in report.objects)
    # Listed by version, found by ETag: the local S3's events name no version.
    assert all(row.object.version_id for row in report.objects)
    kinds_of_invoice: dict[str, list[OutcomeKind]] = defaultdict(list)
    for name, (_, invoice_key) in files.items():
        (outcome,) = by_name[name].outcomes
        if invoice_key is None:
            assert outcome.outcome is OutcomeKind.UNRECOGNISABLE, name
            continue
        assert outcome.invoice_key == invoice_key, name
        assert outcome.owner == OWNER
        kinds_of_invoice[invoice_key].append(outcome.outcome)
    # Whichever of an invoice's two files ran first created it; the other is the copy.
    assert Counter(tuple(sorted(kinds)) for kinds in kinds_of_invoice.values()) == {
        (OutcomeKind.CREATED,): INVOICES - COPIES,
        (OutcomeKind.CREATED, OutcomeKind.DUPLICATE): COPIES,
    }

    # Every execution ended, and the ERP heard of each outcome exactly once.
    assert drop.finished(timeout=30) == Counter({"SUCCEEDED": FILES})
    events = [Outcome.model_validate(e["detail"]) for e in drop.erp_events()]
    heard: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in events:
        heard[outcome.object.key].append(outcome)  # one version of each key here

    def events_of(obj: DroppedObject) -> Sequence[Outcome]:
        return heard[obj.key]

    told = reconcile([row.object for row in report.objects], events_of)
    assert told.complete and len(events) == FILES
    assert told.counts() == report.counts()
    assert sorted(p.name for p in inbox.iterdir()) == [".sent"]  # nothing failed to upload
