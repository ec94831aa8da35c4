"""Photos, scans and screenshots: the invoice QR codes in them, several per image.

Only the QR code is machine-readable in a picture: it gives the type, code, number,
date, one amount and the check code, which is what the tax authority's verification
needs. An image with no readable invoice QR code is answered with status U and the
reason, for a remote OCR provider to read later.
"""

from __future__ import annotations

import io
import threading
import warnings

from PIL import Image, UnidentifiedImageError

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import limits
from fapiao.recognize.detect import FileKind
from fapiao.recognize.qr import invoice_payloads
from fapiao.recognize.result import RecognizedInvoice, Source, merge

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
NO_QR = "no invoice QR code could be read in the image; its printed fields need OCR"
QR_ONLY = (
    "only the QR code was read: buyer, seller and the amounts it does not carry need OCR "
    "or the tax authority's verification"
)


def recognize_image(data: bytes, kind: FileKind) -> list[RecognizedInvoice]:
    from fapiao.recognize import qr_image

    image = open_image(data, kind)
    try:
        texts = qr_image.decode(image)
    finally:
        image.close()
    payloads, notes = invoice_payloads(texts)
    if not payloads:
        return [RecognizedInvoice.unrecognisable(kind, NO_QR, warnings=notes)]
    return [
        merge([(Source.QR, payload.reading())], kind=kind, warnings=[*notes, QR_ONLY])
        for payload in payloads
    ]


def open_image(data: bytes, kind: FileKind) -> Image.Image:
    """The image decoded, after its size was checked against ``limits.MAX_IMAGE_PIXELS``
    (from the header, before any pixel is decoded)."""
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_FORMATS[kind]])
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
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
