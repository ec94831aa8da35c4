"""The local AWS counts what it is asked (fapiao.local.usage): requests by service and
operation, DynamoDB's request units from item sizes, Lambda invocations with their
duration. bench/cost.py prices these counts, so a miscount is a wrong bill."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fapiao.local.apigw import FunctionPool
from fapiao.local.aws import LocalAws
from fapiao.local.template import FunctionDef
from fapiao.local.usage import Usage, item_size
from support import REGION, Session

TABLE = "usage-items"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalAws, Session]]:
    local = LocalAws(tmp_path_factory.mktemp("usage") / "data", region=REGION)
    session = Session(local.start())
    session.client("dynamodb").create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    session.client("s3").create_bucket(
        Bucket="usage-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    try:
        yield local, session
    finally:
        local.stop()


def item(key: str, size: int) -> dict[str, Any]:
    """An item of ``size`` bytes as DynamoDB counts them ("pk" + key + "blob" + blob)."""
    blob = "x" * (size - len("pk") - len(key) - len("blob"))
    return {"pk": {"S": key}, "blob": {"S": blob}}


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    assert item_size(item("k1", 3000)) == 3000
    assert item_size({"n": {"N": "12345"}, "ok": {"BOOL": True}}) == 1 + 4 + 2 + 1
    assert item_size({"m": {"M": {"a": {"S": "bc"}}}}) == 1 + 3 + 1 + 1 + 2


def test_requests_are_counted_by_service_and_operation(aws: tuple[LocalAws, Session]) -> None:
    local, session = aws
    s3, sqs = session.client("s3"), session.client("sqs")
    queue = sqs.create_queue(QueueName="usage-queue")["QueueUrl"]
    local.usage.reset()

    s3.put_object(Bucket="usage-bucket", Key="a/b.pdf", Body=b"%PDF")
    s3.get_object(Bucket="usage-bucket", Key="a/b.pdf")
    s3.head_object(Bucket="usage-bucket", Key="a/b.pdf")
    s3.list_objects_v2(Bucket="usage-bucket")
    sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)  # nothing there
    sqs.send_message(QueueUrl=queue, MessageBody="{}")
    sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)

    counts = local.usage.counts()
    assert counts.requests["s3"] == {
        "GetObject": 1,
        "HeadObject": 1,
        "ListObjectsV2": 1,
        "PutObject": 1,
    }
    assert counts.requests["sqs"] == {
        "ReceiveMessage": 1,
        "ReceiveMessage (empty)": 1,
        "SendMessage": 1,
    }
    local.usage.reset()
    assert local.usage.counts().requests == {}


def test_a_write_costs_a_unit_per_kilobyte_of_the_larger_item(
    aws: tuple[LocalAws, Session],
) -> None:
    local, session = aws
    dynamodb = session.client("dynamodb")
    local.usage.reset()

    dynamodb.put_item(TableName=TABLE, Item=item("w1", 2500))  # 3 WRU
    dynamodb.update_item(  # a small update of a 2.5 KB item: still 3 WRU
        TableName=TABLE,
        Key={"pk": {"S": "w1"}},
        UpdateExpression="SET flag = :f",
        ExpressionAttributeValues={":f": {"BOOL": True}},
    )
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "w1"}})  # 3 WRU: its size
    dynamodb.put_item(TableName=TABLE, Item=item("w2", 200))  # 1 WRU

    counts = local.usage.counts()
    assert counts.write_units == 3 + 3 + 3 + 1
    assert counts.read_units == 0
    assert counts.units_by_table == {TABLE: (0.0, 10.0)}


def test_a_read_costs_half_a_unit_per_4_kb_or_one_when_consistent(
    aws: tuple[LocalAws, Session],
) -> None:
    local, session = aws
    dynamodb = session.client("dynamodb")
    dynamodb.put_item(TableName=TABLE, Item=item("r1", 9000))
    local.usage.reset()

    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "r1"}})  # 3 x 4 KB, eventual: 1.5
    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "r1"}}, ConsistentRead=True)  # 3
    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "none"}})  # nothing: still 0.5

    counts = local.usage.counts()
    assert counts.read_units == 1.5 + 3 + 0.5
    assert counts.write_units == 0
    assert counts.requests["dynamodb"] == {"GetItem": 3}


def test_a_transactional_write_costs_twice(aws: tuple[LocalAws, Session]) -> None:
    local, session = aws
    dynamodb = session.client("dynamodb")
    local.usage.reset()

    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item("t1", 1500)}},  # 2 KB: 2 x 2
            {"Put": {"TableName": TABLE, "Item": item("t2", 100)}},  # 1 x 2
        ]
    )

    assert local.usage.counts().write_units == 4 + 2


def test_every_handler_call_is_counted_with_its_duration(tmp_path: Path) -> None:
    usage = Usage()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        time.sleep(event["sleep"])
        return {}

    function = FunctionDef("SlowFunction", tmp_path, "app.handler")
    pool = FunctionPool(function, lambda f, n: handler, on_invoked=usage.invoked)
    pool.invoke({"sleep": 0.05})
    pool.invoke({"sleep": 0.0})

    invocations = usage.counts().invocations["SlowFunction"]
    assert invocations.count == 2
    assert 0.05 <= invocations.seconds < 1.0
