"""PDF e-invoices: the text layer of every page (pypdfium2) and the QR code drawn on it.

A page is laid out from its characters and their boxes (``layout``), its title names
the invoice type, ``printed`` reads the fields. The QR code is decoded from the page's
square image objects (their own pixels, no rendering); only when none decodes is the
page rendered once. The QR payload is matched to the page's invoice by number and
cross-checked field by field (``result.merge``).

An invoice may go on over several pages: a list of goods (销货清单) after an old VAT
invoice, or a 数电 invoice whose goods fill more than a page (every page printing the
same number). Such a page is no invoice of its own: its line items (and what the first
page left out, such as the totals on the last page) join the invoice they belong to.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import typing
from dataclasses import dataclass, field

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PIL import Image

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import limits, native, printed
from fapiao.recognize.detect import FileKind
from fapiao.recognize.layout import Layout, segments_from_columns
from fapiao.recognize.qr import QrPayload, invoice_payloads
from fapiao.recognize.result import Reading, RecognizedInvoice, Source, merge

logger = logging.getLogger(__name__)
native.prepare_pdfium()

_RENDER_SCALE = 3.0  # 216 dpi: a fallback render of a page whose QR is vector-drawn


@dataclass
class _Draft:
    """One invoice's readings, gathered over its pages before they are merged."""

    page: int
    readings: list[tuple[Source, Reading]]
    warnings: list[str] = field(default_factory=list)
    listed: Reading | None = None  # a list of goods (清单): its reference and items
    picture: Image.Image | None = None  # a scanned page, rendered: read by QR and OCR

    def number(self) -> object:
        return next(
            (r["invoice_number"] for _, r in self.readings if r.get("invoice_number")), None
        )

    def text_reading(self) -> Reading:
        """The text-layer reading (made, for a scan, when a list of goods joins it)."""
        reading = _text_layer(self.readings)
        if reading is None:
            reading = {}
            self.readings.insert(0, (Source.TEXT_LAYER, reading))
        return reading

    def merged(self) -> list[RecognizedInvoice]:
        if self.picture is not None:
            from fapiao.recognize.image import read_picture

            try:
                found = read_picture(self.picture, FileKind.PDF, page=self.page)
            finally:
                self.picture.close()
            for result in found:
                result.warnings[:0] = self.warnings
            return found
        return [self._merged()]

    def _merged(self) -> RecognizedInvoice:
        if self.listed is not None:  # a list whose invoice is not in the file
            return RecognizedInvoice.unrecognisable(
                FileKind.PDF, _LIST_ALONE, page=self.page, warnings=self.warnings
            )
        return merge(self.readings, kind=FileKind.PDF, page=self.page, warnings=self.warnings)


def recognize_pdf(data: bytes) -> list[RecognizedInvoice]:
    drafts: list[_Draft] = []
    with native.PDFIUM_LOCK:
        document = open_document(data)
        try:
            for index in range(len(document)):
                page = document[index]
                try:
                    for draft in _page(page, index + 1):
                        _gather(drafts, draft)
                finally:
                    page.close()
        finally:
            document.close()
    if not drafts:
        return [RecognizedInvoice.unrecognisable(FileKind.PDF, _NOTHING)]
    # Scanned pages are read by OCR here, after PDFium's lock is let go.
    return [result for draft in drafts for result in draft.merged()]


_NOTHING = "no page has an invoice title in its text layer or a readable invoice QR code"
_LIST_ALONE = "a list of goods (清单) whose invoice is not in the file"


def _gather(drafts: list[_Draft], draft: _Draft) -> None:
    """Add a page's draft: a new invoice, or more of one already begun (a list of goods,
    or a page that goes on with the same invoice number)."""
    if draft.listed is not None:
        owner = _owner(drafts, draft.listed)
        if owner is None:
            drafts.append(draft)
            return
        printed.add_listed_items(owner.text_reading(), draft.listed)
        owner.warnings.extend(draft.warnings)
        return
    number = draft.number()
    owner = next((d for d in drafts if number and d.listed is None and d.number() == number), None)
    first = _text_layer(owner.readings) if owner is not None else None
    printed_more = _text_layer(draft.readings)
    if owner is None or first is None or printed_more is None or not _goes_on(first, printed_more):
        drafts.append(draft)  # a new invoice, or the same one printed twice
        return
    for name, value in printed_more.items():
        if name != "items" and first.get(name) in (None, "", []):
            first[name] = value  # what the first page left out (the last page's totals)
    printed.add_listed_items(first, printed_more)
    owner.warnings.extend(w for w in draft.warnings if w not in owner.warnings)


def _text_layer(readings: list[tuple[Source, Reading]]) -> Reading | None:
    return next((r for s, r in readings if s is Source.TEXT_LAYER), None)


def _goes_on(first: Reading, more: Reading) -> bool:
    """Does a page with the first page's invoice number go on with it (other goods, or
    the totals the first page left for the last), rather than repeat it?"""
    return more.get("items") != first.get("items") or first.get("total_amount") is None


def _owner(drafts: list[_Draft], listed: Reading) -> _Draft | None:
    """The invoice a list of goods belongs to: the one with the number it names, else the
    invoice it follows."""
    invoices = [d for d in drafts if d.listed is None]
    number = listed.get("invoice_number")
    named = next((d for d in invoices if number and d.number() == number), None)
    return named or (invoices[-1] if invoices else None)


def open_document(data: bytes) -> pdfium.PdfDocument:
    """The PDF opened within the bounds of ``limits`` (the caller holds ``PDFIUM_LOCK``)."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
            raise HubError(Problem.UNRECOGNISABLE, "the PDF is encrypted with a password") from None
        raise HubError(Problem.UNRECOGNISABLE, f"not a readable PDF ({error})") from None
    pages = len(document)
    if pages == 0:
        document.close()
        raise HubError(Problem.UNRECOGNISABLE, "the PDF has no pages")
    if pages > limits.MAX_PDF_PAGES:
        document.close()
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"the PDF has {pages} pages; at most {limits.MAX_PDF_PAGES} are read",
        )
    return document


def _page(page: pdfium.PdfPage, number: int) -> list[_Draft]:
    warnings: list[str] = []
    layout = page_layout(page, warnings)
    if printed.is_list_page(layout):
        return [_Draft(number, [], warnings, listed=printed.list_reading(layout))]
    invoice_type = printed.title_type(layout)
    images = _image_objects(page)
    # Worth rendering: a page with an invoice title in its text, or any image on it.
    has_content = invoice_type is not None or bool(images)
    # An invoice page draws its QR code as a small square image; a scan is one picture.
    payloads, notes = invoice_payloads(_qr_texts(images, square_only=invoice_type is not None))
    if not payloads and has_content:
        payloads, more = invoice_payloads(_rendered_qr_texts(page))
        notes.extend(more)
    warnings.extend(notes)
    if invoice_type is None:
        # No invoice title in the text layer (a scan saved as PDF): the page as a picture,
        # QR codes and OCR; without any image on it, nothing to read.
        if has_content:
            return [_Draft(number, [], list(warnings), picture=_scanned(page))]
        return [_Draft(number, [(Source.QR, p.reading())], list(warnings)) for p in payloads]
    reading = printed.read(layout, invoice_type)
    payload = _matching(payloads, reading.get("invoice_number"))
    readings: list[tuple[Source, Reading]] = [(Source.TEXT_LAYER, reading)]
    if payload is not None:
        readings.append((Source.QR, payload.reading()))
    else:
        warnings.append("no invoice QR code could be read on the page to cross-check")
    return [_Draft(number, readings, warnings)]


def page_layout(page: pdfium.PdfPage, warnings: list[str] | None = None) -> Layout:
    """The page's text, laid out in lines (at most ``limits.MAX_PAGE_CHARS`` characters)."""
    with native.PDFIUM_LOCK:
        textpage = page.get_textpage()
        try:
            segments = segments_from_columns(*_chars(textpage, warnings))
        finally:
            textpage.close()
    return Layout(segments)


# The PDFium functions called once per character or page object, through plain
# prototypes: no argument types declared (except where an argument is not a C int or a
# pointer), so that ctypes passes a handle (a c_void_p), an int and a box (by reference)
# without converting them; handles come back as ``_Handle``s, to be passed on as they
# are. Same symbols, same ABI; they cost a third less than pypdfium2's checked ones.
class _Handle(ctypes.c_void_p):
    """A PDFium handle as a plain prototype returns it (a c_void_p, not an int)."""


def _plain(symbol: typing.Any, restype: typing.Any, *argtypes: typing.Any) -> typing.Any:
    address = typing.cast(int, ctypes.cast(symbol, ctypes.c_void_p).value)
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


_CHAR_BOX = _plain(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_int)  # (text page, int, FS_RECTF*)
_PAGE_OBJECT = _plain(pdfium_c.FPDFPage_GetObject, _Handle)  # (page, int)
_OBJECT_TYPE = _plain(pdfium_c.FPDFPageObj_GetType, ctypes.c_int)  # (page object)
_FORM_COUNT = _plain(pdfium_c.FPDFFormObj_CountObjects, ctypes.c_int)  # (form object)
# (form object, unsigned long): a 64-bit index, declared
_FORM_OBJECT = _plain(pdfium_c.FPDFFormObj_GetObject, _Handle, ctypes.c_void_p, ctypes.c_ulong)
_RECT_FLOATS = 4  # FS_RECTF: left, top, right, bottom


def _handle(wrapped: typing.Any) -> _Handle:
    """The raw handle of a pypdfium2 object, for a plain prototype."""
    return _Handle(ctypes.cast(wrapped.raw, ctypes.c_void_p).value)


def _chars(
    textpage: pdfium.PdfTextPage, warnings: list[str] | None
) -> tuple[str, list[float], list[float], list[float], list[float]]:
    """The text page's characters (one per index) and their loose boxes, column by
    column: text, left, bottom, right, top (``segments_from_columns``). Every box is read
    into one array, in one pass over the indices without a Python loop."""
    count = textpage.count_chars()
    if count > limits.MAX_PAGE_CHARS:
        if warnings is not None:
            warnings.append(f"page text cut at {limits.MAX_PAGE_CHARS} of {count} characters")
        count = limits.MAX_PAGE_CHARS
    text = textpage.get_text_range(0, count) if count else ""
    if len(text) != count:  # surrogate pairs: one character per index, by its code
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    boxes = (ctypes.c_float * (_RECT_FLOATS * count))()
    size = ctypes.sizeof(ctypes.c_float) * _RECT_FLOATS
    read = list(
        map(
            _CHAR_BOX,
            itertools.repeat(_handle(textpage), count),
            range(count),
            map(ctypes.byref, itertools.repeat(boxes, count), range(0, size * count, size)),
        )
    )
    if not all(read):  # no box (only for an index out of range): the one before it
        for index in range(1, count):
            if not read[index]:
                at = index * _RECT_FLOATS
                boxes[at : at + _RECT_FLOATS] = boxes[at - _RECT_FLOATS : at]
    floats = boxes[:]
    return text, floats[0::4], floats[3::4], floats[2::4], floats[1::4]


def _image_objects(page: pdfium.PdfPage, max_depth: int = 3) -> list[_Handle]:
    """The page's image objects (raw handles, owned by the page), within forms nested
    up to ``max_depth`` levels; pypdfium2's ``get_objects`` without a Python object
    made for each of a page's hundreds of text and path objects."""
    found: list[_Handle] = []

    def walk(form: _Handle | None, level: int) -> None:
        if form:
            count = _FORM_COUNT(form)
            listed = map(_FORM_OBJECT, itertools.repeat(form, count), range(count))
        else:
            count = pdfium_c.FPDFPage_CountObjects(page)
            listed = map(_PAGE_OBJECT, itertools.repeat(_handle(page), count), range(count))
        objects = [obj for obj in listed if obj]
        for obj, kind in zip(objects, map(_OBJECT_TYPE, objects), strict=True):
            if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                found.append(obj)
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and level < max_depth - 1:
                walk(obj, level + 1)

    walk(None, 0)
    return found


def _qr_texts(images: list[_Handle], *, square_only: bool) -> list[str]:
    """QR codes in the page's image objects (``_image_objects``), decoded from their own
    pixels."""
    from fapiao.recognize import qr_image

    texts: list[str] = []
    width, height = ctypes.c_uint(), ctypes.c_uint()
    for handle in images:
        image = ctypes.cast(handle, pdfium_c.FPDF_PAGEOBJECT)
        if not pdfium_c.FPDFImageObj_GetImagePixelSize(image, width, height):
            continue  # no pixels to read
        w, h = width.value, height.value
        if not (min(w, h) >= 21 and w * h <= limits.MAX_QR_IMAGE_PIXELS):
            continue
        if square_only and not 0.8 <= w / h <= 1.25:
            continue
        raw_bitmap = pdfium_c.FPDFImageObj_GetBitmap(image)
        if not raw_bitmap:
            logger.debug("image object not decodable")
            continue
        try:
            picture = _own_pixels(pdfium.PdfBitmap.from_raw(raw_bitmap))
        except (pdfium.PdfiumError, ValueError, OSError) as error:
            logger.debug("image object not decodable: %s", error)
            continue
        texts.extend(qr_image.decode(picture))
    return texts


def _rendered_qr_texts(page: pdfium.PdfPage) -> list[str]:
    """The page rendered once, for a QR code drawn with paths rather than an image."""
    from fapiao.recognize import qr_image

    width, height = page.get_size()
    scale = min(_RENDER_SCALE, (limits.MAX_QR_IMAGE_PIXELS / max(width * height, 1.0)) ** 0.5)
    picture = _own_pixels(page.render(scale=scale, grayscale=True))
    return qr_image.decode(picture)


def _scanned(page: pdfium.PdfPage) -> Image.Image:
    """A scanned page rendered at up to 200 dpi, within ``MAX_SCAN_PIXELS``, in colour
    (seals and red serials read better), as pixels of its own."""
    width, height = page.get_size()
    scale = min(200 / 72, (limits.MAX_SCAN_PIXELS / max(width * height, 1.0)) ** 0.5)
    return _own_pixels(page.render(scale=scale), mode="RGB")


def _own_pixels(bitmap: pdfium.PdfBitmap, mode: str = "L") -> Image.Image:
    """The bitmap's pixels in ``mode`` (grey unless told), copied into a PIL image of
    their own; the bitmap is closed here, under the lock, and nothing refers to PDFium's
    buffer any more."""
    try:
        shared: Image.Image = bitmap.to_pil()  # a view of the buffer for L, RGBA, RGBX
        try:
            return shared.convert(mode)  # a copy, even when already in that mode
        finally:
            shared.close()
    finally:
        bitmap.warn_on_close = False  # closed once nothing uses its buffer: safe
        bitmap.close()


def _matching(payloads: list[QrPayload], number: object) -> QrPayload | None:
    for payload in payloads:
        if payload.invoice_number == number:
            return payload
    return payloads[0] if payloads else None
