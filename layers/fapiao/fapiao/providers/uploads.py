"""What the hub uploads to yipiaoyun (spec 004): a file cut and shrunk to what 004 takes.

004: "jpg, jpeg, png及pdf(pdf只支持识别第一页内容). 图片最大支持1M".

- Every image is decoded first (a broken one costs no call). A JPEG or PNG of at most
  1 MB and 3000 pixels on its long side goes as it is. A larger one (004: "建议分辨率
  过大的图片进行压缩"), or a WebP, TIFF or BMP (which 004 does not take), is re-encoded
  as JPEG: turned upright by its EXIF orientation, transparency flattened on white,
  metadata dropped, at most 3000 pixels on its long side, at decreasing quality (85,
  72, 60) and then decreasing size until it fits. "1M" is read the strict way:
  1,000,000 bytes.
- A PDF goes one page at a time, since yipiaoyun reads only the first page: each page
  becomes a one-page PDF of its own (the text layer kept: yipiaoyun takes DiDi
  itineraries only as PDF), and a page whose PDF is over 1 MB (a scan) is rendered at
  200 dpi and sent as a JPEG that fits. At most ``max_pages`` pages of a file are sent;
  a one-page PDF of at most 1 MB goes as it came.

PDFium is not thread-safe (``fapiao.recognize.native``): every PDFium object here is
made, used and closed with ``native.PDFIUM_LOCK`` held, and every page is made before
any is sent, so the lock is never held while a provider is asked.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PIL import Image, ImageOps

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import limits, native
from fapiao.recognize.detect import FileKind
from fapiao.recognize.image import open_image
from fapiao.settings.limits import YIPIAOYUN_MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES

__all__ = [
    "MAX_UPLOAD_BYTES",
    "NotSent",
    "PageUpload",
    "Upload",
    "fit_image",
    "pdf_page_upload",
    "pdf_uploads",
]

native.prepare_pdfium()

_MAX_SIDE = 3000  # pixels on the long side of a re-encoded image: ~300 dpi on A4
_MIN_SIDE = 600  # below this an invoice is no longer legible: give up instead
_QUALITIES = (85, 72, 60)
_RENDER_DPI = 200
_MAX_ROUNDS = 8  # downscaling rounds; each aims under the limit from the last size


@dataclass(frozen=True)
class Upload:
    """One file as it goes to ``sendByImageFile``: within 1 MB, a kind 004 takes."""

    data: bytes
    kind: FileKind  # JPEG, PNG or PDF
    page: int | None = None  # 1-based page of the PDF it came from

    @property
    def filename(self) -> str:
        extension = {FileKind.JPEG: "jpg", FileKind.PNG: "png", FileKind.PDF: "pdf"}[self.kind]
        return f"invoice-p{self.page}.{extension}" if self.page else f"invoice.{extension}"

    @property
    def content_type(self) -> str:
        return {
            FileKind.JPEG: "image/jpeg",
            FileKind.PNG: "image/png",
            FileKind.PDF: "application/pdf",
        }[self.kind]


@dataclass(frozen=True)
class NotSent:
    """A page the hub chose not to send: the PDF has no such page, or it is past
    ``max_pages``. (A page that could not be made is a ``HubError``.)"""

    reason: str
    problem: Problem


PageUpload = tuple[int, Upload | HubError | NotSent]  # a 1-based page, and what became of it


# --- images ----------------------------------------------------------------------------


def fit_image(data: bytes, kind: FileKind, limit: int = MAX_UPLOAD_BYTES) -> Upload:
    """The image as 004 takes it: as it came when it is a JPEG or PNG within ``limit`` and
    ``_MAX_SIDE`` pixels (004 asks for large resolutions to be compressed), else a JPEG
    re-encoded to fit. Raises ``HubError`` for an unreadable image, one with too many
    pixels (``limits.MAX_IMAGE_PIXELS``) or one that cannot be made to fit."""
    image = open_image(data, kind)  # decoded: a broken file costs no paid call
    try:
        as_it_came = kind in (FileKind.JPEG, FileKind.PNG) and len(data) <= limit
        if as_it_came and max(image.size) <= _MAX_SIDE:
            return Upload(data, kind)
        upright = ImageOps.exif_transpose(image)
        return Upload(_jpeg_within(_flatten(upright), limit), FileKind.JPEG)
    finally:
        image.close()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or grey, transparency on white: what JPEG can hold."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("1", "I", "F") or image.mode.startswith("I;"):
        return image.convert("L")
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _jpeg_within(image: Image.Image, limit: int) -> bytes:
    """The largest-looking JPEG of ``image`` within ``limit`` bytes: quality first, then
    size; at most ``_MAX_SIDE`` pixels on the long side, never under ``_MIN_SIDE``."""
    width, height = image.size
    long_side = max(width, height)
    scale = min(1.0, _MAX_SIDE / long_side)
    floor = min(1.0, _MIN_SIDE / long_side)
    size = image.size
    for _ in range(_MAX_ROUNDS):
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        candidate = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)
        encoded = b""
        for quality in _QUALITIES:
            encoded = _jpeg(candidate, quality)
            if len(encoded) <= limit:
                return encoded
        if scale <= floor:
            break
        # A JPEG's bytes grow about with its pixels: aim under the limit, step 10-50 %.
        step = max(0.5, min(0.9, math.sqrt(limit / len(encoded)) * 0.95))
        scale = max(floor, scale * step)
    raise HubError(
        Problem.FILE_TOO_LARGE,
        f"the image does not fit in {limit} bytes even as a JPEG of {size[0]}x{size[1]} pixels",
    )


# --- PDFs ------------------------------------------------------------------------------


def pdf_uploads(
    data: bytes, pages: Sequence[int] | None, *, max_pages: int, limit: int = MAX_UPLOAD_BYTES
) -> list[PageUpload]:
    """Each page asked for (``pages``, 1-based; None: every page): its upload, why it
    cannot be made (``HubError``) or why it is not sent (``NotSent``). Raises
    ``HubError`` for a PDF that cannot be read or too many pages asked for. Every page is
    made before any is sent: PDFium is behind ``native.PDFIUM_LOCK``, which is not held
    while yipiaoyun is asked."""
    with native.PDFIUM_LOCK:
        document = _open_pdf(data)
        try:
            return _prepared_pages(document, data, pages, max_pages, limit)
        finally:
            document.close()


def _prepared_pages(
    document: pdfium.PdfDocument,
    data: bytes,
    pages: Sequence[int] | None,
    max_pages: int,
    limit: int,
) -> list[PageUpload]:
    count = len(document)
    wanted = list(dict.fromkeys(pages if pages is not None else range(1, count + 1)))
    if len(wanted) > limits.MAX_PDF_PAGES:
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"{len(wanted)} pages asked for; at most {limits.MAX_PDF_PAGES} are read",
        )
    prepared: list[PageUpload] = []
    sent = 0
    for page in wanted:
        if not 1 <= page <= count:
            reason = f"the PDF has no page {page} (it has {count})"
            prepared.append((page, NotSent(reason, Problem.INVALID_REQUEST)))
            continue
        if sent == max_pages:
            reason = f"not sent: at most {max_pages} pages of a file go to yipiaoyun"
            prepared.append((page, NotSent(reason, Problem.FILE_TOO_LARGE)))
            continue
        sent += 1
        try:
            if count == 1 and len(data) <= limit:
                prepared.append((page, Upload(data, FileKind.PDF, page)))  # as it came
            else:
                prepared.append((page, pdf_page_upload(document, page, limit)))
        except HubError as error:
            prepared.append((page, error))
    return prepared


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    """The document, for the caller to close; call with ``native.PDFIUM_LOCK`` held."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
            raise HubError(Problem.UNRECOGNISABLE, "the PDF is encrypted with a password") from None
        raise HubError(Problem.UNRECOGNISABLE, f"not a readable PDF ({error})") from None
    if len(document) == 0:
        document.close()
        raise HubError(Problem.UNRECOGNISABLE, "the PDF has no pages")
    return document


def pdf_page_upload(
    document: pdfium.PdfDocument, page: int, limit: int = MAX_UPLOAD_BYTES
) -> Upload:
    """Page ``page`` (1-based) of ``document`` as a one-page PDF; rendered as a JPEG when
    that PDF is over ``limit`` (a scanned page). Raises ``HubError``. PDFium is not
    thread-safe: the caller holds ``native.PDFIUM_LOCK`` (re-entrant) around the whole
    life of ``document``; this takes it too."""
    with native.PDFIUM_LOCK:
        single = pdfium.PdfDocument.new()
        try:
            single.import_pages(document, [page - 1])
            buffer = io.BytesIO()
            single.save(buffer)
        except pdfium.PdfiumError as error:
            raise HubError(
                Problem.UNRECOGNISABLE, f"page {page} cannot be copied ({error})"
            ) from None
        finally:
            single.close()
        if buffer.tell() <= limit:
            return Upload(buffer.getvalue(), FileKind.PDF, page)
        image = _rendered_page(document, page)
    try:
        return Upload(_jpeg_within(_flatten(image), limit), FileKind.JPEG, page)
    finally:
        image.close()


def _rendered_page(document: pdfium.PdfDocument, page: int) -> Image.Image:
    """The page rendered, as a PIL image of its own (no view of a PDFium buffer: it
    outlives the lock); every PDFium object is closed here."""
    pdf_page = document[page - 1]
    try:
        width, height = pdf_page.get_size()
        scale = min(_RENDER_DPI / 72, _MAX_SIDE / max(width, height, 1.0))
        bitmap = pdf_page.render(scale=scale)
        try:
            shared: Image.Image = bitmap.to_pil()
            image = shared.copy()
            shared.close()
        finally:
            bitmap.close()
    except pdfium.PdfiumError as error:
        raise HubError(
            Problem.UNRECOGNISABLE, f"page {page} cannot be rendered ({error})"
        ) from None
    finally:
        pdf_page.close()
    return image
