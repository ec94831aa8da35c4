"""The PDF hot path's own shortcuts give what pypdfium2's helpers and the plain
algorithm give: the image objects walked by raw handle, the characters and loose boxes
read through a plain prototype, and runs of characters made into segments in one pass."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
import pytest
from fixtures.generate import invoice_pdf, rail_spec, scanned_pdf, vat_spec

from fapiao.catalogue.types import InvoiceType
from fapiao.recognize import native
from fapiao.recognize.layout import Char, Segment, _radical, segments_from_chars
from fapiao.recognize.pdf import _chars, _image_objects

PDFS = {
    "vat": lambda: invoice_pdf(vat_spec(3)),
    "digital": lambda: invoice_pdf(vat_spec(4, InvoiceType.DIGITAL_SPECIAL)),
    "rail": lambda: invoice_pdf(rail_spec(5)),
    "scan": lambda: scanned_pdf(vat_spec(6).qr_payload()),
}


@contextmanager
def _first_page(data: bytes) -> Iterator[pdfium.PdfPage]:
    with native.PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        page = document[0]
        try:
            yield page
        finally:
            page.close()
            document.close()


def _address(handle: object) -> int | None:
    return ctypes.cast(handle, ctypes.c_void_p).value


@pytest.mark.parametrize("name", PDFS)
def test_image_objects_are_those_pypdfium2_lists(name: str) -> None:
    with _first_page(PDFS[name]()) as page:
        ours = [_address(handle) for handle in _image_objects(page)]
        theirs = [
            _address(obj.raw)
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3)
        ]
    assert ours == theirs
    assert ours or name == "rail"  # the generated pages draw their QR code as an image


@pytest.mark.parametrize("name", ["vat", "digital", "rail"])
def test_chars_are_pypdfium2s_text_and_loose_boxes(name: str) -> None:
    with _first_page(PDFS[name]()) as page:
        textpage = page.get_textpage()
        try:
            ours = list(_chars(textpage, []))
            theirs = [
                (textpage.get_text_range(index, 1), *textpage.get_charbox(index, loose=True))
                for index in range(textpage.count_chars())
            ]
        finally:
            textpage.close()
    assert len(ours) > 100
    assert ours == theirs


def _segments_as_before(chars: list[Char]) -> list[Segment]:
    """The one-pass ``segments_from_chars`` as it was written first: a run's box from
    all its characters at its close."""
    segments: list[Segment] = []
    run: list[Char] = []

    def close() -> None:
        if run:
            text = "".join(_radical(c.text) for c in run).strip()
            if text:
                segments.append(
                    Segment(
                        text,
                        min(c.x0 for c in run),
                        min(c.y0 for c in run),
                        max(c.x1 for c in run),
                        max(c.y1 for c in run),
                    )
                )
            run.clear()

    for char in chars:
        if char.text in "\r\n" or (char.text.isspace() and char.x1 - char.x0 < 0.1):
            close()
            continue
        if run:
            last = run[-1]
            height = max(last.y1 - last.y0, char.y1 - char.y0, 1.0)
            gap = char.x0 - last.x1
            off_line = abs((char.y0 + char.y1) - (last.y0 + last.y1)) / 2 > 0.5 * height
            if gap > 0.6 * height or gap < -0.5 * height or off_line:
                close()
        run.append(char)
    close()
    return segments


@pytest.mark.parametrize("name", ["vat", "digital", "rail"])
def test_segments_are_those_of_the_first_algorithm(name: str) -> None:
    with _first_page(PDFS[name]()) as page:
        textpage = page.get_textpage()
        try:
            chars = [Char(*char) for char in _chars(textpage, [])]
        finally:
            textpage.close()
    assert segments_from_chars(chars) == _segments_as_before(chars)
    assert segments_from_chars(tuple(c) for c in chars) == _segments_as_before(chars)


def test_segments_split_and_join_as_before_on_edge_cases() -> None:
    chars = [
        Char("发", 0, 0, 10, 10),
        Char(" ", 10, 0, 13, 10),  # a wide space stays in the run
        Char("票", 13, 0, 23, 10),
        Char("\u2fa6", 23, 0, 33, 10),  # a Kangxi radical, read as its ideograph
        Char(" ", 33, 0, 33.05, 10),  # a zero-width space closes the run
        Char("号", 40, 0, 50, 10),
        Char("码", 58, 0, 68, 10),  # a gap of 0.8 of the height: a new run
        Char("上", 68, 20, 78, 30),  # off the line
        Char("\n", 0, 0, 0, 0),
        Char(" ", 80, 0, 90, 10),  # a run of spaces only makes no segment
        Char("x", 75, 0, 85, 10),  # overlapping its predecessor backwards by 1.5 heights
    ]
    assert segments_from_chars(chars) == _segments_as_before(chars)
    assert [s.text for s in segments_from_chars(chars)] == ["发 票金", "号", "码", "上", "x"]
