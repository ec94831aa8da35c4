"""The local hub's peak resident memory (the hub and its recognition workers) under
ordinary month-end load: 40 invoice files dropped into its inbox while 16 clients send
48 ocrSync calls by URL. The baseline is the same hub idle right after its start,
measured in the same run. Run: make bench (or .venv/bin/python bench/hub_memory.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# tests/ is not installed: import its helpers as pytest does (pyproject's pythonpath)
sys.path.insert(0, str(ROOT / "tests"))

from e2e.test_hub_load import CALLS, CLIENTS, FILES, month_end_load, tree_peak_rss  # noqa: E402
from e2e.test_hub_restart import wait_reconciled  # noqa: E402
from e2e.test_inbox_reconciliation import Drop  # noqa: E402

from hubprocess import start_hub  # noqa: E402


def main() -> int:
    os.environ.update({"FAPIAO_ALLOW_LOOPBACK_FETCH": "1", "FAPIAO_VERIFIER": "offline"})
    os.environ.pop("FAPIAO_IDENTIFIER", None)
    with tempfile.TemporaryDirectory() as folder:
        hub = start_hub(Path(folder) / "data")
        try:
            idle = tree_peak_rss(hub.process.pid)
            started = time.monotonic()
            answers, peak = month_end_load(hub, Path(folder) / "inbox", 80_000)
            wait_reconciled(Drop(hub), FILES)
            elapsed = time.monotonic() - started
            peak = max(peak, tree_peak_rss(hub.process.pid))
        finally:
            hub.stop()
    statuses = Counter(status for status, _ in answers)
    print(f"idle hub after its start: {idle / 1024**2:.0f} MiB resident (hub + workers)")
    print(
        f"{FILES} inbox files + {CALLS} ocrSync calls from {CLIENTS} clients in "
        f"{elapsed:.1f} s: peak {peak / 1024**2:.0f} MiB, {peak / idle:.2f}x idle "
        f"(answers: {dict(sorted(statuses.items()))})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
