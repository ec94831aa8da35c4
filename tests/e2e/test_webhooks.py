"""Issue 19's "done when", on `fapiao serve` as a user runs it: signed webhooks with
retries on their schedule, a receiver that was down, restarts (Ctrl-C and kill -9) with
deliveries pending, a 410 that disables its subscription, URLs refused without a
connection, and the pull feed read with any page size and across a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from webhook_receiver import Received, Receiver, always, fail_first

from e2e.test_hub_restart import invoices
from e2e.test_inbox_reconciliation import write_into
from fapiao.model.erp import ErpEvent
from hubprocess import RunningHub, start_hub
from support import PROJECT_ROOT

pytestmark = [pytest.mark.slow]

LOOPBACK: dict[str, str | None] = {
    "FAPIAO_ALLOW_LOOPBACK_FETCH": "1",
    "FAPIAO_IDENTIFIER": None,  # the embedded engine alone
    "FAPIAO_INBOX_OWNER": None,
}
SLACK = 3.0  # seconds a due attempt may start late: the queue's poll, a busy machine


def fapiao(hub: RunningHub, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAPIAO_API_URL": hub.url, "FAPIAO_API_KEY": hub.api_key}
    return subprocess.run(
        [sys.executable, "-m", "fapiao.local.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def subscribe(hub: RunningHub, url: str) -> dict[str, Any]:
    added = fapiao(hub, "webhooks", "add", url, "--json")
    assert added.returncode == 0, added.stderr
    subscription: dict[str, Any] = json.loads(added.stdout)
    assert set(subscription) >= {"id", "url", "secret", "enabled", "events"}
    assert subscription["secret"].startswith("whsec_")
    return subscription


def feed_ids(hub: RunningHub, limit: int, after: str | None = None) -> tuple[list[str], str]:
    ids: list[str] = []
    with httpx.Client(headers={"x-api-key": hub.api_key}, timeout=30) as http:
        while True:
            query: dict[str, Any] = {"limit": limit}
            if after is not None:
                query["after"] = after
            answer = http.get(f"{hub.url}/erp/events", params=query)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            assert isinstance(page["next"], str) and page["next"]
            after = page["next"]
            if not page["events"]:
                return ids, after
            ids.extend(event["id"] for event in page["events"])


def wait_feed(hub: RunningHub, count: int, timeout: float = 120) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids, _ = feed_ids(hub, 500)
        if len(ids) >= count:
            return ids
        time.sleep(0.5)
    raise AssertionError(f"{len(feed_ids(hub, 500)[0])} of {count} events in the feed")


def verified(attempt: Received, secret: str) -> dict[str, Any]:
    event: dict[str, Any] = Webhook(secret).verify(attempt.body, attempt.headers)
    return event


def test_three_attempts_on_schedule_signed_then_none_after_the_200(
    tmp_path: Path, hubs: list[RunningHub]
) -> None:
    hub = start_hub(tmp_path / "data", LOOPBACK)
    hubs.append(hub)
    receiver = Receiver(fail_first(2, 500))
    gone = Receiver(always(410))
    try:
        subscription = subscribe(hub, receiver.url)
        leaving = subscribe(hub, gone.url)
        write_into(tmp_path / "inbox", invoices(0, 5))
        event_ids = wait_feed(hub, 5)
        assert len(event_ids) == 5 == len(set(event_ids))  # one event a file
        receiver.wait_delivered(5, timeout=120)
        time.sleep(6)  # no POST follows a 200
        for event_id in event_ids:
            attempts = receiver.of(event_id)
            assert [a.status for a in attempts] == [500, 500, 200], event_id
            assert {a.webhook_id for a in attempts} == {event_id}
            bodies = {a.body for a in attempts}
            assert len(bodies) == 1  # the same event each time
            event = ErpEvent.model_validate_json(attempts[0].body)
            assert event.id == event_id and event.type == "invoice.created"
            for attempt in attempts:
                assert verified(attempt, subscription["secret"])["id"] == event_id
                assert abs(int(attempt.headers["webhook-timestamp"]) - attempt.at) < 3
            first, second = attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at
            assert 5 * 0.8 - 0.5 <= first <= 5 * 1.2 + SLACK, first
            assert 30 * 0.8 - 0.5 <= second <= 30 * 1.2 + SLACK, second
            assert attempts[2].at - event.timestamp.timestamp() < 120  # within 2 min
        # every POST had a fresh signature of its own time
        assert len({a.headers["webhook-signature"] for a in receiver.received}) == 15

        # 410 Gone: the subscription is disabled after its first answer
        listed = fapiao(hub, "webhooks", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        by_id = {s["id"]: s for s in json.loads(listed.stdout)}
        assert by_id[leaving["id"]]["enabled"] is False
        assert by_id[subscription["id"]]["enabled"] is True
        assert all("secret" not in s for s in by_id.values())
        assert 1 <= len(gone.received) <= 5

        # the feed: limit 2 and limit 10 give the delivered ids in one order
        two, _ = feed_ids(hub, 2)
        ten, _ = feed_ids(hub, 10)
        assert two == ten == event_ids
        assert set(two) == receiver.delivered()
    finally:
        receiver.down()
        gone.down()


UNSAFE = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "file:///etc/passwd",
    "ftp://127.0.0.1/",
]


def test_unsafe_urls_are_refused_and_not_listed(tmp_path: Path, hubs: list[RunningHub]) -> None:
    hub = start_hub(tmp_path / "data", LOOPBACK)
    hubs.append(hub)
    for url in UNSAFE:
        refused = fapiao(hub, "webhooks", "add", url, "--json")
        assert refused.returncode == 2, (url, refused.stdout)
        assert "Traceback" not in refused.stderr
        assert "回调地址不可用" in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    listed = fapiao(hub, "webhooks", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


@pytest.mark.alone
def test_pending_deliveries_survive_kill_9_and_ctrl_c_and_nothing_is_sent_twice(
    tmp_path: Path, hubs: list[RunningHub]
) -> None:
    data, inbox = tmp_path / "data", tmp_path / "inbox"
    hub = start_hub(data, LOOPBACK)
    hubs.append(hub)
    receiver = Receiver(always(200))
    try:
        subscribe(hub, receiver.url)
        write_into(inbox, invoices(20, 2))
        delivered_before = receiver.wait_delivered(2, timeout=120)
        _, cursor = feed_ids(hub, 10)  # saved before the restarts

        for n, stop in enumerate((signal.SIGKILL, signal.SIGINT)):
            receiver.down()
            write_into(inbox, invoices(30 + 10 * n, 2))
            known = len(delivered_before) + 2
            wait_feed(hub, known)
            time.sleep(2)  # the first attempts meet a closed port
            hub.process.send_signal(stop)
            hub.process.wait(timeout=60)
            receiver.up()
            started = time.time()
            hub = start_hub(data, LOOPBACK)
            hubs.append(hub)
            delivered = receiver.wait_delivered(known, timeout=120)
            time.sleep(5)
            after_start = [r for r in receiver.received if r.at >= started]
            newly = {r.webhook_id for r in after_start}
            assert newly == delivered - delivered_before, stop  # each pending one arrives
            assert len(after_start) == len(newly), stop  # once
            delivered_before = delivered

        # a cursor saved before the restarts returns exactly the events after it
        after, _ = feed_ids(hub, 2, after=cursor)
        everything, _ = feed_ids(hub, 500)
        assert after == everything[2:] and len(after) == 4
        assert set(everything) == receiver.delivered()
    finally:
        receiver.down()
