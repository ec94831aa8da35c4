"""The invoice QR code: its payload parsed, and found in photos and scans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fixtures.generate import qr_photo, rail_spec, vat_spec

from fapiao.catalogue.types import InvoiceType
from fapiao.model import InvoiceStatus
from fapiao.recognize import Source, recognize
from fapiao.recognize.qr import NotAnInvoiceQr, parse_payload

T = InvoiceType


def test_old_e_invoice_payload_carries_the_pre_tax_amount() -> None:
    payload = parse_payload("01,10,012001900111,51142414,47.26,20190720,65431824771847114698,8BDD,")
    assert payload.invoice_type is T.VAT_ELECTRONIC_NORMAL
    assert payload.invoice_code == "012001900111"
    assert payload.invoice_number == "51142414"
    assert payload.amount == Decimal("47.26")
    assert payload.total_amount is None
    assert payload.receipt_date == dt.date(2019, 7, 20)
    assert payload.check_code == "65431824771847114698"


def test_digital_payload_carries_the_total_and_no_code() -> None:
    payload = parse_payload("01,32,,25317000000740141372,1137.00,20250425,,5072")
    assert payload.invoice_type is T.DIGITAL_NORMAL
    assert payload.invoice_code is None
    assert payload.total_amount == Decimal("1137.00")
    assert payload.amount is None
    assert payload.check_code is None


@pytest.mark.parametrize(
    ("code", "invoice_type"),
    [("31", T.DIGITAL_SPECIAL), ("51", T.DIGITAL_RAIL), ("61", T.DIGITAL_FLIGHT)],
)
def test_digital_type_codes(code: str, invoice_type: InvoiceType) -> None:
    payload = parse_payload(f"01,{code},,25429165818000921016,304.00,20250425,,b601")
    assert payload.invoice_type is invoice_type
    assert payload.total_amount == Decimal("304.00")


def test_special_invoice_without_check_code() -> None:
    payload = parse_payload("01,01,5100191160,00472703,1456.31,20190614,,E6B0,")
    assert payload.invoice_type is T.VAT_SPECIAL
    assert payload.invoice_code == "5100191160"
    assert payload.check_code is None


def test_toll_invoice_is_told_by_its_code() -> None:
    payload = parse_payload("01,10,042001700112,21507543,6.2,20180323,06181427187004874225,8935,")
    assert payload.invoice_type is T.VAT_ELECTRONIC_TOLL
    assert payload.amount == Decimal("6.2")


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/invoice",
        "01,99,,25317000000740141372,1137.00,20250425,,5072",  # unknown type
        "01,10,0120019001,51142414,47.26,20190720,,",  # 10-digit code is fine, 8-digit number
        "01,10,012001900111,5114241,47.26,20190720,,",  # 7-digit number
        "01,10,012001900111,51142414,forty,20190720,,",
        "01,10,012001900111,51142414,47.26,20191320,,",  # month 13
        "01,10,012001900111,51142414,47.26,20190720,123,",  # short check code
        "02,10,012001900111,51142414,47.26,20190720,,",
    ],
)
def test_other_payloads_are_not_invoices(text: str) -> None:
    if text.startswith("01,10,0120019001,"):
        assert parse_payload(text).invoice_code == "0120019001"
        return
    with pytest.raises(NotAnInvoiceQr):
        parse_payload(text)


# --- in pictures -------------------------------------------------------------------


def _read(data: bytes) -> dict[str, dict[str, object]]:
    results = recognize(data)
    assert all(r.status is InvoiceStatus.RECOGNIZED for r in results), [r.reason for r in results]
    found = {}
    for r in results:
        assert r.invoice is not None
        assert set(r.sources.get("invoice_number", [])) == {Source.QR}
        found[r.invoice.invoice_number or ""] = r.invoice.model_dump()
    return found


def test_several_qr_codes_in_one_photo_are_several_invoices() -> None:
    specs = [vat_spec(1), vat_spec(2), rail_spec(3)]
    found = _read(qr_photo([s.qr_payload() for s in specs], size=(2000, 1000)))
    assert set(found) == {s.invoice_number for s in specs}
    for spec in specs:
        read = found[spec.invoice_number]
        assert read["invoice_type"] is spec.invoice_type
        assert read["receipt_date"] == spec.receipt_date
        assert read["check_code"] == spec.check_code
    assert found[specs[0].invoice_number]["amount"] == specs[0].amount
    assert found[specs[2].invoice_number]["total_amount"] == specs[2].total_amount


@pytest.mark.parametrize("angle", [90, 180, 33])
def test_rotated_qr_codes_are_read(angle: float) -> None:
    spec = vat_spec(4)
    assert spec.invoice_number in _read(qr_photo([spec.qr_payload()], rotate=angle))


def test_small_qr_codes_are_read() -> None:
    spec = vat_spec(5)
    assert spec.invoice_number in _read(qr_photo([spec.qr_payload()], scale=2, size=(900, 600)))


def test_blurred_qr_codes_are_read() -> None:
    spec = vat_spec(6)
    data = qr_photo([spec.qr_payload()], scale=3, blur=1.6, size=(900, 600))
    assert spec.invoice_number in _read(data)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "BMP"])
def test_other_image_formats(fmt: str) -> None:
    spec = vat_spec(7)
    assert spec.invoice_number in _read(qr_photo([spec.qr_payload()], fmt=fmt, size=(700, 500)))


def test_image_without_invoice_qr_code_is_status_u_with_a_reason() -> None:
    results = recognize(qr_photo(["https://example.com/not-an-invoice"], size=(600, 400)))
    assert len(results) == 1
    assert results[0].status is InvoiceStatus.UNRECOGNISABLE
    assert results[0].invoice is None
    assert "OCR" in (results[0].reason or "")
    assert any("not an invoice" in w for w in results[0].warnings)


def test_blank_image_is_status_u() -> None:
    (result,) = recognize(qr_photo([], size=(400, 300)))
    assert result.status is InvoiceStatus.UNRECOGNISABLE
    assert result.reason
