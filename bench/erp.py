"""The ERP's two channels at month-end sizes (issue 19), on `fapiao serve` (a process on
loopback with a temporary data folder):

- **webhooks**: 1,000 ERP events put on the hub's event bus directly (PutEvents of
  "Invoice event", as the pipeline's record task puts them; not through the pipeline) and
  one subscription to a receiver on 127.0.0.1 that answers 200: the time from the first
  PutEvents until the receiver has every event, beside the 60 s target, and the time to
  put them alone (the baseline: the bus itself);
- **feed**: 10,000 events stored in the feed (written straight into the hub's local
  DynamoDB as ``fapiao.store.events`` writes them), then ``GET /erp/events?limit=500`` at
  the start, the middle and the end of the sequence: the median wall time of a page
  beside the 500 ms target, and beside the same page read straight from the local
  DynamoDB (one Query: the baseline); and the AWS requests the ERP function makes for
  one page, counted on its botocore client in this process (in AWS: one Query a page).

    .venv/bin/python bench/erp.py [--events N] [--feed N] [--runs N]

Prints figures; asserts nothing. Wall times on this machine (its cores and load printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/ helpers, as pytest imports them

import httpx  # noqa: E402
from webhook_receiver import Receiver, always  # noqa: E402

from fapiao.dates import SHANGHAI  # noqa: E402
from fapiao.local.resources import LocalNames  # noqa: E402
from fapiao.local.template import Template  # noqa: E402
from fapiao.model import InvoiceStatus  # noqa: E402
from fapiao.model.erp import ErpEvent, event_of_outcome  # noqa: E402
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind  # noqa: E402
from fapiao.store.events import (  # noqa: E402
    ERP_DETAIL_TYPE,
    EVENT_SOURCE,
    DynamoEventFeed,
    cursor_of,
    event_item,
    head_item,
    id_item,
)
from hubprocess import RunningHub, start_hub  # noqa: E402
from support import REGION, TEMPLATE, Session  # noqa: E402

WEBHOOK_TARGET_S = 60.0
PAGE_TARGET_S = 0.5
PAGE = 500
START = dt.datetime.now(SHANGHAI) - dt.timedelta(days=1)  # within the feed's 30 days


def an_event(n: int) -> ErpEvent:
    return event_of_outcome(
        Outcome(
            outcome=OutcomeKind.CREATED,
            object=DroppedObject(bucket="fapiao-drop", key=f"acme/inbox/{n:06d}.pdf", etag=f"{n}"),
            owner="acme",
            invoice_key=f"03302210021{n:09d}",
            status=InvoiceStatus.VERIFIED,
            at=START + dt.timedelta(seconds=n),
        )
    )


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, load {load:.1f}"


def bench_webhooks(hub: RunningHub, session: Session, names: LocalNames, count: int) -> None:
    receiver = Receiver(always(200))
    try:
        added = httpx.post(
            f"{hub.url}/erp/webhooks",
            json={"url": receiver.url},
            headers={"x-api-key": hub.api_key},
            timeout=30,
        )
        added.raise_for_status()
        events = [an_event(n) for n in range(count)]
        client = session.client("events")
        bus = names.ref("EventBus")
        started = time.monotonic()
        for i in range(0, count, 10):
            entries = [
                {
                    "EventBusName": bus,
                    "Source": EVENT_SOURCE,
                    "DetailType": ERP_DETAIL_TYPE,
                    "Detail": event.model_dump_json(),
                }
                for event in events[i : i + 10]
            ]
            answer = client.put_events(Entries=entries)
            assert not answer.get("FailedEntryCount"), answer
        put = time.monotonic() - started
        receiver.wait_delivered(count, timeout=600)
        delivered = time.monotonic() - started
        posts = len(receiver.received)
        print(f"webhooks: {count} events put on the bus in {put:.1f} s (baseline)")
        print(
            f"webhooks: all {count} delivered in {delivered:.1f} s "
            f"({count / delivered:.0f} events/s; {posts} POSTs; "
            f"target {WEBHOOK_TARGET_S:.0f} s: {delivered / WEBHOOK_TARGET_S:.2f}x of it; "
            f"{delivered / max(put, 1e-9):.1f}x the puts)"
        )
    finally:
        receiver.down()


def seed_feed(session: Session, table: str, count: int) -> None:
    client = session.client("dynamodb")
    feed = DynamoEventFeed(table)
    items: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        event = an_event(100_000 + n)
        expires = feed.expires_at(event)
        items.append(event_item(event, n, expires))
        items.append(id_item(event, n, expires))
    items.append(head_item(count))
    for i in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[i : i + 25]]
        client.batch_write_item(RequestItems={table: batch})


def bench_feed(hub: RunningHub, session: Session, names: LocalNames, count: int, runs: int) -> None:
    table = names.ref("EventsTable")
    seed_feed(session, table, count)
    direct = DynamoEventFeed(table, client=session.client("dynamodb"))
    http = httpx.Client(headers={"x-api-key": hub.api_key}, timeout=30)
    for where, after in (("start", 0), ("middle", count // 2), ("end", count - PAGE)):
        cursor = None if after == 0 else cursor_of(after)
        query = f"limit={PAGE}" + ("" if cursor is None else f"&after={cursor}")
        api: list[float] = []
        store: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = http.get(f"{hub.url}/erp/events?{query}")
            api.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["events"]) == PAGE
            started = time.perf_counter()
            page = direct.page(cursor, PAGE)
            store.append(time.perf_counter() - started)
            assert len(page.bodies) == PAGE
        median, base = statistics.median(api), statistics.median(store)
        print(
            f"feed ({count} stored), a page of {PAGE} at the {where}: {median * 1000:.0f} ms "
            f"(min {min(api) * 1000:.0f}, max {max(api) * 1000:.0f}; target "
            f"{PAGE_TARGET_S * 1000:.0f} ms: {median / PAGE_TARGET_S:.2f}x of it); "
            f"one Query straight from the local DynamoDB {base * 1000:.0f} ms "
            f"({median / base:.1f}x)"
        )
    http.close()
    print(f"feed: AWS requests for one page, the ERP function's own: {requests_per_page(hub)}")


def requests_per_page(hub: RunningHub) -> str:
    """Call the ERP function's handler in this process, against the hub's local AWS, and
    count the requests its botocore clients send for one page."""
    os.environ["AWS_ENDPOINT_URL"] = hub.aws
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = REGION
    names = LocalNames(Template(TEMPLATE), REGION)
    os.environ.update(names.function_environment(shell=os.environ))
    from fapiao import aws
    from fapiao.local.apigw import LambdaContext
    from support import handler_module

    aws.client.cache_clear()
    counted: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        counted[event_name.rsplit(".", 1)[-1]] += 1

    aws.client("dynamodb").meta.events.register("before-call.dynamodb", count)
    module = handler_module("ErpFunction")
    event = {
        "resource": "/erp/events",
        "path": "/erp/events",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": {"limit": str(PAGE)},
        "multiValueQueryStringParameters": {"limit": [str(PAGE)]},
        "pathParameters": None,
        "requestContext": {"authorizer": {"principalId": "bench"}, "resourcePath": "/erp/events"},
        "body": None,
        "isBase64Encoded": False,
    }
    answer = module.lambda_handler(event, LambdaContext("ErpFunction"))
    assert answer["statusCode"] == 200, answer
    return ", ".join(f"{n} {name}" for name, n in sorted(counted.items())) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000, help="webhook events (1000)")
    parser.add_argument("--feed", type=int, default=10_000, help="events in the feed (10000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each feed page (5)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    names = LocalNames(Template(TEMPLATE), REGION)
    with tempfile.TemporaryDirectory() as folder:
        hub = start_hub(Path(folder) / "data", {"FAPIAO_ALLOW_LOOPBACK_FETCH": "1"})
        try:
            session = Session(hub.aws)
            bench_webhooks(hub, session, names, args.events)
            bench_feed(hub, session, names, args.feed, args.runs)
        finally:
            hub.stop()


if __name__ == "__main__":
    main()
