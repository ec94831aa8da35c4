"""What fapiao.local.moto_fixes changes in the local AWS (moto runs in this process, so
its work can be counted, not timed): DynamoDB transactions are all or nothing, as in AWS,
without moto copying whole tables for each one; a Query of one partition looks at that
partition only; an SQS send or receive does not count every message of its queue."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fapiao.local.resources import LocalNames
from support import Session


def put(table: str, feed: str, seq: int, **extra: Any) -> dict[str, Any]:
    item = {"feed": {"S": feed}, "seq": {"N": str(seq)}, **extra}
    return {"Put": {"TableName": table, "Item": item}}


def items(client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {(i["feed"]["S"], i["seq"]["N"]): i for i in found}


def test_a_failed_condition_undoes_the_transactions_earlier_writes(
    tables: Session, names: LocalNames
) -> None:
    client, table = tables.client("dynamodb"), names.ref("EventsTable")
    client.put_item(
        TableName=table, Item={"feed": {"S": "a"}, "seq": {"N": "1"}, "v": {"S": "old"}}
    )
    before = items(client, table)
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                put(table, "a", 1, v={"S": "new"}),  # overwrites, then is undone
                put(table, "b", 1),  # new, then is undone
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"feed": {"S": "a"}, "seq": {"N": "2"}},
                        "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "attribute_exists(feed)",
                        "ExpressionAttributeValues": {":v": {"S": "x"}},
                    }
                },
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert items(client, table) == before


def test_a_transaction_that_holds_applies_every_write(tables: Session, names: LocalNames) -> None:
    client, table = tables.client("dynamodb"), names.ref("EventsTable")
    client.transact_write_items(TransactItems=[put(table, "a", 1), put(table, "a", 2)])
    assert set(items(client, table)) == {("a", "1"), ("a", "2")}


def test_a_transaction_copies_no_table(
    tables: Session, names: LocalNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.models.table import Table

    client, table = tables.client("dynamodb"), names.ref("EventsTable")
    for n in range(50):
        client.put_item(TableName=table, Item={"feed": {"S": "bulk"}, "seq": {"N": str(n)}})
    copied: list[str] = []
    deepcopy = copy.deepcopy

    def spy(value: Any, memo: Any = None) -> Any:
        copied.append(type(value).__name__)
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", spy)
    client.transact_write_items(TransactItems=[put(table, "bulk", 1, v={"S": "new"})])
    assert "Item" in copied, "the transaction copies the item it names, to put it back"
    assert Table.__name__ not in copied  # moto alone: a copy of every table named


def test_a_query_of_one_partition_looks_at_that_partition_only(
    tables: Session, names: LocalNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    client, table = tables.client("dynamodb"), names.ref("EventsTable")
    for n in range(5):
        client.put_item(TableName=table, Item={"feed": {"S": "mine"}, "seq": {"N": str(n)}})
    for start in range(0, 1000, 25):
        client.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"feed": {"S": f"other{n % 7}"}, "seq": {"N": str(n)}}}}
                    for n in range(start, start + 25)
                ]
            }
        )
    compared = 0
    equal = DynamoType.__eq__

    def counted(self: Any, other: Any) -> bool:
        nonlocal compared
        compared += 1
        return bool(equal(self, other))

    monkeypatch.setattr(DynamoType, "__eq__", counted)
    found = client.query(
        TableName=table,
        KeyConditionExpression="feed = :f AND seq >= :s",
        ExpressionAttributeValues={":f": {"S": "mine"}, ":s": {"N": "1"}},
    )["Items"]
    assert [int(i["seq"]["N"]) for i in found] == [1, 2, 3, 4]
    assert compared < 200, compared  # moto alone: each of the 1,005 items' keys compared
    assert (
        client.query(
            TableName=table,
            KeyConditionExpression="feed = :f",
            ExpressionAttributeValues={":f": {"S": "nobody"}},
        )["Items"]
        == []
    )


def test_sends_and_receives_count_no_messages(
    local_aws: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sqs.models import Queue

    sqs = local_aws.client("sqs")
    url = sqs.create_queue(QueueName="receives")["QueueUrl"]
    for start in range(0, 100, 10):  # waiting, as webhook retries wait
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "MessageBody": f"later {n}", "DelaySeconds": 900}
                for n in range(start, start + 10)
            ],
        )
    counts = 0
    counted_property = Queue.approximate_number_of_messages

    def counting(queue: Any) -> int:
        nonlocal counts
        counts += 1
        return int(counted_property.fget(queue))  # type: ignore[attr-defined]

    monkeypatch.setattr(Queue, "approximate_number_of_messages", property(counting))
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"now {n}")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == [f"now {n}" for n in range(5)]
    assert counts == 0  # moto alone: the queue's messages counted for each send and receive
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts == 1 and attributes["ApproximateNumberOfMessagesDelayed"] == "100"
