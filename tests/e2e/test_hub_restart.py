"""`fapiao serve` stopped with Ctrl-C or killed with `kill -9`, and started again on the
same data folder: nothing stored is lost, nothing finished runs again, nothing in
flight is lost, and no outcome reaches the ERP twice because of the restart."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fixtures.generate import invoice_pdf
from fixtures.served import recent_invoice

from e2e.test_inbox_reconciliation import Drop, write_into
from hubprocess import RunningHub, get, start_hub

pytestmark = [pytest.mark.slow, pytest.mark.alone]


@pytest.fixture(autouse=True)
def _embedded_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAPIAO_IDENTIFIER", raising=False)
    monkeypatch.delenv("FAPIAO_INBOX_OWNER", raising=False)


def invoices(first: int, count: int) -> dict[str, tuple[bytes, str | None]]:
    files: dict[str, tuple[bytes, str | None]] = {}
    for n in range(first, first + count):
        spec = recent_invoice(40_000 + n)
        files[f"invoice-{n:03d}.pdf"] = (invoice_pdf(spec), spec.invoice_number)
    return files


def wait_reconciled(drop: Drop, objects: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = drop.reconcile()
        settled = len(report.objects) == objects and not report.missing
        if settled and not drop.executions()["RUNNING"]:
            return
        time.sleep(1)
    raise AssertionError("\n".join(drop.reconcile().lines()[-20:]))


def peek_erp(drop: Drop) -> list[str]:
    """The ERP queue's unread messages, left unread: each is received once (hidden
    meanwhile, so that the next receive gives another), then made visible again."""
    sqs = drop.session.client("sqs")
    url = sqs.get_queue_url(QueueName=drop.names.queue_name("ErpQueue"))["QueueUrl"]
    seen: dict[str, str] = {}
    receipts: list[str] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
    ).get("Messages", []):
        for message in batch:
            seen[message["MessageId"]] = message["Body"]
            receipts.append(message["ReceiptHandle"])
    for receipt in receipts:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return sorted(seen.values())


def published(drop: Drop) -> set[str]:
    """The object ids whose outcome the OutcomesTable holds as published."""
    items = drop.session.client("dynamodb").scan(
        TableName=drop.names.ref("OutcomesTable"), ConsistentRead=True
    )["Items"]
    return {i["object_id"]["S"] for i in items if i.get("published", {}).get("BOOL")}


def outcome_times(drop: Drop) -> dict[str, Any]:
    return {
        f"{row.object.object_id}#{o.index}": o.at
        for row in drop.reconcile().objects
        for o in row.outcomes
    }


def test_ctrl_c_then_start_restores_everything_and_runs_nothing_again(
    tmp_path: Path, hubs: list[RunningHub]
) -> None:
    data, inbox = tmp_path / "data", tmp_path / "inbox"
    first = start_hub(data)
    hubs.append(first)
    files = invoices(0, 6)
    write_into(inbox, files)
    drop = Drop(first)
    wait_reconciled(drop, 6)
    erp_before = peek_erp(drop)
    assert len(erp_before) == 6
    times_before = outcome_times(drop)
    executions_before = drop.executions()
    assert first.stop() == 0
    assert "Traceback" not in "".join(first.output)

    started = time.monotonic()
    second = start_hub(data)
    hubs.append(second)
    assert get(f"{second.url}/health")[0] == 200
    assert time.monotonic() - started < 15  # healthy within 15 s
    assert second.replayed == 0
    drop = Drop(second)
    assert peek_erp(drop) == erp_before  # the same unread messages, no more
    time.sleep(60)  # in the next minute no pipeline step, outcome or message comes of it
    assert drop.executions() == executions_before
    assert outcome_times(drop) == times_before
    assert peek_erp(drop) == erp_before

    # duplicates are still refused: the same bytes under another name
    name, (data_bytes, _) = next(iter(files.items()))
    write_into(inbox, {f"again-{name}": (data_bytes, None)})
    wait_reconciled(drop, 7)
    kinds = Counter(o.outcome.value for row in drop.reconcile().objects for o in row.outcomes)
    assert kinds == {"created": 6, "duplicate": 1}
    assert second.stop() == 0


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_stop_with_files_in_flight_ends_each_file_with_exactly_one_outcome(
    tmp_path: Path, hubs: list[RunningHub], stop: signal.Signals
) -> None:
    data, inbox = tmp_path / "data", tmp_path / "inbox"
    first = start_hub(data)
    hubs.append(first)
    drop = Drop(first)
    write_into(inbox, invoices(0, 4))
    wait_reconciled(drop, 4)
    write_into(inbox, invoices(4, 20))
    deadline = time.monotonic() + 60
    while len(drop.objects()) < 10 and time.monotonic() < deadline:
        time.sleep(0.2)
    # Told before the stop: kept and marked published. An outcome kept but not yet
    # marked may be told again (the outbox's at least once: a kill between the bus and
    # the marker), so only marked ones must be told exactly once.
    finished_before = published(drop)
    first.process.send_signal(stop)
    code = first.process.wait(timeout=60)
    if stop is signal.SIGINT:  # a clean stop, even in the middle of the work
        assert code == 0
        time.sleep(0.5)  # the output thread reads what is left
        assert "stopped" in "".join(first.output)
        assert "Traceback" not in "".join(first.output)

    second = start_hub(data)
    hubs.append(second)
    drop = Drop(second)
    wait_reconciled(drop, 24)
    report = drop.reconcile()
    assert report.complete and report.doubled == ()
    assert all(len(row.outcomes) == 1 for row in report.objects)
    assert Counter(o.outcome.value for row in report.objects for o in row.outcomes) == {
        "created": 24
    }
    events = Counter(json.loads(body)["detail"]["object"]["key"] for body in peek_erp(drop))
    keys_before = {
        row.object.key for row in report.objects if row.object.object_id in finished_before
    }
    assert keys_before  # some had finished before the kill
    assert {key: events[key] for key in keys_before} == dict.fromkeys(keys_before, 1)
    assert set(events) == {row.object.key for row in report.objects}  # every one told
    assert sorted(p.name for p in inbox.iterdir()) == [".sent"]
    assert second.stop() == 0
