"""OFD files with no invoice XML and no CustomTags: read from what their pages print,
as text objects laid out in lines, or, for a page drawn as outlines, rendered and read
like a photo (``image.read_picture``: QR code, then OCR)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable

import pytest
from fixtures.generate import T, drawn_ofd, invoice_ofd, outline_ofd, vat_spec, zip_files
from PIL import Image

from fapiao.model import InvoiceStatus
from fapiao.recognize import FileKind, RecognizedInvoice, Source, image, qr_image, recognize
from fapiao.recognize.qr import invoice_payloads
from fapiao.recognize.result import merge

SPEC = vat_spec(101, T.DIGITAL_SPECIAL)
Picture = Callable[..., list[RecognizedInvoice]]


@pytest.fixture
def pictures(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Image.Image, FileKind, int | None]]:
    """``read_picture`` replaced by its QR half (no OCR: fast and certain); the pictures
    it was given are kept, copied."""
    seen: list[tuple[Image.Image, FileKind, int | None]] = []

    def qr_only(
        picture: Image.Image, kind: FileKind, *, page: int | None = None
    ) -> list[RecognizedInvoice]:
        seen.append((picture.copy(), kind, page))
        payloads, notes = invoice_payloads(qr_image.decode(picture))
        return [
            merge([(Source.QR, p.reading())], kind=kind, page=page, warnings=notes)
            for p in payloads
        ]

    monkeypatch.setattr(image, "read_picture", qr_only)
    return seen


def _one(data: bytes) -> RecognizedInvoice:
    (result,) = recognize(data)
    assert result.status is InvoiceStatus.RECOGNIZED, result.reason
    assert result.invoice is not None
    return result


def test_printed_text_objects_are_read_like_a_text_layer(pictures: list[object]) -> None:
    result = _one(drawn_ofd(SPEC))
    assert result.invoice is not None
    for name, expected in SPEC.key_fields().items():
        assert getattr(result.invoice, name) == expected, name
    assert result.sources["buyer_name"] == [Source.OFD_TEXT]
    assert result.sources["invoice_number"] == [Source.OFD_TEXT, Source.QR]
    assert pictures == []  # text to read: nothing rendered


def test_a_page_of_outlines_is_rendered_and_read_as_a_picture(
    pictures: list[tuple[Image.Image, FileKind, int | None]],
) -> None:
    result = _one(outline_ofd(SPEC, qr_as_paths=True))  # the QR code drawn as squares too
    ((picture, kind, page),) = pictures
    assert (kind, page) == (FileKind.OFD, 1)
    assert picture.mode == "RGB"
    assert picture.width > picture.height  # the 210 x 140 mm page
    assert result.kind is FileKind.OFD
    assert result.page == 1
    assert result.invoice is not None
    assert result.invoice.invoice_number == SPEC.invoice_number
    assert result.invoice.receipt_date == SPEC.receipt_date  # written 2020-09-05 in the QR
    assert result.invoice.total_amount == SPEC.total_amount
    assert result.sources["invoice_number"] == [Source.QR]


def test_the_resource_qr_code_stands_when_the_picture_gives_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(image, "read_picture", lambda *args, **kwargs: [])
    result = _one(outline_ofd(SPEC))  # its QR code is an image resource, date with dashes
    assert result.invoice is not None
    assert result.invoice.receipt_date == dt.date(2020, 9, 5)
    assert result.invoice.invoice_type is T.DIGITAL_SPECIAL
    assert result.sources["receipt_date"] == [Source.QR]


def test_an_ofd_with_invoice_xml_is_never_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> list[RecognizedInvoice]:
        raise AssertionError("rendered although its XML says everything")

    monkeypatch.setattr(image, "read_picture", refuse)
    for route in ("original", "tags", "xbrl"):
        assert _one(invoice_ofd(vat_spec(1), route=route)).invoice is not None


def test_a_page_with_nothing_to_read_is_unrecognisable_after_being_rendered(
    pictures: list[object],
) -> None:
    files = _files(drawn_ofd(SPEC))
    del files["Doc_0/Res/qr.png"]
    files["Doc_0/Pages/Page_0/Content.xml"] = (  # a grid, no text, no QR code
        b'<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer>'
        b'<ofd:PathObject ID="1" Boundary="3 25 204 1"><ofd:AbbreviatedData>M 0 0 L 204 0'
        b"</ofd:AbbreviatedData></ofd:PathObject></ofd:Layer></ofd:Content></ofd:Page>"
    )
    (result,) = recognize(zip_files(files))
    assert result.status is InvoiceStatus.UNRECOGNISABLE
    assert result.reason
    assert len(pictures) == 1


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
