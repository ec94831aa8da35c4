"""ocrSync (spec 000) through a running local hub, the invoice file served on loopback and
verified by a fake exocr: the documented shapes, every field the invoice carries."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fixtures.generate import invoice_pdf, qr_photo
from fixtures.served import recent_invoice, serving

from fakes.exocr_server import FakeExocr, authority_says
from fapiao.dates import to_epoch_millis, to_utc_midnight_millis
from fapiao.wire.common import dump_json, load_json
from hubprocess import RunningHub, call, start_hub
from support import SPECS

pytestmark = pytest.mark.slow
OCR_SYNC = "/common/InvoiceOCR/ocrSync"
SPEC = recent_invoice(7)
OTHER = recent_invoice(8)
OLD = replace(recent_invoice(9), receipt_date=dt.date.today() - dt.timedelta(days=6 * 366))
PHOTOGRAPHED = recent_invoice(10)  # only its QR code is read: no total


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    served = {
        "/a.pdf": invoice_pdf(SPEC),
        "/b.pdf": invoice_pdf(OTHER),
        "/old.pdf": invoice_pdf(OLD),
        "/qr.jpg": qr_photo([PHOTOGRAPHED.qr_payload()]),
    }
    with serving(served) as base:
        yield base


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        for spec in (SPEC, OTHER):
            fake.script(spec.invoice_number, authority_says(spec))
        yield fake


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, exocr: FakeExocr) -> Iterator[RunningHub]:
    env = {
        "FAPIAO_ALLOW_LOOPBACK_FETCH": "1",
        **exocr.hub_settings,
    }
    running = start_hub(Path(tmp_path_factory.mktemp("hub")) / "data", env)
    yield running
    running.stop()


def spec_example(attachment_url: str, create_expense: str) -> dict[str, Any]:
    if not SPECS.is_dir():
        pytest.skip(f"the shared specs are not at {SPECS}")
    text = next(SPECS.glob("000_*.txt")).read_text(encoding="utf-8")
    start = text.index("请求示例")
    body = text[text.index("{", start) : text.index("返回示例")]
    request: dict[str, Any] = copy.deepcopy(load_json(body.strip()))
    request["data"]["attachment_url"] = attachment_url
    request["data"]["create_expense"] = create_expense
    request["bizId"] = f"ocr-{create_expense}-{attachment_url[-5:]}"
    return request


def post(hub: RunningHub, body: dict[str, Any]) -> tuple[int, Any]:
    return call("POST", hub.url + OCR_SYNC, dump_json(body).encode("utf-8"))


def test_example_without_expense_answers_ocr_and_check_results(hub: RunningHub, files: str) -> None:
    status, answer = post(hub, spec_example(f"{files}/a.pdf", "N"))
    assert status == 200, answer
    assert answer["resCode"] == 200000
    (element,) = answer["data"]
    ocr, check = element["ocrResult"], element["checkResult"]
    assert ocr["invoice_type"] == "10"
    assert ocr["invoice_code"] == SPEC.invoice_code
    assert ocr["invoice_num"] == SPEC.invoice_number
    assert ocr["receipt_date"] == to_epoch_millis(SPEC.receipt_date)
    assert str(ocr["amount"]) == str(SPEC.total_amount)  # 000: amount is the total
    assert str(ocr["pretax_amount"]) == str(SPEC.amount)
    assert str(ocr["tax_amount"]) == str(SPEC.tax_amount)
    assert ocr["buyer_name"] == SPEC.buyer_name
    assert ocr["buyer_tax_code"] == SPEC.buyer_tax_code
    assert ocr["seller_name"] == SPEC.seller_name
    assert ocr["seller_tax_code"] == SPEC.seller_tax_code
    assert ocr["attachment_url"] == f"{files}/a.pdf"
    assert ocr["invoice_status"] == "Y"
    assert len(ocr["items"]) == len(SPEC.items)
    assert check["result"] == 1
    assert check["invoiceNum"] == SPEC.invoice_number
    assert check["receiptDate"] == to_utc_midnight_millis(SPEC.receipt_date)
    assert str(check["totalAmount"]) == str(SPEC.total_amount)
    assert check["cancellationMark"] == "N"
    assert check["sellerTaxCode"] == SPEC.seller_tax_code


def test_each_invoice_is_paid_for_once(hub: RunningHub, files: str, exocr: FakeExocr) -> None:
    before = exocr.calls_for(SPEC.invoice_number)
    assert post(hub, spec_example(f"{files}/a.pdf", "N"))[0] == 200
    assert exocr.calls_for(SPEC.invoice_number) == before  # answered from the cache


def test_example_with_expense_creates_it_once(hub: RunningHub, files: str) -> None:
    request = spec_example(f"{files}/b.pdf", "Y")
    status, answer = post(hub, request)
    assert status == 200, answer
    (created,) = answer["data"]
    assert created["invoice_status"] == "Y"
    assert created["invoice_message_code"] is None
    assert isinstance(created["expense_id"], int)

    status, again = post(hub, {**request, "bizId": request["bizId"] + "-again"})
    assert status == 200
    assert again["data"] == [
        {
            "expense_id": created["expense_id"],
            "invoice_message": "发票已导入",
            "invoice_message_code": 907002,
            "invoice_status": "F",
        }
    ]


def test_an_invoice_over_five_years_old_says_why_it_is_f(hub: RunningHub, files: str) -> None:
    status, answer = post(hub, spec_example(f"{files}/old.pdf", "N"))

    assert status == 200, answer
    (element,) = answer["data"]
    assert element["ocrResult"]["invoice_status"] == "F"
    assert element["invoice_message_code"] == 907008
    assert element["invoice_message"].startswith("开票日期超过五年,无法查验: ")
    assert "receipt_date_is_within_five_years" not in dump_json(answer)


def test_an_invoice_read_from_its_qr_code_alone_waits_for_completion(
    hub: RunningHub, files: str
) -> None:
    words = "发票信息不全,补全后查验: total_amount"
    status, plain = post(hub, spec_example(f"{files}/qr.jpg", "N"))
    assert status == 200, plain
    (element,) = plain["data"]
    assert element["ocrResult"]["invoice_status"] == "C"
    assert (element["invoice_message_code"], element["invoice_message"]) == (907010, words)

    status, created = post(hub, spec_example(f"{files}/qr.jpg", "Y"))
    assert status == 200, created
    (expense,) = created["data"]
    assert (expense["invoice_status"], expense["invoice_message_code"]) == ("C", 907010)
    assert expense["invoice_message"] == words
    assert "has_what_verification_needs" not in dump_json(created)


@pytest.mark.parametrize(
    ("url", "res_code"),
    [
        ("http://10.0.0.1/a.pdf", 422000),
        ("http://169.254.169.254/latest/meta-data/", 422000),
        ("file:///etc/passwd", 422000),
        ("missing/key.pdf", 422000),
    ],
)
def test_unreachable_and_refused_files_are_422(hub: RunningHub, url: str, res_code: int) -> None:
    status, answer = post(hub, spec_example(url, "N"))
    assert (status, answer["resCode"]) == (422, res_code)


def test_create_expense_without_user_code_is_400(hub: RunningHub, files: str) -> None:
    request = spec_example(f"{files}/a.pdf", "Y")
    del request["data"]["user_code"]
    status, answer = post(hub, request)
    assert (status, answer["resCode"]) == (400, 400000)
    assert "user_code" in answer["resMsg"]
