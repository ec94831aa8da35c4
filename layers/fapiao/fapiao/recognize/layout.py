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

# A label pattern: its characters may be spaced out ("校 验 码") or full-width spaced.
_GAP = r"[\s\u3000]*"


def label(text: str) -> str:
    """A regex for ``text`` as printed, with any spacing between its characters."""
    return _GAP.join(re.escape(char) for char in text)


@dataclass(frozen=True)
class Char:
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

    @property
    def top(self) -> float:
        return max(s.y1 for s in self.segments)


def _radical(char: str) -> str:
    """Kangxi and supplementary radicals (some invoice fonts map 金 to U+2FA6 ⾦) as the
    ideographs they stand for; every other character as it is."""
    return unicodedata.normalize("NFKC", char) if "\u2e80" <= char <= "\u2fdf" else char


def segments_from_chars(chars: Iterable[Char]) -> list[Segment]:
    """Runs of characters that touch on one baseline; line breaks and wide gaps split."""
    segments: list[Segment] = []
    run: list[Char] = []

    def close() -> None:
        if run:
            text = "".join(_radical(c.text) for c in run).strip()
            if text:
                segments.append(
                    Segment(
                        text,
                        min(c.x0 for c in run),
                        min(c.y0 for c in run),
                        max(c.x1 for c in run),
                        max(c.y1 for c in run),
                    )
                )
            run.clear()

    for char in chars:
        if char.text in "\r\n" or (char.text.isspace() and char.x1 - char.x0 < 0.1):
            close()
            continue
        if run:
            last = run[-1]
            height = max(last.y1 - last.y0, char.y1 - char.y0, 1.0)
            gap = char.x0 - last.x1
            off_line = abs((char.y0 + char.y1) - (last.y0 + last.y1)) / 2 > 0.5 * height
            if gap > 0.6 * height or gap < -0.5 * height or off_line:
                close()
        run.append(char)
    close()
    return segments


def _overlap(a: Segment, b: Segment) -> float:
    """Vertical overlap of two segments, as a share of the shorter one's height."""
    low, high = max(a.y0, b.y0), min(a.y1, b.y1)
    return max(high - low, 0.0) / min(a.height, b.height)


def _join(segments: list[Segment]) -> str:
    parts: list[str] = []
    previous: Segment | None = None
    for segment in segments:
        if previous is not None:
            gap = segment.x0 - previous.x1
            height = max(segment.height, previous.height)
            if gap > 1.5 * height:
                parts.append("\t")
            elif gap > 0.25 * height:
                parts.append(" ")
        parts.append(segment.text)
        previous = segment
    return "".join(parts)


class Layout:
    """The lines of one page, top to bottom, each left to right."""

    def __init__(self, segments: Iterable[Segment]) -> None:
        ordered = sorted(segments, key=lambda s: -(s.y0 + s.y1) / 2)
        lines: list[tuple[Segment, list[Segment]]] = []  # (anchor, members)
        for segment in ordered:
            best: list[Segment] | None = None
            best_share = 0.5
            for anchor, members in lines[-6:]:  # lines are met top to bottom
                share = _overlap(anchor, segment)
                if share >= best_share:
                    best, best_share = members, share
            if best is None:
                lines.append((segment, [segment]))
            else:
                best.append(segment)
        self.lines: list[Line] = []
        for _, members in lines:
            members.sort(key=lambda s: s.x0)
            self.lines.append(Line(members, _join(members)))
        self.lines.sort(key=lambda line: -line.top)
        self.text = "\n".join(line.text for line in self.lines)

    def __iter__(self) -> Iterator[Line]:
        return iter(self.lines)

    def values(self, label_pattern: str, value_pattern: str) -> list[str | None]:
        """For each place ``label_pattern`` is printed (top to bottom, left to right), the
        value right after it on its line (``value_pattern``'s first group, or the whole
        match), or None where the label stands with no such value."""
        label_re = re.compile(label_pattern)
        value_re = re.compile(value_pattern)
        found: list[str | None] = []
        for line in self.lines:
            for match in label_re.finditer(line.text):
                value = value_re.match(line.text, match.end())
                if value is None:
                    found.append(None)
                else:
                    groups = [g for g in value.groups() if g is not None]
                    found.append(groups[0] if groups else value.group(0))
        return found

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
