"""The review console's speed with a full queue (issue 18): in headless Chromium against
`fapiao serve` holding 2,000 review items, the time from navigating to /console/ until
the first queue row is visible, and from opening a one-page PDF's item
(/console/#/items/<id>) until its picture is loaded, each beside the 1 s target.

    .venv/bin/python bench/console.py [--items N] [--runs N] [--pdf NAME]

The hub is a process (`fapiao serve`, as tests/browser starts it) on loopback with a
temporary data folder. The items are written straight into its local DynamoDB through
its AWS endpoint, as the hub's own stores write them (``fapiao.store.invoices``'s
items with their expenses, ``fapiao.store.outcomes``' items, ``fapiao.store.stats``'
daily counters), nothing recognised or verified: F and C invoices and a few hundred
unrecognisable (U) outcomes of twelve owners, spread over the last 30 days. One more
invoice is a corpus PDF (../shared/corpus/files, one page): its record names the file
by ``s3://<drop bucket>/<key>`` and the file is dropped into the drop bucket (the
pipeline's own run of it ends as a duplicate of that record before anything is timed),
so its picture comes through the real file route, rendered on each request.

Chromium is Debian's (``make browser``), driven by Playwright by its path. A tab signs
in through the form, then each run starts from about:blank (a new document; the tab's
session storage keeps the key, the browser's cache revalidates the page's files). Also
timed with httpx, on the same hub: the API calls those pages make, one after another.
Medians of --runs, with min and max, and the browser's against the target; the
machine's cores and load are printed (the figures are wall times). Asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
# tests/ is not installed: import its helpers as pytest does (pyproject's pythonpath)
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402

from fapiao.catalogue.errors import Problem, invoice_message  # noqa: E402
from fapiao.catalogue.types import InvoiceType  # noqa: E402
from fapiao.dates import SHANGHAI  # noqa: E402
from fapiao.local.resources import LocalNames  # noqa: E402
from fapiao.local.template import Template  # noqa: E402
from fapiao.model import Invoice, InvoiceStatus  # noqa: E402
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind  # noqa: E402
from fapiao.model.review import review_id  # noqa: E402
from fapiao.model.stored import Expense, StoredInvoice, Transition  # noqa: E402
from fapiao.ports import OUTCOME_COUNTS, PAID_CHECKS  # noqa: E402
from fapiao.store.invoices import invoice_item, to_item  # noqa: E402
from fapiao.store.outcomes import DynamoOutcomes, outcome_item  # noqa: E402
from fapiao.store.stats import DynamoStats  # noqa: E402
from hubprocess import RunningHub, start_hub  # noqa: E402
from support import REGION, TEMPLATE, Session  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_PDF = "yooongchun__Invoice2Excel__didi.pdf"
CHROMIUM = Path(os.environ.get("FAPIAO_CHROMIUM", "/usr/bin/chromium"))
# As tests/browser: nothing but loopback, whatever a page asks for.
BROWSER_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
TARGET_SECONDS = 1.0
DAYS = 30
PAGE_SIZE = 20  # the queue's page (functions/console/static/queue.js)
PICTURE_TYPES = "image/png, image/jpeg;q=0.9"  # what the item page asks for
PIPELINE_SECONDS = 180.0

OWNERS = [
    "zhang.wei",
    "wang.fang",
    "li.na",
    "liu.yang",
    "chen.jing",
    "yang.li",
    "zhao.min",
    "huang.qiang",
    "zhou.jie",
    "wu.xia",
    "xu.lei",
    "sun.hui",
]
SELLERS = [
    ("北京京东世纪贸易有限公司", "911101147934148423"),
    ("上海携程国际旅行社有限公司", "91310000607386449Y"),
    ("深圳市腾讯计算机系统有限公司", "91440300708461136T"),
    ("中国石化销售股份有限公司北京石油分公司", "91110000802100433B"),
    ("杭州海底捞餐饮管理有限公司", "91330105MA27WQ8N5X"),
    ("滴滴出行科技有限公司", "911201163409833307"),
    ("广州市晨光文具有限公司", "91440101MA59B2KX4Q"),
    ("成都如家酒店管理有限公司", "91510100MA61R8KQ2L"),
]
BUYER = ("示例科技(上海)有限公司", "91310115MA1K4ABC2X")
# (type, code digits (0: none, a 20-digit 数电 number), tax rate)
TYPES = [
    (InvoiceType.DIGITAL_NORMAL, 0, Decimal("0.06")),
    (InvoiceType.DIGITAL_SPECIAL, 0, Decimal("0.13")),
    (InvoiceType.VAT_ELECTRONIC_NORMAL, 12, Decimal("0.03")),
    (InvoiceType.VAT_SPECIAL, 10, Decimal("0.13")),
]
CENT = Decimal("0.01")


# --- the data ----------------------------------------------------------------------------


def _record(
    i: int, rng: random.Random, at: dt.datetime, status: InvoiceStatus
) -> tuple[StoredInvoice, Expense]:
    """A stored F or C invoice, as invoice/create or the pipeline would have left it."""
    kind, code_digits, rate = TYPES[i % len(TYPES)]
    owner = rng.choice(OWNERS)
    seller, seller_tax = rng.choice(SELLERS)
    if code_digits:
        code: str | None = (
            f"{3100 + i % 7}{i % 10}{rng.randrange(10 ** (code_digits - 5)):0{code_digits - 5}d}"
        )
        number = f"{10_000_000 + i:08d}"
    else:
        code, number = None, f"2431{at:%y%m%d}{i:010d}"
    total = Decimal(rng.randrange(1_000, 2_000_000)) / 100
    amount = (total / (1 + rate)).quantize(CENT)
    if status is InvoiceStatus.CHECK_FAILED:
        problem, detail = Problem.CHECK_FAILED, rng.choice(["金额不一致", "校验码不一致", None])
    elif rng.random() < 0.3:
        problem, detail = Problem.AWAITING_COMPLETION, "缺少价税合计"
    else:
        problem, detail = Problem.CHECK_DEFERRED, None
    message_code, message = invoice_message(problem, detail)
    invoice = Invoice(
        invoice_type=kind,
        invoice_code=code,
        invoice_number=number,
        receipt_date=(at - dt.timedelta(days=rng.randrange(0, 20))).date(),
        check_code=None if code_digits != 12 else f"{rng.randrange(10**20):020d}",
        amount=amount,
        tax_amount=total - amount,
        total_amount=None if problem is Problem.AWAITING_COMPLETION else total,
        buyer_name=BUYER[0],
        buyer_tax_code=BUYER[1],
        seller_name=seller,
        seller_tax_code=seller_tax,
    )
    key = invoice.invoice_key
    assert key is not None
    record = StoredInvoice(
        invoice_key=key,
        expense_id=900_000 + i,
        user_code=owner,
        biz_id=f"bench-{i}",
        status=status,
        message=message,
        message_code=str(message_code),
        currency="CNY",
        invoice=invoice,
        created_at=at,
        transitions=[Transition(status=status, at=at, reason=message)],
    )
    expense = Expense(
        expense_id=record.expense_id,
        user_code=owner,
        invoice_keys=[key],
        currency="CNY",
        total_amount=total,
        created_at=at,
    )
    return record, expense


def _unrecognisable(i: int, rng: random.Random, at: dt.datetime, bucket: str) -> Outcome:
    owner = rng.choice(OWNERS)
    message_code, message = invoice_message(Problem.UNRECOGNISABLE, "未找到二维码或发票文字")
    name = rng.choice(["IMG_{:04d}.jpg", "scan-{:04d}.png", "微信图片_{:04d}.jpg"]).format(i)
    return Outcome(
        outcome=OutcomeKind.UNRECOGNISABLE,
        object=DroppedObject(
            bucket=bucket, key=f"{owner}/phone/{name}", etag=f"{i:032x}", version_id=f"v{i}"
        ),
        owner=owner,
        status=InvoiceStatus.UNRECOGNISABLE,
        message=message,
        message_code=message_code,
        at=at,
    )


def _pdf_record(name: str, bucket: str, key: str, at: dt.datetime) -> StoredInvoice:
    """The corpus PDF's invoice (its values from expected.json), refused by its check."""
    fields = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))[name]
    values = fields["invoices"][0]
    message_code, message = invoice_message(Problem.CHECK_FAILED, "金额不一致")
    invoice = Invoice(
        invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
        invoice_code=values.get("invoice_code"),
        invoice_number=values["invoice_number"],
        receipt_date=dt.datetime.strptime(values["receipt_date"], "%Y%m%d").date(),
        check_code=values.get("check_code"),
        amount=Decimal(values["amount"]),
        tax_amount=Decimal(values["tax_amount"]),
        total_amount=Decimal(values["total_amount"]),
        buyer_name=values.get("buyer_name"),
        buyer_tax_code=values.get("buyer_tax_code"),
        seller_name=values.get("seller_name"),
        seller_tax_code=values.get("seller_tax_code"),
        attachment_url=f"s3://{bucket}/{key}",
    )
    assert invoice.invoice_key is not None
    return StoredInvoice(
        invoice_key=invoice.invoice_key,
        expense_id=899_999,
        user_code=key.partition("/")[0],
        biz_id="bench-pdf",
        status=InvoiceStatus.CHECK_FAILED,
        message=message,
        message_code=str(message_code),
        currency="CNY",
        invoice=invoice,
        created_at=at,
        transitions=[Transition(status=InvoiceStatus.CHECK_FAILED, at=at, reason=message)],
    )


def _batch_write(client: Any, table: str, items: Iterable[dict[str, Any]]) -> None:
    items = list(items)
    for start in range(0, len(items), 25):  # BatchWriteItem's most per call
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def fill(hub: RunningHub, count: int, pdf: str) -> tuple[str, Counter[str]]:
    """``count`` review items in the hub, plus the PDF's invoice; its review id, and the
    items per state."""
    names = LocalNames(Template(TEMPLATE), REGION)
    bucket = names.ref("DropBucket")
    session = Session(hub.aws)
    dynamodb = session.client("dynamodb")
    rng = random.Random(18)
    now = dt.datetime.now(SHANGHAI).replace(microsecond=0)
    unrecognisable = max(1, count * 3 // 20)  # a few hundred of 2,000
    records: list[tuple[StoredInvoice, Expense]] = []
    outcomes: list[Outcome] = []
    per_day: dict[dt.date, Counter[str]] = {}
    states: Counter[str] = Counter()
    for i in range(count):
        at = now - dt.timedelta(seconds=rng.uniform(60, DAYS * 86_400 - 60))
        day = per_day.setdefault(at.date(), Counter())
        if i < unrecognisable:
            outcomes.append(_unrecognisable(i, rng, at, bucket))
            day[OutcomeKind.UNRECOGNISABLE.value] += 1
            states["U"] += 1
            continue
        status = InvoiceStatus.CHECK_FAILED if rng.random() < 0.4 else InvoiceStatus.AWAITING_CHECK
        records.append(_record(i, rng, at, status))
        day[(OutcomeKind.REJECTED if status.value == "F" else OutcomeKind.CREATED).value] += 1
        states[status.value] += 1

    key = f"li.na/mail/{pdf}"
    pdf_record = _pdf_record(pdf, bucket, key, now - dt.timedelta(days=3, hours=2))
    pdf_expense = Expense(
        expense_id=pdf_record.expense_id,
        user_code=pdf_record.user_code,
        invoice_keys=[pdf_record.invoice_key],
        currency="CNY",
        created_at=pdf_record.created_at,
    )
    records.append((pdf_record, pdf_expense))
    states["F"] += 1

    _batch_write(dynamodb, names.ref("InvoicesTable"), (invoice_item(r) for r, _ in records))
    _batch_write(dynamodb, names.ref("ExpensesTable"), (to_item(e) for _, e in records))
    _batch_write(dynamodb, names.ref("OutcomesTable"), (outcome_item(o) for o in outcomes))
    stats = DynamoStats(names.ref("StatsTable"), dynamodb)
    for day, counted in per_day.items():
        verified = rng.randrange(20, 80)  # Y invoices: counted, never in the queue
        counted = counted + Counter(
            {"created": verified, "duplicate": rng.randrange(0, 6), "failed": 0}
        )
        stats.add(OUTCOME_COUNTS, day, counted)
    stats.add(PAID_CHECKS, now.date(), {"calls": 137})

    # The file itself, as a scanner would drop it; the pipeline's run of it finds the
    # record above (a duplicate) and is left to finish before anything is timed.
    dropped = session.client("s3").put_object(
        Bucket=bucket, Key=key, Body=(CORPUS / "files" / pdf).read_bytes()
    )
    obj = DroppedObject(
        bucket=bucket, key=key, etag=dropped["ETag"].strip('"'), version_id=dropped["VersionId"]
    )
    outbox = DynamoOutcomes(names.ref("OutcomesTable"), dynamodb)
    deadline = time.monotonic() + PIPELINE_SECONDS
    while not (ran := outbox.of_object(obj.object_id)):
        if time.monotonic() > deadline:
            print(f"  (the pipeline gave no outcome for {key} in {PIPELINE_SECONDS:.0f} s)")
            break
        time.sleep(0.5)
    if ran:
        print(f"  the drop of {pdf}: {ran[0].outcome.value} ({ran[0].message})")
    return review_id(pdf_record), states


# --- timing ------------------------------------------------------------------------------


def summary(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"median {statistics.median(ms):7.1f} ms  (min {min(ms):.1f}, max {max(ms):.1f})"


def timed(runs: int, action: Callable[[], Any]) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        out.append(time.perf_counter() - started)
    return out


LOADED = """() => {
  const img = document.querySelector('[data-role="invoice-file"]');
  return img !== null && img.complete && img.naturalWidth > 0;
}"""

# The data requests of the page's last navigation, as the browser timed them (ms from
# the navigation's start).
DATA_REQUESTS = """() => performance.getEntriesByType('resource')
  .filter((e) => /common\\/review|console\\/api\\//.test(e.name))
  .map((e) => [new URL(e.name).pathname.replace(/^.*?(common|console)/, '$1'),
               Math.round(e.startTime), Math.round(e.responseEnd)])"""


def browser_figures(hub: RunningHub, item: str, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            context = browser.new_context(
                locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
            )
            page = context.new_page()
            page.goto(hub.url + "/console/")
            page.fill("input[name=api_key]", hub.api_key)
            page.keyboard.press("Enter")
            page.wait_for_selector("tr[data-id]", state="visible")
            figures["rows"] = page.locator("tr[data-id]").count()

            def queue() -> None:
                page.goto("about:blank")
                started = time.perf_counter()
                page.goto(hub.url + "/console/", wait_until="commit")
                page.wait_for_selector("tr[data-id]", state="visible")
                figures.setdefault("queue", []).append(time.perf_counter() - started)
                page.wait_for_load_state("networkidle")  # the overview too: the hub is idle

            def opened() -> None:
                page.goto("about:blank")
                started = time.perf_counter()
                page.goto(f"{hub.url}/console/#/items/{quote(item, safe='')}", wait_until="commit")
                page.wait_for_function(LOADED, polling="raf")
                figures.setdefault("item", []).append(time.perf_counter() - started)
                page.wait_for_load_state("networkidle")

            def from_queue() -> None:  # the same item opened from the start page (no reload)
                page.goto(hub.url + "/console/")
                page.wait_for_selector("tr[data-id]", state="visible")
                page.wait_for_load_state("networkidle")
                started = time.perf_counter()
                page.evaluate(f"location.hash = '#/items/{quote(item, safe='')}'")
                page.wait_for_function(LOADED, polling="raf")
                figures.setdefault("in_page", []).append(time.perf_counter() - started)

            for _ in range(runs):  # interleaved: a busy moment slows all alike
                queue()
                figures["queue_requests"] = page.evaluate(DATA_REQUESTS)
                opened()
                figures["item_requests"] = page.evaluate(DATA_REQUESTS)
                figures["picture"] = page.evaluate(
                    """() => { const i = document.querySelector('[data-role="invoice-file"]');
                               return [i.naturalWidth, i.naturalHeight]; }"""
                )
                from_queue()
            context.close()
        finally:
            browser.close()
    return figures


def api_figures(hub: RunningHub, item: str, runs: int) -> dict[str, tuple[list[float], int]]:
    """Each call the two pages make, timed from this process (loopback)."""
    calls = {
        "GET /console/ (index.html)": ("/console/", {}),
        f"GET /common/review?limit={PAGE_SIZE}": (f"/common/review?limit={PAGE_SIZE}", {}),
        "GET /console/api/overview": ("/console/api/overview", {}),
        "GET /common/review/{id}": (f"/common/review/{quote(item, safe='')}", {}),
        "GET /console/api/items/{id}/file": (
            f"/console/api/items/{quote(item, safe='')}/file?page=1",
            {"Accept": PICTURE_TYPES},
        ),
    }
    out: dict[str, tuple[list[float], int]] = {name: ([], 0) for name in calls}
    with httpx.Client(base_url=hub.url, headers={"x-api-key": hub.api_key}, timeout=60) as http:
        for _ in range(runs):
            for name, (path, headers) in calls.items():
                started = time.perf_counter()
                answer = http.get(path, headers=headers)
                elapsed = time.perf_counter() - started
                answer.raise_for_status()
                out[name][0].append(elapsed)
                out[name] = (out[name][0], len(answer.content))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="The review console's speed with a full queue.")
    parser.add_argument("--items", type=int, default=2000, help="review items stored")
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--pdf", default=DEFAULT_PDF, help="a one-page PDF of the corpus")
    args = parser.parse_args()
    if not (CORPUS / "files" / args.pdf).is_file():
        print(f"skipped: {CORPUS / 'files' / args.pdf} is missing (the corpus: ../shared/corpus)")
        return 0
    if not CHROMIUM.exists():
        print(f"skipped: {CHROMIUM} is missing (make browser installs Debian's chromium)")
        return 0

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    env: dict[str, str | None] = {"FAPIAO_VERIFIER": "offline", "FAPIAO_IDENTIFIER": None}
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        hub = start_hub(Path(folder) / "data", env)
        try:
            print(f"hub started in {time.monotonic() - started:.1f} s ({hub.url})")
            started = time.monotonic()
            item, states = fill(hub, args.items, args.pdf)
            print(
                f"stored {sum(states.values())} review items in {time.monotonic() - started:.1f} s"
                f" ({', '.join(f'{k} {v}' for k, v in sorted(states.items()))}; the PDF's: {item})"
            )
            browser = browser_figures(hub, item, args.runs)
            api = api_figures(hub, item, args.runs)
        finally:
            hub.stop()

    print(f"\nheadless Chromium, {args.runs} runs (target {TARGET_SECONDS * 1000:.0f} ms):")
    rows = (
        ("/console/ -> first queue row visible", "queue"),
        ("/console/#/items/<PDF> -> picture loaded", "item"),
        ("  the same item from the start page (hash)", "in_page"),
    )
    for label, key in rows:
        seconds = browser[key]
        ratio = statistics.median(seconds) / TARGET_SECONDS
        print(f"  {label:44s} {summary(seconds)}  {ratio:.2f}x target")
    print(
        f"  ({browser['rows']} rows on the first page;"
        f" picture {browser['picture'][0]}x{browser['picture'][1]} px)"
    )
    for label, key in (("queue", "queue_requests"), ("item", "item_requests")):
        shown = ", ".join(f"{path} {start}-{end}" for path, start, end in browser[key])
        print(f"  last {label} run's data requests (ms from navigation start): {shown}")

    print(f"\nthe same calls with httpx on loopback, {args.runs} runs:")
    for name, (seconds, size) in api.items():
        print(f"  {name:36s} {summary(seconds)}  {size:>7,} bytes")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
