"""QR payloads as real files carry them: dates with dashes, and the type codes the
first table left out (20 for an 增值税电子专用发票, a 数电 paper invoice's 31/32 with a
code, the tax authority's 票种 codes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fixtures.generate import qr_photo

from fapiao.catalogue.types import InvoiceType, Vocabulary, encode, from_qr_code
from fapiao.model import InvoiceStatus
from fapiao.recognize import Source, recognize
from fapiao.recognize.qr import NotAnInvoiceQr, invoice_payloads, parse_payload

T = InvoiceType
DIGITAL = "01,32,,26112000000012345678,123.40,{date},,AB12"


def test_a_date_with_dashes_reads_as_the_same_date() -> None:
    dashed = parse_payload(DIGITAL.format(date="2026-01-22"))
    plain = parse_payload(DIGITAL.format(date="20260122"))
    assert dashed.receipt_date == plain.receipt_date == dt.date(2026, 1, 22)
    assert dashed.total_amount == Decimal("123.40")


@pytest.mark.parametrize("date", ["2026-02-30", "2026/01/22", "2026-1-22", "26-01-22", "2026-01-2"])
def test_other_date_shapes_and_impossible_dates_are_refused(date: str) -> None:
    with pytest.raises(NotAnInvoiceQr, match="yyyy-MM-dd"):
        parse_payload(DIGITAL.format(date=date))


def test_a_photo_of_a_dashed_date_qr_code_is_read() -> None:
    payload = DIGITAL.format(date="2026-01-22")
    (result,) = recognize(qr_photo([payload]))
    assert result.status is InvoiceStatus.RECOGNIZED, result.reason
    assert result.invoice is not None
    assert result.invoice.receipt_date == dt.date(2026, 1, 22)
    assert result.sources["receipt_date"][0] is Source.QR


def test_an_electronic_special_invoice_says_20() -> None:
    payload = parse_payload("01,20,033002000113,12345678,1000.00,20210122,,AB12")
    assert payload.invoice_type is T.VAT_ELECTRONIC_SPECIAL
    assert payload.invoice_code == "033002000113"
    assert payload.amount == Decimal("1000.00")  # pre-tax, as on every coded invoice
    assert payload.total_amount is None
    # the verification service's 08 is accepted too; the QR vocabulary writes 20
    assert from_qr_code("08") is T.VAT_ELECTRONIC_SPECIAL
    assert encode(Vocabulary.QR, T.VAT_ELECTRONIC_SPECIAL) == "20"


@pytest.mark.parametrize(
    ("code", "paper"), [("31", T.DIGITAL_PAPER_SPECIAL), ("32", T.DIGITAL_PAPER_NORMAL)]
)
def test_a_digital_type_with_a_code_is_a_paper_invoice(code: str, paper: InvoiceType) -> None:
    payload = parse_payload(f"01,{code},144032300111,02345678,880.00,20230512,,AB12")
    assert payload.invoice_type is paper
    assert payload.invoice_code == "144032300111"
    assert payload.amount == Decimal("880.00")
    assert payload.total_amount is None


@pytest.mark.parametrize(
    ("code", "invoice_type"),
    [
        ("81", T.DIGITAL_SPECIAL),
        ("82", T.DIGITAL_NORMAL),
        ("33", T.MOTOR_VEHICLE),
        ("83", T.MOTOR_VEHICLE),
        ("87", T.MOTOR_VEHICLE),
        ("34", T.USED_CAR),
        ("84", T.USED_CAR),
        ("88", T.USED_CAR),
        ("85", T.DIGITAL_PAPER_SPECIAL),
        ("86", T.DIGITAL_PAPER_NORMAL),
    ],
)
def test_the_authority_s_other_type_codes(code: str, invoice_type: InvoiceType) -> None:
    assert from_qr_code(code) is invoice_type


def test_a_type_with_no_canonical_type_is_still_a_note_not_an_invoice() -> None:
    # 59, a 数电 toll invoice, has no canonical type: the payload is left out, with a note
    payloads, notes = invoice_payloads(["01,59,,25422000000012345678,30.00,20250101,,AB12"])
    assert payloads == []
    assert notes == ["QR code ignored: unknown qr invoice type code: '59'"]
