"""Text placed on a page, grouped into lines: where labels and their values meet.

The text layer of an invoice PDF lists its strings in no useful order (all labels
first, then all values), so reading it is geometry: characters with their boxes become
segments (runs of adjacent characters), segments become lines (segments that overlap
vertically), and a value is what follows its label on the same line. Line text joins
segments with "" (touching), " " (a small gap) or "\\t" (a column break), so a pattern
can say "up to the next column".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

# A label pattern: its characters may be spaced out ("校 验 码") or full-width spaced.
_GAP = r"[\s\u3000]*"
_NOTHING = " \u3000\t:："  # what a label's value is not made of
_MAX_WRAPPED_LINES = 2  # lines a wrapped value may go on for (a name or address: 3 in all)
# Text that is a label itself: a few ideographs and a colon ("纳税人识别号:", "电 话：").
_LABEL_LIKE = re.compile(r"[\u4e00-\u9fff\s\u3000、/]{1,16}[:：]")


def label(text: str) -> str:
    """A regex for ``text`` as printed, with any spacing between its characters."""
    return _GAP.join(re.escape(char) for char in text)


class Char(NamedTuple):  # a tuple: a page makes hundreds of them, cheaply
    text: str
    x0: float
    y0: float  # bottom (PDF coordinates: y grows upwards)
    x1: float
    y1: float  # top


@dataclass(frozen=True)
class Segment:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Line:
    segments: list[Segment] = field(default_factory=list)
    text: str = ""
    starts: list[int] = field(default_factory=list)  # where each segment begins in text

    # A line's segments are settled when it is made (``Layout``): its extent, once.
    @cached_property
    def top(self) -> float:
        return max(s.y1 for s in self.segments)

    @cached_property
    def bottom(self) -> float:
        return min(s.y0 for s in self.segments)

    def segment_at(self, offset: int) -> int:
        """The index of the segment that holds text offset ``offset`` (or precedes it)."""
        index = 0
        for number, start in enumerate(self.starts):
            if start <= offset:
                index = number
        return index

    def x_at(self, offset: int) -> float:
        """Where the character at text offset ``offset`` begins (its segment's width
        shared evenly among its characters)."""
        index = self.segment_at(offset)
        segment = self.segments[index]
        within = min(max(offset - self.starts[index], 0), len(segment.text))
        return segment.x0 + (segment.x1 - segment.x0) * within / max(len(segment.text), 1)


def _radical(char: str) -> str:
    """Kangxi and supplementary radicals (some invoice fonts map 金 to U+2FA6 ⾦) as the
    ideographs they stand for; every other character as it is."""
    return unicodedata.normalize("NFKC", char) if "\u2e80" <= char <= "\u2fdf" else char


def segments_from_chars(chars: Iterable[tuple[str, float, float, float, float]]) -> list[Segment]:
    """Runs of characters that touch on one baseline; line breaks and wide gaps split.
    ``chars``: ``Char``s, or tuples of the same five (a PDF page's, made as read)."""
    segments: list[Segment] = []
    run: list[str] = []  # the run's characters; its box so far in x0, y0, x1, y1
    x0 = y0 = x1 = y1 = 0.0
    last_y0 = last_y1 = last_x1 = 0.0  # the run's last character
    for text, cx0, cy0, cx1, cy1 in chars:  # a page's hot loop: no call it can spare
        if text in "\r\n" or (text.isspace() and cx1 - cx0 < 0.1):
            _close(segments, run, x0, y0, x1, y1)
            continue
        if run:
            height = max(last_y1 - last_y0, cy1 - cy0, 1.0)
            gap = cx0 - last_x1
            if (
                gap > 0.6 * height
                or gap < -0.5 * height
                or abs((cy0 + cy1) - (last_y0 + last_y1)) / 2 > 0.5 * height  # off the line
            ):
                _close(segments, run, x0, y0, x1, y1)
        if run:
            if cx0 < x0:
                x0 = cx0
            if cy0 < y0:
                y0 = cy0
            if cx1 > x1:
                x1 = cx1
            if cy1 > y1:
                y1 = cy1
        else:
            x0, y0, x1, y1 = cx0, cy0, cx1, cy1
        run.append(_radical(text) if "\u2e80" <= text <= "\u2fdf" else text)
        last_y0, last_y1, last_x1 = cy0, cy1, cx1
    _close(segments, run, x0, y0, x1, y1)
    return segments


def _close(
    segments: list[Segment], run: list[str], x0: float, y0: float, x1: float, y1: float
) -> None:
    """The run, if it has more than spaces, as a segment; the run is emptied."""
    if run:
        text = "".join(run).strip()
        if text:
            segments.append(Segment(text, x0, y0, x1, y1))
        run.clear()


def _join(segments: list[Segment]) -> tuple[str, list[int]]:
    """The segments' text, and where each segment begins in it."""
    parts: list[str] = []
    starts: list[int] = []
    length = 0
    previous: Segment | None = None
    for segment in segments:
        if previous is not None:
            gap = segment.x0 - previous.x1
            height = max(segment.height, previous.height)
            if gap > 1.5 * height:
                parts.append("\t")
                length += 1
            elif gap > 0.25 * height:
                parts.append(" ")
                length += 1
        starts.append(length)
        parts.append(segment.text)
        length += len(segment.text)
        previous = segment
    return "".join(parts), starts


class Layout:
    """The lines of one page, top to bottom, each left to right."""

    def __init__(self, segments: Iterable[Segment]) -> None:
        ordered = sorted(segments, key=lambda s: -(s.y0 + s.y1) / 2)
        # (bottom, top, height of the line's first segment, its members): a segment joins
        # the line it overlaps most vertically, by half the shorter one's height at least
        lines: list[tuple[float, float, float, list[Segment]]] = []
        for segment in ordered:
            y0, y1 = segment.y0, segment.y1
            height = max(y1 - y0, 1.0)
            best: list[Segment] | None = None
            best_share = 0.5
            for low, high, tall, members in lines[-6:]:  # lines are met top to bottom
                share = max(min(high, y1) - max(low, y0), 0.0) / min(tall, height)
                if share >= best_share:
                    best, best_share = members, share
            if best is None:
                lines.append((y0, y1, height, [segment]))
            else:
                best.append(segment)
        self.lines: list[Line] = []
        for *_, members in lines:
            members.sort(key=lambda s: s.x0)
            text, starts = _join(members)
            self.lines.append(Line(members, text, starts))
        self.lines.sort(key=lambda line: -line.top)
        self.text = "\n".join(line.text for line in self.lines)

    def __iter__(self) -> Iterator[Line]:
        return iter(self.lines)

    def values(
        self,
        label_pattern: str,
        value_pattern: str,
        *,
        beside: bool = False,
        continued: bool = False,
    ) -> list[str | None]:
        """For each place ``label_pattern`` is printed (top to bottom, left to right), the
        value right after it on its line (``value_pattern``'s first group, or the whole
        match), or None where the label stands with no such value. ``beside``: a value
        printed a little off its label's baseline (a line of its own) is found beside it
        (``_beside``); ``continued`` (free text: names, addresses): a value that wraps goes
        on with the lines right under it (``_continuation``)."""
        label_re = re.compile(label_pattern)
        value_re = re.compile(value_pattern)
        found: list[str | None] = []
        for index, line in enumerate(self.lines):
            for match in label_re.finditer(line.text):
                where, value = index, value_re.match(line.text, match.end())
                label_x = line.x_at(match.start())
                if beside and (value is None or not value.group(0).strip(_NOTHING)):
                    where, value = self._beside(index, match.start(), match.end(), value_re)
                if value is None:
                    found.append(None)
                    continue
                group = next(
                    (g for g in range(1, len(value.groups()) + 1) if value.group(g) is not None),
                    0,
                )
                text = value.group(group)
                if continued and text.strip():
                    start = value.start(group) + len(text) - len(text.lstrip())
                    text += "".join(self._continuation(where, label_x, start))
                found.append(text)
        return found

    def _beside(
        self, index: int, label_at: int, label_end: int, value_re: re.Pattern[str]
    ) -> tuple[int, re.Match[str] | None]:
        """A value printed right of its label but a little above or below its baseline
        (so laid out as a line of its own): its line and match, or (index, None)."""
        line = self.lines[index]
        label = line.segments[line.segment_at(max(label_end - 1, 0))]
        end_x, centre, height = line.x_at(label_end), (label.y0 + label.y1) / 2, label.height
        label_x = line.x_at(label_at) - height
        for other in range(max(index - 2, 0), min(index + 3, len(self.lines))):
            near = self.lines[other]
            for number, segment in enumerate(near.segments):
                if (
                    other != index
                    and -0.5 * height <= segment.x0 - end_x <= 2 * height
                    and abs((segment.y0 + segment.y1) / 2 - centre) <= 0.8 * height
                    and not _LABEL_LIKE.match(segment.text)
                    and not self._labelled(other, segment, label_x, {id(label)})
                ):
                    return other, value_re.match(near.text, near.starts[number])
        return index, None

    def _continuation(self, index: int, label_x: float, value_at: int) -> list[str]:
        """The lines a value wrapped onto: text right under the value (left-aligned with
        it, at most a line's height below), in its column, with no label of its own
        beside it. ``index``: the value's line; ``label_x``: where its label begins;
        ``value_at``: where the value begins in the line's text."""
        line = self.lines[index]
        value_x = line.x_at(value_at)
        first = line.segments[line.segment_at(value_at)]
        bottom, height = first.y0, first.height
        own = set(map(id, line.segments))  # the value's own label is no other line's label
        found: list[str] = []
        for number in range(index + 1, len(self.lines)):
            below = self.lines[number]
            if len(found) == _MAX_WRAPPED_LINES or below.top < bottom - 2 * height:
                break
            aligned = [n for n, s in enumerate(below.segments) if abs(s.x0 - value_x) <= height]
            if not aligned:
                continue  # a line of another column (a cipher row, a seal) in between
            segment = below.segments[aligned[0]]
            if bottom - segment.y1 > 0.8 * height:
                break
            if _LABEL_LIKE.match(segment.text) or self._labelled(
                number, segment, label_x - 0.25 * height, own
            ):
                break
            start = below.starts[aligned[0]]
            found.append(below.text[start:].split("\t", 1)[0].strip())
            bottom, height = segment.y0, segment.height
        return found

    def _labelled(self, index: int, value: Segment, label_x: float, own: set[int]) -> bool:
        """Has ``value`` (a segment of line ``index``) a label of its own: a segment left
        of it, in the label column (from ``label_x``), on its row, other than those in
        ``own`` (ids)? The rows of neighbouring lines count: a label may sit a little off
        its value's baseline."""
        centre, height = (value.y0 + value.y1) / 2, value.height
        return any(
            other is not value
            and id(other) not in own
            and other.x1 <= value.x0 + 0.5 * height
            and other.x1 > label_x
            and abs((other.y0 + other.y1) / 2 - centre) <= 0.8 * height
            for near in self.lines[max(index - 2, 0) : index + 3]
            for other in near.segments
        )

    def value(self, label_pattern: str, value_pattern: str) -> str | None:
        """The first value found after ``label_pattern``, or None."""
        for value in self.values(label_pattern, value_pattern):
            if value:
                return value
        return None

    def find_line(self, pattern: str) -> int | None:
        """The index of the first line whose text matches ``pattern``."""
        regex = re.compile(pattern)
        for index, line in enumerate(self.lines):
            if regex.search(line.text):
                return index
        return None
