"""Text placed on a page, grouped into lines: where labels and their values meet.

The text layer of an invoice PDF lists its strings in no useful order (all labels
first, then all values), so reading it is geometry: characters with their boxes become
segments (runs of adjacent characters), segments become lines (segments that overlap
vertically), and a value is what follows its label on the same line. Line text joins
segments with "" (touching), " " (a small gap) or "\\t" (a column break), so a pattern
can say "up to the next column".
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

# A label pattern: its characters may be spaced out ("校 验 码") or full-width spaced.
_GAP = r"[\s\u3000]*"
WHITESPACE = re.compile(r"[\s\u3000]+")  # what ``Line.compact`` leaves out (as ``labels``')
_NOTHING = " \u3000\t:："  # what a label's value is not made of
_MAX_WRAPPED_LINES = 2  # lines a wrapped value may go on for (a name or address: 3 in all)
# Text that is a label itself: a few ideographs and a colon ("纳税人识别号:", "电 话：").
# What in a pattern sees a line's ends differently in the page's text: an anchor, a word
# boundary, a lookaround (but a lookbehind for none of a few characters: no line break).
_LINE_BOUND = re.compile(r"[\^$]|\\[AZbB]|\(\?(?:=|!|<=)|\(\?<!(?!\[[^\]\\^]*\]\))")
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


class Segment(NamedTuple):  # a tuple too: made by the hundred, read everywhere
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


class Line:
    """One line of a page (made by ``Layout``): its segments left to right, their text
    (``_join``) and where each segment begins in it, its extent, and its text without
    any spacing (``compact``: what a reader matches a title or a heading against)."""

    __slots__ = ("bottom", "compact", "segments", "starts", "text", "top")

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments
        self.text, self.starts = _join(segments)
        self.top = max(s.y1 for s in segments)
        self.bottom = min(s.y0 for s in segments)
        self.compact = WHITESPACE.sub("", self.text)

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


# Kangxi and supplementary radicals as ``_radical`` reads them, for ``str.translate``.
_RADICALS = {code: _radical(chr(code)) for code in range(0x2E80, 0x2FE0)}
_ANY_RADICAL = re.compile("[\u2e80-\u2fdf]")


def segments_from_chars(chars: Iterable[tuple[str, float, float, float, float]]) -> list[Segment]:
    """Runs of characters that touch on one baseline; line breaks and wide gaps split.
    ``chars``: ``Char``s, or tuples of the same five."""
    columns = list(zip(*chars, strict=True)) or [(), (), (), (), ()]
    texts, x0, y0, x1, y1 = columns
    return segments_from_columns(texts, x0, y0, x1, y1)


def segments_from_columns(
    text: Sequence[str],
    x0: Sequence[float],
    y0: Sequence[float],
    x1: Sequence[float],
    y1: Sequence[float],
) -> list[Segment]:
    """``segments_from_chars`` of characters given column by column: ``text`` (a string
    of one character per box, as a PDF text page gives it, or the characters' texts),
    and the boxes' left, bottom, right and top edges. A run is kept as where it starts,
    its box and text sliced out when it closes."""
    segments: list[Segment] = []
    radicals = isinstance(text, str) and _ANY_RADICAL.search(text) is not None
    start = -1  # the run's first character; -1: no run
    last_x1 = last_sum = last_height = 0.0  # the run's last character
    index = -1
    for char, cx0, cy0, cx1, cy1 in zip(text, x0, y0, x1, y1, strict=True):  # the hot loop
        index += 1
        if char in "\r\n" or (cx1 - cx0 < 0.1 and char.isspace()):
            if start >= 0:
                _close(segments, text, start, index, radicals, x0, y0, x1, y1)
                start = -1
            continue
        char_height = cy1 - cy0
        if start < 0:
            start = index
        else:
            # max(last_height, char_height, 1.0), written out (as max picks among equals)
            height = char_height if char_height > last_height else last_height
            if height < 1.0:
                height = 1.0
            gap = cx0 - last_x1
            if (
                gap > 0.6 * height
                or gap < -0.5 * height
                or abs((cy0 + cy1) - last_sum) / 2 > 0.5 * height  # off the line
            ):
                _close(segments, text, start, index, radicals, x0, y0, x1, y1)
                start = index
        last_x1, last_sum, last_height = cx1, cy0 + cy1, char_height
    if start >= 0:
        _close(segments, text, start, index + 1, radicals, x0, y0, x1, y1)
    return segments


def _close(
    segments: list[Segment],
    text: Sequence[str],
    start: int,
    end: int,
    radicals: bool,
    x0: Sequence[float],
    y0: Sequence[float],
    x1: Sequence[float],
    y1: Sequence[float],
) -> None:
    """The run of characters ``start:end``, if it has more than spaces, as a segment.
    ``radicals``: a string ``text`` may hold radicals (``_radical``); without any, its
    run is sliced out as it is."""
    run = text[start:end]
    if isinstance(run, str):
        kept = (run.translate(_RADICALS) if radicals else run).strip()
    else:
        kept = "".join(map(_radical, run)).strip()
    if kept:
        box = min(x0[start:end]), min(y0[start:end]), max(x1[start:end]), max(y1[start:end])
        segments.append(Segment(kept, *box))


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
            height = y1 - y0
            if height < 1.0:  # max(y1 - y0, 1.0)
                height = 1.0
            best: list[Segment] | None = None
            best_share = 0.5
            for low, high, tall, members in lines[-6:]:  # lines are met top to bottom
                # max(min(high, y1) - max(low, y0), 0.0) / min(tall, height), written out
                overlap = (y1 if y1 < high else high) - (y0 if y0 > low else low)
                if overlap < 0.0:
                    overlap = 0.0
                share = overlap / (height if height < tall else tall)
                if share >= best_share:
                    best, best_share = members, share
            if best is None:
                lines.append((y0, y1, height, [segment]))
            else:
                best.append(segment)
        self.lines: list[Line] = []
        for *_, members in lines:
            members.sort(key=lambda s: s.x0)
            self.lines.append(Line(members))
        self.lines.sort(key=lambda line: -line.top)
        self.text = "\n".join(line.text for line in self.lines)
        # the page's text without spacing or line breaks (WHITESPACE.sub("", text))
        self.compact = "".join(line.compact for line in self.lines)
        self._starts: list[int] = []  # where each line begins in ``text``
        offset = 0
        for line in self.lines:
            self._starts.append(offset)
            offset += len(line.text) + 1

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
        for index in self._lines_with(label_re):
            line = self.lines[index]
            for match in label_re.finditer(line.text):
                where, value = index, value_re.match(line.text, match.end())
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
                    label_x = line.x_at(match.start())
                    text += "".join(self._continuation(where, label_x, start))
                found.append(text)
        return found

    def _lines_with(self, label_re: re.Pattern[str]) -> Iterable[int]:
        """The indices of the lines (in order) where ``label_re`` may match: every line
        a match in the page's text touches. A pattern found on a line is found at the
        same place in the page's text (or inside a match that begins earlier), unless
        it tells a line's ends from a line break: then every line is tried."""
        if _LINE_BOUND.search(label_re.pattern):
            return range(len(self.lines))
        found: list[int] = []
        for match in label_re.finditer(self.text):
            first = bisect.bisect_right(self._starts, match.start()) - 1
            last = bisect.bisect_right(self._starts, max(match.end() - 1, match.start())) - 1
            found.extend(range(max(first, found[-1] + 1 if found else 0), last + 1))
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
