"""The QR code printed on Chinese VAT invoices: its payload, parsed.

The payload is comma-separated::

    01,10,012001900111,51142414,47.26,20190720,65431824771847114698,8BDD,
    01,32,,25317000000740141372,1137.00,20250425,,5072

version (01), type (the tax authority's 发票种类代码, ``catalogue.types.QR``), invoice
code (empty on 数电 invoices), invoice number, an amount, the issue date (yyyyMMdd; some
writers print yyyy-MM-dd), the check code (empty on special invoices and 数电 invoices)
and a checksum.

Facts the corpus shows: the amount of an old VAT invoice's code is the pre-tax amount;
a 数电 invoice (no code: types 31, 32, 51, 61) carries the total with tax. 通行费
e-invoices say type 10 like any ordinary e-invoice; their code ends in 12. A 数电 paper
invoice (纸质发票) says 31 or 32 like a 数电 e-invoice, but with a code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from fapiao.catalogue.types import InvoiceType, UnknownTypeCode, from_qr_code
from fapiao.dates import InvalidDate, parse_date


class NotAnInvoiceQr(ValueError):
    """A QR code that is not an invoice's (a URL, a WeChat code, a damaged payload)."""


_CODE = re.compile(r"\d{10}|\d{12}")
_NUMBER = re.compile(r"\d{8}|\d{20}")
_AMOUNT = re.compile(r"-?\d+(?:\.\d{1,2})?")
_CHECK = re.compile(r"\d{20}")
_TOLL_CODE_SUFFIX = "12"


@dataclass(frozen=True)
class QrPayload:
    text: str
    invoice_type: InvoiceType
    invoice_code: str | None
    invoice_number: str
    receipt_date: dt.date
    amount: Decimal | None  # pre-tax: old VAT invoices
    total_amount: Decimal | None  # with tax: 数电 invoices
    check_code: str | None

    def reading(self) -> dict[str, object]:
        """The fields the QR code carries, named as in the canonical model."""
        fields: dict[str, object] = {
            "invoice_type": self.invoice_type,
            "invoice_code": self.invoice_code,
            "invoice_number": self.invoice_number,
            "receipt_date": self.receipt_date,
            "amount": self.amount,
            "total_amount": self.total_amount,
            "check_code": self.check_code,
        }
        return {key: value for key, value in fields.items() if value is not None}


def parse_payload(text: str) -> QrPayload:
    """The invoice fields of a QR payload; ``NotAnInvoiceQr`` for anything else."""
    parts = [part.strip() for part in text.strip().split(",")]
    if len(parts) < 6 or parts[0] != "01":
        raise NotAnInvoiceQr(f"not an invoice QR payload: {text[:60]!r}")
    _, type_code, code, number, amount_text, date_text, *rest = parts
    invoice_type = _invoice_type(type_code, code)
    if code:
        _expect(_CODE, code, f"invoice code {code!r} is not 10 or 12 digits")
    _expect(_NUMBER, number, f"invoice number {number!r} is not 8 or 20 digits")
    amount = Decimal(_expect(_AMOUNT, amount_text, f"amount {amount_text!r} is not a decimal"))
    receipt_date = _issue_date(date_text)
    check = rest[0] if rest else ""
    if check:
        _expect(_CHECK, check, f"check code {check!r} is not 20 digits")
    carries_total = invoice_type.is_digital and not code
    return QrPayload(
        text=text,
        invoice_type=invoice_type,
        invoice_code=code or None,
        invoice_number=number,
        receipt_date=receipt_date,
        amount=None if carries_total else amount,
        total_amount=amount if carries_total else None,
        check_code=check or None,
    )


_ON_PAPER = {  # a 数电 type whose QR code carries an invoice code: printed on paper
    InvoiceType.DIGITAL_SPECIAL: InvoiceType.DIGITAL_PAPER_SPECIAL,
    InvoiceType.DIGITAL_NORMAL: InvoiceType.DIGITAL_PAPER_NORMAL,
}


def _invoice_type(type_code: str, code: str) -> InvoiceType:
    """The invoice type of the QR's 发票种类代码; a 通行费 e-invoice says 10, its code
    ends in 12; a 数电 paper invoice says 31 or 32 with a code."""
    try:
        invoice_type = from_qr_code(type_code)
    except UnknownTypeCode as error:
        raise NotAnInvoiceQr(str(error)) from None
    if invoice_type is InvoiceType.VAT_ELECTRONIC_NORMAL and code.endswith(_TOLL_CODE_SUFFIX):
        return InvoiceType.VAT_ELECTRONIC_TOLL
    if code and invoice_type in _ON_PAPER:
        return _ON_PAPER[invoice_type]
    return invoice_type


def _expect(pattern: re.Pattern[str], field: str, complaint: str) -> str:
    """The field, if it has the pattern's form; else ``NotAnInvoiceQr(complaint)``."""
    if not pattern.fullmatch(field):
        raise NotAnInvoiceQr(complaint)
    return field


_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})|(\d{4})-(\d{2})-(\d{2})")


def _issue_date(date_text: str) -> dt.date:
    """The issue date, written yyyyMMdd or yyyy-MM-dd."""
    match = _DATE.fullmatch(date_text)
    try:
        receipt_date = parse_date("".join(g for g in match.groups() if g)) if match else None
    except InvalidDate:
        receipt_date = None
    if receipt_date is None:
        raise NotAnInvoiceQr(f"date {date_text!r} is not yyyyMMdd or yyyy-MM-dd")
    return receipt_date


def invoice_payloads(texts: list[str]) -> tuple[list[QrPayload], list[str]]:
    """The invoice payloads among decoded QR texts (first of duplicates kept), and a
    note for each QR code that is not an invoice's."""
    payloads: list[QrPayload] = []
    notes: list[str] = []
    seen: set[tuple[str | None, str]] = set()
    for text in texts:
        try:
            payload = parse_payload(text)
        except NotAnInvoiceQr as error:
            notes.append(f"QR code ignored: {error}")
            continue
        key = (payload.invoice_code, payload.invoice_number)
        if key not in seen:
            seen.add(key)
            payloads.append(payload)
    return payloads, notes
