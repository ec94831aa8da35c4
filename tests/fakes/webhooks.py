"""In-memory fakes of the webhook ports (``fapiao.ports.WebhookStore``, ``DeliveryQueue``,
``WebhookPoster``, ``ErpEvents``) and a clock, for unit tests of
``fapiao.services.webhooks``. The store keeps the DynamoDB adapter's contract
(``tests/integration/test_webhooks_store.py`` runs the same checks on both)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fapiao.catalogue.errors import HubError, Problem
from fapiao.dates import SHANGHAI
from fapiao.model.erp import ErpEvent
from fapiao.model.webhooks import Delivery, DeliveryAttempt, DeliveryState, WebhookSubscription

__all__ = [
    "FakeClock",
    "FakePoster",
    "MemoryDeliveryQueue",
    "MemoryErpEvents",
    "MemoryWebhookStore",
    "Posted",
    "Sent",
]


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2024, 5, 1, 9, 0, tzinfo=SHANGHAI)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now

    def to(self, at: dt.datetime) -> dt.datetime:
        self.now = max(self.now, at)
        return self.now


class MemoryWebhookStore:
    def __init__(self) -> None:
        self._subscriptions: dict[str, WebhookSubscription] = {}
        self._deliveries: dict[tuple[str, str], Delivery] = {}
        self._attempts: list[DeliveryAttempt] = []
        self._lock = threading.Lock()
        self.fail_next_record = False  # as if another writer changed the delivery

    def add_subscription(self, subscription: WebhookSubscription) -> None:
        with self._lock:
            assert subscription.id not in self._subscriptions
            self._subscriptions[subscription.id] = subscription

    def get_subscription(self, subscription_id: str) -> WebhookSubscription | None:
        return self._subscriptions.get(subscription_id)

    def subscriptions(self) -> list[WebhookSubscription]:
        return sorted(self._subscriptions.values(), key=lambda s: (s.created_at, s.id))

    def replace_subscription(self, subscription: WebhookSubscription) -> bool:
        with self._lock:
            if subscription.id not in self._subscriptions:
                return False
            self._subscriptions[subscription.id] = subscription
            return True

    def remove_subscription(self, subscription_id: str) -> bool:
        with self._lock:
            return self._subscriptions.pop(subscription_id, None) is not None

    def create_delivery(self, delivery: Delivery) -> bool:
        with self._lock:
            key = (delivery.subscription_id, delivery.event_id)
            if key in self._deliveries:
                return False
            self._deliveries[key] = delivery
            return True

    def get_delivery(self, subscription_id: str, event_id: str) -> Delivery | None:
        return self._deliveries.get((subscription_id, event_id))

    def _guarded(self, delivery: Delivery, attempts: int) -> bool:
        stored = self._deliveries.get((delivery.subscription_id, delivery.event_id))
        return (
            stored is not None
            and stored.state is DeliveryState.PENDING
            and stored.attempts == attempts
        )

    def save_delivery(self, delivery: Delivery, attempts: int) -> bool:
        with self._lock:
            if not self._guarded(delivery, attempts):
                return False
            self._deliveries[(delivery.subscription_id, delivery.event_id)] = delivery
            return True

    def put_delivery(self, delivery: Delivery) -> None:
        with self._lock:
            self._deliveries[(delivery.subscription_id, delivery.event_id)] = delivery

    def record_attempt(self, attempt: DeliveryAttempt, delivery: Delivery) -> bool:
        with self._lock:
            if self.fail_next_record:
                self.fail_next_record = False
                return False
            if not self._guarded(delivery, attempt.attempt):
                return False
            self._attempts.append(attempt)
            self._deliveries[(delivery.subscription_id, delivery.event_id)] = delivery
            return True

    def history(self, subscription_id: str) -> tuple[list[Delivery], list[DeliveryAttempt]]:
        deliveries = [
            d.model_copy(update={"body": ""})
            for (sid, _), d in self._deliveries.items()
            if sid == subscription_id
        ]
        attempts = [a for a in self._attempts if a.subscription_id == subscription_id]
        attempts.sort(key=lambda a: (a.at, a.event_id, a.attempt), reverse=True)
        return deliveries, attempts

    # for the tests
    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries.values())


@dataclass
class Sent:
    """A message the queue was given: a wake-up (delay) or a dead letter (reason)."""

    subscription_id: str
    event_id: str
    delay: int | None = None
    reason: str | None = None


class MemoryDeliveryQueue:
    def __init__(self) -> None:
        self.wakes: list[Sent] = []
        self.hidden: list[tuple[str, int]] = []
        self.dead: list[Sent] = []
        self._lock = threading.Lock()

    def wake(self, subscription_id: str, event_id: str, delay_seconds: int) -> None:
        assert delay_seconds >= 0, delay_seconds
        with self._lock:
            self.wakes.append(Sent(subscription_id, event_id, delay=min(delay_seconds, 900)))

    def keep_invisible(self, receipt_handle: str, seconds: int) -> None:
        assert 0 < seconds <= 12 * 3600, seconds
        with self._lock:
            self.hidden.append((receipt_handle, seconds))

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        with self._lock:
            self.dead.append(Sent(delivery.subscription_id, delivery.event_id, reason=reason))


@dataclass(frozen=True)
class Posted:
    status: int
    latency_ms: int = 7


@dataclass
class Request:
    url: str
    body: bytes
    headers: dict[str, str]
    timeout: float


@dataclass
class FakePoster:
    """Answers each POST with ``answer(url)``: a status, or a HubError to raise.
    ``refuse`` names URLs whose check fails (a refused address); nothing is ever sent."""

    answer: Callable[[str], int | HubError] = lambda _url: 200
    refuse: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def check(self, url: str) -> object:
        self.checked.append(url)
        if url in self.refuse:
            raise HubError(Problem.FILE_UNREACHABLE, self.refuse[url], refused="private")
        return url

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float = 10.0
    ) -> Posted:
        self.check(url)
        self.requests.append(Request(url, body, dict(headers), timeout))
        outcome = self.answer(url)
        if isinstance(outcome, HubError):
            raise outcome
        return Posted(outcome)


class MemoryErpEvents:
    def __init__(self, *events: ErpEvent) -> None:
        self.events = list(events)

    def get(self, event_id: str) -> ErpEvent | None:
        return next((e for e in self.events if e.id == event_id), None)

    def since(self, at: dt.datetime, limit: int = 10_000) -> list[ErpEvent]:
        return [e for e in self.events if e.timestamp >= at][:limit]
