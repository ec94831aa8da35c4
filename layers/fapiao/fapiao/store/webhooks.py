"""Webhook subscriptions, their deliveries and every attempt: the WebhooksTable
(template.yaml; ``fapiao.ports.WebhookStore``).

Items (``pk`` / ``sk``), each holding its record's JSON in ``doc``:

- ``subscriptions`` / ``<subscription id>``: a subscription. Listing them is one Query;
- ``sub#<subscription id>`` / ``delivery#<event id>``: the delivery of one event to that
  subscription, with its ``state`` and ``attempts`` beside the JSON (the conditions of a
  claim read them), and the event's JSON in the record (an attempt never reads the
  feed);
- ``sub#<subscription id>`` / ``attempt#<epoch ms, 15 digits>#<event id>#<n, 4 digits>``:
  one attempt. A subscription's attempts, newest first, are one Query (backwards).

Deliveries and attempts carry ``expires_at`` (TTL): ``FAPIAO_EVENTS_KEEP_DAYS`` after
their event. A removed subscription's deliveries stay until then; a pending one finds
its subscription gone and fails without a POST (``fapiao.services.webhooks``).
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.model.webhooks import Delivery, DeliveryAttempt, DeliveryState, WebhookSubscription

__all__ = ["DynamoWebhookStore"]

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = "subscriptions"
_DELIVERY = "delivery#"
_ATTEMPT = "attempt#"


def _sub_pk(subscription_id: str) -> str:
    return f"sub#{subscription_id}"


def _conditional(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class DynamoWebhookStore:
    """The WebhooksTable (``fapiao.ports.WebhookStore``)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    # -- subscriptions ----------------------------------------------------------------

    def add_subscription(self, subscription: WebhookSubscription) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=self._subscription_item(subscription),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_subscription(self, subscription_id: str) -> WebhookSubscription | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": SUBSCRIPTIONS}, "sk": {"S": subscription_id}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else WebhookSubscription.model_validate_json(item["doc"]["S"])

    def subscriptions(self) -> list[WebhookSubscription]:
        """Every subscription, oldest first: one Query (more pages past 1 MB)."""
        found = [
            WebhookSubscription.model_validate_json(item["doc"]["S"])
            for item in self._query(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": SUBSCRIPTIONS}},
            )
        ]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    def replace_subscription(self, subscription: WebhookSubscription) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=self._subscription_item(subscription),
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as error:
            if _conditional(error):
                return False
            raise
        return True

    def remove_subscription(self, subscription_id: str) -> bool:
        answer = self.client.delete_item(
            TableName=self.table,
            Key={"pk": {"S": SUBSCRIPTIONS}, "sk": {"S": subscription_id}},
            ReturnValues="ALL_OLD",
        )
        return bool(answer.get("Attributes"))

    def _subscription_item(self, subscription: WebhookSubscription) -> dict[str, Any]:
        return {
            "pk": {"S": SUBSCRIPTIONS},
            "sk": {"S": subscription.id},
            "doc": {"S": subscription.model_dump_json()},
        }

    # -- deliveries -------------------------------------------------------------------

    def create_delivery(self, delivery: Delivery) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=self._delivery_item(delivery),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _conditional(error):
                return False
            raise
        return True

    def get_delivery(self, subscription_id: str, event_id: str) -> Delivery | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": _sub_pk(subscription_id)}, "sk": {"S": _DELIVERY + event_id}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else Delivery.model_validate_json(item["doc"]["S"])

    def save_delivery(self, delivery: Delivery, attempts: int) -> bool:
        try:
            self.client.put_item(**self._guarded_put(delivery, attempts))
        except ClientError as error:
            if _conditional(error):
                return False
            raise
        return True

    def put_delivery(self, delivery: Delivery) -> None:
        self.client.put_item(TableName=self.table, Item=self._delivery_item(delivery))

    def record_attempt(self, attempt: DeliveryAttempt, delivery: Delivery) -> bool:
        millis = round(attempt.at.timestamp() * 1000)
        sort = f"{_ATTEMPT}{millis:015d}#{attempt.event_id}#{attempt.attempt:04d}"
        item: dict[str, Any] = {
            "pk": {"S": _sub_pk(attempt.subscription_id)},
            "sk": {"S": sort},
            "doc": {"S": attempt.model_dump_json()},
        }
        if delivery.expires_at is not None:
            item["expires_at"] = {"N": str(int(delivery.expires_at.timestamp()))}
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self.table, "Item": item}},
                    {"Put": self._guarded_put(delivery, attempt.attempt)},
                ]
            )
        except ClientError as error:
            if _conditional(error):
                return False
            raise
        return True

    def history(self, subscription_id: str) -> tuple[list[Delivery], list[DeliveryAttempt]]:
        pk = {":pk": {"S": _sub_pk(subscription_id)}}
        deliveries = [
            Delivery.model_validate_json(item["doc"]["S"]).model_copy(update={"body": ""})
            for item in self._query(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :kind)",
                ExpressionAttributeValues={**pk, ":kind": {"S": _DELIVERY}},
            )
        ]
        attempts = [
            DeliveryAttempt.model_validate_json(item["doc"]["S"])
            for item in self._query(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :kind)",
                ExpressionAttributeValues={**pk, ":kind": {"S": _ATTEMPT}},
                ScanIndexForward=False,
            )
        ]
        return deliveries, attempts

    def _delivery_item(self, delivery: Delivery) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": _sub_pk(delivery.subscription_id)},
            "sk": {"S": _DELIVERY + delivery.event_id},
            "state": {"S": delivery.state.value},
            "attempts": {"N": str(delivery.attempts)},
            "doc": {"S": delivery.model_dump_json()},
        }
        if delivery.expires_at is not None:
            item["expires_at"] = {"N": str(int(delivery.expires_at.timestamp()))}
        return item

    def _guarded_put(self, delivery: Delivery, attempts: int) -> dict[str, Any]:
        """A put of ``delivery`` on the condition that the stored one is still pending
        with ``attempts`` attempts (what a claim read)."""
        return {
            "TableName": self.table,
            "Item": self._delivery_item(delivery),
            "ConditionExpression": "#state = :pending AND attempts = :attempts",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":pending": {"S": DeliveryState.PENDING.value},
                ":attempts": {"N": str(attempts)},
            },
        }

    def _query(self, **query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self.client.query(
                TableName=self.table,
                ConsistentRead=True,
                **query,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return items
