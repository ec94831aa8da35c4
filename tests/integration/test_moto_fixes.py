"""What fapiao.local.moto_fixes changes in the local AWS (moto runs in this process, so
its work can be counted, not timed): DynamoDB transactions are all or nothing, as in AWS,
without moto copying whole tables for each one; a Query of one partition looks at that
partition only; an SQS send or receive does not count every message of its queue.
Express executions are started as AWS starts them (a name may repeat), and Step
Functions' own integration (``states:startExecution``, ``.sync:2``) runs."""

from __future__ import annotations

import copy
import json
import time
import uuid
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


ROLE = "arn:aws:iam::123456789012:role/test"


def machine(sfn: Any, definition: dict[str, Any], kind: str = "STANDARD") -> str:
    name = f"m-{uuid.uuid4().hex[:8]}"
    created = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE, type=kind
    )
    return str(created["stateMachineArn"])


@pytest.fixture
def states(tables: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    """The local AWS, where moto's interpreter calls AWS for a state (as the hub sets it)."""
    monkeypatch.setenv("MOTO_PORT", tables.endpoint.rsplit(":", 1)[1])
    return tables


def partition(arn: str) -> str:
    return arn.split(":")[1]  # aws-cn in the China regions, as the ingest ASL's ${Partition}


def ended(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running")


PASS = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.p", "End": True}},
}


def test_an_express_name_may_repeat_and_each_start_is_an_execution(tables: Session) -> None:
    sfn = tables.client("stepfunctions")
    express = machine(sfn, PASS, "EXPRESS")

    first = sfn.start_execution(stateMachineArn=express, name="file", input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=express, name="file", input='{"a": 2}')

    plain = express.replace(":stateMachine:", ":execution:") + ":file"
    assert first["executionArn"] == plain  # found by its name, as a Standard one is
    assert again["executionArn"].startswith(plain + ":")
    runs = [ended(sfn, r["executionArn"]) for r in (first, again)]
    assert [json.loads(r["output"]) for r in runs] == [{"a": 1, "p": 1}, {"a": 2, "p": 1}]
    listed = sfn.list_executions(stateMachineArn=express)["executions"]
    assert sorted(e["name"] for e in listed) == ["file", "file"]


def test_a_standard_name_is_still_started_once(tables: Session) -> None:
    sfn = tables.client("stepfunctions")
    standard = machine(sfn, PASS)
    sfn.start_execution(stateMachineArn=standard, name="file", input='{"a": 1}')
    ended(sfn, standard.replace(":stateMachine:", ":execution:") + ":file")

    with pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn=standard, name="file", input='{"a": 2}')
    assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_a_standard_execution_runs_an_express_one_to_its_end_and_takes_its_output(
    states: Session,
) -> None:
    sfn = states.client("stepfunctions")
    child = machine(sfn, PASS, "EXPRESS")
    parent = machine(
        sfn,
        {
            "StartAt": "Child",
            "States": {
                "Child": {
                    "Type": "Task",
                    "Resource": f"arn:{partition(child)}:states:::states:startExecution.sync:2",
                    "Parameters": {
                        "StateMachineArn": child,
                        "Name.$": "$$.Execution.Name",
                        "Input.$": "$",
                    },
                    "ResultSelector": {"output.$": "$.Output", "status.$": "$.Status"},
                    "End": True,
                }
            },
        },
    )
    started = sfn.start_execution(stateMachineArn=parent, name="file", input='{"a": 1}')

    described = ended(sfn, started["executionArn"])

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {
        "output": {"a": 1, "p": 1},
        "status": "SUCCEEDED",
    }


def test_a_state_starts_another_machines_execution_and_sees_its_arn(states: Session) -> None:
    sfn = states.client("stepfunctions")
    other = machine(sfn, PASS)
    starter = machine(
        sfn,
        {
            "StartAt": "Start",
            "States": {
                "Start": {
                    "Type": "Task",
                    "Resource": f"arn:{partition(other)}:states:::states:startExecution",
                    "Parameters": {"StateMachineArn": other, "Name": "handed", "Input.$": "$"},
                    "ResultSelector": {"arn.$": "$.ExecutionArn"},
                    "End": True,
                }
            },
        },
        "EXPRESS",
    )
    started = sfn.start_execution(stateMachineArn=starter, name="x", input='{"a": 1}')

    described = ended(sfn, started["executionArn"])

    handed = other.replace(":stateMachine:", ":execution:") + ":handed"
    assert json.loads(described["output"]) == {"arn": handed}
    assert json.loads(ended(sfn, handed)["output"]) == {"a": 1, "p": 1}


def test_the_interpreter_keeps_no_thread_it_started(states: Session) -> None:
    """moto appends every thread it starts to a module-level list nobody empties."""
    import sys

    sfn = states.client("stepfunctions")
    child = machine(sfn, PASS, "EXPRESS")
    start = f"arn:{partition(child)}:states:::states:startExecution"
    parent = machine(
        sfn,
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "Child",
                        "States": {
                            "Child": {
                                "Type": "Task",
                                "Resource": start,
                                "Parameters": {"StateMachineArn": child, "Input.$": "$"},
                                "End": True,
                            }
                        },
                    },
                    "End": True,
                }
            },
        },
    )
    for n in range(3):
        started = sfn.start_execution(
            stateMachineArn=parent, name=f"run-{n}", input='{"items": [1, 2, 3]}'
        )
        assert ended(sfn, started["executionArn"])["status"] == "SUCCEEDED"

    kept = {
        name: len(module.TMP_THREADS)
        for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "TMP_THREADS")
    }
    assert kept and set(kept.values()) == {0}, kept
