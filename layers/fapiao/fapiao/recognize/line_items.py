"""The table of goods and services on a VAT invoice, read into ``LineItem``s.

Columns are found from the header line (名称, 规格型号, 单位, 数量, 单价, 金额, 税率, 税额,
and columns the model has no field for, such as a toll invoice's 车牌号 or a list's 序号):
text cells go to the heading whose centre is nearest, numbers (right-aligned, and
overflowing to the left when long) to the column whose right border is nearest their
right edge, a rate by its shape; a number left of the money columns is text (a 规格型号
such as "62202"). A line with no amount continues the name of the line above. The table
ends at 合计 (an invoice) or 小计 / 总计 (a list of goods, 清单).
"""

from __future__ import annotations

import re

from fapiao.model import LineItem
from fapiao.recognize import values
from fapiao.recognize.labels import WHITESPACE
from fapiao.recognize.layout import Layout, Line, Segment

_COLUMNS = (
    ("规格型号", "specification"),
    ("单位", "unit"),
    ("数量", "quantity"),
    ("单价", "unit_price"),
    ("金额", "amount"),
    ("税率", "tax_rate"),
    ("税额", "tax_amount"),
    ("名称", "name"),
)
_OTHER = "other"  # a column the canonical line item has no field for (车牌号, 通行日期起)
_RATE = re.compile(r"\d+(?:\.\d+)?%|免税|不征税")
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?%?|\*{3}|免税|不征税")
_TEXT_COLUMNS = ("name", "specification", "unit", _OTHER)
_MONEY_COLUMNS = ("quantity", "unit_price", "amount", "tax_rate", "tax_amount")
# The row that ends the table: 合计 on an invoice, 小计 / 总计 on a list of goods (清单).
_END = re.compile(r"[合小总]\s*计")


_HEADINGS = (
    "序号",
    "货物或应税劳务、服务名称",
    "货物（劳务）名称",
    "项目名称",
    "规格型号",
    "单位",
    "数量",
    "单价",
    "金额",
    "税率/征收率",
    "税额",
    "车牌号",
    "类型",
    "通行日期起",
    "通行日期止",
)


def _parts(segment: Segment) -> list[Segment]:
    """A segment split at its spaces, each part with its share of the segment's width
    (a text layer may run "1 1072.64" or "规格型号 单位" together)."""
    pieces = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", segment.text)]
    if len(pieces) < 2:
        return [segment]
    width = (segment.x1 - segment.x0) / max(len(segment.text), 1)
    return [
        Segment(
            text,
            segment.x0 + start * width,
            segment.y0,
            segment.x0 + (start + len(text)) * width,
            segment.y1,
        )
        for start, text in pieces
    ]


def _heading_segments(line: Line) -> list[Segment]:
    """The headings of a table's header line, spaced-out ones ("单 位") joined."""
    headings: list[Segment] = []
    for part in (p for s in line.segments for p in _parts(s)):
        if headings:
            last = headings[-1]
            joined = last.text + part.text
            if any(h.startswith(joined) for h in _HEADINGS) and last.text not in _HEADINGS:
                headings[-1] = Segment(joined, last.x0, last.y0, part.x1, last.y1)
                continue
        headings.append(part)
    return headings


def _header(layout: Layout) -> tuple[int, list[tuple[str, Segment]]] | None:
    for index, line in enumerate(layout.lines):
        compact = WHITESPACE.sub("", line.text)
        if "税率" in compact and "金额" in compact and "名称" in compact:
            columns: list[tuple[str, Segment]] = []
            for segment in _heading_segments(line):
                heading = WHITESPACE.sub("", segment.text)
                column = next((c for word, c in _COLUMNS if word in heading), _OTHER)
                columns.append((column, segment))
            return index, columns
    return None


def read_items(layout: Layout) -> list[LineItem]:
    found = _header(layout)
    if found is None:
        return []
    start, columns = found
    text_columns = sorted(
        ((s.cx, c) for c, s in columns if c in _TEXT_COLUMNS), key=lambda pair: pair[0]
    )
    number_columns = _borders(
        [(c, s) for c, s in columns if c not in ("name", "specification", "unit")]
    )
    # Left of the first money column a number is text: a specification ("62202"), a 序号.
    numbers_from = min((s.x0 for c, s in columns if c in _MONEY_COLUMNS), default=0.0)
    rows: list[dict[str, str]] = []
    for line in layout.lines[start + 1 :]:
        if _END.search(line.text):
            break
        cells = _cells(line, text_columns, number_columns, numbers_from)
        if "amount" in cells:
            rows.append(cells)
        elif rows and set(cells) <= {"name", "specification"}:
            for column, text in cells.items():  # a name or spec wrapped onto another line
                rows[-1][column] = rows[-1].get(column, "") + text
    return [_item(row) for row in rows]


def _cells(
    line: Line,
    text_columns: list[tuple[float, str]],
    number_columns: list[tuple[float, str]],
    numbers_from: float,
) -> dict[str, str]:
    """The line's segments by column: text by the nearest heading's centre, numbers by
    their right edge (they are right-aligned and may overflow to the left)."""
    cells: dict[str, str] = {}
    for whole in line.segments:
        parts = _parts(whole)
        numeric = any(_NUMERIC.fullmatch(p.text) for p in parts)
        for segment in parts if numeric else [whole]:
            _place(cells, segment, text_columns, number_columns, numbers_from)
    return cells


def _place(
    cells: dict[str, str],
    segment: Segment,
    text_columns: list[tuple[float, str]],
    number_columns: list[tuple[float, str]],
    numbers_from: float,
) -> None:
    if True:
        money = segment.x1 > numbers_from - 0.5 * segment.height
        column = (
            _number_column(segment, number_columns)
            if money and _NUMERIC.fullmatch(segment.text.strip())
            else None
        )
        if column is None:
            column = _text_column(segment, text_columns)
        if column is None or column == _OTHER:
            return
        joiner = " " if column in ("name", "specification") and column in cells else ""
        cells[column] = cells.get(column, "") + joiner + segment.text.strip()


def _borders(headings: list[tuple[str, Segment]]) -> list[tuple[float, str]]:
    """Each number column's right border, estimated half-way to the next heading."""
    ordered = sorted(headings, key=lambda pair: pair[1].x0)
    borders: list[tuple[float, str]] = []
    for index, (column, heading) in enumerate(ordered):
        if index + 1 < len(ordered):
            border = (heading.x1 + ordered[index + 1][1].x0) / 2
        else:
            border = heading.x1 + (heading.x1 - heading.x0)
        borders.append((border, column))
    return borders


def _number_column(segment: Segment, borders: list[tuple[float, str]]) -> str | None:
    """Numbers are right-aligned: the column whose border is nearest their right edge.
    A rate is centred, so it is known by its shape ("13%", "免税") instead."""
    if _RATE.fullmatch(segment.text.strip()):
        return "tax_rate" if any(c == "tax_rate" for _, c in borders) else None
    candidates = [(b, c) for b, c in borders if c != "tax_rate"]
    if not candidates:
        return None
    return min(candidates, key=lambda pair: abs(pair[0] - segment.x1))[1]


def _text_column(segment: Segment, columns: list[tuple[float, str]]) -> str | None:
    if not columns:
        return None
    return (
        min(columns, key=lambda pair: abs(pair[0] - segment.cx))[1]
        if len(columns) > 1
        else (columns[0][1])
    )


def _item(row: dict[str, str]) -> LineItem:
    name = row.get("name")
    return LineItem(
        name=values.name(name.replace(" ", "") if name and name.startswith("*") else name),
        specification=values.name(row.get("specification")),
        unit=values.name(row.get("unit")),
        quantity=values.money(row.get("quantity")),
        unit_price=values.money(row.get("unit_price")),
        amount=values.money(row.get("amount")),
        tax_rate=values.tax_rate(row.get("tax_rate")),
        tax_amount=values.money(row.get("tax_amount")),
    )
