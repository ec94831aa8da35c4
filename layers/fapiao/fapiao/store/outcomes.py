"""Where terminal outcomes go: the ERP's event bus and the reconciliation table.

Event schema (EventBridge): ``source`` "fapiao", ``detail-type`` "Invoice outcome",
``detail`` the ``Outcome`` model as JSON (outcome: created | duplicate | rejected |
unrecognisable | failed | identified; object {bucket, key, etag, version_id}; index;
owner; invoice_key; invoice_type; expense_id; status; message; message_code; at).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fapiao import aws
from fapiao.services.pipeline import Outcome

EVENT_SOURCE = "fapiao"
EVENT_DETAIL_TYPE = "Invoice outcome"


class EventBridgeOutcomes:
    def __init__(self, bus: str, client: Any = None) -> None:
        self.bus = bus
        self._client = client

    def record(self, outcome: Outcome) -> None:
        client = self._client if self._client is not None else aws.client("events")
        answer = client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus,
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_DETAIL_TYPE,
                    "Detail": outcome.model_dump_json(),
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"the event bus refused the outcome: {answer['Entries']}")

    def of_object(self, object_id: str) -> Sequence[Outcome]:
        return ()  # a bus is not read back


class DynamoOutcomes:
    """Items keyed by ``object_id`` and ``index`` (template.yaml's OutcomesTable)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def record(self, outcome: Outcome) -> None:
        # Put, not add: a task retried after a timeout records the same outcome again.
        self.client.put_item(
            TableName=self.table,
            Item={
                "object_id": {"S": outcome.object.object_id},
                "index": {"N": str(outcome.index)},
                "outcome": {"S": outcome.outcome.value},
                "detail": {"S": outcome.model_dump_json()},
            },
        )

    def of_object(self, object_id: str) -> Sequence[Outcome]:
        items = self.client.query(
            TableName=self.table,
            KeyConditionExpression="object_id = :o",
            ExpressionAttributeValues={":o": {"S": object_id}},
            ConsistentRead=True,
        )["Items"]
        return [Outcome.model_validate_json(item["detail"]["S"]) for item in items]


class MemoryOutcomes:
    def __init__(self) -> None:
        self.recorded: dict[tuple[str, int], Outcome] = {}

    def record(self, outcome: Outcome) -> None:
        self.recorded[(outcome.object.object_id, outcome.index)] = outcome

    def of_object(self, object_id: str) -> Sequence[Outcome]:
        return [o for (oid, _), o in sorted(self.recorded.items()) if oid == object_id]
