"""The PDF hot path's own shortcuts give what pypdfium2's helpers and the plain
algorithm give: the image objects walked by raw handle, the characters and loose boxes
read through a plain prototype into one array, runs of characters made into segments in
one pass (from columns), lines laid out as before, and a label looked for only on the
lines where the page's text has it."""

from __future__ import annotations

import ctypes
import re
import typing
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
import pytest
from fixtures.generate import invoice_pdf, rail_spec, scanned_pdf, vat_spec

from fapiao.catalogue.types import InvoiceType
from fapiao.recognize import labels, native, printed
from fapiao.recognize.layout import (
    WHITESPACE,
    Char,
    Layout,
    Segment,
    _join,
    _radical,
    label,
    segments_from_chars,
    segments_from_columns,
)
from fapiao.recognize.pdf import _chars, _image_objects, page_layout

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
            ours = list(zip(*_chars(textpage, []), strict=True))
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
            columns = _chars(textpage, [])
        finally:
            textpage.close()
    chars = [Char(*char) for char in zip(*columns, strict=True)]
    assert segments_from_columns(*columns) == _segments_as_before(chars)
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
    # as a page's text comes: one string, and the boxes column by column
    text = "".join(c.text for c in chars)
    columns = [[getattr(c, name) for c in chars] for name in ("x0", "y0", "x1", "y1")]
    assert segments_from_columns(text, *columns) == _segments_as_before(chars)
    assert segments_from_columns("", [], [], [], []) == segments_from_chars([]) == []


def _lines_as_before(segments: list[Segment]) -> list[tuple[object, ...]]:
    """``Layout``'s lines as the algorithm was first written (builtin min and max, each
    line's extent from its segments): text, starts, top, bottom, segments."""
    ordered = sorted(segments, key=lambda s: -(s.y0 + s.y1) / 2)
    lines: list[tuple[float, float, float, list[Segment]]] = []
    for segment in ordered:
        best: list[Segment] | None = None
        best_share = 0.5
        for low, high, tall, members in lines[-6:]:
            share = max(min(high, segment.y1) - max(low, segment.y0), 0.0) / min(
                tall, segment.height
            )
            if share >= best_share:
                best, best_share = members, share
        if best is None:
            lines.append((segment.y0, segment.y1, segment.height, [segment]))
        else:
            best.append(segment)
    made = []
    for *_, members in lines:
        members.sort(key=lambda s: s.x0)
        text, starts = _join(members)
        top, bottom = max(s.y1 for s in members), min(s.y0 for s in members)
        made.append((text, starts, top, bottom, members))
    made.sort(key=lambda line: -typing.cast(float, line[2]))
    return made


def _layout_of(data: bytes) -> Layout:
    with _first_page(data) as page:
        return page_layout(page)


@pytest.mark.parametrize("name", ["vat", "digital", "rail"])
def test_lines_are_those_of_the_first_algorithm(name: str) -> None:
    layout = _layout_of(PDFS[name]())
    segments = [s for line in layout for s in line.segments]
    ours = [(ln.text, ln.starts, ln.top, ln.bottom, ln.segments) for ln in layout]
    assert ours == _lines_as_before(segments)
    assert layout.text == "\n".join(line.text for line in layout)
    assert all(line.compact == WHITESPACE.sub("", line.text) for line in layout)
    assert layout.compact == WHITESPACE.sub("", layout.text)
    assert printed.title_type(layout) is printed.type_in_text(layout.text) is not None


def test_overlapping_and_degenerate_segments_make_the_same_lines() -> None:
    segments = [
        Segment("发票", 10, 100, 30, 110),
        Segment("号码", 40, 104, 60, 114),  # overlaps the first by 0.6 of its height
        Segment("扁", 70, 102, 75, 102.5),  # under 1 tall: counted 1
        Segment("下", 10, 90, 20, 100),  # touches the first line's bottom only
        Segment("同高", 30, 90, 50, 100),
        Segment("零", 80, 95, 80, 95),
    ]
    layout = Layout(segments)
    ours = [(ln.text, ln.starts, ln.top, ln.bottom, ln.segments) for ln in layout]
    assert ours == _lines_as_before(segments)


def _values_on_every_line(layout: Layout, label_pattern: str, value_pattern: str) -> list[object]:
    """``Layout.values`` (plain) as first written: the label looked for on every line."""
    label_re, value_re = re.compile(label_pattern), re.compile(value_pattern)
    found: list[object] = []
    for line in layout:
        for match in label_re.finditer(line.text):
            value = value_re.match(line.text, match.end())
            if value is None:
                found.append(None)
                continue
            group = next(
                (g for g in range(1, len(value.groups()) + 1) if value.group(g) is not None), 0
            )
            found.append(value.group(group))
    return found


LABELS = [
    (labels.CODE, labels.SEP + r"(\d{12}|\d{10})(?!\d)"),
    (labels.NUMBER, labels.SEP + r"(\d{20}|\d{8})(?!\d)"),
    (labels.DATE, labels.SEP + r"(\S+)"),
    (labels.CHECK, labels.SEP + r"((?:\d ?){20})"),
    (labels.NAME, labels.NEAR + labels.TEXT),
    (labels.TAX_ID, labels.SEP + labels.TAX_ID_VALUE),
    (labels.ADDRESS, labels.NEAR + labels.TEXT),
    (labels.ACCOUNT, labels.NEAR + labels.TEXT),
    (label("号码"), labels.SEP + r"(\d+)"),
    (r"[\s\S]", r"(.)"),  # on every line, and across line breaks in the page's text
    (r"^\S", r"(.)"),  # an anchor: every line is tried
    (r"(?<!\s)码", r"(.?)"),  # a lookbehind that sees line breaks: every line is tried
]


@pytest.mark.parametrize("name", ["vat", "digital", "rail"])
def test_a_label_is_found_where_looking_on_every_line_finds_it(name: str) -> None:
    layout = _layout_of(PDFS[name]())
    for label_pattern, value_pattern in LABELS:
        assert layout.values(label_pattern, value_pattern) == _values_on_every_line(
            layout, label_pattern, value_pattern
        ), label_pattern


def test_a_label_spaced_over_a_line_break_is_still_found_on_its_line() -> None:
    layout = Layout(
        [
            Segment("发票", 10, 100, 30, 110),
            Segment("号码 12345678", 10, 80, 90, 90),
            Segment("号 码 87654321", 10, 60, 90, 70),
        ]
    )
    pattern = r"(?:票\s*)?" + label("号码")  # in the page's text, "票\n号码" is one match
    assert layout.values(pattern, labels.SEP + r"(\d{8})") == ["12345678", "87654321"]
    assert layout.values(pattern, labels.SEP + r"(\d{8})") == _values_on_every_line(
        layout, pattern, labels.SEP + r"(\d{8})"
    )
