"""Issue 19's "done when": a webhook receiver that was down gets every event within 3 min
of coming up (its own file: the end-to-end tests run a file to a worker)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from webhook_receiver import Receiver, always

from e2e.test_hub_restart import invoices
from e2e.test_inbox_reconciliation import write_into
from e2e.test_webhooks import LOOPBACK, subscribe, wait_feed
from hubprocess import RunningHub, start_hub

pytestmark = [pytest.mark.slow]


def test_a_receiver_down_gets_everything_within_3_minutes_of_coming_up(
    tmp_path: Path, hubs: list[RunningHub]
) -> None:
    hub = start_hub(tmp_path / "data", LOOPBACK)
    hubs.append(hub)
    receiver = Receiver(always(200))
    try:
        subscribe(hub, receiver.url)
        receiver.down()
        write_into(tmp_path / "inbox", invoices(10, 3))
        event_ids = wait_feed(hub, 3)
        time.sleep(20)
        receiver.up()
        up = time.monotonic()
        assert receiver.wait_delivered(3, timeout=180) == set(event_ids)
        assert time.monotonic() - up < 180
        time.sleep(3)
        assert len(receiver.received) == 3  # refused connections left no trace: one each
    finally:
        receiver.down()
