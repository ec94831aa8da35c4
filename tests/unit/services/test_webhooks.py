"""Webhooks (issue 19) against in-memory fakes: a fake clock moves time, a fake poster
answers the POSTs; nothing sleeps and nothing connects."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from fakes.webhooks import (
    FakeClock,
    FakePoster,
    MemoryDeliveryQueue,
    MemoryErpEvents,
    MemoryWebhookStore,
)
from fapiao.catalogue.errors import HubError, Problem
from fapiao.model.erp import ErpEvent, EventWord, InvoiceEventData, event_type
from fapiao.model.webhooks import DeliveryState
from fapiao.providers.fetch import SafeFetcher
from fapiao.services.webhooks import (
    GIVE_UP_AFTER,
    LEASE,
    WAITS,
    WebhookDeps,
    add_subscription,
    delivery_log,
    handle_message,
    list_subscriptions,
    new_secret,
    next_wait,
    parse_message,
    process_delivery,
    redeliver,
    remove_subscription,
    rotate_secret,
    sign,
    webhook_headers,
)
from fapiao.settings import FetchSettings
from fapiao.store.delivery_queue import wake_message

URL = "https://erp.example.com/hooks/fapiao"


def make_event(
    n: int = 1,
    word: EventWord = EventWord.CREATED,
    owner: str | None = "u1",
    at: dt.datetime | None = None,
) -> ErpEvent:
    at = at or dt.datetime(2024, 5, 1, 8, 59, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    data = InvoiceEventData(outcome=word, owner=owner, invoice_key=f"0{n:011d}", at=at)
    event_id = f"evt_{n:026d}"
    return ErpEvent(id=event_id, type=event_type(word), timestamp=at, data=data)


def envelope(event: ErpEvent) -> str:
    """The message EventBridge's rule puts on the WebhookDeliveryQueue."""
    return json.dumps(
        {
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "Invoice event",
            "source": "fapiao",
            "account": "123456789012",
            "time": "2024-05-01T00:59:30Z",
            "region": "cn-north-1",
            "resources": [],
            "detail": json.loads(event.model_dump_json()),
        }
    )


@dataclass
class Hub:
    store: MemoryWebhookStore
    queue: MemoryDeliveryQueue
    poster: FakePoster
    clock: FakeClock
    events: MemoryErpEvents
    deps: WebhookDeps

    def add(self, url: str = URL, events: list[str] | None = None, owner: str | None = None):  # type: ignore[no-untyped-def]
        return add_subscription(url, events, owner, self.deps)

    def answer(self, answer: Callable[[str], int | HubError]) -> None:
        self.poster.answer = answer

    def wake_due(self, receipt: str = "rh") -> int:
        """Move the clock to the earliest wake-up message's due time and handle it (as
        SQS would); answers how many POSTs that made."""
        sent = self.queue.wakes.pop(0)
        self.clock.advance(sent.delay or 0)
        before = len(self.poster.requests)
        body = wake_message(sent.subscription_id, sent.event_id)
        handled = handle_message(body, receipt, self.deps)
        while handled.kept_until is not None:  # an early wake-up: hidden until due
            self.clock.to(handled.kept_until)
            handled = handle_message(body, receipt, self.deps)
        return len(self.poster.requests) - before


@pytest.fixture
def hub() -> Hub:
    store, queue, poster, clock = (
        MemoryWebhookStore(),
        MemoryDeliveryQueue(),
        FakePoster(),
        FakeClock(),
    )
    events = MemoryErpEvents()
    deps = WebhookDeps(
        store=store,
        events=events,
        queue=queue,
        poster=poster,
        https_only=True,
        keep_days=30,
        clock=clock,
        jitter=lambda: 1.0,
    )
    return Hub(store, queue, poster, clock, events, deps)


# --- subscriptions -----------------------------------------------------------------------


def test_a_new_subscription_has_a_wh_id_and_a_standard_webhooks_secret(hub: Hub) -> None:
    added = hub.add(events=["created", "invoice.duplicate", "created"], owner=" u1 ")
    assert re.fullmatch(r"wh_[a-z2-7]{26}", added.id)
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", added.secret)
    assert added.events == ["invoice.created", "invoice.duplicate"]
    assert added.owner == "u1" and added.enabled
    assert list_subscriptions(hub.deps) == [added]
    assert added.public(with_secret=True)["secret"] == added.secret
    assert "secret" not in added.public()
    assert hub.add().id != added.id and hub.add().secret != added.secret


def test_an_unknown_event_word_is_an_invalid_request_and_nothing_is_stored(hub: Hub) -> None:
    with pytest.raises(HubError) as caught:
        hub.add(events=["created", "paid"])
    assert caught.value.problem is Problem.INVALID_REQUEST
    assert "paid" in str(caught.value)
    assert list_subscriptions(hub.deps) == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "'file' scheme"),
        ("ftp://127.0.0.1/", "'ftp' scheme"),
        ("http://erp.example.com/hook", "https URLs only"),
        ("erp.example.com/hook", "no scheme"),
    ],
)
def test_a_url_of_another_scheme_is_refused_before_any_lookup(
    hub: Hub, url: str, words: str
) -> None:
    with pytest.raises(HubError) as caught:
        hub.add(url)
    assert caught.value.problem is Problem.WEBHOOK_URL_REFUSED
    assert words in str(caught.value)
    assert hub.poster.checked == [] and hub.poster.requests == []
    assert list_subscriptions(hub.deps) == []


def safe_deps(hub: Hub, *, https_only: bool = False, loopback: bool = False) -> WebhookDeps:
    """The hub's deps with the real safe fetcher, whose names resolve from a table."""
    table = {"rebind.example.com": ["10.1.2.3"], "local.example.com": ["127.0.0.1"]}

    def resolver(host: str, _port: int) -> list[str]:
        return table[host]

    fetcher = SafeFetcher(FetchSettings(allow_loopback=loopback), resolver=resolver)
    return replace(hub.deps, poster=fetcher, https_only=https_only)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("https://[fd00:ec2::254]/", "private address"),
        ("http://100.100.100.200/", "shared"),
        ("http://rebind.example.com/hook", "rebind.example.com resolves to a private address"),
        ("http://local.example.com:8080/hook", "resolves to a loopback address"),
        ("http://2130706433/hook", "is a loopback address"),
        ("http://user:pw@erp.example.com/hook", "user name or password"),
    ],
)
def test_a_host_that_is_not_public_is_refused_without_connecting(
    hub: Hub, url: str, words: str
) -> None:
    deps = safe_deps(hub)  # unit tests have sockets disabled: a connection would fail loudly
    with pytest.raises(HubError) as caught:
        add_subscription(url, None, None, deps)
    assert caught.value.problem is Problem.WEBHOOK_URL_REFUSED
    assert words in str(caught.value)
    assert list_subscriptions(hub.deps) == []


def test_loopback_is_allowed_only_with_allow_loopback(hub: Hub) -> None:
    added = add_subscription("http://127.0.0.1:9/hook", None, None, safe_deps(hub, loopback=True))
    assert added.url == "http://127.0.0.1:9/hook"
    with pytest.raises(HubError):
        add_subscription("http://127.0.0.1:9/hook", None, None, safe_deps(hub))


def test_remove_and_rotate_of_an_unknown_subscription_are_not_found(hub: Hub) -> None:
    for call in (remove_subscription, rotate_secret):
        with pytest.raises(HubError) as caught:
            call("wh_nosuchsubscription", hub.deps)
        assert caught.value.problem is Problem.NOT_FOUND
    with pytest.raises(HubError) as caught:
        delivery_log(hub.deps, "wh_nosuchsubscription")
    assert caught.value.problem is Problem.NOT_FOUND


def test_remove_takes_the_subscription_out_of_the_list(hub: Hub) -> None:
    kept, gone = hub.add(), hub.add()
    remove_subscription(gone.id, hub.deps)
    assert list_subscriptions(hub.deps) == [kept]


# --- signatures ---------------------------------------------------------------------------


def test_the_signature_verifies_with_the_standardwebhooks_library() -> None:
    secret = new_secret()
    body = make_event().body()
    now = dt.datetime.now(dt.UTC)  # the library checks the timestamp against its clock
    headers = webhook_headers(
        _subscription(secret), "evt_1", body, now.astimezone(dt.timezone(dt.timedelta(hours=8)))
    )
    assert headers["content-type"] == "application/json"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    expected = Webhook(secret).sign("evt_1", dt.datetime.fromtimestamp(int(now.timestamp())), body)
    assert headers["webhook-signature"] == expected
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_sign_is_hmac_sha256_over_id_timestamp_and_body() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the specification's example
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def _subscription(secret: str):  # type: ignore[no-untyped-def]
    from fapiao.model.webhooks import WebhookSubscription

    return WebhookSubscription(
        id="wh_" + "a" * 26, url=URL, secret=secret, created_at=dt.datetime.now(dt.UTC)
    )


def test_after_a_rotation_both_secrets_sign_for_24_hours(hub: Hub) -> None:
    added = hub.add()
    rotated = rotate_secret(added.id, hub.deps)
    assert rotated.secret != added.secret
    assert rotated.previous_secret == added.secret
    assert rotated.previous_secret_until == hub.clock.now + dt.timedelta(hours=24)
    body = make_event().body()
    now = dt.datetime.now(dt.UTC)
    both = webhook_headers(replace_until(rotated, now + dt.timedelta(hours=1)), "e", body, now)
    assert len(both["webhook-signature"].split(" ")) == 2
    Webhook(added.secret).verify(body, both)
    Webhook(rotated.secret).verify(body, both)
    later = webhook_headers(replace_until(rotated, now - dt.timedelta(seconds=1)), "e", body, now)
    assert len(later["webhook-signature"].split(" ")) == 1
    Webhook(rotated.secret).verify(body, later)
    with pytest.raises(WebhookVerificationError):
        Webhook(added.secret).verify(body, later)


def replace_until(subscription, until: dt.datetime):  # type: ignore[no-untyped-def]
    return subscription.model_copy(update={"previous_secret_until": until})


def test_rotated_secret_signs_the_next_attempt(hub: Hub) -> None:
    added = hub.add()
    rotated = rotate_secret(added.id, hub.deps)
    handle_message(envelope(make_event()), "rh", hub.deps)
    (request,) = hub.poster.requests
    signatures = request.headers["webhook-signature"].split(" ")
    timestamp = int(request.headers["webhook-timestamp"])
    assert signatures == [
        sign(rotated.secret, make_event().id, timestamp, request.body),
        sign(added.secret, make_event().id, timestamp, request.body),
    ]


# --- delivery -------------------------------------------------------------------------------


def test_an_event_is_posted_once_as_its_exact_bytes_and_delivered(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    handled = handle_message(envelope(event), "rh", hub.deps)
    assert handled.kept_until is None
    (request,) = hub.poster.requests
    assert request.url == URL and request.body == event.body() and request.timeout == 10.0
    assert request.headers["webhook-id"] == event.id
    assert request.headers["webhook-timestamp"] == str(int(hub.clock.now.timestamp()))
    delivery = hub.store.get_delivery(sub.id, event.id)
    assert delivery is not None and delivery.state is DeliveryState.DELIVERED
    assert delivery.attempts == 1 and delivery.last_status == 200
    assert delivery.expires_at == event.timestamp + dt.timedelta(days=30)
    assert hub.queue.wakes == [] and hub.queue.dead == []
    # The same event published again (a crash before it was marked published): nothing new.
    handle_message(envelope(event), "rh2", hub.deps)
    handle_message(event.model_dump_json(), "rh3", hub.deps)
    assert len(hub.poster.requests) == 1 and len(hub.store.deliveries()) == 1


def test_a_delivered_delivery_is_never_sent_again(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    handle_message(envelope(event), "rh", hub.deps)
    hub.clock.advance(3600)
    assert process_delivery(sub.id, event.id, hub.deps) is None
    handle_message(wake_message(sub.id, event.id), "rh", hub.deps)
    assert len(hub.poster.requests) == 1


def test_failures_are_retried_on_the_schedule_until_24_hours_then_dead_lettered(
    hub: Hub,
) -> None:
    sub = hub.add()
    event = make_event()
    hub.answer(lambda _url: 500)
    start = hub.clock.now
    handle_message(envelope(event), "rh", hub.deps)
    times = [start]
    while hub.queue.wakes:
        assert hub.wake_due() == 1
        times.append(hub.clock.now)
    waits = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert waits[: len(WAITS)] == list(WAITS)
    assert set(waits[len(WAITS) :]) == {7200}
    assert len(times) == 18  # 6155 s, then eleven waits of 2 h; a twelfth passes 24 h
    assert times[-1] - start <= GIVE_UP_AFTER < times[-1] - start + dt.timedelta(hours=2)
    delivery = hub.store.get_delivery(sub.id, event.id)
    assert delivery is not None and delivery.state is DeliveryState.FAILED
    assert delivery.attempts == 18 and delivery.last_status == 500
    (dead,) = hub.queue.dead
    assert (dead.subscription_id, dead.event_id) == (sub.id, event.id)
    ids = {r.headers["webhook-id"] for r in hub.poster.requests}
    bodies = {r.body for r in hub.poster.requests}
    assert ids == {event.id} and bodies == {event.body()}
    stamps = [int(r.headers["webhook-timestamp"]) for r in hub.poster.requests]
    assert stamps == [int(t.timestamp()) for t in times]  # each attempt's own time
    assert len({r.headers["webhook-signature"] for r in hub.poster.requests}) == 18
    # SQS delays a message 15 min at most: longer waits wake early and hide again.
    assert max(h[1] for h in hub.queue.hidden) <= 7200 - 900


def test_a_wait_carries_up_to_20_percent_of_jitter(hub: Hub) -> None:
    assert next_wait(1, 0.8) == dt.timedelta(seconds=4)
    assert next_wait(3, 1.2) == dt.timedelta(seconds=144)
    assert next_wait(40, 1.0) == dt.timedelta(hours=2)
    deps = WebhookDeps(
        store=hub.store, events=hub.events, queue=hub.queue, poster=hub.poster, clock=hub.clock
    )  # the real jitter
    hub.answer(lambda _url: 503)
    hub.add()
    for n in range(30):
        handle_message(envelope(make_event(n)), "rh", deps)
    delays = [w.delay for w in hub.queue.wakes]
    assert all(d is not None and 4 <= d <= 6 for d in delays)
    dues = {d.due_at for d in hub.store.deliveries()}
    assert len(dues) > 5  # spread, not one instant
    assert all(
        hub.clock.now + dt.timedelta(seconds=4) <= due <= hub.clock.now + dt.timedelta(seconds=6)
        for due in dues
    )


def test_2xx_after_failures_ends_the_schedule(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    answers = iter([500, 500, 204])
    hub.answer(lambda _url: next(answers))
    handle_message(envelope(event), "rh", hub.deps)
    assert hub.wake_due() == 1 and hub.wake_due() == 1
    assert hub.queue.wakes == []
    delivery = hub.store.get_delivery(sub.id, event.id)
    assert delivery is not None and delivery.state is DeliveryState.DELIVERED
    rows = delivery_log(hub.deps, sub.id)
    assert [(r["attempt"], r["status"], r["state"]) for r in rows] == [
        (3, 204, "delivered"),
        (2, 500, "delivered"),
        (1, 500, "delivered"),
    ]
    assert [r["status"] for r in delivery_log(hub.deps, sub.id, failed_only=True)] == [500, 500]
    assert rows[0]["event_type"] == "invoice.created" and rows[0]["latency_ms"] == 7
    assert rows[0]["at"] == hub.clock.now.isoformat() and rows[0]["redelivery"] is False
    assert rows[0]["error"] is None and rows[0]["event_id"] == event.id


def test_a_timeout_or_a_refused_connection_is_retried_and_logged(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    answers = iter(
        [
            HubError(Problem.FILE_UNREACHABLE, "erp.example.com did not answer within 10 s"),
            HubError(Problem.FILE_UNREACHABLE, "cannot connect to erp.example.com"),
            200,
        ]
    )
    hub.answer(lambda _url: next(answers))
    handle_message(envelope(event), "rh", hub.deps)
    hub.wake_due()
    hub.wake_due()
    rows = delivery_log(hub.deps)
    assert [r["error"] for r in rows] == [
        None,
        "cannot connect to erp.example.com",
        "erp.example.com did not answer within 10 s",
    ]
    assert [r["status"] for r in rows] == [200, None, None]
    assert hub.store.get_delivery(sub.id, event.id).state is DeliveryState.DELIVERED  # type: ignore[union-attr]


def test_a_url_that_now_resolves_to_a_refused_address_is_not_posted_and_is_retried(
    hub: Hub,
) -> None:
    sub = hub.add()
    hub.poster.refuse[URL] = "erp.example.com resolves to a private address"
    handle_message(envelope(make_event()), "rh", hub.deps)
    assert hub.poster.requests == []
    (row,) = delivery_log(hub.deps, sub.id)
    assert row["error"] == "erp.example.com resolves to a private address"
    assert row["state"] == "pending" and len(hub.queue.wakes) == 1


def test_410_disables_the_subscription_and_fails_its_deliveries(hub: Hub) -> None:
    gone, other = hub.add(), hub.add("https://other.example.com/hook")
    first, second = make_event(1), make_event(2)
    hub.answer(lambda url: 410 if url == URL else 500)
    handle_message(envelope(first), "rh", hub.deps)
    disabled = hub.store.get_subscription(gone.id)
    assert disabled is not None and not disabled.enabled
    assert disabled.disabled_reason == "the receiver answered 410 Gone"
    assert disabled.public()["enabled"] is False
    delivery = hub.store.get_delivery(gone.id, first.id)
    assert delivery is not None and delivery.state is DeliveryState.FAILED
    assert [w.subscription_id for w in hub.queue.wakes] == [other.id]  # only the 500
    handle_message(envelope(second), "rh", hub.deps)
    assert hub.store.get_delivery(gone.id, second.id) is None
    assert [r.url for r in hub.poster.requests].count(URL) == 1


def test_a_pending_delivery_of_a_removed_subscription_fails_unsent(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    hub.answer(lambda _url: 500)
    handle_message(envelope(event), "rh", hub.deps)
    remove_subscription(sub.id, hub.deps)
    assert hub.wake_due() == 0
    delivery = hub.store.get_delivery(sub.id, event.id)
    assert delivery is not None and delivery.state is DeliveryState.FAILED
    assert delivery.last_error == "the subscription was removed"
    assert hub.queue.wakes == []


def test_a_wake_up_before_the_due_time_hides_the_message_until_then(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    hub.answer(lambda _url: 500)
    handle_message(envelope(event), "rh", hub.deps)
    for _ in range(4):
        hub.wake_due()  # waits 5, 30, 120, 600: the next is due in 30 min
    delivery = hub.store.get_delivery(sub.id, event.id)
    assert delivery is not None and delivery.due_at == hub.clock.now + dt.timedelta(minutes=30)
    # A restart shows the message at once: it is hidden again, nothing is posted.
    hub.clock.advance(1)
    handled = handle_message(wake_message(sub.id, event.id), "receipt-7", hub.deps)
    assert handled.kept_until == delivery.due_at
    assert hub.queue.hidden[-1] == ("receipt-7", 1799)
    assert len(hub.poster.requests) == 5


def test_a_duplicate_message_during_an_attempt_posts_nothing_and_waits_for_the_lease(
    hub: Hub,
) -> None:
    sub = hub.add()
    event = make_event()
    hub.answer(lambda _url: 500)
    handle_message(envelope(event), "rh", hub.deps)
    hub.clock.advance(5)
    # Another container claims the attempt and is killed before it posts.
    pending = hub.store.get_delivery(sub.id, event.id)
    assert pending is not None
    claimed = pending.model_copy(
        update={"attempts": pending.attempts + 1, "due_at": hub.clock.now + LEASE}
    )
    assert hub.store.save_delivery(claimed, pending.attempts)
    assert not hub.store.save_delivery(claimed, pending.attempts)  # a second claim fails
    handled = handle_message(wake_message(sub.id, event.id), "dup", hub.deps)
    assert handled.kept_until == hub.clock.now + LEASE
    assert len(hub.poster.requests) == 1
    # After the lease, the attempt is made again (the killed one never posted).
    hub.clock.advance(LEASE.total_seconds())
    assert handle_message(wake_message(sub.id, event.id), "dup", hub.deps).kept_until is None
    assert len(hub.poster.requests) == 2
    assert [r["attempt"] for r in delivery_log(hub.deps, sub.id)] == [3, 1]


def test_an_attempt_that_cannot_be_recorded_answers_the_stored_due_time(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    hub.store.fail_next_record = True
    handled = handle_message(envelope(event), "rh", hub.deps)
    assert handled.kept_until is None  # an event's message is always taken
    (wake,) = hub.queue.wakes  # ... and its claimed delivery gets a wake-up after the lease
    assert (wake.subscription_id, wake.delay) == (sub.id, LEASE.total_seconds())


def test_events_and_owner_choose_the_subscriptions(hub: Hub) -> None:
    everything = hub.add("https://a.example.com/")
    duplicates = hub.add("https://b.example.com/", events=["duplicate"])
    of_u2 = hub.add("https://c.example.com/", owner="u2")
    created_of_u1 = hub.add("https://d.example.com/", events=["created"], owner="u1")
    handle_message(envelope(make_event(1, EventWord.CREATED, owner="u1")), "rh", hub.deps)
    handle_message(envelope(make_event(2, EventWord.DUPLICATE, owner="u2")), "rh", hub.deps)
    got = {(d.subscription_id, d.event_id) for d in hub.store.deliveries()}
    e1, e2 = make_event(1).id, make_event(2).id
    assert got == {
        (everything.id, e1),
        (everything.id, e2),
        (duplicates.id, e2),
        (of_u2.id, e2),
        (created_of_u1.id, e1),
    }


def test_the_deliveries_of_one_event_are_posted_concurrently(hub: Hub) -> None:
    for n in range(3):
        hub.add(f"https://r{n}.example.com/hook")
    together = threading.Barrier(3, timeout=5)

    def answer(_url: str) -> int:
        together.wait()  # one after the other would never meet: BrokenBarrierError
        return 200

    hub.answer(answer)
    handle_message(envelope(make_event()), "rh", hub.deps)
    assert len(hub.poster.requests) == 3
    assert {d.state for d in hub.store.deliveries()} == {DeliveryState.DELIVERED}


def test_redeliver_sends_the_same_id_on_a_new_schedule(hub: Hub) -> None:
    sub = hub.add()
    event = make_event()
    hub.events.events.append(event)
    handle_message(envelope(event), "rh", hub.deps)
    hub.clock.advance(3600)
    (scheduled,) = redeliver(hub.deps, event_id=event.id)
    assert (scheduled.subscription_id, scheduled.event_id) == (sub.id, event.id)
    assert scheduled.state is DeliveryState.PENDING and scheduled.due_at == hub.clock.now
    assert [(w.subscription_id, w.delay) for w in hub.queue.wakes] == [(sub.id, 0)]
    hub.answer(lambda _url: 500)
    hub.wake_due()
    hub.wake_due()
    first, second, third = hub.poster.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event.id
    assert first.body == second.body == third.body
    assert (
        hub.store.get_delivery(sub.id, event.id).due_at  # type: ignore[union-attr]
        == hub.clock.now + dt.timedelta(seconds=WAITS[1])  # the schedule began again
    )
    rows = delivery_log(hub.deps, sub.id)
    assert [(r["attempt"], r["redelivery"]) for r in rows] == [(3, True), (2, True), (1, False)]


def test_redeliver_finds_an_event_put_on_the_bus_directly_in_its_delivery(hub: Hub) -> None:
    hub.add()
    event = make_event()  # never in the feed
    handle_message(envelope(event), "rh", hub.deps)
    assert len(redeliver(hub.deps, event_id=event.id)) == 1


def test_redeliver_since_schedules_every_kept_event_after_it(hub: Hub) -> None:
    sub = hub.add(events=["created"])
    base = make_event().timestamp
    hub.events.events.extend(
        [
            make_event(1, at=base),
            make_event(2, at=base + dt.timedelta(hours=1)),
            make_event(3, EventWord.DUPLICATE, at=base + dt.timedelta(hours=2)),
        ]
    )
    scheduled = redeliver(hub.deps, since=base + dt.timedelta(minutes=1))
    assert [(d.subscription_id, d.event_id) for d in scheduled] == [(sub.id, make_event(2).id)]


def test_redeliver_wants_exactly_one_known_event_or_time(hub: Hub) -> None:
    for kwargs in ({}, {"event_id": "e", "since": dt.datetime.now(dt.UTC)}):
        with pytest.raises(HubError) as caught:
            redeliver(hub.deps, **kwargs)  # type: ignore[arg-type]
        assert caught.value.problem is Problem.INVALID_REQUEST
    with pytest.raises(HubError) as caught:
        redeliver(hub.deps, event_id="evt_unknown")
    assert caught.value.problem is Problem.NOT_FOUND


def test_a_message_that_is_neither_an_event_nor_a_delivery_is_dropped(hub: Hub) -> None:
    hub.add()
    for body in ("not json", "[]", '{"detail": {"id": 1}}', '{"delivery": {"event_id": "e"}}'):
        assert handle_message(body, "rh", hub.deps).kept_until is None
    assert hub.poster.requests == [] and hub.store.deliveries() == []
    with pytest.raises(ValueError, match="not an ERP event"):
        parse_message('{"detail-type": "Invoice event", "detail": {}}')
