"""The local AWS after `kill -9`: state restored from the snapshot and the log, with no
side effect repeated (no notification fired again, no message delivered again)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from fapiao.local.aws import LocalAws
from fapiao.local.resources import LocalNames
from support import PROJECT_ROOT, Session

pytestmark = pytest.mark.slow

# Runs in a child process that kills itself: nothing of LocalAws.stop() runs.
_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    sys.path.insert(0, "tests")
    from pathlib import Path
    from fapiao.local.aws import LocalAws
    from fapiao.local.resources import LocalNames, provision, provision_notifications
    from fapiao.local.template import Template
    from support import REGION, TEMPLATE, Session

    template = Template(TEMPLATE)
    names = LocalNames(template, REGION)
    aws = LocalAws(Path(sys.argv[1]), snapshot_every=int(sys.argv[2]))
    aws.start()
    session = Session(aws.endpoint)
    provision(template, names, session)
    provision_notifications(template, names, session)
    s3, sqs = session.client("s3"), session.client("sqs")
    put = s3.put_object(Bucket=names.ref("DropBucket"), Key="acme/inbox/a.pdf", Body=b"%PDF-a")
    erp = sqs.get_queue_url(QueueName=names.queue_name("ErpQueue"))["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=erp, MessageBody=f"outcome {n}")
    first = sqs.receive_message(QueueUrl=erp, MaxNumberOfMessages=1)["Messages"][0]
    sqs.delete_message(QueueUrl=erp, ReceiptHandle=first["ReceiptHandle"])
    dynamodb = session.client("dynamodb")
    for n in range(int(sys.argv[3])):
        dynamodb.put_item(TableName="InvoicesTable", Item={"invoice_key": {"S": f"k-{n}"}})
    print(json.dumps({"version": put["VersionId"], "deleted": first["Body"]}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _killed_child(data: Path, snapshot_every: int = 500, items: int = 3) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data), str(snapshot_every), str(items)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stderr[-2000:]
    facts: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return facts


def _bodies(session: Session, queue_url: str) -> list[str]:
    sqs = session.client("sqs")
    bodies = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        bodies.extend(m["Body"] for m in batch)
    return bodies


def test_after_kill_9_state_is_restored_and_nothing_fires_again(
    tmp_path: Path, names: LocalNames
) -> None:
    data = tmp_path / "data"
    facts = _killed_child(data)
    with LocalAws(data) as aws:
        assert aws.replayed > 0  # no snapshot since the first start: the log holds it
        session = Session(aws.endpoint)
        versions = session.client("s3").list_object_versions(Bucket=names.ref("DropBucket"))
        assert [v["VersionId"] for v in versions["Versions"]] == [facts["version"]]
        sqs = session.client("sqs")
        erp = sqs.get_queue_url(QueueName=names.queue_name("ErpQueue"))["QueueUrl"]
        remaining = _bodies(session, erp)
        assert sorted(remaining) == sorted(
            {"outcome 0", "outcome 1", "outcome 2"} - {facts["deleted"]}
        )
        drops = sqs.get_queue_url(QueueName=names.queue_name("DropQueue"))["QueueUrl"]
        created = [b for b in _bodies(session, drops) if "ObjectCreated" in b]
        assert len(created) == 1  # the put's one notification, not a second one
        assert "acme%2Finbox%2Fa.pdf" in created[0]  # S3 sends keys URL-encoded
        items = session.client("dynamodb").scan(TableName="InvoicesTable")["Items"]
        assert sorted(i["invoice_key"]["S"] for i in items) == ["k-0", "k-1", "k-2"]


def test_a_line_cut_short_by_the_kill_is_dropped(tmp_path: Path, names: LocalNames) -> None:
    data = tmp_path / "data"
    _killed_child(data)
    (log,) = (data / "state").glob("wal-*.jsonl")
    whole = log.read_text().count("\n")
    with log.open("a") as file:
        file.write('{"request": {"method": "POST", "pa')  # what a kill mid-write leaves
    with LocalAws(data) as aws:
        assert aws.replayed == whole
        items = Session(aws.endpoint).client("dynamodb").scan(TableName="InvoicesTable")["Items"]
        assert len(items) == 3


def create_table_t(dynamodb: Any) -> None:
    """Table ``t``, keyed by the string ``k``."""
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_the_log_is_compacted_into_snapshots(tmp_path: Path, names: LocalNames) -> None:
    data = tmp_path / "data"
    with LocalAws(data, snapshot_every=20) as aws:
        session = Session(aws.endpoint)
        dynamodb = session.client("dynamodb")
        create_table_t(dynamodb)
        for n in range(100):
            dynamodb.put_item(TableName="t", Item={"k": {"S": str(n)}})
        # A snapshot runs beside the requests: between writing the new files and
        # removing the old ones, two of each exist. Wait for it to settle.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            logs = list((data / "state").glob("wal-*.jsonl"))
            snapshots = list((data / "state").glob("snapshot-*.json"))
            settled = len(logs) == 1 and len(snapshots) == 1
            if settled and logs[0].read_text().count("\n") < 20:
                break
            time.sleep(0.2)
        assert len(snapshots) == 1  # old ones gone
        assert len(logs) == 1
        assert logs[0].read_text().count("\n") < 20 + 100  # a snapshot took over the log
    with LocalAws(data) as aws:
        items = Session(aws.endpoint).client("dynamodb").scan(TableName="t")["Items"]
        assert len(items) == 100
        assert aws.replayed == 0


def test_restart_time_follows_the_state_not_its_history(tmp_path: Path) -> None:
    """The same 10 items written once or rewritten 30 times restore alike: the start
    after a clean stop replays nothing, whatever the history."""
    data = tmp_path / "data"
    with LocalAws(data) as aws:
        dynamodb = Session(aws.endpoint).client("dynamodb")
        create_table_t(dynamodb)
        for n in range(300):
            dynamodb.put_item(TableName="t", Item={"k": {"S": str(n % 10)}, "n": {"N": str(n)}})
    with LocalAws(data) as aws:
        assert aws.replayed == 0
        assert aws.restored.items == 10
        items = Session(aws.endpoint).client("dynamodb").scan(TableName="t")["Items"]
        assert sorted(int(i["n"]["N"]) for i in items) == list(range(290, 300))


def test_a_snapshot_keeps_every_kind_of_value_as_a_scan_reads_it(tmp_path: Path) -> None:
    """Snapshots read the tables' items from moto in process: every DynamoDB type,
    nested too, comes back after a restart exactly as it was written."""
    data = tmp_path / "data"
    item = {
        "k": {"S": "one"},
        "n": {"N": "12.50"},
        "b": {"B": b"\x00\xffbytes"},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"\x01", b"\x02\x03"]},
        "B": {"M": {"B": {"B": b"in a map"}, "l": {"L": [{"S": "x"}, {"B": b"\x04"}]}}},
        "l": {"L": [{"M": {"n": {"N": "3"}}}, {"SS": ["y"]}]},
    }
    with LocalAws(data) as aws:
        dynamodb = Session(aws.endpoint).client("dynamodb")
        create_table_t(dynamodb)
        dynamodb.put_item(TableName="t", Item=item)
        before = dynamodb.get_item(TableName="t", Key={"k": {"S": "one"}})["Item"]
        aws.snapshot()
    with LocalAws(data) as aws:
        after = (
            Session(aws.endpoint)
            .client("dynamodb")
            .get_item(TableName="t", Key={"k": {"S": "one"}})["Item"]
        )
        assert aws.replayed == 0  # from the snapshot alone
    assert after == before
    assert after["b"] == {"B": b"\x00\xffbytes"}
    assert after["B"]["M"]["B"] == {"B": b"in a map"}
