"""Photos, scans, screenshots and rendered pages: the QR codes in them and the text
printed on them, several invoices per picture.

The QR code is machine-readable and authoritative: type, code, number, date, one
amount, check code. OCR (``ocr``, ``photo``) reads everything printed and fills the
rest: parties, tax ids, amounts, line items, and the whole of an invoice that has no QR
code (taxi receipts, train tickets, quota invoices, old paper invoices). Where both read
a field and differ, the QR's value stands and the disagreement is reported.

Where the OCR package is absent (a Lambda function built without the OCR layer), only
the QR code is read, as before: no QR code, status U and the reason, for a remote
provider.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.recognize import limits
from fapiao.recognize.detect import FileKind
from fapiao.recognize.qr import QrPayload, invoice_payloads
from fapiao.recognize.result import RecognizedInvoice, Source, merge

if TYPE_CHECKING:  # photo and ocr import the OCR package: only when a picture is read
    from fapiao.recognize.photo import PhotoReading

_FORMATS = {
    FileKind.JPEG: "JPEG",
    FileKind.PNG: "PNG",
    FileKind.WEBP: "WEBP",
    FileKind.TIFF: "TIFF",
    FileKind.BMP: "BMP",
}
# warnings.catch_warnings swaps the process-wide filters: one thread at a time, or a
# thread restoring its saved filters would undo another's (or leave "error" behind).
_WARNINGS_LOCK = threading.Lock()
logger = logging.getLogger(__name__)
NO_QR = "no invoice QR code could be read in the image; its printed fields need OCR"
NOTHING_READ = "neither a QR code nor, by OCR, the printed number of an invoice could be read"
QR_ONLY = (
    "only the QR code was read: buyer, seller and the amounts it does not carry need OCR "
    "or the tax authority's verification"
)


def recognize_image(data: bytes, kind: FileKind) -> list[RecognizedInvoice]:
    image = open_image(data, kind)
    try:
        return read_picture(image, kind)
    finally:
        image.close()


def read_picture(
    image: Image.Image, kind: FileKind, *, page: int | None = None
) -> list[RecognizedInvoice]:
    """Every invoice in a picture (a photo, or a page rendered to pixels): QR first,
    OCR for the rest (see the module's docstring)."""
    from fapiao.recognize import ocr, qr_image
    from fapiao.recognize.photo import confirm_serial, railway_serial, read_page

    # a paper train ticket's 2D code is no invoice payload: it repeats the ticket's serial
    decoded = [(text, railway_serial(text)) for text in qr_image.decode(image)]
    serials = [serial for _, serial in decoded if serial is not None]
    payloads, notes = invoice_payloads([text for text, serial in decoded if serial is None])
    if not ocr.available():
        return _qr_only(kind, page, payloads, notes)
    try:
        readings = read_page(ocr.read_text(image))
    except Exception as error:  # a failure of the OCR costs what it would add, not the QR
        if not payloads:
            raise
        logger.exception("OCR of a %s picture failed; its QR code stands alone", kind.value)
        return _qr_only(kind, page, payloads, [*notes, f"OCR failed ({error})"])
    tickets = [r for r in readings if r.reading.get("invoice_type") is InvoiceType.TRAIN]
    for ticket, serial in zip(tickets, serials, strict=False):
        confirm_serial(ticket, serial)
    found: list[RecognizedInvoice] = []
    for payload in payloads:
        printed = _printed_of(payload, readings)
        if printed is not None:
            readings.remove(printed)
        found.append(_merged(kind, page, notes, payload, printed))
    for printed in readings:
        if payloads and not printed.reading.get("invoice_code") and len(found) == len(payloads):
            continue  # text beside a read QR code, not another invoice
        found.append(_merged(kind, page, notes, None, printed))
    if not found:
        return [RecognizedInvoice.unrecognisable(kind, NOTHING_READ, page=page, warnings=notes)]
    return [invoice for invoice in found if invoice.invoice is not None] or found[:1]


def _qr_only(
    kind: FileKind, page: int | None, payloads: list[QrPayload], notes: list[str]
) -> list[RecognizedInvoice]:
    if not payloads:
        return [RecognizedInvoice.unrecognisable(kind, NO_QR, page=page, warnings=notes)]
    return [
        merge([(Source.QR, p.reading())], kind=kind, page=page, warnings=[*notes, QR_ONLY])
        for p in payloads
    ]


def _printed_of(payload: QrPayload, readings: list[PhotoReading]) -> PhotoReading | None:
    """The OCR reading of the invoice whose QR code this is: the one with its number,
    or the only one."""
    for reading in readings:
        if reading.reading.get("invoice_number") == payload.invoice_number:
            return reading
    return readings[0] if len(readings) == 1 else None


def _merged(
    kind: FileKind,
    page: int | None,
    notes: list[str],
    payload: QrPayload | None,
    printed: PhotoReading | None,
) -> RecognizedInvoice:
    sources = []
    if payload is not None:
        sources.append((Source.QR, payload.reading()))
    if printed is not None:
        sources.append((Source.OCR, printed.reading))
    return merge(
        sources,
        kind=kind,
        page=page,
        warnings=[*notes, *(printed.warnings if printed else [])],
        confidence=printed.confidence if printed else None,
    )


def on_white(image: Image.Image) -> Image.Image:
    """The picture in RGB, what is transparent in it white (as on paper), not black."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def upright(image: Image.Image, max_side: int) -> Image.Image:
    """The picture as its EXIF orientation says it is seen, in RGB on white, at most
    ``max_side`` on its long side (a JPEG not yet decoded is decoded at a reduced scale
    when it is much larger: an 85-megapixel photo stays cheap)."""
    if image.format == "JPEG":
        scale = max(image.size) / max_side
        if scale >= 2:
            image.draft("RGB", (image.size[0] // int(scale), image.size[1] // int(scale)))
    turned = on_white(ImageOps.exif_transpose(image) or image)
    if max(turned.size) > max_side:
        turned = turned.copy()
        turned.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return turned


def open_image(data: bytes, kind: FileKind) -> Image.Image:
    """The image decoded, after its size was checked against ``limits.MAX_IMAGE_PIXELS``
    (from the header, before any pixel is decoded)."""
    try:
        # Pillow's own bomb warning is ours to give: the size is checked right below,
        # from the header, before a pixel is decoded.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_FORMATS[kind]])
    except Image.DecompressionBombError as error:
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"the image has too many pixels ({error}); at most {limits.MAX_IMAGE_PIXELS} are read",
        ) from None
    except UnidentifiedImageError:
        raise HubError(Problem.UNRECOGNISABLE, f"not a readable {kind.value} image") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise HubError(
            Problem.UNRECOGNISABLE, f"not a readable {kind.value} image ({error})"
        ) from None
    width, height = image.size
    if width * height > limits.MAX_IMAGE_PIXELS:
        image.close()
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"the image has {width}x{height} pixels; at most {limits.MAX_IMAGE_PIXELS} are read",
        )
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as error:
        image.close()
        raise HubError(
            Problem.UNRECOGNISABLE, f"the {kind.value} image is damaged ({error})"
        ) from None
    return image
