"""The providers' shared turns (``fapiao.providers.turns``) in DynamoDB.

``DynamoProviderTurns`` is the adapter of the port ``fapiao.ports.ProviderTurnStore``
(AWS and the local hub alike; only the endpoint differs). One item per provider in the
``ProviderTurnsTable`` (HASH key ``pk``, the provider's name: ``exocr``, ``yipiaoyun``):

- ``next_at``: the next free slot (epoch seconds, to the microsecond);
- ``lowered_to``, ``lowered_at``: the rate a busy answer lowered it to, and when;
- ``version``: the writes so far; each write is a PutItem on the condition that the
  version read is still there (or no item, for the first), so that two callers never
  reserve the same slot;
- ``expires_at``: DynamoDB's TTL attribute, a day after the last write: a provider no
  longer called leaves nothing behind (the state of an idle provider is its default).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.ports import TurnState

__all__ = ["DynamoProviderTurns"]

KEEP_SECONDS = 86_400  # the item's TTL after its last write


def _number(value: float | int) -> dict[str, str]:
    return {"N": f"{value:.6f}" if isinstance(value, float) else str(value)}


class DynamoProviderTurns:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("dynamodb")

    def read(self, provider: str) -> TurnState | None:
        reply = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": provider}}, ConsistentRead=True
        )
        item = reply.get("Item")
        if item is None:
            return None
        return TurnState(
            next_at=float(item["next_at"]["N"]),
            lowered_to=float(item.get("lowered_to", {}).get("N", "0")),
            lowered_at=float(item.get("lowered_at", {}).get("N", "0")),
            version=int(item["version"]["N"]),
        )

    def write(self, provider: str, state: TurnState, expected: TurnState | None) -> bool:
        item = {
            "pk": {"S": provider},
            "next_at": _number(state.next_at),
            "lowered_to": _number(state.lowered_to),
            "lowered_at": _number(state.lowered_at),
            "version": _number(state.version),
            "expires_at": _number(int(max(state.next_at, state.lowered_at)) + KEEP_SECONDS),
        }
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected is None
            else {
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": _number(expected.version)},
            }
        )
        try:
            self.client.put_item(TableName=self.table, Item=item, **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
