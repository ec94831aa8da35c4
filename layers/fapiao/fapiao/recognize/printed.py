"""The fields printed on an invoice page, read from its laid-out text (``Layout``).

The title names the type; then one reader per family of layouts: VAT invoices old and
数电 here (labels and values side by side, buyer above or left of seller, the goods
table read by ``line_items``), 数电 rail tickets and flight itineraries in
``transport``. Values are read next to their labels, never by guessing from
patterns alone, so a number in the cipher area or a seal never passes for a field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from fapiao.catalogue.types import InvoiceType
from fapiao.model import LineItem
from fapiao.recognize import values
from fapiao.recognize.labels import (
    ACCOUNT,
    ADDRESS,
    CHECK,
    CODE,
    MACHINE,
    MONEY_TOKEN,
    NAME,
    NEAR,
    NUMBER,
    SEP,
    TAX_ID,
    TAX_ID_VALUE,
    TEXT,
    WHITESPACE,
    read_date,
)
from fapiao.recognize.layout import Layout, Segment, label
from fapiao.recognize.line_items import read_items
from fapiao.recognize.result import Reading
from fapiao.recognize.transport import read_flight, read_rail

T = InvoiceType

_TITLES: tuple[tuple[re.Pattern[str], InvoiceType], ...] = tuple(
    (re.compile(pattern), invoice_type)
    for pattern, invoice_type in (
        (r"电子发票[（(]铁路电子客票[)）]", T.DIGITAL_RAIL),
        (r"电子发票[（(]航空运输电子客票行程单[)）]", T.DIGITAL_FLIGHT),
        (r"电子发票[（(]增值税专用发票[)）]", T.DIGITAL_SPECIAL),
        (r"电子发票[（(]普通发票[)）]", T.DIGITAL_NORMAL),
        (r"增值税电子专用发票", T.VAT_ELECTRONIC_SPECIAL),
        (r"增值税电子普通发票", T.VAT_ELECTRONIC_NORMAL),
        (r"增值税专用发票", T.VAT_SPECIAL),
        (r"增值税普通发票", T.VAT_NORMAL),
    )
)
_TOLL_CODE_SUFFIX = "12"  # 电子普通发票(通行费): the code's last two digits


def title_type(layout: Layout) -> InvoiceType | None:
    """The invoice type its title names, or None for a page that names none."""
    return _type_in_compact(layout.compact)


def type_in_text(text: str) -> InvoiceType | None:
    """The first invoice type named in ``text`` (a title, an XBRL TypeOfInvoice)."""
    return _type_in_compact(WHITESPACE.sub("", text))


def _type_in_compact(compact: str) -> InvoiceType | None:
    """``type_in_text`` of a text without spacing (``Layout.compact``)."""
    for pattern, invoice_type in _TITLES:
        if pattern.search(compact):
            return invoice_type
    return None


# The title of a list of goods (销货清单) that goes with an invoice: "销售货物或者提供应税
# 劳务、服务清单", or a short line ending in 清单 (not "（详见销货清单）", an item name).
_LIST_TITLE = re.compile(r"[^\d:：()（）]{0,24}清单")


def is_list_page(layout: Layout) -> bool:
    """A page that lists an invoice's goods (销货清单), not an invoice itself."""
    return any(_LIST_TITLE.fullmatch(line.compact) and "详见" not in line.text for line in layout)


def list_reading(layout: Layout) -> Reading:
    """What a list of goods says: the number (and code) of the invoice it belongs to
    ("所属增值税电子普通发票代码: … 号码: …") and its line items."""
    return {
        "invoice_code": layout.value(CODE, SEP + r"(\d{12}|\d{10})(?!\d)"),
        "invoice_number": layout.value(label("号码"), SEP + r"(\d{20}|\d{8})(?!\d)"),
        "items": read_items(layout),
    }


_SEE_LIST = re.compile(r"详见.*清单")


def add_listed_items(reading: Reading, listed: Reading) -> None:
    """A list of goods' line items join the invoice's reading; a line that only says
    "see the list" (（详见销货清单）) gives way to them."""
    items = listed.get("items")
    if not isinstance(items, list) or not items:
        return
    had = reading.get("items")
    kept = [
        item
        for item in (had if isinstance(had, list) else [])
        if not (isinstance(item, LineItem) and item.name and _SEE_LIST.search(item.name))
    ]
    reading["items"] = [*kept, *items]


def read(layout: Layout, invoice_type: InvoiceType) -> Reading:
    """Every field printed on the page, for an invoice of ``invoice_type``."""
    if invoice_type is T.DIGITAL_RAIL:
        return read_rail(layout)
    if invoice_type is T.DIGITAL_FLIGHT:
        return read_flight(layout)
    return _vat(layout, invoice_type)


# --- VAT invoices, old and 数电 -------------------------------------------------------


def _vat(layout: Layout, invoice_type: InvoiceType) -> Reading:
    code = layout.value(CODE, SEP + r"(\d{12}|\d{10})(?!\d)")
    if invoice_type is T.VAT_ELECTRONIC_NORMAL and code and code.endswith(_TOLL_CODE_SUFFIX):
        invoice_type = T.VAT_ELECTRONIC_TOLL
    names = layout.values(NAME, NEAR + TEXT, beside=True, continued=True)
    tax_ids = layout.values(TAX_ID, SEP + TAX_ID_VALUE, beside=True)
    addresses = layout.values(ADDRESS, NEAR + TEXT, beside=True, continued=True)
    accounts = layout.values(ACCOUNT, NEAR + TEXT, beside=True, continued=True)
    reading: Reading = {
        "invoice_type": invoice_type,
        "invoice_code": code,
        "invoice_number": layout.value(NUMBER, SEP + r"(\d{20}|\d{8})(?!\d)"),
        "receipt_date": read_date(layout),
        "check_code": values.digits(layout.value(CHECK, SEP + r"((?:\d ?){20})"), 20),
        "machine_number": layout.value(MACHINE, SEP + r"(\d{12})(?!\d)"),
        "buyer_name": values.name(_nth(names, 0)),
        "seller_name": values.name(_nth(names, 1)),
        "buyer_tax_code": values.tax_id(_nth(tax_ids, 0)),
        "seller_tax_code": values.tax_id(_nth(tax_ids, 1)),
        "buyer_address_phone": values.name(_nth(addresses, 0)),
        "seller_address_phone": values.name(_nth(addresses, 1)),
        "buyer_account": values.name(_nth(accounts, 0)),
        "seller_account": values.name(_nth(accounts, 1)),
        "remark": read_remark(layout),
    }
    items = read_items(layout)
    amount, tax = _sum_line(layout)
    if items and amount is None and tax is None:  # 合计 left blank: the goods' own sums
        amount = _sum_of(item.amount for item in items)
        tax = _sum_of(item.tax_amount for item in items)
    reading["amount"] = amount
    reading["tax_amount"] = tax
    reading["total_amount"] = _total(layout, amount, tax)
    reading["items"] = items
    return reading


def _sum_of(amounts: Iterable[Decimal | None]) -> Decimal | None:
    """The sum, if every amount was read."""
    found = list(amounts)
    if not found or any(a is None for a in found):
        return None
    return sum((a for a in found if a is not None), Decimal(0))


def _nth(found: list[str | None], index: int) -> str | None:
    return found[index] if len(found) > index else None


def _money_tokens(text: str) -> list[Decimal]:
    found: list[Decimal] = []
    for match in MONEY_TOKEN.finditer(text):
        value = values.money(match.group(1) or match.group(2))
        if value is not None:
            found.append(value)
    return found


def _sum_line(layout: Layout) -> tuple[Decimal | None, Decimal | None]:
    """合计: the pre-tax amount and the tax (*** when exempt), in that order; some
    writers print them without ¥."""
    for line in layout:
        match = _SUM.search(line.text)
        if match is None or "价税" in line.text:
            continue
        rest = line.text[match.end() :]
        tokens = _money_tokens(rest) or [
            value for value in map(values.money, _BARE_MONEY.findall(rest)) if value is not None
        ]
        if tokens:
            return tokens[0], tokens[1] if len(tokens) > 1 else None
    return None, None


_SUM = re.compile(r"(?<![税价])合\s*计")
_BARE_MONEY = re.compile(r"(?<![\d.])-?\d+\.\d{2}(?![\d.])")


_IN_FIGURES = re.compile(label("小写"))


def _total(layout: Layout, amount: Decimal | None, tax: Decimal | None) -> Decimal | None:
    """价税合计(小写): on the 小写 line; else the printed ¥ value that equals amount + tax."""
    for line in layout:
        match = _IN_FIGURES.search(line.text)
        if match is not None:
            tokens = _money_tokens(line.text[match.end() :]) or _money_tokens(line.text)
            if tokens:
                return tokens[-1]
    if amount is not None and tax is not None:
        for line in layout:
            for token in _money_tokens(line.text):
                if token == amount + tax:
                    return token
    return None


# --- 备注 ---------------------------------------------------------------------------


_MAX_REMARK_LINES = 8  # a remark box holds four or five
_ISSUER = re.compile(label("开票人"))


def read_remark(layout: Layout) -> str | None:
    """备注: the text right of its label, in the box between the 价税合计 row and the
    开票人 row. The label stands alone, upright ("备" over "注", old and 数电 invoices) or
    in a row ("备注", its text maybe in the same run); every line of the box is read,
    joined by spaces."""
    found = _remark_label(layout)
    if found is None:
        return None
    label_segment, bottom_segment, rest = found
    height = label_segment.height
    # right of the label; of its own text when it runs on in the label's segment
    left = max(label_segment.x1, bottom_segment.x1) - 0.2 * height
    if rest:
        share = 1 - len(rest) / max(len(WHITESPACE.sub("", label_segment.text)), 1)
        left = label_segment.x0 + (label_segment.x1 - label_segment.x0) * share - 0.2 * height
    upper, lower = label_segment.y1 + 2 * height, bottom_segment.y0 - 3 * height
    for line in layout:  # the box: under the nearest 价税合计 row, over the 开票人 row
        compact = line.compact
        if line.bottom >= label_segment.y1 and ("价税合计" in compact or "小写" in compact):
            upper = line.bottom
        elif line.top <= bottom_segment.y0 and _ISSUER.search(line.text):
            lower = line.top
            break
    parts = [rest] if rest else []
    for line in layout:
        if line.top > upper + 0.2 * height or line.bottom < lower - 0.2 * height:
            continue
        inside = [s.text for s in line.segments if s.x0 >= left and s is not label_segment]
        if inside:
            parts.append(" ".join(inside))
    if len(parts) > _MAX_REMARK_LINES:
        return None  # no remark box holds this much: the box was not found
    return values.name(" ".join(parts))


def _remark_label(layout: Layout) -> tuple[Segment, Segment, str] | None:
    """Where 备注 is printed: the segment of its label (of "备" when upright), the one
    of its bottom ("注"), and any text that follows the label in the same segment."""
    upright: list[Segment] = []
    for line in layout:
        for segment in line.segments:
            if "备" not in segment.text and "注" not in segment.text:
                continue  # neither the label nor a part of it
            compact = WHITESPACE.sub("", segment.text)
            if compact.startswith("备注"):
                return segment, segment, compact[2:].lstrip(":：")
            if compact in ("备", "注", "注:", "注："):
                upright.append(segment)
    for upper in (s for s in upright if WHITESPACE.sub("", s.text) == "备"):
        for lower in (s for s in upright if WHITESPACE.sub("", s.text).startswith("注")):
            height = upper.height
            if abs(lower.x0 - upper.x0) <= 0.5 * height and 0 <= upper.y0 - lower.y1 <= 4 * height:
                return upper, lower, ""
    return None
