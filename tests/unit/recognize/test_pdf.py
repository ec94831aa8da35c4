"""PDF e-invoices: every key field from the text layer, cross-checked with the QR code."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixtures.generate import (
    InvoiceSpec,
    exempt_spec,
    flight_spec,
    generated_pdf,
    generated_specs,
    invoice_pdf,
    rail_spec,
    scanned_pdf,
    vat_spec,
)

from fapiao.catalogue.types import InvoiceType
from fapiao.model import InvoiceStatus
from fapiao.recognize import KEY_FIELDS, FileKind, RecognizedInvoice, Source, recognize

T = InvoiceType
SPECS = generated_specs()


def _one(data: bytes) -> RecognizedInvoice:
    (result,) = recognize(data)
    assert result.status is InvoiceStatus.RECOGNIZED, result.reason
    assert result.invoice is not None
    return result


def _key_fields_match(result: RecognizedInvoice, spec: InvoiceSpec) -> None:
    assert result.invoice is not None
    for name, expected in spec.key_fields().items():
        assert getattr(result.invoice, name) == expected, name


@pytest.mark.parametrize("index", range(len(SPECS)), ids=[s.invoice_type.name for s in SPECS])
def test_every_key_field_is_exact_on_generated_pdfs(index: int) -> None:
    result = _one(generated_pdf(index))
    _key_fields_match(result, SPECS[index])
    assert result.kind is FileKind.PDF
    assert result.page == 1
    assert not result.disagreements
    assert result.sources["invoice_number"] == [Source.TEXT_LAYER, Source.QR]


def test_qr_code_confirms_the_text_layer_field_by_field() -> None:
    spec = vat_spec(11)
    result = _one(invoice_pdf(spec))
    for name in ("invoice_type", "invoice_code", "receipt_date", "amount", "check_code"):
        assert result.sources[name] == [Source.TEXT_LAYER, Source.QR], name
    assert result.sources["buyer_name"] == [Source.TEXT_LAYER]


def test_digital_qr_code_confirms_the_total() -> None:
    result = _one(invoice_pdf(vat_spec(12, T.DIGITAL_NORMAL)))
    assert result.sources["total_amount"] == [Source.TEXT_LAYER, Source.QR]
    assert Source.QR not in result.sources["amount"]


def test_a_qr_code_that_disagrees_is_reported_and_the_text_stands() -> None:
    spec = vat_spec(13)
    forged = spec.qr_payload().replace(f",{spec.amount},", ",1.00,")
    result = _one(invoice_pdf(spec, qr_payloads={0: forged}))
    assert result.invoice is not None
    assert result.invoice.amount == spec.amount
    (disagreement,) = result.disagreements
    assert disagreement.field == "amount"
    assert disagreement.readings[Source.QR] == "1.00"
    assert disagreement.readings[Source.TEXT_LAYER] == str(spec.amount)
    assert any("disagree" in w for w in result.warnings)


def test_vector_drawn_qr_code_is_read_by_rendering_the_page() -> None:
    spec = vat_spec(14, T.DIGITAL_SPECIAL)
    result = _one(invoice_pdf(spec, vector_qr=True))
    assert result.sources["invoice_number"] == [Source.TEXT_LAYER, Source.QR]


def test_pdf_without_qr_code_is_read_from_text_and_says_so() -> None:
    spec = vat_spec(15)
    result = _one(invoice_pdf(spec, qr=False))
    _key_fields_match(result, spec)
    assert all(Source.QR not in sources for sources in result.sources.values())
    assert any("QR" in w for w in result.warnings)


def test_every_page_of_a_pdf_is_an_invoice() -> None:
    specs = [vat_spec(16), vat_spec(17, T.DIGITAL_SPECIAL), rail_spec(18), flight_spec(19)]
    results = recognize(invoice_pdf(*specs))
    assert [r.page for r in results] == [1, 2, 3, 4]
    for result, spec in zip(results, specs, strict=True):
        _key_fields_match(result, spec)


def test_line_items_are_read_with_their_columns() -> None:
    spec = vat_spec(20)
    result = _one(invoice_pdf(spec))
    assert result.invoice is not None
    read = result.invoice.items
    assert len(read) == len(spec.items)
    for got, want in zip(read, spec.items, strict=True):
        assert got.name == want.name
        assert got.specification == want.specification
        assert got.unit == want.unit
        assert got.quantity == want.quantity
        assert got.unit_price == want.unit_price
        assert got.amount == want.amount
        assert got.tax_rate == want.tax_rate
        assert got.tax_amount == want.tax_amount
    assert sum((i.amount or Decimal(0) for i in read), Decimal(0)) == result.invoice.amount


def test_exempt_tax_printed_as_stars_reads_as_zero() -> None:
    spec = exempt_spec(21)
    result = _one(invoice_pdf(spec))
    assert result.invoice is not None
    assert result.invoice.tax_amount == Decimal("0.00")
    assert result.invoice.total_amount == spec.amount
    assert all(item.tax_rate == 0 for item in result.invoice.items)


def test_rail_ticket_transport_fields() -> None:
    spec = rail_spec(22)
    invoice = _one(invoice_pdf(spec)).invoice
    assert invoice is not None
    assert invoice.train_number == spec.train_number
    assert invoice.destination_city == spec.destination_city
    assert invoice.destination_city_to == spec.destination_city_to
    assert invoice.train_class == spec.train_class
    assert invoice.start_datetime == spec.start_datetime
    assert invoice.passenger_name == spec.passenger_name
    assert invoice.id_card == spec.id_card


def test_flight_itinerary_fields_and_legs() -> None:
    spec = flight_spec(23)
    invoice = _one(invoice_pdf(spec)).invoice
    assert invoice is not None
    assert invoice.fare == spec.fare
    assert invoice.fuel_surcharge == spec.fuel_surcharge
    assert invoice.civil_avn_dev_fund == spec.civil_avn_dev_fund
    assert invoice.international_flag == "D"
    assert invoice.passenger_name == spec.passenger_name
    assert [leg.flight_number for leg in invoice.flight_detail] == [
        leg.flight_number for leg in spec.legs
    ]
    assert [(leg.departure, leg.arrival, leg.time) for leg in invoice.flight_detail] == [
        (leg.departure, leg.arrival, leg.time) for leg in spec.legs
    ]


def test_scanned_pdf_without_text_is_read_from_its_qr_codes() -> None:
    specs = [vat_spec(24), vat_spec(25, T.DIGITAL_NORMAL)]
    results = recognize(scanned_pdf(*(s.qr_payload() for s in specs)))
    assert {r.invoice.invoice_number for r in results if r.invoice} == {
        s.invoice_number for s in specs
    }
    assert all(set(r.sources["invoice_number"]) == {Source.QR} for r in results)


def test_pdf_without_any_invoice_is_status_u() -> None:
    from fixtures.generate import blank_pdf

    (result,) = recognize(blank_pdf(2))
    assert result.status is InvoiceStatus.UNRECOGNISABLE
    assert result.reason


def test_key_fields_are_the_issue_list() -> None:
    assert set(KEY_FIELDS) == {
        "invoice_type", "invoice_code", "invoice_number", "receipt_date", "amount",
        "tax_amount", "total_amount", "check_code", "buyer_name", "buyer_tax_code",
        "seller_name", "seller_tax_code",
    }  # fmt: skip
