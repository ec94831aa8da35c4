"""How long the local hub's AWS takes to start on a data folder of 500 stored objects,
after a clean stop (snapshot only) and after `kill -9` (snapshot + write-ahead log), as
a ratio to the start of an empty data folder measured in the same run.

Each stored object is a drop: a 30 KB file in the drop bucket, its S3 notification
queued, one OutcomesTable item and one ERP message. Run: make bench (or
.venv/bin/python bench/local_hub_durability.py [objects]).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from fapiao.local.aws import LocalAws

ROOT = Path(__file__).resolve().parents[1]

FILL = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, "tests")
    from pathlib import Path
    from fapiao.local.aws import LocalAws
    from fapiao.local.resources import LocalNames, provision, provision_notifications
    from fapiao.local.template import Template
    from support import REGION, TEMPLATE, Session

    data, count, kill = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "kill"
    template = Template(TEMPLATE)
    names = LocalNames(template, REGION)
    aws = LocalAws(data, snapshot_every=10 * count + 100)  # the log keeps it all
    aws.start()
    session = Session(aws.endpoint)
    provision(template, names, session)
    provision_notifications(template, names, session)
    s3, sqs, dynamodb = session.client("s3"), session.client("sqs"), session.client("dynamodb")
    erp = sqs.get_queue_url(QueueName=names.queue_name("ErpQueue"))["QueueUrl"]
    for n in range(count):
        key = f"acme/inbox/{n:04d}.pdf"
        s3.put_object(Bucket=names.ref("DropBucket"), Key=key, Body=os.urandom(30_000))
        dynamodb.put_item(
            TableName=names.ref("OutcomesTable"),
            Item={"object_id": {"S": key}, "index": {"N": "0"}, "detail": {"S": "{}" * 200}},
        )
        sqs.send_message(QueueUrl=erp, MessageBody='{"detail": "' + "x" * 800 + '"}')
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)
    aws.stop()
    """
)


def fill(data: Path, count: int, kill: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FILL, str(data), str(count), "kill" if kill else "stop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    expected = -signal.SIGKILL if kill else 0
    if done.returncode != expected:
        raise SystemExit(done.stderr[-3000:])


def timed_start(data: Path) -> tuple[float, LocalAws]:
    started = time.perf_counter()
    aws = LocalAws(data)
    aws.start()
    elapsed = time.perf_counter() - started
    aws.stop()
    return elapsed, aws


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as folder:
        empty = statistics.median(timed_start(Path(folder) / f"empty{n}")[0] for n in range(3))
        stopped, killed = Path(folder) / "stopped", Path(folder) / "killed"
        fill(stopped, count, kill=False)
        clean, aws = timed_start(stopped)
        print(f"empty data folder: start in {empty:.2f} s (median of 3; moto's start included)")
        print(
            f"{aws.restored.objects} objects, {aws.restored.items} items, "
            f"{aws.restored.messages} queued messages after a clean stop: start in "
            f"{clean:.2f} s, {clean / empty:.1f}x the empty start "
            f"({aws.replayed} log entries replayed)"
        )
        fill(killed, count, kill=True)
        crashed, aws = timed_start(killed)
        print(
            f"the same after kill -9 (no snapshot since the first start): start in "
            f"{crashed:.2f} s, {crashed / empty:.1f}x the empty start "
            f"({aws.replayed} log entries applied, then compacted)"
        )
        again, aws = timed_start(killed)
        print(
            f"and the start after that: {again:.2f} s, {again / empty:.1f}x "
            f"({aws.replayed} log entries: the previous start left a snapshot)"
        )
        size = sum(p.stat().st_size for p in stopped.rglob("*") if p.is_file())
        print(f"data folder for {count} objects: {size / 1024**2:.1f} MiB")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT / "tests"))
    sys.exit(main())
