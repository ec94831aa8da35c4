"""QR codes in pixels: photos, scans, screenshots and the QR images inside PDF and OFD.

zxing-cpp finds several codes per image, in any rotation. A code it finds but cannot
read (small, blurred, JPEG-soft) is retried: cropped around where it was found, scaled
up so that a module spans several pixels, and binarised two ways. The retries are
bounded (``limits.MAX_QR_CANDIDATES``).
"""

from __future__ import annotations

import math

import zxingcpp
from PIL import Image

from fapiao.recognize import limits

_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_BINARIZERS = (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram)
_SCALES = (4, 3, 6, 2)  # enlargements tried on a code found but not read (blur, JPEG)
_MAX_SIDE = 2400  # pixels: no enlargement past this
_MARGIN = 0.25  # of the code's side, kept around it when cropping


def decode(image: Image.Image) -> list[str]:
    """The texts of the QR codes in ``image``, in the order found, without repeats."""
    gray = image if image.mode == "L" else image.convert("L")
    found: list[str] = []
    damaged: list[tuple[float, float, float, float]] = []
    for binarizer in _BINARIZERS:
        for barcode in zxingcpp.read_barcodes(
            gray, formats=_QR, binarizer=binarizer, return_errors=True
        ):
            if barcode.valid and barcode.text:
                _add(found, barcode.text)
            else:
                damaged.append(_box(barcode.position))
        if found:
            break
    for box in _distinct(damaged)[: limits.MAX_QR_CANDIDATES]:
        for text in _retry(gray, box):
            _add(found, text)
    if not found and not damaged and gray.width * gray.height <= 1_000_000:
        # A small image (a thumbnail, a QR image object): try it scaled up once.
        bigger = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.BICUBIC)
        for barcode in zxingcpp.read_barcodes(bigger, formats=_QR):
            _add(found, barcode.text)
    return found


def _add(found: list[str], text: str) -> None:
    if text and text not in found:
        found.append(text)


def _box(position: zxingcpp.Position) -> tuple[float, float, float, float]:
    points = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    xs = [p.x for p in points]
    ys = [p.y for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _distinct(
    boxes: list[tuple[float, float, float, float]],
) -> list[tuple[float, float, float, float]]:
    """Boxes with near-duplicates (the same code seen by two binarisers) dropped."""
    kept: list[tuple[float, float, float, float]] = []
    for box in boxes:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if all(abs(cx - (k[0] + k[2]) / 2) + abs(cy - (k[1] + k[3]) / 2) > 10 for k in kept):
            kept.append(box)
    return kept


def _retry(gray: Image.Image, box: tuple[float, float, float, float]) -> list[str]:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0, 8.0)
    margin = side * _MARGIN
    crop = gray.crop(
        (
            max(int(x0 - margin), 0),
            max(int(y0 - margin), 0),
            min(math.ceil(x1 + margin), gray.width),
            min(math.ceil(y1 + margin), gray.height),
        )
    )
    for scale in _SCALES:
        if side * scale > _MAX_SIDE:
            continue
        bigger = crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.BICUBIC)
        for binarizer in _BINARIZERS:
            texts = [
                b.text for b in zxingcpp.read_barcodes(bigger, formats=_QR, binarizer=binarizer)
            ]
            if texts:
                return texts
    return []
