"""The hub's own async identify API (spec 004) through a running local hub: submit a file
or a URL, poll the result until the ingest state machine (run by moto with the
in-process handlers) is done; refusals in 004's envelope with 004's messages."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.generate import invoice_pdf
from fixtures.served import recent_invoice, serving
from PIL import Image

from hubprocess import RunningHub, call, get, start_hub
from support import Session

pytestmark = pytest.mark.slow
IDENTIFY = "/openapi/identify"
SPEC = recent_invoice(61)
BY_URL = recent_invoice(62)
TYPES = {"pdf": "application/pdf", "png": "image/png", "gif": "image/gif"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(
        Path(tmp_path_factory.mktemp("hub")) / "data", {"FAPIAO_ALLOW_LOOPBACK_FETCH": "1"}
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with serving({"/by-url.pdf": invoice_pdf(BY_URL)}) as base:
        yield base


def send_file(hub: RunningHub, data: bytes, name: str) -> tuple[int, Any]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="imageFile"; filename="{name}"\r\n'
        f"Content-Type: {TYPES[name.rsplit('.', 1)[-1]]}\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return call(
        "POST",
        f"{hub.url}{IDENTIFY}/sendByImageFile",
        body,
        f"multipart/form-data; boundary={boundary}",
    )


def send_url(hub: RunningHub, url: str) -> tuple[int, Any]:
    body = json.dumps({"imageUrl": url}).encode()
    return call("POST", f"{hub.url}{IDENTIFY}/sendByImageUrl", body)


def result(hub: RunningHub, identify_id: str) -> tuple[int, Any]:
    body = json.dumps({"identifyId": identify_id}).encode()
    return call("POST", f"{hub.url}{IDENTIFY}/result", body)


def submitted(answer: tuple[int, Any]) -> str:
    status, sent = answer
    assert status == 200, sent
    assert set(sent) == {"code", "data"}
    assert sent["code"] == 0
    assert re.fullmatch(r"[0-9a-f]{32}", sent["data"]), sent
    return str(sent["data"])


def finished(hub: RunningHub, identify_id: str, within: float = 30) -> dict[str, Any]:
    """Poll as a 004 client does: code 0 with data null is still pending."""
    deadline = time.monotonic() + within
    pending = 0
    while time.monotonic() < deadline:
        status, answer = result(hub, identify_id)
        assert status == 200, answer
        if answer != {"code": 0, "data": None}:
            return dict(answer)
        pending += 1
        time.sleep(0.2)
    raise AssertionError(f"{identify_id} still pending after {within} s ({pending} polls)")


def test_an_uploaded_invoice_is_identified_in_004s_vat_shape(hub: RunningHub) -> None:
    identify_id = submitted(send_file(hub, invoice_pdf(SPEC), "发票.pdf"))
    answer = finished(hub, identify_id)
    assert set(answer) == {"code", "data"}
    assert answer["code"] == 0
    data = answer["data"]
    assert data["invoiceType"] == "1002"  # 增值税电子普通发票
    assert data["invoiceCode"] == SPEC.invoice_code
    assert data["invoiceNo"] == SPEC.invoice_number
    assert data["date"] == SPEC.receipt_date.strftime("%Y年%m月%d日")
    assert data["amountWithoutTax"] == str(SPEC.amount)
    assert data["taxAmount"] == str(SPEC.tax_amount)
    assert data["totalAmount"] == str(SPEC.total_amount)
    assert data["checkCode"] == SPEC.check_code
    assert data["purchaserName"] == SPEC.buyer_name
    assert data["purchaserTaxNo"] == SPEC.buyer_tax_code
    assert data["sellerName"] == SPEC.seller_name
    assert data["sellerTaxNo"] == SPEC.seller_tax_code
    assert "amountWithTax" not in data  # the example's name is read, never written

    # the same answer again: a result can be read any number of times
    assert result(hub, identify_id) == (200, answer)


def test_identifying_creates_no_invoice(hub: RunningHub) -> None:
    identify_id = submitted(send_file(hub, invoice_pdf(SPEC), "again.pdf"))
    assert finished(hub, identify_id)["code"] == 0
    status, detail = get(
        f"{hub.url}/common/invoice/detail"
        f"?invoice_code={SPEC.invoice_code}&invoice_number={SPEC.invoice_number}"
    )
    assert status == 404, detail
    assert detail["resCode"] == 404000


def test_an_image_without_a_qr_code_fails_with_the_reason(hub: RunningHub) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), "white").save(buffer, "PNG")
    identify_id = submitted(send_file(hub, buffer.getvalue(), "blank.png"))
    answer = finished(hub, identify_id)
    assert set(answer) == {"code", "message"}
    assert answer["code"] == -1
    assert answer["message"].startswith("识别失败: ")
    assert "QR" in answer["message"]


def test_an_unknown_identify_id_is_404(hub: RunningHub) -> None:
    assert result(hub, uuid.uuid4().hex) == (404, {"code": -1, "message": "未查询到对应识别请求"})


def test_an_upload_over_1m_is_refused(hub: RunningHub) -> None:
    big = invoice_pdf(SPEC) + b"\n" * (2 * 1024 * 1024)
    assert send_file(hub, big, "big.pdf") == (413, {"code": -1, "message": "图片最大支持1M"})


def test_a_gif_is_refused(hub: RunningHub) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, "GIF")
    assert send_file(hub, buffer.getvalue(), "a.gif") == (
        415,
        {"code": -1, "message": "图片文件类型不支持"},
    )


def test_a_url_is_downloaded_and_identified(hub: RunningHub, files: str) -> None:
    identify_id = submitted(send_url(hub, f"{files}/by-url.pdf"))
    answer = finished(hub, identify_id)
    assert answer["code"] == 0, answer
    assert answer["data"]["invoiceNo"] == BY_URL.invoice_number
    assert answer["data"]["totalAmount"] == str(BY_URL.total_amount)


def test_a_private_address_is_refused_before_any_connection(hub: RunningHub) -> None:
    started = time.monotonic()
    status, answer = send_url(hub, "http://10.0.0.1/a.pdf")
    assert time.monotonic() - started < 2.5  # the fetcher's connect timeout is 3 s
    assert status == 422
    assert answer["code"] == -1
    # refused by the address policy, which runs before any connection is opened
    assert answer["message"] == "图片URL无法访问: 10.0.0.1 is a private address"


def test_the_s3_drop_left_identify_objects_alone(hub: RunningHub) -> None:
    """Storing an identify object notifies the drop queue like any object; the S3 drop
    function must not start a second execution for it."""
    identify_id = submitted(send_file(hub, invoice_pdf(SPEC), "dropped.pdf"))
    finished(hub, identify_id)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any("identify object skipped" in line and identify_id in line for line in hub.output):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the S3 drop never saw the identify object's notification")
    assert not any('"message":"dropped"' in line and identify_id in line for line in hub.output)
    stepfunctions = Session(hub.aws).client("stepfunctions")
    names = [  # of the Standard machine, and of the Express one it runs the invoices in
        execution["name"]
        for m in stepfunctions.list_state_machines()["stateMachines"]
        if m["name"] in ("IngestStateMachine", "fapiao-local-ExpressIngest")
        for execution in stepfunctions.list_executions(stateMachineArn=m["stateMachineArn"])[
            "executions"
        ]
    ]
    assert identify_id in names
    assert all(re.fullmatch(r"[0-9a-f]{32}", name) for name in names), names  # no obj-… twin
