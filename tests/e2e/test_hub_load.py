"""`fapiao serve` under ordinary month-end load stays up: 40 files in its inbox while 16
clients send 48 ocrSync calls by URL. Every call is answered below 500 (or 503 in the
route's envelope when its queue is full), every file ends with exactly one outcome,
and the hub's processes stay far below the memory that killed it before."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.generate import invoice_pdf
from fixtures.served import recent_invoice, serving

from e2e.test_hub_restart import invoices, wait_reconciled
from e2e.test_inbox_reconciliation import Drop, write_into
from e2e.test_ocr_sync import OCR_SYNC, spec_example
from fapiao.wire.common import dump_json
from hubprocess import RunningHub, call, start_hub

pytestmark = [pytest.mark.slow, pytest.mark.alone]
CLIENTS, CALLS, FILES = 16, 48, 40
MEMORY_LIMIT = 3 * 1024**3


def tree_peak_rss(pid: int) -> int:
    """The peak resident memory of a process plus its children (VmHWM each)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
        todo.extend(int(c) for c in children)
    return total


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningHub]:
    monkeypatch.delenv("FAPIAO_IDENTIFIER", raising=False)
    monkeypatch.delenv("FAPIAO_INBOX_OWNER", raising=False)
    monkeypatch.setenv("FAPIAO_ALLOW_LOOPBACK_FETCH", "1")
    monkeypatch.setenv("FAPIAO_VERIFIER", "offline")
    running = start_hub(tmp_path / "data")
    yield running
    if running.process.poll() is None:
        running.stop()


def month_end_load(hub: RunningHub, inbox: Path, seed: int) -> tuple[list[tuple[int, Any]], int]:
    """FILES invoices into the inbox while CLIENTS clients send CALLS ocrSync calls by
    URL: every answer, and the peak resident memory of the hub's processes seen meanwhile
    (bench/hub_memory.py runs the same load)."""
    served = {f"/{n}.pdf": invoice_pdf(recent_invoice(seed + n)) for n in range(CALLS)}
    answers: list[tuple[int, Any]] = []
    peaks = [tree_peak_rss(hub.process.pid)]
    with serving(served) as base:
        write_into(inbox, invoices(seed, FILES))
        work = iter(range(CALLS))
        lock = threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    n = next(work, None)
                if n is None:
                    return
                body = spec_example(f"{base}/{n}.pdf", "N")
                body["bizId"] = f"load-{seed}-{n}"
                answer = call("POST", hub.url + OCR_SYNC, dump_json(body).encode("utf-8"))
                with lock:
                    answers.append(answer)
                    peaks.append(tree_peak_rss(hub.process.pid))

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    return answers, max(peaks)


def test_inbox_and_concurrent_ocr_sync_calls_keep_the_hub_up(
    hub: RunningHub, tmp_path: Path
) -> None:
    answers, peak_during = month_end_load(hub, tmp_path / "inbox", 60_000)
    assert hub.process.poll() is None, "".join(hub.output[-40:])
    assert len(answers) == CALLS
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    for status, body in answers:
        if status == 503:
            assert isinstance(body, dict) and body.get("resCode") == 503001, body
        else:
            assert body["resCode"] == 200000, body
    assert statuses[200] >= CALLS // 2  # the queue takes most of the burst

    drop = Drop(hub)
    wait_reconciled(drop, FILES)
    report = drop.reconcile()
    assert report.complete and report.doubled == ()
    assert all(len(row.outcomes) == 1 for row in report.objects)
    peak = max(peak_during, tree_peak_rss(hub.process.pid))
    print(f"\npeak resident memory of the hub and its workers: {peak / 1024**2:.0f} MiB")
    assert peak < MEMORY_LIMIT
    assert os.path.isdir(tmp_path / "inbox" / ".sent")
