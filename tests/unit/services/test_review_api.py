"""The review queue's HTTP API (functions/review/app.py) and the detail query's
corrections (functions/invoice_detail/app.py), through their handlers as API Gateway
calls them: the platform envelope, the catalogue's codes, the client that corrected.
"""

from __future__ import annotations

from decimal import Decimal
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
import simplejson

from fakes.memory import MemoryFileStore, MemoryInvoiceStore
from fakes.stats import MemoryStats
from fapiao.catalogue.errors import Problem, invoice_message
from fapiao.local.apigw import HttpRequest, LambdaContext, to_event
from fapiao.local.template import Template
from fapiao.model import CheckResult, InvoiceStatus
from fapiao.model.review import review_id
from fapiao.model.stored import Correction, Expense, Transition
from fapiao.settings import CompanySettings
from support import TEMPLATE, handler_module
from unit.services.test_review import (
    CLIENT,
    NOW,
    OWNER,
    World,
    awaiting_completion,
    minutes_ago,
    record,
    unread,
)

ROUTES = Template(TEMPLATE).routes
DROP_BUCKET = "fapiao-drop"


@pytest.fixture
def world() -> World:
    return World()


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    return handler_module(name)


def review_deps(
    module: ModuleType,
    world: World,
    stats: MemoryStats | None = None,
    files: MemoryFileStore | None = None,
) -> Any:
    """The review function's Deps on the world's fakes (and the console's counters and
    drop bucket: empty ones unless given)."""
    return module.Deps(
        queue=world.queue,
        store=world.store,
        verify_stored=world.deps.recheck.verify,
        verify_new=world.deps.verify_new,
        bus=world.bus,
        scheduler=world.scheduler,
        company=CompanySettings,
        stats=MemoryStats() if stats is None else stats,
        files=MemoryFileStore() if files is None else files,
        drop_bucket=DROP_BUCKET,
    )


@pytest.fixture
def review(monkeypatch: pytest.MonkeyPatch, world: World) -> ModuleType:
    module = load("ReviewFunction", monkeypatch)
    deps = review_deps(module, world)
    monkeypatch.setattr(module, "deps", lambda: deps)
    return module


def call(
    module: ModuleType,
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, Any] | None = None,
    function: str = "ReviewFunction",
) -> tuple[int, Any]:
    """The handler's answer to an HTTP request, as the hub's API Gateway passes it on
    (the authorizer's context included)."""
    found = [
        (route, match.groupdict())
        for route in ROUTES
        if route.function == function
        and route.method == method
        and (match := route.pattern.match(path))
    ]
    assert found, f"no {method} {path} in template.yaml"
    route, parameters = found[0]
    data = b"" if body is None else simplejson.dumps(body).encode()
    headers = [("Content-Type", "application/json")] if body is not None else []
    request = HttpRequest(method, path, urlencode(query or {}), headers, data)
    event = to_event(request, route, parameters)
    event["requestContext"]["authorizer"] = {"client_id": CLIENT, "principalId": CLIENT}
    result = module.lambda_handler(event, LambdaContext(function))
    return result["statusCode"], simplejson.loads(result["body"], use_decimal=True)


# --- GET /common/review ---------------------------------------------------------------------


def test_the_list_is_in_the_platform_envelope(review: ModuleType, world: World) -> None:
    stored = awaiting_completion(world)
    file = world.queue.attend(unread("a.png", minutes_ago(20)))

    status, body = call(review, "GET", "/common/review")

    assert status == 200
    assert (body["resCode"], body["resMsg"], body["data"]["cursor"]) == (200000, "success", None)
    first, second = body["data"]["items"]
    assert first == {
        "id": stored.invoice_key,
        "status": "C",
        "message_code": 907010,
        "message": "发票信息不全,补全后查验: total_amount",
        "key": f"{OWNER}/scan/20000001.png",
        "index": None,
        "invoice_key": stored.invoice_key,
        "fields": {
            "invoice_type": "10",
            "invoice_code": "033022100211",
            "invoice_number": "20000001",
            "receipt_date": "20240506",
            "amount": Decimal("100.00"),
            "check_code": "12345678901234567890",
            "buyer_name": "上海某某科技有限公司",
            "buyer_tax_code": "91310000MA1FL8XQ37",
            "seller_tax_code": "91110000600037341L",
        },
        "owner": OWNER,
        "changed_at": minutes_ago(5).isoformat(),
        "type_name": "增值税电子普通发票",
        "file_name": "20000001.png",
    }
    assert second["id"] == review_id(file)
    assert (second["status"], second["message_code"]) == ("U", 907006)
    assert (second["key"], second["index"], second["fields"]) == (f"{OWNER}/scan/a.png", 0, {})
    assert second["file_name"] == "a.png"


def test_the_list_pages_with_a_cursor(review: ModuleType, world: World) -> None:
    for n in range(3):
        world.put(record(f"1000000{n}", InvoiceStatus.CHECK_FAILED, Problem.CHECK_FAILED, NOW))

    seen: list[str] = []
    query: dict[str, Any] = {"limit": 2, "status": "F"}
    while True:
        status, body = call(review, "GET", "/common/review", query=query)
        assert status == 200
        seen += [item["id"] for item in body["data"]["items"]]
        if body["data"]["cursor"] is None:
            break
        query["cursor"] = body["data"]["cursor"]
    assert sorted(seen, reverse=True) == seen and len(set(seen)) == 3


@pytest.mark.parametrize(
    "query",
    [{"limit": 201}, {"limit": 0}, {"status": "Y"}, {"cursor": "bm90IGEgY3Vyc29y"}],
)
def test_a_bad_query_is_400(review: ModuleType, query: dict[str, Any]) -> None:
    status, body = call(review, "GET", "/common/review", query=query)
    assert (status, body["resCode"], body["data"]) == (400, 400000, None)


# --- GET /common/review/{review_id} ---------------------------------------------------------


def test_the_detail_has_the_check_history_and_corrections(review: ModuleType, world: World) -> None:
    stored = awaiting_completion(world)
    call(review, "POST", f"/common/review/{stored.invoice_key}/fix", {"set": {"total_amount": 113}})

    status, body = call(review, "GET", f"/common/review/{stored.invoice_key}")

    assert status == 200
    detail = body["data"]
    assert (detail["id"], detail["status"], detail["expense_id"]) == (
        stored.invoice_key,
        "Y",
        stored.expense_id,
    )
    assert detail["fields"]["total_amount"] == 113
    assert detail["check"]["result"] == 1
    assert [(t["status"], t["message_code"]) for t in detail["transitions"]] == [
        ("C", None),
        ("Y", None),
    ]
    assert detail["corrections"] == [  # the context names no role: a key from before roles
        {
            "field": "total_amount",
            "old": None,
            "new": "113",
            "at": NOW.isoformat(),
            "by": CLIENT,
            "role": "admin",
        }
    ]


def test_the_detail_of_a_file_says_what_resolved_it(review: ModuleType, world: World) -> None:
    name = review_id(world.queue.attend(unread("a.png", minutes_ago(20))))
    fields = {
        "invoice_type": "01",
        "invoice_code": "3100231130",
        "invoice_number": "40000001",
        "receipt_date": "2024-05-06",
        "amount": "100.00",
    }
    status, fixed = call(review, "POST", f"/common/review/{name}/fix", {"set": fields})
    assert (status, fixed["data"]["id"], fixed["data"]["status"]) == (
        200,
        "310023113040000001",
        "Y",
    )

    status, body = call(review, "GET", f"/common/review/{name}")

    assert status == 200
    assert (body["data"]["status"], body["data"]["resolved_by"]) == ("U", "310023113040000001")


@pytest.mark.parametrize(("name", "code"), [("3100231130AAAA", 404000), ("U-x!", 400000)])
def test_an_unknown_entry_is_refused(review: ModuleType, name: str, code: int) -> None:
    status, body = call(review, "GET", f"/common/review/{name}")
    assert (status, body["resCode"]) == (code // 1000, code)


# --- POST /common/review/{review_id}/fix ----------------------------------------------------


def test_a_fix_answers_the_new_outcome(review: ModuleType, world: World) -> None:
    stored = awaiting_completion(world)

    status, body = call(
        review,
        "POST",
        f"/common/review/{stored.invoice_key}/fix",
        {"set": {"total_amount": "113.00"}},
    )

    assert status == 200
    assert body == {
        "resCode": 200000,
        "resMsg": "success",
        "data": {
            "id": stored.invoice_key,
            "status": "Y",
            "message_code": None,
            "message": None,
            "invoice_key": stored.invoice_key,
            "expense_id": stored.expense_id,
        },
    }
    (correction,) = world.get(stored.invoice_key).corrections
    assert correction.by == CLIENT  # the API key's client, as the authorizer named it


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"bogus": 1}, 400000, "unknown field bogus"),
        ({"total_amount": "abc"}, 400000, "total_amount"),
        ({"receipt_date": "20241399"}, 400000, "receipt_date"),
        ({"invoice_type": "777"}, 400103, "777"),
        ({}, 400000, "set"),
        ({"receipt_date": "20991231"}, 400112, "20991231"),
    ],
)
def test_a_fix_that_cannot_be_read_is_refused_with_its_code(
    review: ModuleType, world: World, fields: dict[str, Any], code: int, words: str
) -> None:
    stored = awaiting_completion(world)

    status, body = call(review, "POST", f"/common/review/{stored.invoice_key}/fix", {"set": fields})

    assert (status, body["resCode"]) == (400, code)
    assert words in body["resMsg"]
    assert world.get(stored.invoice_key).corrections == []


# --- POST /common/review/{review_id}/recheck ------------------------------------------------


def test_a_recheck_answers_the_new_outcome(review: ModuleType, world: World) -> None:
    stored = world.put(
        record("10000001", InvoiceStatus.AWAITING_CHECK, Problem.CHECK_DEFERRED, minutes_ago(9))
    )

    status, body = call(review, "POST", f"/common/review/{stored.invoice_key}/recheck")

    assert (status, body["data"]["status"], body["data"]["id"]) == (200, "Y", stored.invoice_key)


def test_a_recheck_past_the_days_limit_is_429_and_says_so(review: ModuleType, world: World) -> None:
    stored = world.put(
        record(
            "10000001", InvoiceStatus.AWAITING_CHECK, Problem.CHECK_DEFERRED, minutes_ago(9)
        ).model_copy(update={"check_attempts": [minutes_ago(m) for m in range(5)]})
    )

    status, body = call(review, "POST", f"/common/review/{stored.invoice_key}/recheck")

    assert (status, body["resCode"]) == (429, 429000)
    assert "5 checks of this invoice today" in body["resMsg"]


# --- GET /common/invoice/detail: the corrections -------------------------------------------


def test_the_invoice_detail_shows_the_corrections(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load("InvoiceDetailFunction", monkeypatch)
    store = MemoryInvoiceStore()
    _, message = invoice_message(Problem.AWAITING_COMPLETION, "total_amount")
    stored = record("20000001", InvoiceStatus.VERIFIED, None, minutes_ago(30))
    stored = stored.model_copy(
        update={
            "check": CheckResult(success=True, invoice=stored.invoice),
            "transitions": [
                Transition(status=InvoiceStatus.AWAITING_CHECK, at=minutes_ago(30), reason=message),
                Transition(status=InvoiceStatus.VERIFIED, at=NOW),
            ],
            "corrections": [
                Correction(field="total_amount", old=None, new="113.00", at=NOW, by=CLIENT)
            ],
        }
    )
    store.create(
        stored,
        Expense(
            expense_id=stored.expense_id,
            user_code=OWNER,
            invoice_keys=[stored.invoice_key],
            currency="CNY",
            created_at=NOW,
        ),
    )
    monkeypatch.setattr(module, "deps", lambda: module.Deps(store=store))
    query = {"invoice_code": "3100231130", "invoice_number": "20000001"}

    status, body = call(
        module, "GET", "/common/invoice/detail", query=query, function="InvoiceDetailFunction"
    )

    assert (status, body["resCode"]) == (200, 200000)
    (item,) = body["data"]
    assert item["ocrResult"]["invoice_num"] == "20000001"
    assert item["checkResult"]["result"] == 1
    assert item["corrections"] == [  # stored before roles: admin's
        {
            "field": "total_amount",
            "old": None,
            "new": "113.00",
            "at": NOW.isoformat(),
            "by": CLIENT,
            "role": "admin",
        }
    ]
