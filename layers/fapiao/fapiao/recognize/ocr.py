"""Text printed on a picture, read on this machine's CPU: the PP-OCRv4 Chinese models
that the ``rapidocr-onnxruntime`` wheel ships (detection, a 0°/180° line classifier,
recognition), loaded once per process, nothing downloaded.

``read_text(image)`` answers the text boxes of a page upright: the picture is turned
as its EXIF orientation says, capped in size (memory and time stay bounded whatever the
camera), turned a quarter when its lines run up the page, and the boxes of a page that
lies upside down are turned back (each line is read upright by the classifier, the page
order is restored here). ``layout_of(boxes)`` puts them into the ``Layout`` the printed
field readers share with PDF text layers.

ONNX Runtime's sessions may be run from several threads, but OpenCV's and the
wrapper's state are not documented as thread-safe: one lock, one page at a time per
process (the local hub reads in several worker processes).
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from PIL import Image

from fapiao.recognize.layout import Layout, Segment

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

MAX_SIDE = 2000  # px: the detector's own cap; an A4 page at ~170 dpi, a phone photo halved
MIN_SIDE = 32
MIN_CONFIDENCE = 0.5  # recognition scores below this are noise (seals, textures)
_LOCK = threading.Lock()


class OcrUnavailable(RuntimeError):
    """The OCR package is not installed (a Lambda function built without the OCR layer)."""


@dataclass(frozen=True)
class TextBox:
    """One run of text as read: its corners (x, y; y grows downwards) clockwise from top
    left, in the coordinates of the upright, capped page, and the model's confidence."""

    text: str
    corners: tuple[tuple[float, float], ...]
    confidence: float

    @property
    def left(self) -> float:
        return min(x for x, _ in self.corners)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.corners)

    @property
    def top(self) -> float:
        return min(y for _, y in self.corners)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.corners)

    @property
    def slope(self) -> float:
        """The angle of its top edge, radians (0 for a level line)."""
        (x0, y0), (x1, y1) = self.corners[0], self.corners[1]
        return math.atan2(y1 - y0, x1 - x0) if x1 != x0 else 0.0


@dataclass(frozen=True)
class PageText:
    boxes: list[TextBox]
    size: tuple[int, int]  # width, height of the upright, capped page
    turned: int  # degrees the page was turned clockwise to stand upright (0, 90, 180, 270)

    @property
    def text(self) -> str:
        return "\n".join(box.text for box in self.boxes)


def available() -> bool:
    """Whether the OCR package can be imported here."""
    try:
        _engine()
    except OcrUnavailable:
        return False
    return True


@cache
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ModuleNotFoundError as error:  # other import errors (out of memory) propagate
        raise OcrUnavailable(f"the OCR package is not installed ({error})") from error
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return RapidOCR()


def read_text(image: Image.Image) -> PageText:
    """Every run of text on the page, upright (see the module's docstring)."""
    engine = _engine()
    import numpy as np

    from fapiao.recognize.image import upright

    # Decoded whole already by ``recognize``, for its QR code; scaled to the detector's cap.
    page = upright(image, MAX_SIDE)
    if min(page.size) < MIN_SIDE:
        return PageText([], page.size, 0)
    pixels = np.asarray(page)[:, :, ::-1]  # RGB -> BGR, as OpenCV reads
    with _LOCK:
        found = _detect(engine, pixels)
        turned = 0
        if found is not None and _runs_sideways(found):
            pixels = np.ascontiguousarray(np.rot90(pixels, k=-1))  # a quarter clockwise
            turned = 90
            found = _detect(engine, pixels)
        if found is None:
            return PageText([], (pixels.shape[1], pixels.shape[0]), turned)
        crops = engine.get_crop_img_list(pixels, found)
        crops, classes, _ = engine.text_cls(crops)
        recognized, _ = engine.text_rec(crops)
    height, width = pixels.shape[:2]
    boxes = [
        TextBox(str(text).strip(), tuple((float(x), float(y)) for x, y in corners), float(score))
        for corners, (text, score) in zip(found, recognized, strict=True)
        if float(score) >= MIN_CONFIDENCE and str(text).strip()
    ]
    flipped = sum(1 for label, score in classes if label == "180" and score >= 0.9)
    if boxes and flipped * 2 > len(classes):
        turned = (turned + 180) % 360
        boxes = [_turn_half(box, width, height) for box in boxes]
    return PageText(boxes, (width, height), turned)


def _detect(engine: Any, pixels: np.ndarray) -> list[np.ndarray] | None:
    boxes, _ = engine.auto_text_det(pixels)
    return None if boxes is None or len(boxes) == 0 else list(boxes)


def _runs_sideways(boxes: list[np.ndarray]) -> bool:
    """Most long text boxes stand taller than wide: the page lies on its side."""
    tall = wide = 0
    for corners in boxes:
        xs, ys = corners[:, 0], corners[:, 1]
        w, h = float(xs.max() - xs.min()), float(ys.max() - ys.min())
        if h > 2 * w:
            tall += 1
        elif w > 2 * h:
            wide += 1
    return tall > wide and tall >= 3


def _turn_half(box: TextBox, width: int, height: int) -> TextBox:
    """The box on the page turned 180°: corners rotate, and start again at top left."""
    corners = [(width - x, height - y) for x, y in box.corners]
    return TextBox(box.text, tuple(corners[2:] + corners[:2]), box.confidence)


def layout_of(boxes: list[TextBox]) -> Layout:
    """The boxes as the lines of a ``Layout``, levelled first: a photo taken at a slant
    has every line tilted alike, and lines are found by vertical overlap."""
    slopes = [box.slope for box in boxes if box.right - box.left > 3 * (box.bottom - box.top)]
    angle = statistics.median(slopes) if slopes else 0.0
    cos, sin = math.cos(-angle), math.sin(-angle)
    segments = []
    for box in boxes:
        points = [(x * cos - y * sin, x * sin + y * cos) for x, y in box.corners]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        # Layout keeps PDF coordinates: y grows upwards.
        segments.append(Segment(box.text, min(xs), -max(ys), max(xs), -min(ys)))
    return Layout(segments)


def confidence_of(boxes: list[TextBox], value: object) -> float | None:
    """The confidence of the box a read value came from: the lowest among the boxes whose
    text holds it (None when no single box does, e.g. a value put together)."""
    text = str(value).replace(" ", "")
    if not text:
        return None
    scores = [box.confidence for box in boxes if text in box.text.replace(" ", "")]
    return min(scores) if scores else None
