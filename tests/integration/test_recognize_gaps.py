"""The machine-readable gaps, closed, on real files and on the OCR path.

- Every real OFD of ../shared/corpus, its invoice XML and CustomTags taken away, is read
  from its page text alone to the values expected.json lists; its lists of goods
  (销货清单, two multi-page files) give it every line item the XML lists; its remark is
  the XML's.
- Every real OFD page is rendered (``ofd_render``): its QR code image reads back.
- An OFD drawn as outlines (generated: Noto glyphs traced into paths, a QR payload whose
  date has dashes) is rendered and read by QR and OCR to every key field.

Run with ``.venv/bin/pytest tests/integration/test_recognize_gaps.py -q``.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fixtures.accuracy import same, wire_value
from fixtures.generate import NOTO_SANS, T, outline_ofd, vat_spec

from fapiao.model import InvoiceStatus
from fapiao.recognize import KEY_FIELDS, RecognizedInvoice, Source, ocr, ofd_render, qr_image, xml
from fapiao.recognize import recognize as recognize_file
from fapiao.recognize.safezip import SafeZip, resolve
from support import CORPUS

# the platform's type codes, as test_recognize_corpus names them per description
_TYPES = (("电子发票(增值税专用发票)", "20"), ("增值税电子普通发票", "10"))
# a QR code drawn as an image the renderer reads (PNG); JBIG2 (three files) it leaves out,
# and SignScaleError.ofd draws no QR code at all
_QR_AS_PNG = ("20240531141733", "999", "draw_param_ref", "v4signed")


def _corpus_ofds() -> list[tuple[str, dict[str, Any]]]:
    expected = CORPUS / "expected.json"
    if not expected.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    entries: dict[str, Any] = json.loads(expected.read_text(encoding="utf-8"))
    return sorted((name, entry) for name, entry in entries.items() if entry["kind"] == "ofd")


def _without_xml(data: bytes) -> bytes:
    """The OFD with its document's Attachments and CustomTags taken away: only its pages
    say what the invoice is."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename.lower().endswith("document.xml"):
                body = re.sub(rb"<ofd:(Attachments|CustomTags)>[^<]*</ofd:\1>", b"", body)
            target.writestr(info, body)
    return out.getvalue()


def _one(data: bytes) -> RecognizedInvoice:
    (result,) = recognize_file(data)
    assert result.status is InvoiceStatus.RECOGNIZED, result.reason
    assert result.invoice is not None
    return result


def test_real_ofd_pages_alone_give_every_expected_value() -> None:
    misses: list[str] = []
    for name, entry in _corpus_ofds():
        original = (CORPUS / "files" / name).read_bytes()
        result = _one(_without_xml(original))
        assert result.invoice is not None
        assert Source.OFD_XML not in {s for v in result.sources.values() for s in v}, name
        assert result.sources["invoice_number"][0] is Source.OFD_TEXT, name
        expected = dict(entry["invoices"][0])
        expected["invoice_type"] = next(c for w, c in _TYPES if w in entry["description"])
        for field, value in expected.items():
            read = wire_value(result.invoice, field)
            if not same(value, read):
                misses.append(f"{name}: {field} expected {value!r}, read {read!r}")
        assert misses == []
        # the same file read from its XML: the page text says the same, remark included
        whole = _one(original).invoice
        assert whole is not None
        assert result.invoice.remark == whole.remark, name
        for field in KEY_FIELDS:
            if getattr(whole, field) is not None:
                assert getattr(result.invoice, field) == getattr(whole, field), (name, field)


@pytest.mark.parametrize("name", ["ofdrw__ofdrw__999.ofd", "ofdrw__ofdrw__draw_param_ref.ofd"])
def test_real_lists_of_goods_give_every_line_item(name: str) -> None:
    _corpus_ofds()
    original = (CORPUS / "files" / name).read_bytes()
    from_pages = _one(_without_xml(original)).invoice
    from_xml = _one(original).invoice
    assert from_pages is not None and from_xml is not None
    assert len(from_xml.items) == 100  # the invoice page says "(详见销货清单)", 4 list pages
    assert [(i.amount, i.tax_amount, i.tax_rate) for i in from_pages.items] == [
        (i.amount, i.tax_amount, i.tax_rate) for i in from_xml.items
    ]
    assert [i.name for i in from_pages.items] == [i.name for i in from_xml.items]
    total = sum((i.amount or Decimal(0) for i in from_pages.items), Decimal(0))
    assert total == from_xml.amount


def test_real_ofd_pages_render_with_their_qr_codes() -> None:
    for name, _ in _corpus_ofds():
        archive = SafeZip((CORPUS / "files" / name).read_bytes())
        root = xml.parse(archive.read("OFD.xml"), "OFD.xml")
        body = next(xml.children(root, "DocBody"))
        path = resolve("OFD.xml", xml.text(xml.child(body, "DocRoot")) or "")
        document = xml.parse(archive.read(path), path)
        started = time.monotonic()
        rendered = ofd_render.render_page(archive, path, document, 1)
        assert rendered is not None, name
        assert time.monotonic() - started < 2, name
        assert rendered.image.size == (1654, 1102), name  # 210 x 140 mm at 200 dpi
        codes = qr_image.decode(rendered.image)
        if any(key in name for key in _QR_AS_PNG):
            assert len(codes) == 1 and codes[0].startswith("01,"), (name, codes)
        else:  # a JBIG2 QR code is left out, with a note; one file draws none
            assert codes == [], name
            assert all(n.startswith("an image in a format not drawn") for n in rendered.notes)


def test_an_ofd_drawn_as_outlines_is_read_by_qr_and_ocr(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("cv2", reason="outlines are traced with OpenCV (the OCR packages)")
    if not Path(NOTO_SANS).is_file():
        pytest.skip("Noto CJK is not installed (make fonts)")
    if not ocr.available():
        pytest.skip("the OCR package is not installed here")
    for spec in (vat_spec(101, T.DIGITAL_SPECIAL), vat_spec(202, T.DIGITAL_NORMAL)):
        started = time.monotonic()
        result = _one(outline_ofd(spec))
        seconds = time.monotonic() - started
        with capsys.disabled():
            print(f"\noutline OFD {spec.invoice_type.name}: read in {seconds:.1f} s")
        assert result.invoice is not None
        for field, expected in spec.key_fields().items():
            assert getattr(result.invoice, field) == expected, field
        assert result.sources["invoice_number"] == [Source.QR, Source.OCR]
        assert result.sources["seller_name"] == [Source.OCR]
        assert seconds < 30
