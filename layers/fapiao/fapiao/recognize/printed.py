"""The fields printed on an invoice page, read from its laid-out text (``Layout``).

The title names the type; then one reader per family of layouts: VAT invoices old and
数电 here (labels and values side by side, buyer above or left of seller, the goods
table read by ``line_items``), 数电 rail tickets and flight itineraries in
``transport``. Values are read next to their labels, never by guessing from
patterns alone, so a number in the cipher area or a seal never passes for a field.
"""

from __future__ import annotations

import re
from decimal import Decimal

from fapiao.catalogue.types import InvoiceType
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
from fapiao.recognize.layout import Layout, label
from fapiao.recognize.line_items import read_items
from fapiao.recognize.result import Reading
from fapiao.recognize.transport import read_flight, read_rail

T = InvoiceType

_TITLES: tuple[tuple[str, InvoiceType], ...] = (
    (r"电子发票[（(]铁路电子客票[)）]", T.DIGITAL_RAIL),
    (r"电子发票[（(]航空运输电子客票行程单[)）]", T.DIGITAL_FLIGHT),
    (r"电子发票[（(]增值税专用发票[)）]", T.DIGITAL_SPECIAL),
    (r"电子发票[（(]普通发票[)）]", T.DIGITAL_NORMAL),
    (r"增值税电子专用发票", T.VAT_ELECTRONIC_SPECIAL),
    (r"增值税电子普通发票", T.VAT_ELECTRONIC_NORMAL),
    (r"增值税专用发票", T.VAT_SPECIAL),
    (r"增值税普通发票", T.VAT_NORMAL),
)
_TOLL_CODE_SUFFIX = "12"  # 电子普通发票(通行费): the code's last two digits


def title_type(layout: Layout) -> InvoiceType | None:
    """The invoice type its title names, or None for a page that names none."""
    return type_in_text(layout.text)


def type_in_text(text: str) -> InvoiceType | None:
    """The first invoice type named in ``text`` (a title, an XBRL TypeOfInvoice)."""
    compact = WHITESPACE.sub("", text)
    for pattern, invoice_type in _TITLES:
        if re.search(pattern, compact):
            return invoice_type
    return None


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
    names = layout.values(NAME, NEAR + TEXT)
    tax_ids = layout.values(TAX_ID, SEP + TAX_ID_VALUE)
    addresses = layout.values(ADDRESS, NEAR + TEXT)
    accounts = layout.values(ACCOUNT, NEAR + TEXT)
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
    }
    amount, tax = _sum_line(layout)
    reading["amount"] = amount
    reading["tax_amount"] = tax
    reading["total_amount"] = _total(layout, amount, tax)
    reading["items"] = read_items(layout)
    return reading


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
    """合计: the pre-tax amount and the tax (*** when exempt), in that order."""
    for line in layout:
        match = re.search(r"(?<![税价])合\s*计", line.text)
        if match is None or "价税" in line.text:
            continue
        tokens = _money_tokens(line.text[match.end() :])
        if tokens:
            return tokens[0], tokens[1] if len(tokens) > 1 else None
    return None, None


def _total(layout: Layout, amount: Decimal | None, tax: Decimal | None) -> Decimal | None:
    """价税合计(小写): on the 小写 line; else the printed ¥ value that equals amount + tax."""
    for line in layout:
        match = re.search(label("小写"), line.text)
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
