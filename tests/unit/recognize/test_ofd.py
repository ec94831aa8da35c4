"""OFD e-invoices: invoice XML, CustomTags and QR code, signatures, hostile zips."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from fixtures.generate import (
    InvoiceSpec,
    entity_bomb_ofd,
    exempt_spec,
    invoice_ofd,
    lying_zip_bomb_ofd,
    many_entries_ofd,
    vat_spec,
    zip_bomb_ofd,
)

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.model import InvoiceStatus
from fapiao.model.signature import CheckState, IssuerKind
from fapiao.recognize import (
    FileKind,
    RecognizedInvoice,
    Source,
    recognize,
    recognize_with_signatures,
)
from fapiao.recognize.xml import parse, repair

T = InvoiceType


def _one(data: bytes) -> RecognizedInvoice:
    """The one invoice of ``data``, with the check of the file's signatures."""
    (result,) = recognize_with_signatures(data)
    assert result.status is InvoiceStatus.RECOGNIZED, result.reason
    assert result.kind is FileKind.OFD
    return result


def _matches(result: RecognizedInvoice, spec: InvoiceSpec) -> None:
    assert result.invoice is not None
    for name, expected in spec.key_fields().items():
        assert getattr(result.invoice, name) == expected, name


def test_old_ofd_reads_the_invoice_xml_and_checks_it_against_tags_and_qr() -> None:
    spec = vat_spec(31)
    result = _one(invoice_ofd(spec))
    _matches(result, spec)
    assert result.sources["invoice_number"] == [Source.OFD_XML, Source.OFD_TEXT, Source.QR]
    assert result.sources["seller_name"] == [Source.OFD_XML, Source.OFD_TEXT]
    assert not result.disagreements
    assert result.invoice is not None
    assert [i.amount for i in result.invoice.items] == [i.amount for i in spec.items]
    assert [i.tax_rate for i in result.invoice.items] == [i.tax_rate for i in spec.items]


def test_digital_ofd_is_read_through_its_custom_tags() -> None:
    spec = vat_spec(32, T.DIGITAL_SPECIAL)
    result = _one(invoice_ofd(spec, route="tags", signed=False))
    _matches(result, spec)
    assert result.sources["buyer_tax_code"] == [Source.OFD_TEXT]
    assert result.sources["total_amount"] == [Source.OFD_TEXT, Source.QR]
    assert result.signature is not None
    assert result.signature.state is CheckState.ABSENT


def test_well_formed_custom_tags_read_the_same() -> None:
    spec = vat_spec(33, T.DIGITAL_NORMAL)
    result = _one(invoice_ofd(spec, route="tags", malformed_tags=False))
    _matches(result, spec)


def test_xbrl_attachment_is_read() -> None:
    spec = vat_spec(34)
    result = _one(invoice_ofd(spec, route="xbrl"))
    _matches(result, spec)
    assert result.sources["check_code"][0] is Source.OFD_XML


def test_graph_code_as_a_base64_image_is_decoded() -> None:
    spec = vat_spec(35)
    result = _one(invoice_ofd(spec, graph_code_as_image=True))
    assert Source.QR in result.sources["amount"]


def test_exempt_ofd_reads_tax_as_zero() -> None:
    spec = exempt_spec(36)
    result = _one(invoice_ofd(spec))
    assert result.invoice is not None
    assert result.invoice.tax_amount == Decimal("0.00")
    assert result.sources["tax_amount"] == [Source.OFD_XML, Source.OFD_TEXT]


def test_a_generated_signature_is_valid_and_its_issuer_unknown() -> None:
    check = _one(invoice_ofd(vat_spec(37))).signature
    assert check is not None
    assert check.state is CheckState.VALID, check.reason
    assert check.issuer_kind is IssuerKind.UNKNOWN
    assert check.issuer == "C=CN, CN=Test CA"
    assert check.algorithm == "SM2-SM3"
    assert check.signed_at is not None and check.signed_at.tzinfo is not None
    assert check.certificate_valid_at_signing is True


def test_signed_by_the_test_tax_ca_is_tax_bureau_test() -> None:
    check = _one(invoice_ofd(vat_spec(37), signed_by="tax_bureau_test")).signature
    assert check is not None
    assert check.state is CheckState.VALID, check.reason
    assert check.issuer_kind is IssuerKind.TAX_BUREAU_TEST
    assert check.issuer is not None and "税务测试CA2(SM2)" in check.issuer


def test_every_route_is_signed_for_real() -> None:
    for route in ("original", "tags", "xbrl"):
        spec = vat_spec(40, T.DIGITAL_SPECIAL if route == "tags" else T.VAT_ELECTRONIC_NORMAL)
        check = _one(invoice_ofd(spec, route=route)).signature
        assert check is not None and check.state is CheckState.VALID, (route, check)


def test_changed_file_means_tampered_and_sources_disagree() -> None:
    spec = vat_spec(38)
    result = _one(invoice_ofd(spec, tamper=True))
    assert result.signature is not None
    assert result.signature.state is CheckState.TAMPERED
    reason = result.signature.reason
    assert reason is not None and "original_invoice.xml differs" in reason
    assert [d.field for d in result.disagreements] == ["total_amount"]
    assert any("total" in w for w in result.warnings)


def test_unsigned_ofd_is_absent() -> None:
    check = _one(invoice_ofd(vat_spec(39), signed=False)).signature
    assert check is not None and check.state is CheckState.ABSENT


def test_malformed_custom_tag_root_is_repaired() -> None:
    broken = (
        b'<?xml version="1.0"?><:eInvoice xmlns:=""><InvoiceNo>'
        b'<ofd:ObjectRef PageRef="1">7</ofd:ObjectRef></InvoiceNo></:eInvoice>'
    )
    root = parse(broken, "CustomTag.xml")
    assert root.tag == "eInvoice"
    assert b'xmlns:ofd="http://www.ofdspec.org/2016"' in repair(broken)


def test_zip_without_ofd_xml_is_not_an_ofd() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(HubError) as raised:
        recognize(buffer.getvalue())
    assert raised.value.problem is Problem.UNSUPPORTED_FILE_TYPE


@pytest.mark.parametrize(
    "build",
    [zip_bomb_ofd, lying_zip_bomb_ofd, many_entries_ofd],
    ids=["zip-bomb", "zip-bomb-lying-sizes", "too-many-entries"],
)
def test_zip_bombs_end_in_a_clear_error_quickly(build: object) -> None:
    assert callable(build)
    data = build()
    started = time.perf_counter()
    with pytest.raises(HubError) as raised:
        recognize(data)
    assert time.perf_counter() - started < 5
    assert raised.value.problem in (Problem.FILE_TOO_LARGE, Problem.UNRECOGNISABLE)
    assert str(raised.value)


def test_xml_entity_bomb_is_refused() -> None:
    started = time.perf_counter()
    with pytest.raises(HubError) as raised:
        recognize(entity_bomb_ofd())
    assert time.perf_counter() - started < 5
    assert raised.value.problem is Problem.UNRECOGNISABLE
    assert "DTD" in str(raised.value) or "entit" in str(raised.value)
