"""Local throughput (issue 20, point 8): one-invoice PDFs dropped into the inbox of a local
hub whose provider (a fake exocr on loopback) answers at once, and the time until every
one of them has its terminal outcome, beside the 20 s target for 200; with the AWS
requests per file and where the time goes (each function's handler time, summed over
its invocations, which overlap).

    .venv/bin/python bench/inbox_throughput.py [--files 200]

The hub runs in this process (tests/inprocess.local_hub), so the local AWS layer's
counts (fapiao.local.usage) are read directly. The PDFs are made before the clock starts
(tests/fixtures: each a different invoice with a text layer), written into the inbox at
once, and the clock stops when the OutcomesTable holds an outcome for each. The baseline
is the time to recognise the same files in this process one after another (the
embedded engine alone): what the pipeline adds around the reading itself. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/ helpers, as pytest imports them

from fixtures.generate import invoice_pdf  # noqa: E402
from fixtures.served import recent_invoice  # noqa: E402
from inprocess import local_hub  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402

from fakes.exocr_server import FakeExocr  # noqa: E402
from fapiao.local.resources import ACCOUNT_ID  # noqa: E402
from fapiao.recognize import recognize  # noqa: E402
from fapiao.store.outcomes import DynamoOutcomes  # noqa: E402

TARGET_SECONDS = 20.0
TARGET_FILES = 200
DEADLINE = 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=TARGET_FILES, help="PDFs to drop (200)")
    args = parser.parse_args()
    files = {
        f"invoice-{n:04d}.pdf": invoice_pdf(recent_invoice(60_000 + n)) for n in range(args.files)
    }
    started = time.perf_counter()
    for data in files.values():
        recognize(data)
    reading = time.perf_counter() - started
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"baseline: recognising the {len(files)} PDFs one after another here: {reading:.1f} s")

    with FakeExocr() as exocr, tempfile.TemporaryDirectory() as folder:
        env: dict[str, str | None] = {
            **exocr.hub_settings,
            "FAPIAO_IDENTIFIER": None,
            "FAPIAO_INBOX_OWNER": None,
        }
        with local_hub(Path(folder), env) as hub:
            outcomes = DynamoOutcomes(hub.names.ref("OutcomesTable"), hub.aws.client("dynamodb"))
            inbox = Path(folder) / "inbox"
            inbox.mkdir(parents=True, exist_ok=True)
            hub.aws.usage.reset()
            started = time.perf_counter()
            for name, data in files.items():
                hidden = inbox / f".{name}.part"
                hidden.write_bytes(data)
                os.replace(hidden, inbox / name)
            dynamodb = hub.aws.client("dynamodb")
            # The clock looks at moto's table in this process (its length), not with a
            # request: the hub shares this process's CPU and GIL
            table = dynamodb_backends[ACCOUNT_ID][hub.config.region].get_table(outcomes.table)
            while time.perf_counter() - started < DEADLINE:
                if len(table) >= len(files):
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
            items = dynamodb.scan(TableName=outcomes.table, ProjectionExpression="outcome")
            kinds: Counter[str] = Counter(item["outcome"]["S"] for item in items["Items"])
            counts = hub.aws.usage.counts()

    done = sum(kinds.values())
    print(
        f"{done} of {len(files)} inbox PDFs reached their outcome in {elapsed:.1f} s "
        f"({dict(kinds)}); target {TARGET_SECONDS:.0f} s for {TARGET_FILES}: "
        f"{elapsed / TARGET_SECONDS * TARGET_FILES / len(files):.2f}x of it; "
        f"{elapsed / reading:.1f}x the reading alone; exocr called {len(exocr.calls)} times"
    )
    per_file = {service: sum(ops.values()) / len(files) for service, ops in counts.requests.items()}
    print(
        "AWS requests per file: "
        + ", ".join(f"{service} {n:.1f}" for service, n in sorted(per_file.items()))
        + f" (total {sum(per_file.values()):.1f})"
    )
    top = sorted(counts.requests.items(), key=lambda kv: -sum(kv[1].values()))
    for service, ops in top:
        busiest = sorted(ops.items(), key=lambda kv: -kv[1])[:5]
        print(f"  {service}: " + ", ".join(f"{op} {n / len(files):.1f}" for op, n in busiest))
    print("where the time goes (handler seconds summed over invocations, per file):")
    for function, calls in sorted(counts.invocations.items(), key=lambda kv: -kv[1].seconds):
        print(
            f"  {function}: {calls.count / len(files):.1f} calls, "
            f"{calls.seconds / len(files) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
