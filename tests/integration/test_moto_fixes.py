"""What fapiao.local.moto_fixes changes in the local AWS: DynamoDB transactions are all
or nothing, as in AWS, without moto copying whole tables for each one; an SQS receive
does not count every message of its queue for each message it returns."""

from __future__ import annotations

import time
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


def test_a_transaction_costs_the_same_beside_a_large_table(
    tables: Session, names: LocalNames
) -> None:
    client, table = tables.client("dynamodb"), names.ref("EventsTable")

    def timed(n: int) -> float:
        started = time.perf_counter()
        for i in range(n):
            client.transact_write_items(TransactItems=[put(table, "t", 100_000 + i)])
        return time.perf_counter() - started

    small = timed(20)
    for start in range(0, 4000, 25):
        client.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "feed": {"S": "bulk"},
                                "seq": {"N": str(n)},
                                "body": {"S": "x" * 200},
                            }
                        }
                    }
                    for n in range(start, start + 25)
                ]
            }
        )
    large = timed(20)
    assert large < small * 3 + 0.5, (small, large)  # moto alone: ~10x slower at 4,000 items


def test_sends_and_receives_cost_the_same_beside_many_waiting_messages(local_aws: Session) -> None:
    sqs = local_aws.client("sqs")
    url = sqs.create_queue(QueueName="receives")["QueueUrl"]

    def timed_receives() -> float:
        started = time.perf_counter()
        for n in range(10):
            sqs.send_message(QueueUrl=url, MessageBody=f"now {n}")
        got = 0
        while got < 10:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            got += len(messages)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        return time.perf_counter() - started

    few = timed_receives()
    for start in range(0, 1000, 10):  # waiting, as webhook retries wait
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "MessageBody": f"later {n}", "DelaySeconds": 900}
                for n in range(start, start + 10)
            ],
        )
    many = timed_receives()
    assert many < few * 3 + 0.2, (few, many)  # moto alone: 1,000 counts per message


def test_a_query_of_one_partition_costs_the_same_beside_a_large_table(
    tables: Session, names: LocalNames
) -> None:
    client, table = tables.client("dynamodb"), names.ref("EventsTable")
    for n in range(5):
        client.put_item(TableName=table, Item={"feed": {"S": "mine"}, "seq": {"N": str(n)}})

    def timed() -> float:
        started = time.perf_counter()
        for _ in range(20):
            found = client.query(
                TableName=table,
                KeyConditionExpression="feed = :f AND seq >= :s",
                ExpressionAttributeValues={":f": {"S": "mine"}, ":s": {"N": "1"}},
            )["Items"]
            assert [int(i["seq"]["N"]) for i in found] == [1, 2, 3, 4]
        return time.perf_counter() - started

    alone = timed()
    for start in range(0, 4000, 25):
        client.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"feed": {"S": f"other{n % 7}"}, "seq": {"N": str(n)}}}}
                    for n in range(start, start + 25)
                ]
            }
        )
    beside = timed()
    assert beside < alone * 3 + 0.3, (alone, beside)  # moto alone: every item compared
    assert (
        client.query(
            TableName=table,
            KeyConditionExpression="feed = :f",
            ExpressionAttributeValues={":f": {"S": "nobody"}},
        )["Items"]
        == []
    )
