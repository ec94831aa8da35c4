"""The review console's data routes (functions/review/app.py, issue 18) through the
handler as API Gateway calls it: GET /console/api/overview, GET
/console/api/items/{review_id}/file?page=N (a picture, base64-encoded for the gateway)
and the list's date_from/date_to (Asia/Shanghai days, both included).

The queue, the store and the counters in memory; files in a memory drop bucket.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
import simplejson
from fixtures.generate import blank_pdf, invoice_pdf, qr_photo, vat_spec
from PIL import Image

import fapiao.dates
from fakes.memory import MemoryFileStore
from fakes.stats import MemoryStats
from fapiao.catalogue.errors import Problem
from fapiao.dates import SHANGHAI
from fapiao.local.apigw import HttpRequest, LambdaContext, to_event
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject
from fapiao.model.review import review_id
from fapiao.model.stored import StoredInvoice
from fapiao.ports import OUTCOME_COUNTS, PAID_CHECKS
from support import CORPUS
from unit.services.test_review import (
    CLIENT,
    NOW,
    OWNER,
    World,
    minutes_ago,
    record,
    unread,
)
from unit.services.test_review_api import DROP_BUCKET, ROUTES, call, load, review_deps

U, F, C, Y = (
    InvoiceStatus.UNRECOGNISABLE,
    InvoiceStatus.CHECK_FAILED,
    InvoiceStatus.AWAITING_CHECK,
    InvoiceStatus.VERIFIED,
)
TODAY = NOW.date()
CORPUS_PDF = "yooongchun__Invoice2Excel__012001900111_51142414.pdf"  # one page
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class World2(World):
    """The review world with the console's counters and drop bucket."""

    def __init__(self) -> None:
        super().__init__()
        self.stats = MemoryStats()
        self.files = MemoryFileStore()


@pytest.fixture
def world() -> World2:
    return World2()


@pytest.fixture
def review(monkeypatch: pytest.MonkeyPatch, world: World2) -> ModuleType:
    module = load("ReviewFunction", monkeypatch)
    deps = review_deps(module, world, world.stats, world.files)
    monkeypatch.setattr(module, "deps", lambda: deps)
    monkeypatch.setattr(fapiao.dates, "today_in_shanghai", lambda now=None: TODAY)
    return module


def fetch(module: ModuleType, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The handler's raw proxy answer to a GET (a picture's body stays base64 text)."""
    found = [
        (route, match.groupdict())
        for route in ROUTES
        if route.function == "ReviewFunction"
        and route.method == "GET"
        and (match := route.pattern.match(path))
    ]
    assert found, f"no GET {path} in template.yaml"
    route, parameters = found[0]
    request = HttpRequest("GET", path, urlencode(query or {}), [("Accept", "image/png")], b"")
    event = to_event(request, route, parameters)
    event["requestContext"]["authorizer"] = {"client_id": CLIENT, "principalId": CLIENT}
    answer: dict[str, Any] = module.lambda_handler(event, LambdaContext("ReviewFunction"))
    return answer


def header(answer: dict[str, Any], name: str) -> str | None:
    for source in ("headers", "multiValueHeaders"):
        for key, value in (answer.get(source) or {}).items():
            if key.lower() == name.lower():
                return value[0] if isinstance(value, list) else value
    return None


def envelope(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["isBase64Encoded"] is False
    assert "application/json" in (header(answer, "Content-Type") or "")
    body: dict[str, Any] = simplejson.loads(answer["body"])
    return body


def picture(answer: dict[str, Any]) -> Image.Image:
    assert answer["isBase64Encoded"] is True
    return Image.open(io.BytesIO(base64.b64decode(answer["body"])))


def kept(world: World2, key: str, data: bytes, *, status: InvoiceStatus = F) -> StoredInvoice:
    """A record whose file the hub keeps at s3://<drop>/<key>."""
    stored = record(
        "30000001",
        status,
        Problem.CHECK_FAILED if status is F else None,
        minutes_ago(3),
        attachment_url=f"s3://{DROP_BUCKET}/{key}",
    )
    world.files.files[key] = data
    return world.put(stored)


def corpus_pdf() -> bytes:
    path = CORPUS / "files" / CORPUS_PDF
    if not path.exists():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    return path.read_bytes()


# --- GET /console/api/overview --------------------------------------------------------------


def test_the_overview_counts_the_queue_and_the_days(review: ModuleType, world: World2) -> None:
    world.put(record("10000001", F, Problem.CHECK_FAILED, minutes_ago(30)))
    world.put(record("10000002", F, Problem.CHECK_FAILED, minutes_ago(20)))
    world.put(record("10000003", C, Problem.CHECK_DEFERRED, minutes_ago(10)))
    world.put(record("10000004", Y, None, minutes_ago(1)))  # verified: not waiting
    for name in ("a.png", "b.png", "c.png"):
        world.queue.attend(unread(name, minutes_ago(40)))
    world.stats.add(OUTCOME_COUNTS, TODAY, {"created": 4, "duplicate": 1, "identified": 9})
    world.stats.add(OUTCOME_COUNTS, TODAY - dt.timedelta(days=29), {"rejected": 2})
    world.stats.add(OUTCOME_COUNTS, TODAY - dt.timedelta(days=30), {"created": 50})  # too old
    world.stats.add(OUTCOME_COUNTS, TODAY - dt.timedelta(days=3), {"unrecognisable": 3})
    world.stats.add(PAID_CHECKS, TODAY, {"calls": 6})
    world.stats.add(PAID_CHECKS, TODAY - dt.timedelta(days=1), {"calls": 11})

    status, body = call(review, "GET", "/console/api/overview")

    assert status == 200
    assert (body["resCode"], body["resMsg"]) == (200000, "success")
    data = body["data"]
    assert set(data) == {"states", "paid_checks_today", "outcomes"}
    assert data["states"] == {"U": 3, "F": 2, "C": 1}
    assert data["paid_checks_today"] == 6
    outcomes = data["outcomes"]
    assert len(outcomes) == 30
    assert [day["date"] for day in outcomes] == [
        (TODAY - dt.timedelta(days=back)).isoformat() for back in range(29, -1, -1)
    ]
    zero = {"created": 0, "duplicate": 0, "rejected": 0, "unrecognisable": 0}
    assert outcomes[-1] == {"date": TODAY.isoformat(), **zero, "created": 4, "duplicate": 1}
    assert outcomes[0] == {
        "date": (TODAY - dt.timedelta(days=29)).isoformat(),
        **zero,
        "rejected": 2,
    }
    assert outcomes[-4]["unrecognisable"] == 3
    assert sum(sum(v for k, v in day.items() if k != "date") for day in outcomes) == 4 + 1 + 2 + 3


def test_a_resolved_file_leaves_the_overviews_count(review: ModuleType, world: World2) -> None:
    entry = world.queue.attend(unread("a.png", minutes_ago(20)))
    fields = {
        "invoice_type": "01",
        "invoice_code": "3100231130",
        "invoice_number": "40000001",
        "receipt_date": "2024-05-06",
        "amount": "100.00",
    }
    assert call(review, "GET", "/console/api/overview")[1]["data"]["states"]["U"] == 1

    status, _ = call(review, "POST", f"/common/review/{review_id(entry)}/fix", {"set": fields})

    assert status == 200
    states = call(review, "GET", "/console/api/overview")[1]["data"]["states"]
    assert states == {"U": 0, "F": 0, "C": 0}  # created Y: nothing waits


def test_an_empty_hub_has_an_overview_of_zeros(review: ModuleType) -> None:
    status, body = call(review, "GET", "/console/api/overview")

    assert status == 200
    data = body["data"]
    assert (data["states"], data["paid_checks_today"]) == ({"U": 0, "F": 0, "C": 0}, 0)
    assert len(data["outcomes"]) == 30
    assert all(day["created"] == day["rejected"] == 0 for day in data["outcomes"])


# --- GET /console/api/items/{review_id}/file ------------------------------------------------


def test_a_kept_pdf_is_answered_as_a_png_page(review: ModuleType, world: World2) -> None:
    stored = kept(world, f"{OWNER}/scan/corpus.pdf", corpus_pdf())

    answer = fetch(review, f"/console/api/items/{stored.invoice_key}/file", {"page": 1})

    assert answer["statusCode"] == 200
    assert header(answer, "Content-Type") == "image/png"
    assert header(answer, "X-Page-Count") == "1"
    assert base64.b64decode(answer["body"]).startswith(PNG_MAGIC)
    with picture(answer) as image:
        assert image.format == "PNG"
        assert max(image.size) == 1600


def test_a_generated_pdf_of_two_pages_counts_them(review: ModuleType, world: World2) -> None:
    stored = kept(world, f"{OWNER}/two.pdf", invoice_pdf(vat_spec(1), vat_spec(2)))

    answer = fetch(review, f"/console/api/items/{stored.invoice_key}/file", {"page": 2})

    assert (answer["statusCode"], header(answer, "X-Page-Count")) == (200, "2")
    with picture(answer) as image:
        assert image.format == "PNG"


def test_a_u_entrys_photo_is_answered_as_a_jpeg(review: ModuleType, world: World2) -> None:
    photo = qr_photo([], size=(800, 600))
    outcome = unread("photo.jpg", minutes_ago(5))
    outcome = outcome.model_copy(
        update={
            "object": DroppedObject(bucket=DROP_BUCKET, key=f"{OWNER}/scan/photo.jpg", etag="e")
        }
    )
    entry = world.queue.attend(outcome)
    world.files.files[f"{OWNER}/scan/photo.jpg"] = photo

    answer = fetch(review, f"/console/api/items/{review_id(entry)}/file")

    assert answer["statusCode"] == 200
    assert (header(answer, "Content-Type"), header(answer, "X-Page-Count")) == ("image/jpeg", "1")
    assert base64.b64decode(answer["body"]).startswith(JPEG_MAGIC)
    with picture(answer) as image:
        assert image.size == (800, 600)


def test_a_page_the_file_lacks_is_404_in_the_envelope(review: ModuleType, world: World2) -> None:
    stored = kept(world, f"{OWNER}/one.pdf", blank_pdf(1))

    answer = fetch(review, f"/console/api/items/{stored.invoice_key}/file", {"page": 2})

    assert answer["statusCode"] == 404
    body = envelope(answer)
    assert (body["resCode"], body["data"]) == (404000, None)
    assert "page 2" in body["resMsg"]


def test_a_file_at_a_clients_url_is_not_kept(review: ModuleType, world: World2) -> None:
    stored = world.put(
        record(
            "30000002",
            F,
            Problem.CHECK_FAILED,
            minutes_ago(3),
            attachment_url="https://files.example.com/a.pdf",
        )
    )

    answer = fetch(review, f"/console/api/items/{stored.invoice_key}/file")

    assert answer["statusCode"] == 404
    body = envelope(answer)
    assert (body["resCode"], body["data"]) == (404000, None)
    assert "keeps no copy" in body["resMsg"]


def test_a_file_gone_from_the_bucket_is_404(review: ModuleType, world: World2) -> None:
    stored = kept(world, f"{OWNER}/gone.pdf", blank_pdf(1))
    del world.files.files[f"{OWNER}/gone.pdf"]

    answer = fetch(review, f"/console/api/items/{stored.invoice_key}/file")

    assert (answer["statusCode"], envelope(answer)["resCode"]) == (404, 404000)


@pytest.mark.parametrize("page", [0, -1, 51, "x"])
def test_a_page_out_of_range_is_400(review: ModuleType, world: World2, page: Any) -> None:
    stored = kept(world, f"{OWNER}/one.pdf", blank_pdf(1))

    answer = fetch(review, f"/console/api/items/{stored.invoice_key}/file", {"page": page})

    assert answer["statusCode"] == 400
    body = envelope(answer)
    assert (body["resCode"], body["data"]) == (400000, None)
    assert "page" in body["resMsg"]


@pytest.mark.parametrize(("name", "code"), [("3100231130AAAA", 404000), ("U-x!", 400000)])
def test_the_file_of_an_unknown_entry_is_refused(review: ModuleType, name: str, code: int) -> None:
    answer = fetch(review, f"/console/api/items/{name}/file")

    assert (answer["statusCode"], envelope(answer)["resCode"]) == (code // 1000, code)


# --- GET /common/review?date_from&date_to ---------------------------------------------------


def at(day: int, hour: int, minute: int = 0, tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=tz)


@pytest.fixture
def days(world: World2) -> dict[str, str]:
    """Entries around the Shanghai days of 10 and 11 May: a name for each, its id."""
    made = {
        "9th, late": world.put(record("10000001", F, Problem.CHECK_FAILED, at(9, 23, 59))),
        # 15:59 and 16:00 UTC on the 9th: 23:59 on the 9th and 00:00 on the 10th in Shanghai
        "9th, late UTC": world.put(
            record("10000002", C, Problem.CHECK_DEFERRED, at(9, 15, 59, dt.UTC))
        ),
        "10th, first": world.put(record("10000003", F, Problem.CHECK_FAILED, at(9, 16, 0, dt.UTC))),
        "10th, noon": world.put(record("10000004", C, Problem.CHECK_DEFERRED, at(10, 12))),
        "11th, last": world.put(record("10000005", F, Problem.CHECK_FAILED, at(11, 23, 59))),
        "12th, first": world.put(record("10000006", F, Problem.CHECK_FAILED, at(12, 0))),
    }
    names = {name: stored.invoice_key for name, stored in made.items()}
    names["10th, file"] = review_id(world.queue.attend(unread("a.png", at(10, 8))))
    return names


def listed(review: ModuleType, **query: Any) -> list[str]:
    status, body = call(review, "GET", "/common/review", query=query)
    assert (status, body["resCode"]) == (200, 200000), body
    return [item["id"] for item in body["data"]["items"]]


def test_date_from_and_to_bound_shanghai_days_both_included(
    review: ModuleType, days: dict[str, str]
) -> None:
    seen = listed(review, date_from="2024-05-10", date_to="2024-05-11")

    assert seen == [days["11th, last"], days["10th, noon"], days["10th, file"], days["10th, first"]]


def test_one_day(review: ModuleType, days: dict[str, str]) -> None:
    seen = listed(review, date_from="2024-05-09", date_to="2024-05-09")

    assert sorted(seen) == sorted([days["9th, late"], days["9th, late UTC"]])


def test_either_bound_alone(review: ModuleType, days: dict[str, str]) -> None:
    since = listed(review, date_from="2024-05-11")
    until = listed(review, date_to="2024-05-09")

    assert since == [days["12th, first"], days["11th, last"]]
    assert sorted(until) == sorted([days["9th, late"], days["9th, late UTC"]])


def test_dates_go_with_the_state_and_the_pages(review: ModuleType, days: dict[str, str]) -> None:
    only_f = listed(review, date_from="2024-05-10", date_to="2024-05-12", status="F")
    assert only_f == [days["12th, first"], days["11th, last"], days["10th, first"]]

    seen: list[str] = []
    query: dict[str, Any] = {"date_from": "2024-05-10", "date_to": "2024-05-11", "limit": 1}
    while True:
        status, body = call(review, "GET", "/common/review", query=query)
        assert status == 200
        seen += [item["id"] for item in body["data"]["items"]]
        if body["data"]["cursor"] is None:
            break
        query["cursor"] = body["data"]["cursor"]
    assert seen == listed(review, date_from="2024-05-10", date_to="2024-05-11")
    assert len(seen) == 4


def test_a_day_with_nothing_is_an_empty_list(review: ModuleType, days: dict[str, str]) -> None:
    assert listed(review, date_from="2024-06-01", date_to="2024-06-01") == []


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2024-13-01"},
        {"date_to": "2024-02-30"},
        {"date_from": "yesterday"},
        {"date_from": "2024/05/10"},
        {"date_to": "2024-5-1"},
        {"date_from": "2024-05-10T10:00"},
        {"date_to": ""},
        {"date_from": "1715299200"},
    ],
)
def test_a_bad_date_is_400_in_the_platform_envelope(
    review: ModuleType, query: dict[str, Any]
) -> None:
    status, body = call(review, "GET", "/common/review", query=query)

    assert (status, body["resCode"], body["data"]) == (400, 400000, None)
    assert set(body) == {"resCode", "resMsg", "bizId", "data"}
    assert next(iter(query)) in body["resMsg"]
