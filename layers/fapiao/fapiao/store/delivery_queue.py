"""The webhook delivery queue (WebhookDeliveryQueue) and its dead-letter queue, in SQS
(``fapiao.ports.DeliveryQueue``).

A delivery's message is ``{"delivery": {"subscription_id", "event_id"}}``; its due time
is in the WebhooksTable, the message only wakes it. SQS delays a message 15 min at most
and hides a received one 12 h at most: a wake-up before the due time hides its message
again until then (``fapiao.services.webhooks``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fapiao import aws
from fapiao.model.webhooks import Delivery

__all__ = ["MAX_DELAY_SECONDS", "MAX_INVISIBLE_SECONDS", "SqsDeliveryQueue", "wake_message"]

logger = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds
MAX_INVISIBLE_SECONDS = 12 * 3600 - 300  # SQS: 12 h since the message was received


def wake_message(subscription_id: str, event_id: str) -> str:
    """The body of the message that wakes one delivery."""
    return json.dumps({"delivery": {"subscription_id": subscription_id, "event_id": event_id}})


class SqsDeliveryQueue:
    def __init__(
        self, queue_url: str | None, dead_letter_url: str | None = None, client: Any = None
    ) -> None:
        self.queue_url = queue_url
        self.dead_letter_url = dead_letter_url
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("sqs")

    def _queue(self) -> str:
        if not self.queue_url:
            raise RuntimeError("FAPIAO_WEBHOOK_QUEUE_URL is not set: no delivery can be queued")
        return self.queue_url

    def wake(self, subscription_id: str, event_id: str, delay_seconds: int) -> None:
        self.client.send_message(
            QueueUrl=self._queue(),
            MessageBody=wake_message(subscription_id, event_id),
            DelaySeconds=min(max(delay_seconds, 0), MAX_DELAY_SECONDS),
        )

    def keep_invisible(self, receipt_handle: str, seconds: int) -> None:
        self.client.change_message_visibility(
            QueueUrl=self._queue(),
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=min(max(seconds, 0), MAX_INVISIBLE_SECONDS),
        )

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        body = {
            "delivery": {
                "subscription_id": delivery.subscription_id,
                "event_id": delivery.event_id,
            },
            "event_type": delivery.event_type,
            "reason": reason,
            "attempts": delivery.attempts,
            "first_at": delivery.first_at.isoformat(),
            "last_status": delivery.last_status,
            "last_error": delivery.last_error,
        }
        if not self.dead_letter_url:
            logger.error("no dead-letter queue set; a failed delivery: %s", json.dumps(body))
            return
        self.client.send_message(QueueUrl=self.dead_letter_url, MessageBody=json.dumps(body))
