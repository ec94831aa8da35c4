"""Re-verification on schedule through a running local hub (`fapiao serve`, a process):
exocr answers "busy" (4007) for its first minute, the first re-check waits 5 seconds
(FAPIAO_VERIFY_RETRY_AFTER_SECONDS=5). A verifiable e-invoice dropped into the inbox is
stored C (907011); the hub checks it again by itself (the re-check state machine in the
local Step Functions: wait, check, back off) and it becomes Y within two minutes, with
no client action, and exactly one "Invoice status changed" event on the bus."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes.exocr_server import FakeExocr, result, vat_data
from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.model import InvoiceStatus
from fapiao.model.stored import StoredInvoice
from fapiao.store.invoices import DynamoInvoiceStore
from hubprocess import RunningHub, start_hub
from support import CORPUS, REGION, TEMPLATE, Session

pytestmark = pytest.mark.slow

# A 数电 ordinary e-invoice (电子发票(普通发票)) with a text layer: read without OCR.
FILE = "coneskiplight__seek_insight__fapiao.pdf"
NUMBER = "25317000000740141372"
BUSY_SECONDS = 60.0
DEADLINE_SECONDS = 120.0  # "within two minutes", from the drop
OWNER = "local.user"  # FAPIAO_INBOX_OWNER's default


def authority_record() -> dict[str, Any]:
    """What the tax authority knows of the invoice (corpus/expected.json), as exocr says."""
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))[FILE]
    (printed,) = expected["invoices"]
    form = {
        "invoice_no": printed["invoice_number"],
        "invoice_type": "16",  # 003: every 数电 type is asked as 16
        "create_date": printed["receipt_date"],
    }
    return vat_data(
        form,
        invoice_code="",
        total=printed["amount"],
        total_tax=printed["tax_amount"],
        amount=printed["total_amount"],
        buyer_name=printed["buyer_name"],
        buyer_tax_no="",
        seller_name=printed["seller_name"],
        seller_tax_no=printed["seller_tax_code"],
        check_code="",
    )


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    if not (CORPUS / "files" / FILE).is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    with FakeExocr(busy_seconds=BUSY_SECONDS) as fake:
        fake.script(NUMBER, result(1, authority_record()))
        yield fake


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, exocr: FakeExocr) -> Iterator[RunningHub]:
    env: dict[str, str | None] = {
        **exocr.hub_settings,
        "FAPIAO_VERIFY_RETRY_AFTER_SECONDS": "5",
        "FAPIAO_IDENTIFIER": None,  # the embedded engine reads the text layer
    }
    running = start_hub(Path(tmp_path_factory.mktemp("hub")) / "data", env)
    yield running
    running.stop()


class Bus:
    """Every event of the hub's bus, copied to a queue of the test's own; and the
    invoice store."""

    def __init__(self, hub: RunningHub) -> None:
        self.session = Session(hub.aws)
        names = LocalNames(Template(TEMPLATE), REGION)
        self.store = DynamoInvoiceStore(
            names.ref("InvoicesTable"),
            names.ref("ExpensesTable"),
            self.session.client("dynamodb"),
        )
        sqs, events = self.session.client("sqs"), self.session.client("events")
        self.queue = sqs.create_queue(QueueName="recheck-e2e-bus")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        bus = names.ref("EventBus")
        events.put_rule(
            Name="recheck-e2e-all", EventBusName=bus, EventPattern='{"source": ["fapiao"]}'
        )
        events.put_targets(
            Rule="recheck-e2e-all", EventBusName=bus, Targets=[{"Id": "test", "Arn": arn}]
        )
        self.events: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        sqs = self.session.client("sqs")
        while messages := sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            self.events.extend(json.loads(m["Body"]) for m in messages)
            for m in messages:
                sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])
        return self.events

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [e for e in self.read() if e["detail-type"] == detail_type]


def find(store: DynamoInvoiceStore) -> StoredInvoice | None:
    return store.get(NUMBER)


def test_a_busy_exocr_leaves_the_invoice_c_and_the_hub_makes_it_y_by_itself(
    hub: RunningHub, exocr: FakeExocr
) -> None:
    bus = Bus(hub)
    inbox = Path(hub.process.args[-1])  # type: ignore[index]
    exocr.busy_for(BUSY_SECONDS)
    dropped = time.monotonic()
    hidden = inbox / f".{FILE}.part"  # the watcher skips dot-files
    hidden.write_bytes((CORPUS / "files" / FILE).read_bytes())
    os.replace(hidden, inbox / "invoice.pdf")

    seen: list[tuple[InvoiceStatus, str | None]] = []
    record = None
    while time.monotonic() - dropped < DEADLINE_SECONDS:
        record = find(bus.store)
        if record is not None and (not seen or seen[-1] != (record.status, record.message_code)):
            seen.append((record.status, record.message_code))
        if record is not None and record.status is InvoiceStatus.VERIFIED:
            break
        time.sleep(1)
    took = time.monotonic() - dropped
    assert record is not None, "".join(hub.output[-40:])
    assert record.status is InvoiceStatus.VERIFIED, (seen, "".join(hub.output[-40:]))
    assert took < DEADLINE_SECONDS
    assert took > BUSY_SECONDS  # checked while busy first: it did not skip the wait
    # created C because exocr was busy (907011), then checked again until verified
    assert seen[0] == (InvoiceStatus.AWAITING_CHECK, "907011"), seen
    assert len(record.check_attempts) >= 2
    assert record.check is not None and record.check.success
    assert [t.status for t in record.transitions] == [InvoiceStatus.AWAITING_CHECK, "Y"]
    assert exocr.calls_for(NUMBER) > 2

    time.sleep(3)  # a second event would have arrived by now
    (changed,) = bus.of_type("Invoice status changed")
    detail = changed["detail"]
    assert changed["source"] == "fapiao"
    assert (detail["invoice_key"], detail["owner"]) == (NUMBER, OWNER)
    assert (detail["previous_status"], detail["status"]) == ("C", "Y")
    assert detail["expense_id"] == record.expense_id
    assert detail["invoice_type"] == {"code": "21", "name": "电子发票(普通发票)"}
    (created,) = bus.of_type("Invoice outcome")
    assert (created["detail"]["status"], created["detail"]["invoice_key"]) == ("C", NUMBER)
    assert record.transitions[-1].published
