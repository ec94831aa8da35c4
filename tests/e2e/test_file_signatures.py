"""The company's ``verify_file_signatures`` through a running local hub (issue 15), as a
client calls it: ocrSync (000, create_expense N and Y), the detail query and Maycur's
import (002), the invoice files served on loopback, verification by a fake exocr that
counts what it is asked. With the setting on, a tampered file, one modified after
signing and one signed under the test tax CA are F with 907016, 907017 and 907018 and
never reach the paid check; unsigned 数电 PDFs and genuine tax-bureau OFDs are not
refused. With it off (the company file is rewritten: the hub reads it at every call),
nothing is refused for its signature."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fixtures.generate import InvoiceSpec, invoice_ofd
from fixtures.served import recent_invoice, serving
from unit.services.test_signature_enforcement import (
    corpus_file,
    with_a_printed_digit_changed,
    with_an_unsigned_document,
)

from e2e.test_import_invoice_pic import assert_nack, paced
from e2e.test_import_invoice_pic import spec_example as import_request
from fakes.exocr_server import FakeExocr, authority_says, result
from fapiao.wire.common import dump_json
from hubprocess import RunningHub, call, get, start_hub

pytestmark = pytest.mark.slow
OCR_SYNC = "/common/InvoiceOCR/ocrSync"
ON = {"verify_file_signatures": True}
OFF: dict[str, Any] = {}
TAMPERED = "发票文件签名验证失败,文件已被篡改"
MODIFIED = "发票文件签名后被修改"
TEST_CA = "发票文件由税务测试证书签名,不是正式发票"
SIGNATURE_CODES = {907016, 907017, 907018}

# Generated and recent, so that an invoice nothing refuses is checked by exocr.
BY_TEST_CA, EDITED, UNCOVERED, GENUINE = (recent_invoice(s) for s in (9101, 9102, 9103, 9104))
OFF_TEST_CA, IMPORTED_TEST_CA, IMPORTED_EDITED = (recent_invoice(s) for s in (9105, 9106, 9107))


@dataclass(frozen=True)
class Served:
    url: str  # a path on the file server until it serves
    number: str  # the invoice number exocr would be asked about
    code: int | None  # the refusal's code with the setting on, None: not refused


def _generated() -> dict[str, tuple[bytes, Served]]:
    def served(path: str, spec: InvoiceSpec, code: int | None) -> Served:
        return Served(path, spec.invoice_number, code)

    return {
        "test-ca": (
            invoice_ofd(BY_TEST_CA, signed_by="tax_bureau_test"),
            served("/test-ca.ofd", BY_TEST_CA, 907018),
        ),
        "tampered": (
            with_a_printed_digit_changed(invoice_ofd(EDITED)),
            served("/tampered.ofd", EDITED, 907016),
        ),
        "modified": (
            with_an_unsigned_document(invoice_ofd(UNCOVERED)),
            served("/modified.ofd", UNCOVERED, 907017),
        ),
        "genuine": (invoice_ofd(GENUINE), served("/genuine.ofd", GENUINE, None)),
        "off-test-ca": (
            invoice_ofd(OFF_TEST_CA, signed_by="tax_bureau_test"),
            served("/off-test-ca.ofd", OFF_TEST_CA, 907018),
        ),
        "import-test-ca": (
            invoice_ofd(IMPORTED_TEST_CA, signed_by="tax_bureau_test"),
            served("/import-test-ca.ofd", IMPORTED_TEST_CA, 907018),
        ),
        "import-tampered": (
            with_a_printed_digit_changed(invoice_ofd(IMPORTED_EDITED)),
            served("/import-tampered.ofd", IMPORTED_EDITED, 907016),
        ),
    }


# The corpus: invoice numbers as the files print them (../shared/corpus/expected.json).
CORPUS_FILES = {
    "didi": ("yooongchun__Invoice2Excel__didi.pdf", "/didi.pdf", "23326471", 907017),
    "999": ("ofdrw__ofdrw__999.ofd", "/999.ofd", "12235358", 907018),
    "tampered-1": ("ofdrw__ofdrw__1.ofd", "/tampered-1.ofd", "83089647", 907016),
    "shudian": ("wanglia101511__tools__发票.pdf", "/shudian.pdf", "25317000002228021821", None),
    "tax-bureau": ("ofdrw__ofdrw__SignScaleError.ofd", "/tax-bureau.ofd", "99934328", None),
}


@pytest.fixture(scope="module")
def files() -> Iterator[dict[str, Served]]:
    table: dict[str, Served] = {}
    bodies: dict[str, bytes] = {}
    for name, (body, served) in _generated().items():
        table[name], bodies[served.url] = served, body
    for name, (file_name, path, number, code) in CORPUS_FILES.items():
        body = corpus_file(file_name)
        if name == "tampered-1":
            body = with_a_printed_digit_changed(body)
        table[name], bodies[path] = Served(path, number, code), body
    with serving(bodies) as base:
        yield {name: Served(base + s.url, s.number, s.code) for name, s in table.items()}


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        for spec in (BY_TEST_CA, EDITED, UNCOVERED, GENUINE, OFF_TEST_CA):
            fake.script(spec.invoice_number, authority_says(spec))
        for name in ("shudian", "tax-bureau"):  # real invoices the fake cannot know: 9
            fake.script(CORPUS_FILES[name][2], result(9))
        yield fake


@dataclass
class Hub:
    running: RunningHub
    company_file: Path

    @property
    def url(self) -> str:
        return self.running.url


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, exocr: FakeExocr) -> Iterator[Hub]:
    folder = Path(tmp_path_factory.mktemp("signatures"))
    company = folder / "company.json"
    company.write_text(json.dumps(ON), encoding="utf-8")
    env = {
        "FAPIAO_ALLOW_LOOPBACK_FETCH": "1",
        **exocr.hub_settings,
        "FAPIAO_COMPANY_FILE": str(company),
    }
    running = start_hub(folder / "data", env)
    yield Hub(running, company)
    running.stop()


@contextmanager
def setting_off(hub: Hub) -> Iterator[None]:
    hub.company_file.write_text(json.dumps(OFF), encoding="utf-8")
    try:
        yield
    finally:
        hub.company_file.write_text(json.dumps(ON), encoding="utf-8")


def ocr_sync(hub: Hub, url: str, create_expense: str) -> dict[str, Any]:
    body = {
        "bizId": f"sig-{create_expense}-{uuid.uuid4().hex[:12]}",
        "timestamp": 123,
        "data": {
            "attachment_url": url,
            "purchase_invoice": "N",
            "create_expense": create_expense,
            "user_code": "sss.ddd",
        },
    }
    status, answer = call("POST", hub.url + OCR_SYNC, dump_json(body).encode("utf-8"))
    assert status == 200, answer
    assert answer["resCode"] == 200000, answer
    elements: list[dict[str, Any]] = answer["data"]
    (element,) = elements
    return element


def status_of(element: dict[str, Any], create_expense: str) -> str:
    """N answers the reading (ocrResult), Y the expense created."""
    status: str = (
        element["ocrResult"]["invoice_status"]
        if create_expense == "N"
        else element["invoice_status"]
    )
    return status


MESSAGES = {907016: TAMPERED, 907017: MODIFIED, 907018: TEST_CA}
REFUSED = ["test-ca", "tampered", "modified", "didi", "999", "tampered-1"]


# --- ocrSync, the setting on ------------------------------------------------------------


@pytest.mark.parametrize("create_expense", ["N", "Y"])
@pytest.mark.parametrize("name", REFUSED)
def test_ocr_sync_refuses_the_file_with_its_code_and_pays_no_check(
    hub: Hub, files: dict[str, Served], exocr: FakeExocr, name: str, create_expense: str
) -> None:
    served = files[name]
    assert served.code is not None

    element = ocr_sync(hub, served.url, create_expense)

    assert status_of(element, create_expense) == "F"
    assert element["invoice_message_code"] == served.code
    assert element["invoice_message"].startswith(MESSAGES[served.code] + ": ")
    assert exocr.calls_for(served.number) == 0


@pytest.mark.parametrize("create_expense", ["N", "Y"])
@pytest.mark.parametrize("name", ["genuine", "shudian", "tax-bureau"])
def test_ocr_sync_checks_what_no_signature_refuses(
    hub: Hub, files: dict[str, Served], exocr: FakeExocr, name: str, create_expense: str
) -> None:
    """A generated OFD signed by an unknown CA, an unsigned 数电 PDF and a tax bureau's
    OFD (2022, checkable): each goes to exocr, none is refused for its signature."""
    served = files[name]

    element = ocr_sync(hub, served.url, create_expense)

    assert element["invoice_message_code"] not in SIGNATURE_CODES, element
    # exocr was asked about it (by this call, or by an earlier one whose answer is cached)
    assert exocr.calls_for(served.number) >= 1
    if name == "genuine":
        assert status_of(element, create_expense) == "Y"
    else:  # what exocr answered: 所查发票不存在
        assert (status_of(element, create_expense), element["invoice_message_code"]) == (
            "F",
            907001,
        )


def test_the_detail_query_answers_the_stored_signature(hub: Hub, files: dict[str, Served]) -> None:
    ocr_sync(hub, files["test-ca"].url, "Y")  # stored F 907018 (or by an earlier test)

    status, answer = get(
        f"{hub.url}/common/invoice/detail?"
        + urlencode(
            {"invoice_code": BY_TEST_CA.invoice_code, "invoice_number": BY_TEST_CA.invoice_number}
        )
    )

    assert status == 200, answer
    (item,) = answer["data"]
    assert item["ocrResult"]["invoice_status"] == "F"
    signature = item["signature"]
    assert signature["state"] == "valid"
    assert signature["issuer_kind"] == "tax_bureau_test"
    assert signature["issuer"] == "C=CN, CN=税务测试CA2(SM2)"
    assert signature["signer"] == "C=CN, CN=Test Signer"
    assert signature["algorithm"] == "SM2-SM3"
    assert signature["certificate_valid_at_signing"] is True
    assert signature["signed_at"].startswith("2024-05-31")
    assert signature["reason"] is None


def test_the_detail_of_a_tampered_file_says_why(hub: Hub, files: dict[str, Served]) -> None:
    ocr_sync(hub, files["tampered"].url, "Y")
    status, answer = get(
        f"{hub.url}/common/invoice/detail?"
        + urlencode({"invoice_code": EDITED.invoice_code, "invoice_number": EDITED.invoice_number})
    )
    assert status == 200, answer
    (item,) = answer["data"]
    assert item["signature"]["state"] == "tampered"
    assert "Content.xml" in item["signature"]["reason"]


# --- the setting off --------------------------------------------------------------------


def test_with_the_setting_off_nothing_is_refused_for_its_signature(
    hub: Hub, files: dict[str, Served], exocr: FakeExocr
) -> None:
    with setting_off(hub):
        test_ca = ocr_sync(hub, files["off-test-ca"].url, "Y")
        didi = ocr_sync(hub, files["didi"].url, "N")

    assert (test_ca["invoice_status"], test_ca["invoice_message_code"]) == ("Y", None)
    assert exocr.calls_for(OFF_TEST_CA.invoice_number) == 1
    # didi.pdf is from 2018: decided offline as too old, not for its signature
    assert didi["invoice_message_code"] == 907008
    assert exocr.calls_for(files["didi"].number) == 0


# --- Maycur's import (002) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "spec", "message"),
    [
        ("import-test-ca", IMPORTED_TEST_CA, TEST_CA),
        ("import-tampered", IMPORTED_EDITED, TAMPERED),
    ],
)
def test_a_maycur_import_says_why_the_refused_invoice_failed(
    hub: Hub,
    files: dict[str, Served],
    exocr: FakeExocr,
    name: str,
    spec: InvoiceSpec,
    message: str,
) -> None:
    served = files[name]
    request = {**import_request(served.url), "fileType": "OFD"}
    del request["expenseCode"]

    status, answer = paced(hub.running, request)

    assert status == 200, answer
    assert (answer["code"], answer["success"]) == ("ACK", True)
    (dto,) = answer["data"]
    assert dto["invoiceNumber"] == spec.invoice_number
    assert (dto["validateStatus"], dto["validateStatusDesc"]) == ("VALIDATION_FAILED", "验真失败")
    assert dto["errorCode"] == str(served.code)
    assert dto["remark"] == dto["errorMessage"]
    assert dto["remark"].startswith(message + ": ")
    assert exocr.calls_for(spec.invoice_number) == 0


def test_a_second_import_of_a_refused_file_is_still_a_duplicate(
    hub: Hub, files: dict[str, Served]
) -> None:
    """The refused invoice was stored (F): importing the file again is INV20002."""
    request = {**import_request(files["import-test-ca"].url), "fileType": "OFD"}
    del request["expenseCode"]
    paced(hub.running, request)  # stored by the test above, or now
    status, again = paced(hub.running, request)
    assert status == 409, again
    assert_nack(again, "INV20002")
