"""Where terminal outcomes go: the reconciliation table, kept as an outbox, and the ERP's
event bus.

OutcomesTable items (template.yaml), one per invoice of an object: ``object_id`` and
``index`` (the key), ``outcome`` (its kind), ``detail`` (the ``Outcome`` model as JSON,
the event's ``detail``) and ``published`` (true once the event is on the bus; an item
without it counts as unpublished). The first outcome written for a key is the one that
counts: it is never overwritten.

Event schema (EventBridge): ``source`` "fapiao", ``detail-type`` "Invoice outcome",
``detail`` the ``Outcome`` model as JSON (outcome: created | duplicate | rejected |
unrecognisable | failed | identified; object {bucket, key, etag, version_id}; index;
owner; invoice_key; invoice_type; expense_id; status; message; message_code; at).

``DynamoOutcomes`` (the outbox, ``fapiao.ports.OutcomeOutbox``) and ``EventBridgeOutcomes``
(the bus, ``fapiao.ports.OutcomeBus``) are the adapters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.model.pipeline import Outcome, Recorded

EVENT_SOURCE = "fapiao"
EVENT_DETAIL_TYPE = "Invoice outcome"


class EventBridgeOutcomes:
    """The ERP's event bus (``OutcomeBus``)."""

    def __init__(self, bus: str, client: Any = None) -> None:
        self.bus = bus
        self._client = client

    def publish(self, outcome: Outcome) -> None:
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


def _key(outcome: Outcome) -> dict[str, Any]:
    return {"object_id": {"S": outcome.object.object_id}, "index": {"N": str(outcome.index)}}


def _condition_failed(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


class DynamoOutcomes:
    """The OutcomesTable as the outbox (``OutcomeOutbox``): conditional writes, so a
    record task run again finds the first outcome instead of rewriting it."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def record(self, outcome: Outcome) -> Recorded:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **_key(outcome),
                    "outcome": {"S": outcome.outcome.value},
                    "detail": {"S": outcome.model_dump_json()},
                    "published": {"BOOL": False},
                },
                ConditionExpression="attribute_not_exists(object_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            # ALL_OLD: the failed condition answers the item that is there (no race)
            first: dict[str, Any] = cast(dict[str, Any], error.response)["Item"]
            return Recorded(
                outcome=Outcome.model_validate_json(first["detail"]["S"]),
                published=bool(first.get("published", {}).get("BOOL", False)),
            )
        return Recorded(outcome=outcome, published=False)

    def mark_published(self, outcome: Outcome) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(outcome),
                UpdateExpression="SET published = :yes",
                ConditionExpression="attribute_exists(object_id)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        except ClientError as error:
            if _condition_failed(error):
                raise KeyError((outcome.object.object_id, outcome.index)) from error
            raise

    def of_object(self, object_id: str) -> Sequence[Outcome]:
        items = self.client.query(
            TableName=self.table,
            KeyConditionExpression="object_id = :o",
            ExpressionAttributeValues={":o": {"S": object_id}},
            ConsistentRead=True,
        )["Items"]
        return [Outcome.model_validate_json(item["detail"]["S"]) for item in items]
