"""Webhooks (issue 19): subscriptions, and the delivery of each ERP event to each
matching subscription, signed as the Standard Webhooks specification says, retried on
a stored schedule.

Subscriptions (``/erp/webhooks``, ``fapiao webhooks``): ``add_subscription`` judges the
URL first (https in AWS, a public address, nothing connected to), ``rotate_secret``
keeps the previous secret signing for 24 h, ``delivery_log`` and ``redeliver`` show and
repeat what was sent.

Delivery (the WebhookDeliveryFunction, one SQS message at a time, ``handle_message``):

- an ERP event (the rule's EventBridge envelope) makes one delivery per matching
  subscription, kept with the event's JSON (a second publication of the same event
  finds it and makes none), and attempts each at once;
- a delivery's own message (``{"delivery": {...}}``) attempts it when it is due. One
  that comes early (a restart shows every queued message at once) is hidden again until
  the due time: the table holds the due times, the queue only wakes them.

An attempt is claimed first (attempts n -> n+1 and a lease of ``LEASE``, on the
condition that no one else changed it), so a duplicate message never makes a second
concurrent POST and a crash is retried after the lease. Then the URL is checked again
(DNS can change), POSTed, and the attempt recorded with the delivery's next state: 2xx
delivered; 410 disables the subscription and fails the delivery; anything else waits by
``WAITS`` (+-20%) until 24 h have passed since the schedule began, then fails and goes to
the dead-letter queue.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import random
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from fapiao.catalogue.errors import HubError, Problem
from fapiao.dates import now_in_shanghai
from fapiao.model.erp import EVENT_TYPES, ErpEvent
from fapiao.model.webhooks import Delivery, DeliveryAttempt, DeliveryState, WebhookSubscription
from fapiao.ports import DeliveryQueue, ErpEvents, WebhookPoster, WebhookStore

__all__ = [
    "GIVE_UP_AFTER",
    "LEASE",
    "POST_TIMEOUT",
    "ROTATION_OVERLAP",
    "WAITS",
    "DeliveryRef",
    "Handled",
    "WebhookDeps",
    "add_subscription",
    "check_target",
    "deliver_event",
    "delivery_log",
    "event_types",
    "handle_message",
    "list_subscriptions",
    "new_secret",
    "new_subscription_id",
    "next_wait",
    "parse_message",
    "process_delivery",
    "redeliver",
    "remove_subscription",
    "rotate_secret",
    "sign",
    "webhook_deps",
    "webhook_headers",
]

logger = logging.getLogger(__name__)

# The waits after attempt 1, 2, …: then LATER_WAIT each, every one +-JITTER.
WAITS: tuple[int, ...] = (5, 30, 120, 600, 1800, 3600)
LATER_WAIT = 7200
JITTER = 0.2
GIVE_UP_AFTER = dt.timedelta(hours=24)  # since the schedule began (first_at)
LEASE = dt.timedelta(seconds=60)  # a claimed attempt: longer than a POST can take
POST_TIMEOUT = 10.0
ROTATION_OVERLAP = dt.timedelta(hours=24)  # the previous secret still signs
MIN_KEEP_AFTER_REDELIVERY = dt.timedelta(hours=26)  # a redelivery's log outlives it
MAX_URL_LENGTH = 2048
GONE = 410


def _jitter() -> float:
    return random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311  (not a secret)


@dataclass(frozen=True)
class WebhookDeps:
    """What webhooks run on (``webhook_deps()`` builds it from the environment)."""

    store: WebhookStore
    events: ErpEvents  # the pull feed: what a redelivery sends
    queue: DeliveryQueue
    poster: WebhookPoster  # the safe fetcher
    https_only: bool = True
    keep_days: int = 30  # a delivery and its attempts, after their event
    clock: Callable[[], dt.datetime] = now_in_shanghai
    jitter: Callable[[], float] = _jitter  # a factor in [0.8, 1.2]


def webhook_deps() -> WebhookDeps:
    """The adapters this process's settings name: the WebhooksTable, the event feed,
    the delivery queue and its dead-letter queue, the safe fetcher."""
    from fapiao.providers.fetch import SafeFetcher
    from fapiao.settings import ErpSettings, FetchSettings
    from fapiao.store.delivery_queue import SqsDeliveryQueue
    from fapiao.store.events import DynamoEventFeed
    from fapiao.store.webhooks import DynamoWebhookStore

    settings = ErpSettings.current()
    return WebhookDeps(
        store=DynamoWebhookStore(settings.webhooks_table),
        events=DynamoEventFeed(settings.events_table, keep_days=settings.events_keep_days),
        queue=SqsDeliveryQueue(settings.webhook_queue_url, settings.webhook_dead_letter_queue_url),
        poster=SafeFetcher(FetchSettings.current()),
        https_only=settings.https_only,
        keep_days=settings.events_keep_days,
    )


# --- identities and signatures ----------------------------------------------------------


def new_subscription_id() -> str:
    """``wh_`` + 26 lower-case base32 characters (128 random bits)."""
    return "wh_" + base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def new_secret() -> str:
    """``whsec_`` + standard base64 of 32 random bytes (the Standard Webhooks form)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body``, keyed by the secret's
    bytes (base64 after ``whsec_``)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_headers(
    subscription: WebhookSubscription, event_id: str, body: bytes, at: dt.datetime
) -> dict[str, str]:
    """The headers of one attempt at ``at``: signed by the secret, and by the previous
    one too while it is still valid (space-separated, as the specification allows)."""
    timestamp = int(at.timestamp())
    signatures = [sign(subscription.secret, event_id, timestamp, body)]
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and at < until:
        signatures.append(sign(subscription.previous_secret, event_id, timestamp, body))
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


# --- subscriptions -----------------------------------------------------------------------


def event_types(events: Sequence[str] | None) -> list[str]:
    """Full event types from short words (``created``) or types (``invoice.created``);
    empty: all. INVALID_REQUEST for an unknown one."""
    found: list[str] = []
    for given in events or ():
        word = given.strip()
        full = word if word.startswith("invoice.") else f"invoice.{word}"
        if full not in EVENT_TYPES:
            known = ", ".join(t.removeprefix("invoice.") for t in EVENT_TYPES)
            raise HubError(
                Problem.INVALID_REQUEST, f"events: unknown event {given!r}; known: {known}"
            )
        if full not in found:
            found.append(full)
    return found


def _refused(why: str) -> HubError:
    return HubError(Problem.WEBHOOK_URL_REFUSED, why)


def check_target(url: str, deps: WebhookDeps) -> None:
    """Refuse a URL a webhook must not go to, connecting to nothing: not http(s), http
    where https is required, a host resolving to a private, loopback (unless allowed),
    link-local, metadata or reserved address, or one that does not resolve."""
    if len(url) > MAX_URL_LENGTH:
        raise _refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        raise _refused("the URL is not a valid URL") from None
    allowed = "https" if deps.https_only else "http or https"
    if scheme not in ("http", "https"):
        said = f"the {scheme!r} scheme" if scheme else "no scheme"
        raise _refused(f"the URL uses {said}; webhooks are sent to {allowed} URLs only")
    if scheme == "http" and deps.https_only:
        raise _refused("the URL uses http; webhooks are sent to https URLs only")
    try:
        deps.poster.check(url)
    except HubError as error:
        why = error.detail or "the URL cannot be called"
        if "refused" in error.context:
            why += "; webhooks are sent to public addresses only"
        raise _refused(why) from None


def add_subscription(
    url: str, events: Sequence[str] | None, owner: str | None, deps: WebhookDeps
) -> WebhookSubscription:
    """A new subscription, with its secret (shown once). Nothing is stored, nothing is
    connected to, when the URL is refused (WEBHOOK_URL_REFUSED) or an event word is
    unknown (INVALID_REQUEST)."""
    types = event_types(events)
    url = url.strip()
    check_target(url, deps)
    subscription = WebhookSubscription(
        id=new_subscription_id(),
        url=url,
        secret=new_secret(),
        events=types,
        owner=(owner or "").strip() or None,
        created_at=deps.clock(),
    )
    deps.store.add_subscription(subscription)
    logger.info("webhook subscription %s added", subscription.id)
    return subscription


def list_subscriptions(deps: WebhookDeps) -> list[WebhookSubscription]:
    return deps.store.subscriptions()


def _subscription(subscription_id: str, deps: WebhookDeps) -> WebhookSubscription:
    found = deps.store.get_subscription(subscription_id)
    if found is None:
        raise HubError(Problem.NOT_FOUND, f"no webhook subscription {subscription_id}")
    return found


def remove_subscription(subscription_id: str, deps: WebhookDeps) -> None:
    """Remove it (NOT_FOUND when there is none); its pending deliveries fail unsent."""
    if not deps.store.remove_subscription(subscription_id):
        raise HubError(Problem.NOT_FOUND, f"no webhook subscription {subscription_id}")


def rotate_secret(subscription_id: str, deps: WebhookDeps) -> WebhookSubscription:
    """A new secret; the previous one signs too for ``ROTATION_OVERLAP``
    (``previous_secret_until``). NOT_FOUND when there is no such subscription."""
    current = _subscription(subscription_id, deps)
    rotated = current.model_copy(
        update={
            "secret": new_secret(),
            "previous_secret": current.secret,
            "previous_secret_until": deps.clock() + ROTATION_OVERLAP,
        }
    )
    if not deps.store.replace_subscription(rotated):
        raise HubError(Problem.NOT_FOUND, f"no webhook subscription {subscription_id}")
    return rotated


def _matches(subscription: WebhookSubscription, event: ErpEvent) -> bool:
    if not subscription.enabled:
        return False
    if subscription.events and event.type not in subscription.events:
        return False
    return subscription.owner is None or subscription.owner == event.data.owner


# --- the log and redeliveries ------------------------------------------------------------


def _row(attempt: DeliveryAttempt, delivery: Delivery | None) -> dict[str, Any]:
    return {
        "subscription_id": attempt.subscription_id,
        "event_id": attempt.event_id,
        "event_type": attempt.event_type or (delivery.event_type if delivery else None),
        "attempt": attempt.attempt,
        "at": attempt.at.isoformat(),
        "status": attempt.status,
        "error": attempt.error,
        "latency_ms": attempt.latency_ms,
        "state": delivery.state.value if delivery else None,
        "redelivery": attempt.redelivery,
    }


def _delivered(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def delivery_log(
    deps: WebhookDeps, subscription_id: str | None = None, failed_only: bool = False
) -> list[dict[str, Any]]:
    """One row per attempt, newest first (of one subscription, or of every one);
    ``failed_only``: the attempts without a 2xx answer. NOT_FOUND for an unknown
    subscription."""
    if subscription_id is not None:
        ids = [_subscription(subscription_id, deps).id]
    else:
        ids = [s.id for s in deps.store.subscriptions()]
    found: list[tuple[dt.datetime, int, dict[str, Any]]] = []
    for sid in ids:
        deliveries, attempts = deps.store.history(sid)
        of_event = {d.event_id: d for d in deliveries}
        for attempt in attempts:
            if failed_only and _delivered(attempt.status):
                continue
            row = _row(attempt, of_event.get(attempt.event_id))
            found.append((attempt.at, attempt.attempt, row))
    found.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [row for _, _, row in found]


def _kept_event(
    event_id: str, subscriptions: Sequence[WebhookSubscription], deps: WebhookDeps
) -> ErpEvent | None:
    """The event from the feed, or else from a delivery that stored it (an event put on
    the bus directly never entered the feed)."""
    event = deps.events.get(event_id)
    if event is not None:
        return event
    for subscription in subscriptions:
        delivery = deps.store.get_delivery(subscription.id, event_id)
        if delivery is not None and delivery.body:
            return ErpEvent.model_validate_json(delivery.body)
    return None


def redeliver(
    deps: WebhookDeps, event_id: str | None = None, since: dt.datetime | None = None
) -> list[Delivery]:
    """Send again, with the same ``webhook-id``: one event, or every event kept since a
    time, to every enabled subscription it matches, each on a new schedule (pending, due
    now; its attempts go on counting). Exactly one of ``event_id`` and ``since``
    (INVALID_REQUEST); NOT_FOUND for an event not kept."""
    if (event_id is None) == (since is None):
        raise HubError(Problem.INVALID_REQUEST, "give either an event id or a time (since)")
    subscriptions = [s for s in deps.store.subscriptions() if s.enabled]
    if event_id is not None:
        event = _kept_event(event_id, subscriptions, deps)
        if event is None:
            raise HubError(Problem.NOT_FOUND, f"no event {event_id} is kept")
        events = [event]
    else:
        assert since is not None
        events = deps.events.since(since)
    now = deps.clock()
    scheduled: list[Delivery] = []
    for event in events:
        for subscription in subscriptions:
            if not _matches(subscription, event):
                continue
            before = deps.store.get_delivery(subscription.id, event.id)
            attempts = before.attempts if before is not None else 0
            delivery = _new_delivery(subscription, event, now, deps).model_copy(
                update={"attempts": attempts, "schedule_start": attempts, "redelivery": True}
            )
            deps.store.put_delivery(delivery)
            deps.queue.wake(subscription.id, event.id, 0)
            scheduled.append(delivery)
    logger.info("%d deliveries scheduled again", len(scheduled))
    return scheduled


# --- delivery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRef:
    """A delivery's own message: which delivery it wakes."""

    subscription_id: str
    event_id: str


@dataclass(frozen=True)
class Handled:
    """What became of one message: taken (``kept_until`` None: delete it), or kept,
    hidden until ``kept_until`` (the function reports it failed, so SQS keeps it)."""

    kept_until: dt.datetime | None = None


def parse_message(body: str) -> ErpEvent | DeliveryRef:
    """An ERP event (the rule's EventBridge envelope, or the event itself) or a
    delivery's own message; ValueError for anything else."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(message, dict):
        raise ValueError("not a JSON object")
    ref = message.get("delivery")
    if isinstance(ref, dict):
        subscription_id, event_id = ref.get("subscription_id"), ref.get("event_id")
        if isinstance(subscription_id, str) and isinstance(event_id, str):
            return DeliveryRef(subscription_id, event_id)
        raise ValueError("a delivery message without subscription_id and event_id")
    detail = message.get("detail", message)
    if isinstance(detail, str):  # a Detail passed on as text
        detail = json.loads(detail)
    try:
        return ErpEvent.model_validate(detail)
    except ValidationError as error:
        raise ValueError(f"not an ERP event: {error.error_count()} errors") from None


def handle_message(body: str, receipt_handle: str, deps: WebhookDeps) -> Handled:
    """One message of the WebhookDeliveryQueue. An event's message is always taken (a
    delivery that must wait gets a message of its own); a delivery's message that came
    before its due time is hidden until then and kept."""
    try:
        message = parse_message(body)
    except ValueError as error:
        logger.error("a message that is neither an ERP event nor a delivery, dropped: %s", error)
        return Handled()
    if isinstance(message, ErpEvent):
        deliver_event(message, deps)
        return Handled()
    wake_at = process_delivery(message.subscription_id, message.event_id, deps)
    if wake_at is None:
        return Handled()
    seconds = math.ceil((wake_at - deps.clock()).total_seconds())
    deps.queue.keep_invisible(receipt_handle, max(seconds, 1))
    return Handled(kept_until=wake_at)


def _new_delivery(
    subscription: WebhookSubscription, event: ErpEvent, now: dt.datetime, deps: WebhookDeps
) -> Delivery:
    """A schedule of ``event`` to ``subscription`` from ``now``, its body kept with it; its
    log kept as long as the event (and a day beyond a late redelivery)."""
    keep = event.timestamp + dt.timedelta(days=deps.keep_days)
    return Delivery(
        subscription_id=subscription.id,
        event_id=event.id,
        event_type=event.type,
        first_at=now,
        due_at=now,
        body=event.body().decode(),
        expires_at=max(keep, now + MIN_KEEP_AFTER_REDELIVERY),
    )


def deliver_event(event: ErpEvent, deps: WebhookDeps) -> list[Delivery]:
    """One delivery of ``event`` per matching subscription (none new when made before),
    each attempted now, concurrently; one that must wait gets a wake-up message.
    Answers the deliveries of the event (as made now, or as asked for again)."""
    now = deps.clock()
    made: list[tuple[WebhookSubscription, Delivery, bool]] = []
    for subscription in deps.store.subscriptions():
        if not _matches(subscription, event):
            continue
        delivery = _new_delivery(subscription, event, now, deps)
        created = deps.store.create_delivery(delivery)
        if not created:
            logger.info("event %s to %s: the delivery exists already", event.id, subscription.id)
        made.append((subscription, delivery, created))

    def process(entry: tuple[WebhookSubscription, Delivery, bool]) -> dt.datetime | None:
        subscription, delivery, created = entry
        # Just made: it is as written, and the subscription as just read (no read again).
        known = (delivery, subscription) if created else None
        return process_delivery(subscription.id, event.id, deps, known=known)

    if len(made) > 1:
        with ThreadPoolExecutor(max_workers=min(len(made), 8)) as pool:
            wakes = list(pool.map(process, made))
    else:
        wakes = [process(entry) for entry in made]
    for (subscription, _, _), wake_at in zip(made, wakes, strict=True):
        if wake_at is not None:  # claimed elsewhere, or due later: a message to wake it
            delay = math.ceil((wake_at - deps.clock()).total_seconds())
            deps.queue.wake(subscription.id, event.id, max(delay, 0))
    return [delivery for _, delivery, _ in made]


def next_wait(attempt_of_schedule: int, jitter: float) -> dt.timedelta:
    """The wait after the n-th attempt of a schedule (1, 2, …), times ``jitter``."""
    base = WAITS[attempt_of_schedule - 1] if attempt_of_schedule <= len(WAITS) else LATER_WAIT
    return dt.timedelta(seconds=base * jitter)


def process_delivery(
    subscription_id: str,
    event_id: str,
    deps: WebhookDeps,
    *,
    known: tuple[Delivery, WebhookSubscription] | None = None,
) -> dt.datetime | None:
    """Attempt the delivery if it is pending and due. Answers when a message should wake
    it next (it is due later, or claimed by another attempt), or None when nothing more
    is asked of this message: finished, or a retry's wake-up message was sent.
    ``known``: the delivery and its subscription as just written and read (not read
    again)."""
    store = deps.store
    delivery = known[0] if known else store.get_delivery(subscription_id, event_id)
    if delivery is None or delivery.state is not DeliveryState.PENDING:
        return None
    now = deps.clock()
    if delivery.due_at > now:
        return delivery.due_at
    subscription = known[1] if known else store.get_subscription(subscription_id)
    if subscription is None or not subscription.enabled:
        why = (
            "the subscription was removed"
            if subscription is None
            else "the subscription is disabled"
        )
        ended = delivery.model_copy(
            update={"state": DeliveryState.FAILED, "finished_at": now, "last_error": why}
        )
        if not store.save_delivery(ended, delivery.attempts):
            return _still_pending(subscription_id, event_id, deps)
        logger.info("delivery of %s to %s failed unsent: %s", event_id, subscription_id, why)
        return None
    claimed = delivery.model_copy(update={"attempts": delivery.attempts + 1, "due_at": now + LEASE})
    if not store.save_delivery(claimed, delivery.attempts):
        return _still_pending(subscription_id, event_id, deps)  # another attempt claimed it
    attempt = _attempt(subscription, claimed, now, deps)
    return _conclude(subscription, claimed, attempt, deps)


def _still_pending(subscription_id: str, event_id: str, deps: WebhookDeps) -> dt.datetime | None:
    again = deps.store.get_delivery(subscription_id, event_id)
    if again is None or again.state is not DeliveryState.PENDING:
        return None
    return again.due_at


def _attempt(
    subscription: WebhookSubscription, delivery: Delivery, at: dt.datetime, deps: WebhookDeps
) -> DeliveryAttempt:
    """One POST of the delivery's body, signed for ``at``; what came back."""
    body = delivery.body.encode()
    if not body:  # made before bodies were kept: the feed has it
        event = deps.events.get(delivery.event_id)
        body = event.body() if event is not None else b""
    common: dict[str, Any] = {
        "subscription_id": delivery.subscription_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "attempt": delivery.attempts,
        "at": at,
        "redelivery": delivery.redelivery,
    }
    if not body:
        return DeliveryAttempt(**common, error="the event is no longer kept")
    headers = webhook_headers(subscription, delivery.event_id, body, at)
    started = time.monotonic()
    try:
        answer = deps.poster.post(subscription.url, body, headers, POST_TIMEOUT)
    except HubError as error:
        latency = round((time.monotonic() - started) * 1000)
        why = error.detail or error.problem.value
        return DeliveryAttempt(**common, error=why, latency_ms=latency)
    return DeliveryAttempt(**common, status=answer.status, latency_ms=answer.latency_ms)


def _conclude(
    subscription: WebhookSubscription,
    claimed: Delivery,
    attempt: DeliveryAttempt,
    deps: WebhookDeps,
) -> dt.datetime | None:
    """Record the attempt with the delivery's next state, then disable, dead-letter or
    wake as that state asks."""
    now = deps.clock()
    outcome: dict[str, Any] = {"last_status": attempt.status, "last_error": attempt.error}
    dead = False
    if _delivered(attempt.status):
        outcome |= {"state": DeliveryState.DELIVERED, "finished_at": now}
    elif attempt.status == GONE:
        outcome |= {"state": DeliveryState.FAILED, "finished_at": now}
        _disable(subscription, now, deps)  # first: a crash after it fails the delivery unsent
    else:
        due = now + next_wait(claimed.attempts - claimed.schedule_start, deps.jitter())
        if due > claimed.first_at + GIVE_UP_AFTER:
            outcome |= {"state": DeliveryState.FAILED, "finished_at": now}
            dead = True
        else:
            outcome |= {"due_at": due}
    after = claimed.model_copy(update=outcome)
    if not deps.store.record_attempt(attempt, after):
        logger.warning(
            "attempt %d of %s to %s not recorded: changed meanwhile",
            attempt.attempt,
            attempt.event_id,
            attempt.subscription_id,
        )
        return _still_pending(claimed.subscription_id, claimed.event_id, deps)
    logger.info(
        "webhook %s to %s: attempt %d, %s",
        attempt.event_id,
        attempt.subscription_id,
        attempt.attempt,
        attempt.status if attempt.status is not None else attempt.error,
    )
    if dead:
        deps.queue.dead_letter(
            after, f"no 2xx answer in {GIVE_UP_AFTER.total_seconds() / 3600:g} h"
        )
    elif after.state is DeliveryState.PENDING:
        delay = math.ceil((after.due_at - now).total_seconds())
        deps.queue.wake(after.subscription_id, after.event_id, max(delay, 0))
    return None


def _disable(subscription: WebhookSubscription, now: dt.datetime, deps: WebhookDeps) -> None:
    disabled = subscription.model_copy(
        update={
            "enabled": False,
            "disabled_at": now,
            "disabled_reason": "the receiver answered 410 Gone",
        }
    )
    deps.store.replace_subscription(disabled)
    logger.warning("webhook subscription %s disabled: its receiver answered 410", subscription.id)
