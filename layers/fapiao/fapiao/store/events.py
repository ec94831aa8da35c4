"""The ERP's pull feed (``GET /erp/events``): every ERP event in one contiguous sequence,
in the EventsTable (template.yaml), and the cursor that reads it.

Items, all under the partition ``feed``:

- ``feed`` "events", ``seq`` n (1, 2, …): the n-th event: ``id``, ``type``, ``body``
  (the event's JSON, served as it is), ``expires_at`` (TTL: kept
  ``FAPIAO_EVENTS_KEEP_DAYS`` after it happened);
- ``feed`` "head", ``seq`` 0: ``last``, the highest number given;
- ``feed`` "id#<event id>", ``seq`` 0: ``event_seq``, the number the event got (an
  event published again finds it and gets no second number) and its ``body``.

The number is given in the same write that stores the event: one transaction moves the
head from n-1 to n, puts event n and its id item, on the condition that the head is
still n-1 and the id is new. So numbers are contiguous, event n+1 can only be written
after event n was, and a strongly consistent Query never shows n+1 without n. Writers
that meet (the same head) retry on the new head. In AWS a page is one Query.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.catalogue.errors import HubError, Problem
from fapiao.model.erp import ErpEvent

__all__ = [
    "DynamoEventFeed",
    "FeedPage",
    "cursor_of",
    "event_item",
    "head_item",
    "id_item",
    "seq_of_cursor",
]

logger = logging.getLogger(__name__)

EVENTS = "events"
HEAD = "head"
_CURSOR_PREFIX = "v1."
_ATTEMPTS = 200  # writers meeting on the head; each try is one round trip
_EXPIRED_PAGES = 20  # Queries a page may read through events kept no more


def cursor_of(seq: int) -> str:
    """An opaque, URL-safe cursor: the feed after event ``seq``."""
    raw = f"{_CURSOR_PREFIX}{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def seq_of_cursor(cursor: str) -> int:
    """The number a cursor stands for; INVALID_REQUEST for anything not made here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_CURSOR_PREFIX) or not text[len(_CURSOR_PREFIX) :].isdigit():
        raise HubError(Problem.INVALID_REQUEST, "after: not a cursor this feed gave")
    return int(text[len(_CURSOR_PREFIX) :])


def event_item(event: ErpEvent, seq: int, expires_at: str) -> dict[str, Any]:
    """The item of event number ``seq``."""
    return {
        "feed": {"S": EVENTS},
        "seq": {"N": str(seq)},
        "id": {"S": event.id},
        "type": {"S": event.type},
        "body": {"S": event.model_dump_json()},
        "expires_at": {"N": expires_at},
    }


def id_item(event: ErpEvent, seq: int, expires_at: str) -> dict[str, Any]:
    """The item that keeps an event's id to its number (and its body, for a redelivery)."""
    return {
        "feed": {"S": f"id#{event.id}"},
        "seq": {"N": "0"},
        "event_seq": {"N": str(seq)},
        "body": {"S": event.model_dump_json()},
        "expires_at": {"N": expires_at},
    }


def head_item(last: int) -> dict[str, Any]:
    """The item of the highest number given."""
    return {"feed": {"S": HEAD}, "seq": {"N": "0"}, "last": {"N": str(last)}}


@dataclass(frozen=True)
class FeedPage:
    """Events after a cursor, in order, as their stored JSON; ``next`` reads on."""

    bodies: Sequence[str]
    next: str


class DynamoEventFeed:
    """The EventsTable (``fapiao.ports.EventFeed``)."""

    def __init__(
        self,
        table: str,
        keep_days: int = 30,
        client: Any = None,
    ) -> None:
        self.table = table
        self.keep = dt.timedelta(days=keep_days)
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    # -- writing ------------------------------------------------------------------------

    def expires_at(self, event: ErpEvent) -> str:
        """The TTL of an event's items: ``keep_days`` after it happened, epoch seconds."""
        return str(int((event.timestamp + self.keep).timestamp()))

    def append(self, event: ErpEvent) -> int:
        """Store ``event`` as the next in the sequence, unless it is stored already;
        answers its number either way."""
        expires = self.expires_at(event)
        for attempt in range(_ATTEMPTS):
            head = self._head()
            seq = head + 1
            try:
                self.client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": id_item(event, seq, expires),
                                "ConditionExpression": "attribute_not_exists(feed)",
                            }
                        },
                        {"Update": self._move_head(head, seq)},
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": event_item(event, seq, expires),
                                "ConditionExpression": "attribute_not_exists(seq)",
                            }
                        },
                    ]
                )
                return seq
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons") or []
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    stored = self.number_of(event.id)
                    if stored is not None:
                        return stored  # published before: the same event, its number
                # another writer took this number (or a transaction met ours): again
                time.sleep(random.uniform(0.001, 0.004) * min(attempt + 1, 10))  # noqa: S311  (jitter)
        raise HubError(Problem.BUSY, "the event feed is too busy to take an event; try again")

    def _head(self) -> int:
        item = self.client.get_item(
            TableName=self.table,
            Key={"feed": {"S": HEAD}, "seq": {"N": "0"}},
            ConsistentRead=True,
        ).get("Item")
        return int(item["last"]["N"]) if item else 0

    def _move_head(self, head: int, seq: int) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"feed": {"S": HEAD}, "seq": {"N": "0"}},
            "UpdateExpression": "SET #last = :seq",
            "ExpressionAttributeNames": {"#last": "last"},
            "ExpressionAttributeValues": {":seq": {"N": str(seq)}},
        }
        if head == 0:
            update["ConditionExpression"] = "attribute_not_exists(#last)"
        else:
            update["ConditionExpression"] = "#last = :head"
            update["ExpressionAttributeValues"][":head"] = {"N": str(head)}
        return update

    # -- reading ------------------------------------------------------------------------

    def number_of(self, event_id: str) -> int | None:
        item = self._id(event_id)
        return None if item is None else int(item["event_seq"]["N"])

    def get(self, event_id: str) -> ErpEvent | None:
        """The stored event of that id; None when there is none (or no more)."""
        item = self._id(event_id)
        return None if item is None else ErpEvent.model_validate_json(item["body"]["S"])

    def _id(self, event_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.client.get_item(
            TableName=self.table,
            Key={"feed": {"S": f"id#{event_id}"}, "seq": {"N": "0"}},
            ConsistentRead=True,
        ).get("Item")
        return item

    def page(self, after: str | None, limit: int) -> FeedPage:
        """At most ``limit`` events after the cursor ``after`` (None: from the oldest
        kept), in order: one strongly consistent Query. Events past their keeping time
        that DynamoDB's TTL has not deleted yet (it takes up to days; the local AWS never
        does) are left out; a page that found only those reads on (a few Queries, once)."""
        start = 0 if after is None else seq_of_cursor(after)
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "feed = :events AND seq > :after",
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": {
                ":events": {"S": EVENTS},
                ":after": {"N": str(start)},
                ":now": {"N": str(int(time.time()))},
            },
            "ProjectionExpression": "seq, body",
            "ConsistentRead": True,
            "Limit": limit,
        }
        last = start
        for _ in range(_EXPIRED_PAGES):
            answer = self.client.query(**query)
            items = answer.get("Items", [])
            if items:
                last = int(items[-1]["seq"]["N"])
                return FeedPage(bodies=[item["body"]["S"] for item in items], next=cursor_of(last))
            evaluated = answer.get("LastEvaluatedKey")
            if not evaluated:
                break
            last = int(evaluated["seq"]["N"])  # expired, every one: the cursor moves past
            query["ExclusiveStartKey"] = evaluated
        return FeedPage(bodies=[], next=cursor_of(last))

    def since(self, at: dt.datetime, limit: int = 10_000) -> list[ErpEvent]:
        """The kept events that happened at ``at`` or later, in order (a redelivery)."""
        found: list[ErpEvent] = []
        after: str | None = None
        while len(found) < limit:
            page = self.page(after, 500)
            if not page.bodies:
                break
            for body in page.bodies:
                event = ErpEvent.model_validate_json(body)
                if event.timestamp >= at:
                    found.append(event)
            after = page.next
        return found[:limit]


# -- the bus --------------------------------------------------------------------------------

EVENT_SOURCE = "fapiao"
ERP_DETAIL_TYPE = "Invoice event"  # the rule of WebhookDeliveryQueue matches it alone


def announce(
    client: Any,
    bus: str,
    *,
    detail_type: str,
    detail: str,
    event: ErpEvent,
    feed: DynamoEventFeed | None,
) -> None:
    """Tell the ERP of one change: the event into the feed first (its number, once), then
    on the bus in one PutEvents, as the detail the ERP queue has always had
    (``detail_type``) and as the ERP event (``Invoice event``: webhook deliveries). A
    crash in between puts it on the bus again at the next run, with the same id: the
    feed keeps one, a subscription gets one delivery (fapiao.services.webhooks)."""
    if feed is not None:
        feed.append(event)
    answer = client.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": detail,
            },
            {
                "EventBusName": bus,
                "Source": EVENT_SOURCE,
                "DetailType": ERP_DETAIL_TYPE,
                "Detail": event.model_dump_json(),
            },
        ]
    )
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"the event bus refused the event: {answer['Entries']}")


def erp_feed() -> DynamoEventFeed:
    """The feed that this process's settings name (``FAPIAO_EVENTS_TABLE``)."""
    from fapiao.settings import ErpSettings

    settings = ErpSettings.from_env()
    return DynamoEventFeed(settings.events_table, keep_days=settings.events_keep_days)
