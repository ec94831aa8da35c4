"""An OFD page drawn into a picture, for pages that carry no text to read: text drawn as
outlines, no invoice XML, no CustomTags. The picture is then read like a photo (its QR
code, then OCR). And a page's text objects laid out in lines (``page_layout``), for pages
that do carry text but no invoice XML: read then like a PDF's text layer.

A minimal renderer of what invoice writers put on a page, each object placed by its
``Boundary`` (the origin of its own space) and ``CTM``, the page's templates under (or
over) its content:
- PathObject: ``AbbreviatedData`` (S/M move, L line, Q quadratic and B cubic Bézier, A
  elliptical arc, C/Z close), filled by its rule (non-zero or even-odd, for contours that
  do not cross: glyph outlines keep their holes) and stroked, colours from the object,
  its DrawParam, or black;
- ImageObject: PNG, JPEG, BMP, GIF or TIFF resources (JBIG2, which Pillow cannot read,
  is left out);
- TextObject: drawn with a CJK font when the machine has one (Noto CJK), else left out.

Hostile input: the picture is at most ``MAX_PIXELS``; objects, points, filled pixels and
images are counted against budgets, and drawing stops, keeping the page so far with a
note, at the first one spent or at ``DEADLINE_SECONDS``.
"""

from __future__ import annotations

import io
import itertools
import math
import posixpath
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.etree.ElementTree import Element

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from fapiao.catalogue.errors import HubError
from fapiao.recognize import limits, xml
from fapiao.recognize.layout import Char, Layout, segments_from_chars
from fapiao.recognize.safezip import SafeZip, resolve

DPI = 200  # enough for OCR of 9-point invoice text
MAX_PIXELS = 6_000_000  # an A4 page at 200 dpi is 3.9 megapixels
MAX_OBJECTS = 40_000  # page objects drawn (text codes, paths, images)
MAX_POINTS = 1_000_000  # path points after curves are flattened (a page of text: 300 000)
MAX_FILL_PIXELS = 200_000_000  # pixels touched while filling (sum of subpath boxes)
MAX_IMAGES = 16
MAX_TEXT_CHARS = 40_000
MAX_DEPTH = 16  # nested PageBlocks
DEADLINE_SECONDS = 10.0

_MM_PER_INCH = 25.4
_MAX_PAGE_MM = 2000.0  # a page side; an invoice is 210 mm wide
_DEFAULT_PAGE = (0.0, 0.0, 210.0, 297.0)
_DEFAULT_LINE_WIDTH = 0.353  # mm, GB/T 33190
_CURVE_STEP = 2.0  # pixels per segment of a flattened curve
_MAX_CURVE_SEGMENTS = 64
_GRID = 64  # pixels: cells of the index of contours while filling
_MAX_NESTING = 32  # contours counted around one (a glyph has two or three)
_BLACK = (0, 0, 0)
_FONTS = (  # Noto Sans CJK SC is face 2 of the collection
    (Path("/opt/fonts/NotoSansCJK-Regular.ttc"), 2),  # Lambda: the FontLayer (layers/fonts)
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PATH_TOKEN = re.compile(r"[A-Za-z]|" + _NUMBER.pattern)
_ARITY = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0, "Z": 0}
_IMAGE_FORMATS = ["PNG", "JPEG", "BMP", "GIF", "TIFF"]

Point = tuple[float, float]
Matrix = tuple[float, float, float, float, float, float]  # x' = a x + c y + e, y' = b x + d y + f
Colour = tuple[int, int, int]


class _Spent(Exception):
    """A budget or the deadline ran out: the page is kept as drawn so far."""


@dataclass
class Rendered:
    image: Image.Image  # RGB
    notes: list[str] = field(default_factory=list)  # what was left out, and why


def page_count(document: Element) -> int:
    return sum(1 for _ in _pages(document))


def render_page(
    archive: SafeZip, document_path: str, document: Element, number: int, *, dpi: int = DPI
) -> Rendered | None:
    """Page ``number`` (1-based) of the document drawn in RGB, or None if it has no such
    page or its content is missing."""
    found = _page(archive, document_path, document, number)
    if found is None:
        return None
    page_path, content, layers = found
    box = _box(xml.child(content, "Area")) or _box(_page_area(document)) or _DEFAULT_PAGE
    painter = _Painter(archive, box, dpi)
    painter.resources.load(archive, document_path, document, page_path, content)
    try:
        for layer in layers:
            painter.draw_content(layer)
    except _Spent as spent:
        painter.notes.append(f"page drawn in part: {spent}")
    return Rendered(painter.image, painter.notes)


def page_layout(
    archive: SafeZip, document_path: str, document: Element, number: int
) -> Layout | None:
    """The text objects of page ``number`` (1-based) and of its templates, laid out in
    lines as a PDF page's text layer is (``layout``), or None if it has no such page.
    Positions in millimetres, y upwards."""
    found = _page(archive, document_path, document, number)
    if found is None:
        return None
    chars: list[Char] = []
    upwards: Matrix = (1.0, 0.0, 0.0, -1.0, 0.0, 0.0)
    try:
        for layer in found[2]:
            for obj in _objects(layer):
                if xml.local(obj) == "TextObject":
                    chars.extend(_chars(obj, upwards, MAX_TEXT_CHARS - len(chars)))
    except _Spent:
        pass  # nested past MAX_DEPTH: the text so far is laid out
    return Layout(segments_from_chars(chars))


def _page(
    archive: SafeZip, document_path: str, document: Element, number: int
) -> tuple[str, Element, list[Element]] | None:
    """Page ``number``'s path, its content, and what is drawn in order: background
    templates, the content, foreground templates."""
    page = next((p for i, p in enumerate(_pages(document), 1) if i == number), None)
    location = page.get("BaseLoc") if page is not None else None
    if location is None:
        return None
    page_path = resolve(document_path, location)
    content = _read_xml(archive, page_path)
    if content is None:
        return None
    templates = _templates(archive, document_path, document, content)
    return page_path, content, [*templates["Background"], content, *templates["Foreground"]]


def _objects(page: Element) -> Iterator[Element]:
    """The visible objects of a page (or template), layer by layer (background, body,
    foreground), page blocks opened (at most ``MAX_DEPTH`` deep)."""
    content = xml.child(page, "Content")
    if content is None:
        return
    order = {"Background": 0, "Body": 1, "Foreground": 2}
    layers = sorted(
        xml.children(content, "Layer"), key=lambda layer: order.get(layer.get("Type", "Body"), 1)
    )
    stack: list[tuple[Iterator[Element], int]] = [(iter(layers), 0)]
    while stack:
        children, depth = stack[-1]
        obj = next(children, None)
        if obj is None:
            stack.pop()
        elif xml.local(obj) in ("Layer", "PageBlock"):
            if depth >= MAX_DEPTH:
                raise _Spent(f"page blocks nested deeper than {MAX_DEPTH}")
            stack.append((iter(list(obj)), depth + 1))
        elif obj.get("Visible", "true").lower() != "false":
            yield obj


def _placement(obj: Element, page: Matrix) -> Matrix | None:
    """Object space to ``page`` space: its CTM, then its Boundary's origin, then the page."""
    boundary = _numbers(obj.get("Boundary"))
    if len(boundary) != 4 or not all(math.isfinite(n) for n in boundary):
        return None
    ctm = _matrix(obj.get("CTM")) or (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    origin: Matrix = (1.0, 0.0, 0.0, 1.0, boundary[0], boundary[1])
    return _then(_then(ctm, origin), page)


def _glyphs(obj: Element, limit: int) -> Iterator[tuple[str, Point, float | None]]:
    """Each character of a TextObject (at most ``limit``): itself, its baseline origin in
    object space, and its advance where the object gives one (DeltaX)."""
    x, y = 0.0, 0.0
    count = 0
    for code in xml.children(obj, "TextCode"):
        text = (code.text or "")[: max(limit - count, 0)]
        count += len(text)
        x = _first(code.get("X"), x)
        y = _first(code.get("Y"), y)
        # One offset between each two characters; some writers add one past the last.
        dx = _deltas(code.get("DeltaX"), len(text) - 1)
        dy = _deltas(code.get("DeltaY"), len(text) - 1)
        for index, char in enumerate(text):
            advance = dx[index] if index < len(dx) else None
            yield char, (x, y), advance
            x += advance or 0.0
            y += dy[index] if index < len(dy) else 0.0
        if count >= limit:
            return


def _chars(obj: Element, page: Matrix, limit: int) -> list[Char]:
    """A TextObject's characters with their boxes in ``page`` space (y upwards)."""
    placement = _placement(obj, page)
    sizes = _numbers(obj.get("Size"))
    if placement is None or not sizes or not 0 < sizes[0] < _MAX_PAGE_MM:
        return []
    size = sizes[0]
    chars: list[Char] = []
    for char, (x, y), advance in _glyphs(obj, limit):
        width = size * (0.5 if char.isascii() else 1.0)
        if advance is not None and 0 < advance < width:
            width = advance  # spaced closer than the font would: the box shrinks with it
        corners = [
            _apply(placement, (x + dx, y + dy))
            for dx in (0.0, width)
            for dy in (-0.85 * size, 0.15 * size)  # ascent above the baseline, descent
        ]
        xs = [p[0] for p in corners]
        ys = [p[1] for p in corners]
        chars.append(Char(char, min(xs), min(ys), max(xs), max(ys)))
    return chars


def _pages(document: Element) -> Iterator[Element]:
    pages = xml.child(document, "Pages")
    return xml.children(pages, "Page") if pages is not None else iter(())


def _read_xml(archive: SafeZip, path: str) -> Element | None:
    try:
        return xml.parse(archive.read(path), path)
    except (KeyError, HubError):
        return None


def _page_area(document: Element) -> Element | None:
    common = xml.child(document, "CommonData")
    return xml.child(common, "PageArea") if common is not None else None


def _box(area: Element | None) -> tuple[float, float, float, float] | None:
    """The PhysicalBox of a page area: x, y, width, height in millimetres."""
    if area is None:
        return None
    numbers = _numbers(xml.text(xml.child(area, "PhysicalBox")))
    if len(numbers) != 4:
        return None
    x, y, width, height = numbers
    if not (0 < width <= _MAX_PAGE_MM and 0 < height <= _MAX_PAGE_MM):
        return None
    return x, y, width, height


def _templates(
    archive: SafeZip, document_path: str, document: Element, content: Element
) -> dict[str, list[Element]]:
    """The page's templates, by the side of the content they are drawn on."""
    common = xml.child(document, "CommonData")
    defined = {
        t.get("ID", ""): t
        for t in (xml.children(common, "TemplatePage") if common is not None else ())
    }
    found: dict[str, list[Element]] = {"Background": [], "Foreground": []}
    for reference in xml.children(content, "Template"):
        template = defined.get(reference.get("TemplateID", ""))
        location = template.get("BaseLoc") if template is not None else None
        if template is None or location is None:
            continue
        side = reference.get("ZOrder") or template.get("ZOrder") or "Background"
        loaded = _read_xml(archive, resolve(document_path, location))
        if loaded is not None:
            found["Foreground" if side == "Foreground" else "Background"].append(loaded)
    return found


def _numbers(text: str | None) -> list[float]:
    if not text:
        return []
    return [float(n) for n in _NUMBER.findall(text[:10_000])]


def _matrix(text: str | None) -> Matrix | None:
    numbers = _numbers(text)
    if len(numbers) != 6 or not all(math.isfinite(n) for n in numbers):
        return None
    a, b, c, d, e, f = numbers
    return a, b, c, d, e, f


def _then(first: Matrix, second: Matrix) -> Matrix:
    """The matrix that applies ``first``, then ``second``."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = second
    return (
        a2 * a1 + c2 * b1,
        b2 * a1 + d2 * b1,
        a2 * c1 + c2 * d1,
        b2 * c1 + d2 * d1,
        a2 * e1 + c2 * f1 + e2,
        b2 * e1 + d2 * f1 + f2,
    )


def _apply(matrix: Matrix, point: Point) -> Point:
    a, b, c, d, e, f = matrix
    x, y = point
    return a * x + c * y + e, b * x + d * y + f


def _scale_of(matrix: Matrix) -> float:
    """How much the matrix scales lengths (on average over directions)."""
    a, b, c, d, _, _ = matrix
    return math.sqrt(abs(a * d - b * c))


def _commands(data: str) -> Iterator[tuple[str, list[float]]]:
    """The commands of an AbbreviatedData with their numbers: a command letter, then
    as many numbers as it takes (more numbers repeat it; after a move they draw lines,
    as in SVG). What does not parse is skipped. Read lazily: a long path costs no list
    of its tokens."""
    command = ""
    numbers: list[float] = []
    for token in _PATH_TOKEN.finditer(data, 0, 8 * MAX_POINTS):
        text = token.group(0)
        if text.isalpha():
            command, numbers = text.upper(), []
            if _ARITY.get(command) == 0:
                yield command, []
            continue
        arity = _ARITY.get(command, 0)
        if arity == 0:
            continue  # a number no command takes
        numbers.append(float(text))
        if len(numbers) < arity:
            continue
        if all(math.isfinite(v) for v in numbers):
            yield command, numbers
        numbers = []
        if command in ("S", "M"):
            command = "L"


def _segment(command: str, position: Point, values: list[float], placement: Matrix) -> list[Point]:
    """One drawing command from ``position`` (object space) as points in pixels, its
    start left out: L line, Q quadratic and B cubic Bézier, A elliptical arc."""
    target = (values[-2], values[-1])
    if command == "Q":
        controls = [position, (values[0], values[1]), target]
        return _bezier([_apply(placement, p) for p in controls])
    if command == "B":
        controls = [position, (values[0], values[1]), (values[2], values[3]), target]
        return _bezier([_apply(placement, p) for p in controls])
    if command == "A":
        return [_apply(placement, p) for p in _arc(position, values, _scale_of(placement))]
    return [_apply(placement, target)]


# --- resources ----------------------------------------------------------------------


class _Resources:
    """The document's and page's resources: images, drawing parameters, colour spaces."""

    def __init__(self) -> None:
        self.media: dict[str, str] = {}  # ID -> archive path
        self.draw_params: dict[str, Element] = {}
        self.gray: set[str] = set()  # colour spaces of one component
        self.cmyk: set[str] = set()

    def load(
        self,
        archive: SafeZip,
        document_path: str,
        document: Element,
        page_path: str,
        content: Element,
    ) -> None:
        common = xml.child(document, "CommonData")
        locations = [
            resolve(document_path, location)
            for name in ("PublicRes", "DocumentRes")
            for location in (
                xml.text(e) for e in (xml.children(common, name) if common is not None else ())
            )
            if location
        ]
        locations += [
            resolve(page_path, location)
            for location in (xml.text(e) for e in xml.children(content, "PageRes"))
            if location
        ]
        for location in locations[:16]:
            res = _read_xml(archive, location)
            if res is not None:
                self._add(res, location)

    def _add(self, res: Element, location: str) -> None:
        base = res.get("BaseLoc", "")
        for media in xml.descendants(res, "MultiMedia"):
            file = xml.text(xml.child(media, "MediaFile"))
            if file:
                self.media[media.get("ID", "")] = resolve(location, posixpath.join(base, file))
        for param in xml.descendants(res, "DrawParam"):
            self.draw_params[param.get("ID", "")] = param
        for space in xml.descendants(res, "ColorSpace"):
            kind = (space.get("Type") or "").upper()
            if kind == "GRAY":
                self.gray.add(space.get("ID", ""))
            elif kind == "CMYK":
                self.cmyk.add(space.get("ID", ""))

    def colour(self, element: Element | None) -> Colour | None:
        """A FillColor or StrokeColor as RGB; None for none, or a transparent one."""
        if element is None:
            return None
        if (alpha := _numbers(element.get("Alpha"))) and alpha[0] <= 0:
            return None
        value = element.get("Value")
        if value is None:
            return _BLACK  # a pattern or shading: drawn plain
        parts = [int(p[1:], 16) if p.startswith("#") else p for p in value.split()]
        try:
            numbers = [min(max(int(float(p)), 0), 255) for p in parts]
        except ValueError:
            return _BLACK
        space = element.get("ColorSpace", "")
        if len(numbers) == 1 or space in self.gray:
            return numbers[0], numbers[0], numbers[0]
        if len(numbers) == 4 or space in self.cmyk:
            c, m, y, k = [*numbers, 0, 0, 0, 0][:4]
            return tuple(round((255 - v) * (255 - k) / 255) for v in (c, m, y))  # type: ignore[return-value]
        if len(numbers) >= 3:
            return numbers[0], numbers[1], numbers[2]
        return _BLACK

    def param(self, obj: Element, name: str) -> Element | str | None:
        """Attribute or child ``name`` of the object, else of its DrawParam chain."""
        found: Element | str | None = obj.get(name) or xml.child(obj, name)
        reference = obj.get("DrawParam")
        for _ in range(8):  # a Relative chain, bounded (a cycle stops here)
            if found is not None or reference is None:
                break
            param = self.draw_params.get(reference)
            if param is None:
                break
            found = param.get(name) or xml.child(param, name)
            reference = param.get("Relative")
        return found


# --- drawing ------------------------------------------------------------------------


class _Painter:
    def __init__(self, archive: SafeZip, box: tuple[float, float, float, float], dpi: int) -> None:
        x, y, width, height = box
        scale = min(dpi / _MM_PER_INCH, math.sqrt(MAX_PIXELS / (width * height)))
        self.page: Matrix = (scale, 0.0, 0.0, scale, -x * scale, -y * scale)
        self.image = Image.new(
            "RGB", (max(round(width * scale), 1), max(round(height * scale), 1)), "white"
        )
        self.canvas = ImageDraw.Draw(self.image)
        self.archive = archive
        self.resources = _Resources()
        self.notes: list[str] = []
        self.deadline = time.monotonic() + DEADLINE_SECONDS
        self.objects = 0
        self.points = 0
        self.fill_pixels = 0
        self.images = 0
        self.chars = 0
        self._skipped: set[str] = set()

    def _note_once(self, note: str) -> None:
        if note not in self._skipped:
            self._skipped.add(note)
            self.notes.append(note)

    def _count(self) -> None:
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise _Spent(f"more than {MAX_OBJECTS} objects")
        if self.objects % 64 == 0 and time.monotonic() > self.deadline:
            raise _Spent(f"drawing took more than {DEADLINE_SECONDS:g} s")

    def draw_content(self, page: Element) -> None:
        for obj in _objects(page):
            name = xml.local(obj)
            if name == "PathObject":
                self._count()
                self._path(obj)
            elif name == "ImageObject":
                self._count()
                self._image(obj)
            elif name == "TextObject":
                self._count()
                self._text(obj)
            elif name == "CompositeObject":
                self._note_once("composite objects are not drawn")

    def _placement(self, obj: Element) -> Matrix | None:
        return _placement(obj, self.page)

    # --- paths

    def _path(self, obj: Element) -> None:
        placement = self._placement(obj)
        data = xml.text(xml.child(obj, "AbbreviatedData"))
        if placement is None or data is None:
            return
        subpaths = self._subpaths(data, placement)
        if not subpaths:
            return
        if obj.get("Fill", "false").lower() == "true":
            fill = self.resources.param(obj, "FillColor")
            colour = self.resources.colour(fill) if isinstance(fill, Element) else _BLACK
            if colour is not None:
                self._fill(subpaths, colour, obj.get("Rule", "NonZero"))
        if obj.get("Stroke", "true").lower() != "false":
            stroke = self.resources.param(obj, "StrokeColor")
            colour = self.resources.colour(stroke) if isinstance(stroke, Element) else _BLACK
            width = self.resources.param(obj, "LineWidth")
            widths = _numbers(width) if isinstance(width, str) else []
            line_width = widths[0] if widths else _DEFAULT_LINE_WIDTH
            if colour is not None:
                pixels = max(1, round(line_width * _scale_of(placement)))
                for points, closed in subpaths:
                    line = [*points, points[0]] if closed else points
                    if len(line) >= 2:
                        self.canvas.line(line, fill=colour, width=min(pixels, 64))

    def _subpaths(self, data: str, placement: Matrix) -> list[tuple[list[Point], bool]]:
        """The path's subpaths in pixels, curves flattened: (points, closed)."""
        subpaths: list[tuple[list[Point], bool]] = []
        current: list[Point] = []
        position: Point = (0.0, 0.0)  # in object space
        start = position
        for command, values in _commands(data):
            if command in ("S", "M"):
                if len(current) >= 2:
                    subpaths.append((current, False))
                position = start = (values[0], values[1])
                current = [_apply(placement, position)]
                continue
            if command in ("C", "Z"):
                if len(current) >= 2:
                    subpaths.append(([*current, _apply(placement, start)], True))
                current, position = [], start
                continue
            if not current:
                current = [_apply(placement, position)]
            target = (values[-2], values[-1])
            points = _segment(command, position, values, placement)
            current.extend(points)
            position = target
            self.points += len(points)
            if self.points > MAX_POINTS:
                raise _Spent(f"more than {MAX_POINTS} path points")
        if len(current) >= 2:
            subpaths.append((current, False))
        return subpaths

    def _fill(self, subpaths: list[tuple[list[Point], bool]], colour: Colour, rule: str) -> None:
        """Fill the subpaths by the path's rule. Contours are taken as not crossing each
        other (glyph outlines, the squares of a QR code): from the largest to the
        smallest, each paints or clears its inside, as the rule says of the region just
        inside it, given the contours that hold it. So the holes of a glyph ("口", "0")
        stay open and abutting squares leave no seam."""
        polygons = sorted((p for p, _ in subpaths if len(p) >= 3), key=lambda p: -abs(_area(p)))
        if not polygons:
            return
        width, height = self.image.size
        boxes = [_bounds(polygon) for polygon in polygons]
        left = max(math.floor(min(b[0] for b in boxes)), 0)
        top = max(math.floor(min(b[1] for b in boxes)), 0)
        right = min(math.ceil(max(b[2] for b in boxes)) + 1, width)
        bottom = min(math.ceil(max(b[3] for b in boxes)) + 1, height)
        if right <= left or bottom <= top:
            return
        mask = Image.new("1", (right - left, bottom - top), 0)
        draw = ImageDraw.Draw(mask)
        signs = [1 if _area(p) > 0 else -1 for p in polygons]
        # Where the contours drawn so far lie (grid cells of their boxes; a wide one is
        # tried everywhere): a contour that holds another covers its top-left corner.
        cells: dict[tuple[int, int], list[int]] = {}
        wide: list[int] = []
        for index, polygon in enumerate(polygons):
            box = boxes[index]
            self._charge(round((box[2] - box[0] + 1) * (box[3] - box[1] + 1)))
            if index % 256 == 255 and time.monotonic() > self.deadline:
                raise _Spent(f"drawing took more than {DEADLINE_SECONDS:g} s")
            corner = (math.floor(box[0] / _GRID), math.floor(box[1] / _GRID))
            holders: list[int] = []
            for j in (*cells.get(corner, ()), *wide):
                if _holds(boxes[j], box) and _inside(polygon[0], polygons[j]):
                    holders.append(j)
                    if len(holders) == _MAX_NESTING:
                        break
            if rule == "Even-Odd":
                painted = len(holders) % 2 == 0
            else:  # NonZero: the winding number just inside this contour
                painted = sum(signs[j] for j in holders) + signs[index] != 0
            draw.polygon([(x - left, y - top) for x, y in polygon], fill=1 if painted else 0)
            _register(cells, wide, index, box)
        self.image.paste(colour, (left, top, right, bottom), mask)

    def _charge(self, pixels: int) -> None:
        self.fill_pixels += pixels
        if self.fill_pixels > MAX_FILL_PIXELS:
            raise _Spent(f"filling past {MAX_FILL_PIXELS} pixels")

    # --- images

    def _image(self, obj: Element) -> None:
        placement = self._placement(obj)
        path = self.resources.media.get(obj.get("ResourceID", ""))
        if placement is None or path is None:
            return
        self.images += 1
        if self.images > MAX_IMAGES:
            self._note_once(f"images past the first {MAX_IMAGES} are not drawn")
            return
        picture = self._open(path)
        if picture is None:
            return
        with picture:
            self._place(picture, placement)

    def _open(self, path: str) -> Image.Image | None:
        try:
            raw = self.archive.read(path)
        except (KeyError, HubError):
            return None
        try:
            picture = Image.open(io.BytesIO(raw), formats=_IMAGE_FORMATS)
            width, height = picture.size
            if width * height > limits.MAX_QR_IMAGE_PIXELS * 4:
                picture.close()
                self._note_once("an image too large to draw was left out")
                return None
            picture.load()
            return picture
        except (
            UnidentifiedImageError,
            OSError,
            ValueError,
            SyntaxError,
            Image.DecompressionBombError,
        ):
            self._note_once(
                f"an image in a format not drawn was left out ({posixpath.basename(path)})"
            )
            return None

    def _place(self, picture: Image.Image, placement: Matrix) -> None:
        """The picture on the unit square of its object space, mapped onto the page."""
        width, height = picture.size
        to_page = _then((1.0 / width, 0.0, 0.0, 1.0 / height, 0.0, 0.0), placement)
        corners = [_apply(to_page, p) for p in ((0, 0), (width, 0), (0, height), (width, height))]
        left = max(math.floor(min(x for x, _ in corners)), 0)
        top = max(math.floor(min(y for _, y in corners)), 0)
        right = min(math.ceil(max(x for x, _ in corners)), self.image.width)
        bottom = min(math.ceil(max(y for _, y in corners)), self.image.height)
        if right <= left or bottom <= top:
            return
        inverse = _inverse(_then(to_page, (1.0, 0.0, 0.0, 1.0, -left, -top)))
        if inverse is None:
            return
        a, b, c, d, e, f = inverse  # PIL wants output -> input as (a, c, e, b, d, f)
        rgba = picture.convert("RGBA")
        placed = rgba.transform(
            (right - left, bottom - top),
            Image.Transform.AFFINE,
            (a, c, e, b, d, f),
            resample=Image.Resampling.BILINEAR,
            fillcolor=(0, 0, 0, 0),
        )
        self.image.paste(placed.convert("RGB"), (left, top), placed.getchannel("A"))
        rgba.close()
        placed.close()

    # --- text

    def _text(self, obj: Element) -> None:
        placement = self._placement(obj)
        sizes = _numbers(obj.get("Size"))
        if placement is None or not sizes or sizes[0] <= 0:
            return
        pixels = sizes[0] * _scale_of(placement)
        font = _font(max(4, min(round(pixels), 400)))
        if font is None:
            self._note_once("text objects are not drawn: no CJK font on this machine")
            return
        fill = self.resources.param(obj, "FillColor")
        colour = self.resources.colour(fill) if isinstance(fill, Element) else _BLACK
        if colour is None:
            return
        pending = 0.0  # the font's own advance, for characters the object gives none
        for char, point, advance in _glyphs(obj, MAX_TEXT_CHARS + 1 - self.chars):
            self.chars += 1
            if self.chars > MAX_TEXT_CHARS:
                raise _Spent(f"more than {MAX_TEXT_CHARS} text characters")
            x, y = _apply(placement, point)
            self.canvas.text((x + pending, y), char, font=font, fill=colour, anchor="ls")
            pending = 0.0 if advance is not None else pending + font.getlength(char)


def _first(text: str | None, default: float) -> float:
    numbers = _numbers(text)
    return numbers[0] if numbers and math.isfinite(numbers[0]) else default


def _deltas(text: str | None, count: int) -> list[float]:
    """A DeltaX/DeltaY list: numbers, and "g n d" for n times d; at most ``count``."""
    if not text:
        return []
    tokens = text.split()
    found: list[float] = []
    index = 0
    try:
        while index < len(tokens) and len(found) < count:
            if tokens[index] == "g" and index + 2 < len(tokens):
                times = min(int(float(tokens[index + 1])), count - len(found))
                found.extend([float(tokens[index + 2])] * max(times, 0))
                index += 3
            else:
                found.append(float(tokens[index]))
                index += 1
    except ValueError:
        return found
    return [d if math.isfinite(d) else 0.0 for d in found]


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | None:
    for path, face in _FONTS:
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), size, index=face)
            except OSError:
                continue
    return None


def _register(
    cells: dict[tuple[int, int], list[int]],
    wide: list[int],
    index: int,
    box: tuple[float, float, float, float],
) -> None:
    """Note contour ``index`` in the grid cells its box covers (in ``wide`` past 64)."""
    x0, y0 = math.floor(box[0] / _GRID), math.floor(box[1] / _GRID)
    x1, y1 = math.floor(box[2] / _GRID), math.floor(box[3] / _GRID)
    if (x1 - x0 + 1) * (y1 - y0 + 1) > 64:
        wide.append(index)
        return
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            cells.setdefault((x, y), []).append(index)


def _area(polygon: list[Point]) -> float:
    """The signed area (shoelace): its sign is the contour's direction."""
    return 0.5 * sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise([*polygon, polygon[0]])
    )


def _bounds(polygon: list[Point]) -> tuple[float, float, float, float]:
    xs = [x for x, _ in polygon]
    ys = [y for _, y in polygon]
    return min(xs), min(ys), max(xs), max(ys)


def _holds(
    outer: tuple[float, float, float, float], inner: tuple[float, float, float, float]
) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and outer[2] >= inner[2]
        and outer[3] >= inner[3]
    )


def _inside(point: Point, polygon: list[Point]) -> bool:
    """Is ``point`` inside ``polygon`` (ray casting)?"""
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise([*polygon, polygon[0]]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _inverse(matrix: Matrix) -> Matrix | None:
    a, b, c, d, e, f = matrix
    det = a * d - b * c
    if abs(det) < 1e-12:
        return None
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    return ia, ib, ic, id_, -(ia * e + ic * f), -(ib * e + id_ * f)


def _bezier(controls: list[Point]) -> list[Point]:
    """A quadratic or cubic Bézier (in pixels) as points, its start left out."""
    length = sum(math.dist(p, q) for p, q in itertools.pairwise(controls))
    steps = max(2, min(_MAX_CURVE_SEGMENTS, math.ceil(length / _CURVE_STEP)))
    points: list[Point] = []
    for step in range(1, steps + 1):
        t = step / steps
        level = controls
        while len(level) > 1:  # de Casteljau
            level = [
                (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)
                for p, q in itertools.pairwise(level)
            ]
        points.append(level[0])
    return points


def _arc(start: Point, values: list[float], scale: float) -> list[Point]:
    """An OFD/SVG elliptical arc "A rx ry angle large sweep x y" from ``start``, as points
    in object space (its start left out)."""
    rx, ry, angle, large, sweep, x, y = values
    end = (x, y)
    rx, ry = abs(rx), abs(ry)
    if rx < 1e-9 or ry < 1e-9 or start == end:
        return [end]
    phi = math.radians(angle)
    cos, sin = math.cos(phi), math.sin(phi)
    dx, dy = (start[0] - x) / 2, (start[1] - y) / 2
    x1, y1 = cos * dx + sin * dy, -sin * dx + cos * dy
    grow = (x1 * x1) / (rx * rx) + (y1 * y1) / (ry * ry)
    if grow > 1:
        rx, ry = rx * math.sqrt(grow), ry * math.sqrt(grow)
    numerator = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1
    denominator = rx * rx * y1 * y1 + ry * ry * x1 * x1
    factor = math.sqrt(max(numerator, 0.0) / denominator) if denominator else 0.0
    if bool(large) == bool(sweep):
        factor = -factor
    cx1, cy1 = factor * rx * y1 / ry, -factor * ry * x1 / rx
    cx = cos * cx1 - sin * cy1 + (start[0] + x) / 2
    cy = sin * cx1 + cos * cy1 + (start[1] + y) / 2
    theta = math.atan2((y1 - cy1) / ry, (x1 - cx1) / rx)
    delta = math.atan2((-y1 - cy1) / ry, (-x1 - cx1) / rx) - theta
    if sweep and delta < 0:
        delta += 2 * math.pi
    elif not sweep and delta > 0:
        delta -= 2 * math.pi
    length = abs(delta) * max(rx, ry) * scale
    steps = max(2, min(_MAX_CURVE_SEGMENTS, math.ceil(length / _CURVE_STEP)))
    points: list[Point] = []
    for step in range(1, steps + 1):
        t = theta + delta * step / steps
        px, py = rx * math.cos(t), ry * math.sin(t)
        points.append((cos * px - sin * py + cx, sin * px + cos * py + cy))
    points[-1] = end
    return points
