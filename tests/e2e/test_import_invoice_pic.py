"""Maycur's import-invoice-pic (spec 002) through a running local hub, as a Maycur client
calls it: the invoice PDF served on 127.0.0.1, 002's envelope for every answer, and the
2 requests/second limit of the usage plan."""

from __future__ import annotations

import copy
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from contract.spec_examples import examples
from fixtures.generate import invoice_pdf, qr_photo
from fixtures.served import recent_invoice, serving

from fapiao.dates import to_epoch_millis
from fapiao.wire.common import dump_json, load_json
from hubprocess import RunningHub, get, start_hub

pytestmark = pytest.mark.slow
IMPORT = "/api/openapi/invoice/import-invoice-pic"
SPEC = recent_invoice(21)
TWICE = recent_invoice(22)
PHOTOGRAPHED = recent_invoice(23)  # only its QR code is read: no total
DEV_EMPLOYEE_USER_CODE = "UI2012221C97WQDC"  # MK00001, the employee the hub seeds


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    served = {
        "/invoice.pdf": invoice_pdf(SPEC),
        "/twice.pdf": invoice_pdf(TWICE),
        "/qr.jpg": qr_photo([PHOTOGRAPHED.qr_payload()]),
    }
    with serving(served) as base:
        yield base


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(
        Path(tmp_path_factory.mktemp("hub")) / "data", {"FAPIAO_ALLOW_LOOPBACK_FETCH": "1"}
    )
    yield running
    running.stop()


class Pace:
    """002 allows 2 calls a second per client: the functional tests keep to it, so that
    only the burst test meets the limit."""

    gap = 0.55
    _last = 0.0
    _lock = threading.Lock()

    @classmethod
    def wait(cls) -> None:
        with cls._lock:
            delay = cls._last + cls.gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            cls._last = time.monotonic()


def post(hub: RunningHub, body: dict[str, Any], api_key: str | None = None) -> tuple[int, Any]:
    """POST to the import route; the answer read with exact decimals."""
    request = urllib.request.Request(
        hub.url + IMPORT, data=dump_json(body).encode("utf-8"), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    key = hub.api_key if api_key is None else api_key
    if key:
        request.add_header("x-api-key", key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, load_json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, load_json(error.read())


def paced(hub: RunningHub, body: dict[str, Any]) -> tuple[int, Any]:
    Pace.wait()
    return post(hub, body)


def spec_example(file_url: str) -> dict[str, Any]:
    """002's request example, its fileUrl pointed at a served file (it wins over the
    example's fileBase64, which is no file at all)."""
    request: dict[str, Any] = copy.deepcopy(examples("002")[0])
    request["fileUrl"] = file_url
    return request


def assert_nack(answer: Any, error_code: str) -> None:
    assert answer["code"] == "NACK"
    assert answer["success"] is False
    assert answer["errorCode"] == error_code
    assert answer["data"] is None
    assert answer["message"]


def test_spec_example_names_an_unknown_expense_then_imports_without_it(
    hub: RunningHub, files: str
) -> None:
    request = spec_example(f"{files}/invoice.pdf")
    assert request["expenseCode"] == "FD231231"
    status, answer = paced(hub, request)
    assert status == 404, answer
    assert_nack(answer, "EXPENSE_ERR_13")

    del request["expenseCode"]
    status, answer = paced(hub, request)  # the example says JPG; the file is a PDF
    assert status == 415, answer
    assert_nack(answer, "INV30104")

    request["fileType"] = "PDF"
    status, answer = paced(hub, request)
    assert status == 200, answer
    assert (answer["code"], answer["success"], answer["errorCode"]) == ("ACK", True, None)
    (dto,) = answer["data"]
    assert dto["invoiceCode"] == SPEC.invoice_code
    assert dto["invoiceNumber"] == SPEC.invoice_number
    assert dto["issueDate"] == to_epoch_millis(SPEC.receipt_date)
    assert str(dto["totalPriceAmount"]) == str(SPEC.amount)  # exact digits on the wire
    assert str(dto["totalTaxAmount"]) == str(SPEC.tax_amount)
    assert str(dto["totalPriceAndTax"]) == str(SPEC.total_amount)
    assert dto["supplierName"] == SPEC.seller_name
    assert dto["supplierTaxNumber"] == SPEC.seller_tax_code
    assert dto["buyerName"] == SPEC.buyer_name
    assert dto["buyerTaxNumber"] == SPEC.buyer_tax_code
    assert [(i["name"], i["priceAmount"], i["taxAmount"]) for i in dto["lineItems"]] == [
        (item.name, item.amount, item.tax_amount) for item in SPEC.items
    ]
    # no provider is configured: the invoice waits for its check
    assert (dto["validateStatus"], dto["validateStatusDesc"]) == ("NOT_VALIDATION", "未验真")
    assert dto["invoiceDataCode"] == f"INV{SPEC.invoice_code}{SPEC.invoice_number}"
    assert dto["userCode"] == DEV_EMPLOYEE_USER_CODE
    assert dto["source"] == "OPENAPI_IMPORT"
    assert abs(dto["importedAt"] - time.time() * 1000) < 60_000
    expense = dto["expenseCode"]
    assert expense.startswith("FD") and expense[2:].isdigit()
    assert {i["expenseCode"] for i in dto["lineItems"]} == {expense}

    # the expense code names the expense the hub stored the invoice under
    status, detail = get(f"{hub.url}/common/invoice/detail?expense_id={expense[2:]}")
    assert status == 200, detail
    assert [d["ocrResult"]["invoice_num"] for d in detail["data"]] == [SPEC.invoice_number]


def test_a_second_import_of_the_same_file_is_INV20002_with_409(hub: RunningHub, files: str) -> None:
    request = {**spec_example(f"{files}/twice.pdf"), "fileType": "PDF"}
    del request["expenseCode"]
    status, first = paced(hub, request)
    assert status == 200, first
    assert [d["invoiceNumber"] for d in first["data"]] == [TWICE.invoice_number]

    status, second = paced(hub, request)
    assert status == 409, second
    assert_nack(second, "INV20002")


@pytest.mark.parametrize("key", ["", "fpk_not-a-key-of-anyone"])
def test_a_call_without_a_valid_key_is_401_in_002s_envelope(
    hub: RunningHub, files: str, key: str
) -> None:
    status, answer = post(hub, spec_example(f"{files}/invoice.pdf"), api_key=key)
    assert status == 401
    assert_nack(answer, "HUB40100")


def test_a_burst_of_10_calls_in_a_second_gets_at_most_3_through_and_429_for_the_rest(
    hub: RunningHub,
) -> None:
    cheap = {"fileUrl": "http://127.0.0.1:9/a.pdf", "fileType": "PDF", "employeeId": "NOBODY"}
    time.sleep(1.1)  # the bucket is full again (2 calls)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: post(hub, cheap), range(10)))
    took = time.monotonic() - started
    Pace._last = time.monotonic()

    assert took < 1.0, took
    through = [(status, body) for status, body in answers if status != 429]
    limited = [body for status, body in answers if status == 429]
    assert 1 <= len(through) <= 3, answers
    assert len(through) + len(limited) == 10
    for status, body in through:  # they ran: the employee is unknown
        assert status == 404
        assert_nack(body, "AUTH0007")
    for body in limited:
        assert_nack(body, "HUB42900")
        assert "2 次/秒" in body["message"]


def test_an_invoice_read_from_its_qr_code_alone_is_not_validated_and_says_why(
    hub: RunningHub, files: str
) -> None:
    request = spec_example(f"{files}/qr.jpg")
    del request["expenseCode"]
    request["fileType"] = "JPG"

    status, answer = paced(hub, request)

    assert status == 200, answer
    (dto,) = answer["data"]
    words = "发票信息不全,补全后查验: total_amount"
    # C: nothing failed, it waits for its total: 未验真, never 验真失败
    assert (dto["validateStatus"], dto["validateStatusDesc"]) == ("NOT_VALIDATION", "未验真")
    assert (dto["remark"], dto["errorCode"], dto["errorMessage"]) == (words, "907010", words)
    assert "has_what_verification_needs" not in dump_json(answer)
