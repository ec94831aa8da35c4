"""The local hub's peak resident memory (the hub and its recognition workers) under
ordinary month-end load: 40 invoice files dropped into its inbox while 16 clients send
48 ocrSync calls by URL. The baseline is the same hub idle right after its start,
measured in the same run. Run: make bench (or .venv/bin/python bench/hub_memory.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# tests/ is not installed: import its helpers as pytest does (pyproject's pythonpath)
sys.path.insert(0, str(ROOT / "tests"))

from e2e.test_hub_load import tree_peak_rss  # noqa: E402
from e2e.test_hub_restart import invoices, wait_reconciled  # noqa: E402
from e2e.test_inbox_reconciliation import Drop, write_into  # noqa: E402
from e2e.test_ocr_sync import OCR_SYNC, spec_example  # noqa: E402
from fixtures.generate import invoice_pdf  # noqa: E402
from fixtures.served import recent_invoice, serving  # noqa: E402

from fapiao.wire.common import dump_json  # noqa: E402
from hubprocess import call, start_hub  # noqa: E402

CLIENTS, CALLS, FILES = 16, 48, 40


def main() -> int:
    os.environ.update({"FAPIAO_ALLOW_LOOPBACK_FETCH": "1", "FAPIAO_VERIFIER": "offline"})
    os.environ.pop("FAPIAO_IDENTIFIER", None)
    with tempfile.TemporaryDirectory() as folder:
        hub = start_hub(Path(folder) / "data")
        try:
            idle = tree_peak_rss(hub.process.pid)
            served = {f"/{n}.pdf": invoice_pdf(recent_invoice(80_000 + n)) for n in range(CALLS)}
            statuses: Counter[int] = Counter()
            peak = idle
            started = time.monotonic()
            with serving(served) as base:
                write_into(Path(folder) / "inbox", invoices(200, FILES))
                work, lock = iter(range(CALLS)), threading.Lock()

                def client() -> None:
                    nonlocal peak
                    while True:
                        with lock:
                            n = next(work, None)
                        if n is None:
                            return
                        body = spec_example(f"{base}/{n}.pdf", "N")
                        body["bizId"] = f"bench-{n}"
                        status, _ = call("POST", hub.url + OCR_SYNC, dump_json(body).encode())
                        with lock:
                            statuses[status] += 1
                            peak = max(peak, tree_peak_rss(hub.process.pid))

                threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                wait_reconciled(Drop(hub), FILES)
            elapsed = time.monotonic() - started
            peak = max(peak, tree_peak_rss(hub.process.pid))
        finally:
            hub.stop()
    print(f"idle hub after its start: {idle / 1024**2:.0f} MiB resident (hub + workers)")
    print(
        f"{FILES} inbox files + {CALLS} ocrSync calls from {CLIENTS} clients in "
        f"{elapsed:.1f} s: peak {peak / 1024**2:.0f} MiB, {peak / idle:.2f}x idle "
        f"(answers: {dict(sorted(statuses.items()))})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
