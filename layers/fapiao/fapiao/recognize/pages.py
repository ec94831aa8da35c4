"""A page of an invoice file as a picture, for people to look at (the review console).

PDF pages are drawn by PDFium (behind ``native.PDFIUM_LOCK``: PDFium is not thread-safe),
OFD pages by ``ofd_render`` (text, paths and images as the file draws them), and photos
and scans are turned upright by their EXIF orientation. Every picture is at most
``MAX_SIDE`` pixels on its long side. The same bounds as recognition apply to the file
(``limits``): a file the hub would refuse to read is refused here with the same error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from PIL import Image

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import limits
from fapiao.recognize.detect import FileKind, detect

__all__ = ["MAX_SIDE", "PagePicture", "page_picture"]

MAX_SIDE = 1600  # pixels: an A4 page at about 190 dpi, sharp enough to read every digit


@dataclass(frozen=True)
class PagePicture:
    content: bytes
    media_type: str  # image/png (drawn pages) or image/jpeg (photos)
    pages: int  # how many pages the file has


def page_picture(data: bytes, number: int = 1) -> PagePicture:
    """Page ``number`` (1-based) of the file ``data`` as a picture. NOT_FOUND for a page
    the file does not have; the recognition's refusals for a file it cannot read."""
    if not data:
        raise HubError(Problem.UNRECOGNISABLE, "the file is empty")
    if len(data) > limits.MAX_FILE_BYTES:
        raise HubError(Problem.FILE_TOO_LARGE, f"the file has {len(data)} bytes")
    kind = detect(data)
    if number < 1:
        raise HubError(Problem.INVALID_REQUEST, "page: 1 or more")
    if kind is FileKind.PDF:
        return _pdf_page(data, number)
    if kind is FileKind.OFD:
        return _ofd_page(data, number)
    return _photo(data, kind, number)


def _png(image: Image.Image, pages: int) -> PagePicture:
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return PagePicture(buffer.getvalue(), "image/png", pages)


def _no_page(number: int, pages: int) -> HubError:
    return HubError(Problem.NOT_FOUND, f"page {number}: the file has {pages} page(s)")


def _pdf_page(data: bytes, number: int) -> PagePicture:
    from fapiao.recognize import native
    from fapiao.recognize.pdf import open_document

    with native.PDFIUM_LOCK:
        document = open_document(data)
        try:
            pages = len(document)
            if number > pages:
                raise _no_page(number, pages)
            page = document[number - 1]
            try:
                width, height = page.get_size()  # points
                scale = min(MAX_SIDE / max(width, height, 1.0), 4.0)
                bitmap = page.render(scale=scale)
                try:
                    image = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    return _png(image, pages)


def _ofd_page(data: bytes, number: int) -> PagePicture:
    from fapiao.recognize import ofd_render, xml
    from fapiao.recognize.ofd import open_ofd

    archive, paths = open_ofd(data)
    # Every document's pages, in order: an OFD with several invoices shows them all.
    documents: list[tuple[str, Element, int]] = []
    for path in paths:
        if not archive.exists(path):
            continue
        document = xml.parse(archive.read(path), path)
        documents.append((path, document, ofd_render.page_count(document)))
    pages = min(sum(count for _, _, count in documents), limits.MAX_OFD_PAGES)
    if pages == 0:
        raise HubError(Problem.UNRECOGNISABLE, "the OFD file has no page")
    if number > pages:
        raise _no_page(number, pages)
    wanted = number
    for path, document, count in documents:
        if wanted <= count:
            rendered = ofd_render.render_page(archive, path, document, wanted)
            if rendered is None:
                raise HubError(Problem.UNRECOGNISABLE, f"page {number} cannot be drawn")
            return _png(rendered.image, pages)
        wanted -= count
    raise _no_page(number, pages)


def _photo(data: bytes, kind: FileKind, number: int) -> PagePicture:
    from fapiao.recognize.image import open_image, upright

    if number != 1:
        raise _no_page(number, 1)
    with open_image(data, kind) as image:
        turned = upright(image, MAX_SIDE)
        buffer = io.BytesIO()
        turned.save(buffer, format="JPEG", quality=85)
    return PagePicture(buffer.getvalue(), "image/jpeg", 1)
