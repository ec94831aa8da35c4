"""The webhook adapters on the local AWS (template.yaml's WebhooksTable and
WebhookDeliveryQueue): the DynamoDB store keeps the in-memory fake's contract (the same
checks run on both), the SQS queue delays, hides and dead-letters; and the delivery
function handles a batch with them, concurrently, keeping what is not due."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from unit.services.test_webhooks import envelope, make_event

from fakes.webhooks import FakeClock, FakePoster, MemoryErpEvents, MemoryWebhookStore
from fapiao.dates import SHANGHAI
from fapiao.local.resources import LocalNames
from fapiao.model.webhooks import Delivery, DeliveryAttempt, DeliveryState, WebhookSubscription
from fapiao.ports import WebhookStore
from fapiao.services.webhooks import WebhookDeps, new_secret
from fapiao.store.delivery_queue import SqsDeliveryQueue, wake_message
from fapiao.store.webhooks import DynamoWebhookStore
from support import Session, handler_module

T0 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=SHANGHAI)


class Counting:
    """A DynamoDB client that counts the requests of each kind."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(*args, **kwargs)

        return call


@pytest.fixture
def dynamo(tables: Session, names: LocalNames) -> tuple[DynamoWebhookStore, Counting]:
    client = Counting(tables.client("dynamodb"))
    return DynamoWebhookStore(names.ref("WebhooksTable"), client=client), client


@pytest.fixture(params=["dynamo", "memory"])
def store(request: pytest.FixtureRequest) -> WebhookStore:
    if request.param == "memory":
        return MemoryWebhookStore()
    found: WebhookStore = request.getfixturevalue("dynamo")[0]
    return found


def subscription(n: int, minutes: int = 0) -> WebhookSubscription:
    return WebhookSubscription(
        id=f"wh_{n:026d}",
        url=f"https://r{n}.example.com/hook",
        secret=new_secret(),
        events=["invoice.created"],
        created_at=T0 + dt.timedelta(minutes=minutes),
    )


def delivery(sub: str = "wh_1", event: str = "evt_1", **update: Any) -> Delivery:
    made = Delivery(
        subscription_id=sub,
        event_id=event,
        event_type="invoice.created",
        first_at=T0,
        due_at=T0,
        body='{"id": "evt_1"}',
        expires_at=T0 + dt.timedelta(days=30),
    )
    return made.model_copy(update=update)


def attempt(
    n: int, at: dt.datetime, sub: str = "wh_1", event: str = "evt_1", **kw: Any
) -> DeliveryAttempt:
    return DeliveryAttempt(
        subscription_id=sub, event_id=event, event_type="invoice.created", attempt=n, at=at, **kw
    )


# --- the store's contract (DynamoDB and the fake alike) --------------------------------------


def test_subscriptions_are_listed_oldest_first_replaced_and_removed(store: WebhookStore) -> None:
    second, first = subscription(2, minutes=5), subscription(1)
    store.add_subscription(second)
    store.add_subscription(first)
    assert store.subscriptions() == [first, second]
    assert store.get_subscription(first.id) == first
    disabled = first.model_copy(update={"enabled": False, "disabled_reason": "410"})
    assert store.replace_subscription(disabled)
    assert store.get_subscription(first.id) == disabled
    assert store.remove_subscription(first.id)
    assert not store.remove_subscription(first.id)
    assert store.get_subscription(first.id) is None
    assert not store.replace_subscription(disabled)  # a removed one is not brought back
    assert store.subscriptions() == [second]


def test_a_delivery_is_created_once_and_claimed_once(store: WebhookStore) -> None:
    made = delivery()
    assert store.create_delivery(made)
    assert not store.create_delivery(made.model_copy(update={"due_at": T0 + dt.timedelta(1)}))
    assert store.get_delivery("wh_1", "evt_1") == made
    assert store.get_delivery("wh_1", "evt_2") is None
    claimed = made.model_copy(update={"attempts": 1, "due_at": T0 + dt.timedelta(seconds=60)})
    assert store.save_delivery(claimed, 0)
    assert not store.save_delivery(claimed, 0)  # a second claim of the same attempt
    assert store.get_delivery("wh_1", "evt_1") == claimed
    done = claimed.model_copy(update={"state": DeliveryState.DELIVERED})
    assert store.save_delivery(done, 1)
    assert not store.save_delivery(done, 1)  # no longer pending


def test_an_attempt_is_recorded_with_its_delivery_or_not_at_all(store: WebhookStore) -> None:
    store.create_delivery(delivery())
    claimed = delivery(attempts=1, due_at=T0 + dt.timedelta(seconds=60))
    assert store.save_delivery(claimed, 0)
    first = attempt(1, T0, status=500, latency_ms=12)
    retry = claimed.model_copy(update={"due_at": T0 + dt.timedelta(seconds=5), "last_status": 500})
    assert store.record_attempt(first, retry)
    assert not store.record_attempt(attempt(2, T0, status=200), retry)  # 2 is not claimed
    assert store.get_delivery("wh_1", "evt_1") == retry
    assert store.save_delivery(retry.model_copy(update={"attempts": 2}), 1)
    second = attempt(2, T0 + dt.timedelta(seconds=5), status=200)
    assert store.record_attempt(
        second, retry.model_copy(update={"attempts": 2, "state": DeliveryState.DELIVERED})
    )
    assert not store.record_attempt(second, retry.model_copy(update={"attempts": 2}))  # done
    store.create_delivery(delivery(event="evt_2"))
    store.put_delivery(delivery(event="evt_2", attempts=1))
    assert store.save_delivery(delivery(event="evt_2", attempts=2), 1)
    store.record_attempt(
        attempt(2, T0 + dt.timedelta(seconds=1), event="evt_2", error="x"),
        delivery(event="evt_2", attempts=2),
    )
    deliveries, attempts = store.history("wh_1")
    assert {d.event_id: d.state for d in deliveries} == {
        "evt_1": DeliveryState.DELIVERED,
        "evt_2": DeliveryState.PENDING,
    }
    assert all(d.body == "" for d in deliveries)
    assert [(a.event_id, a.attempt) for a in attempts] == [
        ("evt_1", 2),
        ("evt_2", 2),
        ("evt_1", 1),
    ]  # newest first
    assert attempts[-1] == first
    assert store.history("wh_2") == ([], [])


# --- DynamoDB alone: the layout ----------------------------------------------------------------


def test_listing_subscriptions_and_a_log_are_queries_not_scans(
    dynamo: tuple[DynamoWebhookStore, Counting],
) -> None:
    store, client = dynamo
    for n in range(5):
        store.add_subscription(subscription(n))
        store.create_delivery(delivery(sub=f"wh_{n:026d}"))
    client.calls.clear()
    assert len(store.subscriptions()) == 5
    assert client.calls == {"query": 1}
    store.history(f"wh_{1:026d}")
    assert client.calls == {"query": 3}  # its deliveries, its attempts


def test_deliveries_and_attempts_expire_with_their_event(
    dynamo: tuple[DynamoWebhookStore, Counting], tables: Session, names: LocalNames
) -> None:
    store, _ = dynamo
    store.add_subscription(subscription(1))
    made = delivery()
    store.create_delivery(made)
    claimed = made.model_copy(update={"attempts": 1})
    store.save_delivery(claimed, 0)
    store.record_attempt(attempt(1, T0, status=200), claimed)
    items = tables.client("dynamodb").scan(TableName=names.ref("WebhooksTable"))["Items"]
    expiry = str(int((T0 + dt.timedelta(days=30)).timestamp()))
    kinds = {item["sk"]["S"].split("#")[0]: item.get("expires_at", {}).get("N") for item in items}
    assert kinds == {"delivery": expiry, "attempt": expiry, f"wh_{1:026d}": None}


# --- SQS ---------------------------------------------------------------------------------------


@pytest.fixture
def queues(tables: Session, names: LocalNames) -> tuple[Any, str, str]:
    sqs = tables.client("sqs")
    urls = [
        sqs.get_queue_url(QueueName=names.queue_name(name))["QueueUrl"]
        for name in ("WebhookDeliveryQueue", "WebhookDeliveryDeadLetterQueue")
    ]
    for url in urls:  # PurgeQueue may run once a minute: the visible messages are taken
        while messages := receive(sqs, url):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return sqs, urls[0], urls[1]


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", [])
    return messages


def test_the_queue_delays_hides_and_dead_letters(queues: tuple[Any, str, str]) -> None:
    sqs, url, dead = queues
    queue = SqsDeliveryQueue(url, dead, client=sqs)
    queue.wake("wh_1", "evt_1", 0)
    queue.wake("wh_1", "evt_2", 5000)  # capped at SQS's 900 s: not visible now
    (message,) = receive(sqs, url)
    assert json.loads(message["Body"]) == {
        "delivery": {"subscription_id": "wh_1", "event_id": "evt_1"}
    }
    queue.keep_invisible(message["ReceiptHandle"], 999_999)  # capped at 12 h
    assert receive(sqs, url) == []
    queue.dead_letter(delivery(attempts=18, last_status=500), "no 2xx answer in 24 h")
    (gone,) = receive(sqs, dead)
    told = json.loads(gone["Body"])
    assert told["delivery"] == {"subscription_id": "wh_1", "event_id": "evt_1"}
    assert told["attempts"] == 18 and told["reason"] == "no 2xx answer in 24 h"


# --- the delivery function -----------------------------------------------------------------


class Context:
    function_name = "WebhookDeliveryFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:cn-north-1:123456789012:function:WebhookDelivery"
    aws_request_id = "r"


def lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:cn-north-1:123456789012:WebhookDeliveryQueue",
                "awsRegion": "cn-north-1",
            }
            for m in messages
        ]
    }


def test_the_function_handles_a_batch_concurrently_and_keeps_what_is_not_due(
    dynamo: tuple[DynamoWebhookStore, Counting],
    queues: tuple[Any, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = dynamo
    sqs, url, dead = queues
    clock = FakeClock()
    poster = FakePoster()
    deps = WebhookDeps(
        store=store,
        events=MemoryErpEvents(),
        queue=SqsDeliveryQueue(url, dead, client=sqs),
        poster=poster,
        clock=clock,
        jitter=lambda: 1.0,
    )
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    module = handler_module("WebhookDeliveryFunction")
    monkeypatch.setattr(module, "deps", lambda: deps)
    sub = subscription(1).model_copy(update={"events": []})
    store.add_subscription(sub)
    late = make_event(99)  # one attempt made; the next is due in 5 s
    due = clock.now + dt.timedelta(seconds=5)
    store.create_delivery(delivery(sub.id, late.id, attempts=1, due_at=due))
    sqs.send_message(QueueUrl=url, MessageBody=wake_message(sub.id, late.id))
    (wake,) = receive(sqs, url)
    together = threading.Barrier(9, timeout=10)

    def answer(_url: str) -> int:
        together.wait()  # nine receivers that answer only when all nine were called
        return 200

    poster.answer = answer
    for n in range(9):
        sqs.send_message(QueueUrl=url, MessageBody=envelope(make_event(n)))
    messages = [wake]
    while len(messages) < 10:
        messages += receive(sqs, url)
    answer_ = module.lambda_handler(lambda_event(messages), Context())
    assert answer_ == {"batchItemFailures": [{"itemIdentifier": wake["MessageId"]}]}
    assert len(poster.requests) == 9
    states = {n: store.get_delivery(sub.id, make_event(n).id) for n in range(9)}
    assert {d.state for d in states.values() if d} == {DeliveryState.DELIVERED}
    pending = store.get_delivery(sub.id, late.id)
    assert pending is not None and pending.state is DeliveryState.PENDING
    assert pending.attempts == 1 and pending.due_at == due
