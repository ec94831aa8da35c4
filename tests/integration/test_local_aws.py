"""The local AWS: tables from the template, DynamoDB's conditional writes, state kept."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fapiao.local.aws import LocalAws
from fapiao.local.resources import LocalNames, provision
from fapiao.local.template import Template
from support import Session


def test_tables_have_the_template_key_schemas(local_aws: Session, template: Template) -> None:
    dynamodb = local_aws.client("dynamodb")
    for table in template.tables:
        described = dynamodb.describe_table(TableName=table.logical_id)["Table"]
        assert {k["KeyType"]: k["AttributeName"] for k in described["KeySchema"]} == (
            table.key_schema
        )
    ttl = dynamodb.describe_time_to_live(TableName="IdempotencyTable")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}


def test_bucket_is_encrypted_and_blocks_public_access(
    local_aws: Session, names: LocalNames
) -> None:
    s3 = local_aws.client("s3")
    bucket = names.ref("DropBucket")
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def put_if_absent(session: Session, key: str, writer: str, dynamodb: Any = None) -> bool:
    """Write ``key`` unless it is there (through ``dynamodb``, else a new client)."""
    try:
        (dynamodb or session.client("dynamodb")).put_item(
            TableName="InvoicesTable",
            Item={"invoice_key": {"S": key}, "writer": {"S": writer}},
            ConditionExpression="attribute_not_exists(invoice_key)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def test_racing_conditional_writes_admit_exactly_one(local_aws: Session) -> None:
    results: list[bool] = []
    start = threading.Barrier(8)

    def race(writer: int) -> None:
        start.wait()
        results.append(put_if_absent(local_aws, "033022100211:68552329", f"w{writer}"))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True]


def test_state_survives_a_restart_and_still_refuses_the_duplicate(
    tmp_path: Path, template: Template, names: LocalNames
) -> None:
    data = tmp_path / "data"
    with LocalAws(data) as aws:
        session = Session(aws.endpoint)
        provision(template, names, session)
        assert put_if_absent(session, "k-1", "first")
        assert not put_if_absent(session, "k-1", "second")  # refused: not logged
        put = session.client("s3").put_object(
            Bucket=names.ref("DropBucket"), Key="acme/inbox/a.pdf", Body=b"%PDF-1.7"
        )

    with LocalAws(data) as aws:
        # a clean stop left a snapshot: the start reads it and replays no request
        assert aws.replayed == 0
        assert aws.restored.items == 1 and aws.restored.objects == 1
        session = Session(aws.endpoint)
        assert provision(template, names, session) == []  # all there already
        item = session.client("dynamodb").get_item(
            TableName="InvoicesTable", Key={"invoice_key": {"S": "k-1"}}
        )["Item"]
        assert item["writer"] == {"S": "first"}
        assert not put_if_absent(session, "k-1", "after restart")
        got = session.client("s3").get_object(
            Bucket=names.ref("DropBucket"), Key="acme/inbox/a.pdf"
        )
        assert got["Body"].read() == b"%PDF-1.7"
        assert got["VersionId"] == put["VersionId"]  # the same version, not a new put


def test_refused_writes_and_reads_are_not_logged(
    tmp_path: Path, template: Template, names: LocalNames
) -> None:
    data = tmp_path / "data"
    with LocalAws(data) as aws:
        session = Session(aws.endpoint)
        provision(template, names, session)
        aws.snapshot()  # the log starts empty
        put_if_absent(session, "k-2", "first")
        put_if_absent(session, "k-2", "refused")
        session.client("dynamodb").get_item(
            TableName="InvoicesTable", Key={"invoice_key": {"S": "k-2"}}
        )
        (log,) = (data / "state").glob("wal-*.jsonl")
        lines = log.read_text().splitlines()
    assert len(lines) == 1
    assert '"PutItem"' in lines[0] or "PutItem" in lines[0]


def test_a_second_local_aws_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    with LocalAws(tmp_path / "data"), pytest.raises(OSError, match="another hub"):
        LocalAws(tmp_path / "data").start()


def test_a_kept_state_machine_takes_the_templates_definition(
    tmp_path: Path, template: Template, names: LocalNames
) -> None:
    """A data folder from an earlier template: the next start runs today's machine."""
    data = tmp_path / "data"
    with LocalAws(data) as aws:
        session = Session(aws.endpoint)
        provision(template, names, session)
        machine = names.ref("IngestStateMachine")
        old = '{"StartAt": "Old", "States": {"Old": {"Type": "Succeed"}}}'
        session.client("stepfunctions").update_state_machine(
            stateMachineArn=machine, definition=old
        )
    with LocalAws(data) as aws:
        session = Session(aws.endpoint)
        assert provision(template, names, session) == ["state machine IngestStateMachine updated"]
        definition = session.client("stepfunctions").describe_state_machine(
            stateMachineArn=machine
        )["definition"]
        assert '"StartAt": "Recognized"' in definition
        assert provision(template, names, session) == []


def test_a_retried_conditional_write_gets_its_first_reply_not_a_refusal(
    local_aws: Session,
) -> None:
    """A request queued behind the gateway's lock may outlast its client's read timeout;
    botocore then sends it again with the same invocation id. The retry is answered as
    the first attempt was: the write does not refuse itself (as Powertools' idempotency
    record once did: 409001 for a bizId sent once)."""
    dynamodb = local_aws.client("dynamodb")
    sent: list[Any] = []
    dynamodb.meta.events.register(
        "before-send.dynamodb.PutItem", lambda request, **_: sent.append(request)
    )
    assert put_if_absent(local_aws, "k-retried", "first", dynamodb)
    (first,) = sent

    def again(invocation_id: str) -> tuple[int, dict[str, Any]]:
        headers = {k: v for k, v in first.headers.items() if k.lower() != "amz-sdk-invocation-id"}
        headers["amz-sdk-invocation-id"] = invocation_id
        request = urllib.request.Request(first.url, data=first.body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    retried = again(first.headers["amz-sdk-invocation-id"].decode())
    assert retried == (200, {})  # the first attempt's reply
    status, refused = again("another-call")
    assert status == 400 and refused["__type"].endswith("ConditionalCheckFailedException")
