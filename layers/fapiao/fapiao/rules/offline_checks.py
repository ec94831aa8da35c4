"""Offline checks: what the hub can tell about an invoice before paying to verify it.

Verification (查验) through exocr is paid per call and capped per invoice and day, so
an invoice that is obviously wrong is never sent. Each check is one function that says
which fact it enforces and why; it answers a ``Finding`` (passed, failed, deferred, or
skipped when it does not apply) and never raises. A failed finding carries the 003 code
the hub's own verify endpoint answers it with (looked up in the error catalogue by the
caller), so an exocr client hears what exocr itself would have said.

Nothing here reads a clock: ``today`` (an Asia/Shanghai date) is given.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict
from stdnum.cn import ric, uscc

from fapiao.basemodel import HubModel
from fapiao.catalogue.types import ExocrTotal, InvoiceType
from fapiao.model import Invoice

__all__ = [
    "CHECKS",
    "Finding",
    "Outcome",
    "QrFields",
    "amounts_add_up",
    "buyer_tax_id_is_valid",
    "check_code_has_valid_length",
    "failed",
    "has_what_verification_needs",
    "incomplete",
    "invoice_code_matches_type",
    "invoice_number_is_well_formed",
    "qr_agrees_with_printed_fields",
    "receipt_date_is_not_in_the_future",
    "receipt_date_is_not_today",
    "receipt_date_is_within_five_years",
    "run_offline_checks",
    "seller_tax_id_is_valid",
]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the invoice is wrong: never pay to verify it
    DEFERRED = "deferred"  # right, but the tax authority cannot answer yet
    INCOMPLETE = "incomplete"  # a field the check needs was not read: complete it first
    SKIPPED = "skipped"  # the check does not apply (a field absent, another type)


class Finding(HubModel):
    """What one check found. ``code`` is the 003 code a failure answers with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str
    outcome: Outcome
    reason: str | None = None
    code: str | None = None  # exocr error_code or result_code (catalogue rows)
    fields: tuple[str, ...] = ()  # 001 names of the fields it is about (missing, wrong)


class QrFields(HubModel):
    """The fields of the QR code printed on a VAT invoice, as the QR parser reads them.

    The QR code says ``01,<type>,<code>,<number>,<amount>,<yyyyMMdd>,<check code>,...``;
    which amount it carries differs by type, so either printed amount agrees with it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_type: InvoiceType | None = None
    invoice_code: str | None = None
    invoice_number: str | None = None
    amount: Decimal | None = None
    receipt_date: dt.date | None = None
    check_code: str | None = None


@dataclass(frozen=True)
class CheckContext:
    today: dt.date  # Asia/Shanghai
    qr: QrFields | None = None


Check = Callable[[Invoice, CheckContext], Finding]

# 003 codes a failure answers with (rows of the error catalogue).
CODE_FORMAT = "3204"  # 发票代码格式错误
TOO_OLD = "3207"  # 5年以前开具的发票无法查询
CHECK_CODE_MISSING = "3210"  # 普票后六位校验码不能为空
INVALID_PARAMETER = "4001"  # 参数非法
IRREGULAR = "105"  # 查询发票不规范 (result_code)

_DIGITS = re.compile(r"\d+")
_ALNUM = re.compile(r"[0-9A-Z]+")


def _passed(name: str) -> Finding:
    return Finding(check=name, outcome=Outcome.PASSED)


def _skipped(name: str, reason: str) -> Finding:
    return Finding(check=name, outcome=Outcome.SKIPPED, reason=reason)


def _failed(name: str, reason: str, code: str) -> Finding:
    return Finding(check=name, outcome=Outcome.FAILED, reason=reason, code=code)


def _incomplete(name: str, missing: list[str], code: str) -> Finding:
    return Finding(
        check=name,
        outcome=Outcome.INCOMPLETE,
        reason=f"missing {', '.join(missing)}",
        code=code,
        fields=tuple(missing),
    )


def _compact(value: str | None) -> str:
    """The text without any whitespace ("0440 3190 0111" is one code)."""
    return re.sub(r"\s", "", value or "")


# --- tax IDs -------------------------------------------------------------------------


def _tax_id_problem(value: str) -> str | None:
    """Why ``value`` is not a taxpayer ID, or None when it is one.

    18 characters: the unified social credit code (统一社会信用代码, GB 32100-2015,
    its check character verified), or for a person a resident ID number (身份证号,
    GB 11643, verified too: used-car and motor-vehicle buyers may be people).
    15, 17 or 20 characters: the taxpayer numbers issued before 2015 (letters and
    digits; they carry no check digit).
    """
    text = value.strip().upper()
    if not _ALNUM.fullmatch(text):
        return f"{value!r} holds characters other than digits and capital letters"
    if len(text) == 18:
        if uscc.is_valid(text) or ric.is_valid(text):
            return None
        return f"{value!r} is not a unified social credit code (check character wrong)"
    if len(text) in (15, 17, 20):
        return None
    return f"{value!r} has {len(text)} characters; a taxpayer ID has 15, 17, 18 or 20"


def buyer_tax_id_is_valid(invoice: Invoice, context: CheckContext) -> Finding:
    """购方纳税人识别号: a mistyped ID makes exocr answer 6 (inconsistent) after paying."""
    name = "buyer_tax_id_is_valid"
    if not (invoice.buyer_tax_code or "").strip():
        return _skipped(name, "no buyer tax ID (ordinary invoices to people carry none)")
    problem = _tax_id_problem(invoice.buyer_tax_code or "")
    return _passed(name) if problem is None else _failed(name, f"buyer: {problem}", IRREGULAR)


def seller_tax_id_is_valid(invoice: Invoice, context: CheckContext) -> Finding:
    """销方纳税人识别号: every VAT invoice has a seller ID; a wrong one is a wrong invoice."""
    name = "seller_tax_id_is_valid"
    if not (invoice.seller_tax_code or "").strip():
        return _skipped(name, "no seller tax ID")
    problem = _tax_id_problem(invoice.seller_tax_code or "")
    return _passed(name) if problem is None else _failed(name, f"seller: {problem}", IRREGULAR)


# --- invoice code and number ---------------------------------------------------------

T = InvoiceType

# The structure of the 10- and 12-digit invoice codes (发票代码) by type, as the tax
# authority assigns them. 10 digits: the 8th digit is the kind (1/5 专票, 2/7 货运专票,
# 3/6 普票). 12 digits starting with 0: the last two are the kind (04/05 普票, 06/07 卷票,
# 11 电子普票, 12 通行费, 13 电子专票). Motor-vehicle, used-car and blockchain codes are
# 12 digits with no kind digit that the hub relies on.
_TEN_DIGIT_KIND: dict[InvoiceType, frozenset[str]] = {
    T.VAT_SPECIAL: frozenset("15"),
    T.VAT_FREIGHT_SPECIAL: frozenset("27"),
    T.VAT_NORMAL: frozenset("36"),
}
_TWELVE_DIGIT_SUFFIX: dict[InvoiceType, frozenset[str]] = {
    T.VAT_NORMAL: frozenset({"04", "05"}),
    T.VAT_ROLL: frozenset({"06", "07"}),
    T.VAT_ELECTRONIC_NORMAL: frozenset({"11"}),
    T.VAT_ELECTRONIC_TOLL: frozenset({"12"}),
    T.VAT_ELECTRONIC_SPECIAL: frozenset({"13"}),
}
_TWELVE_DIGITS_ANY = frozenset({T.MOTOR_VEHICLE, T.USED_CAR, T.BLOCKCHAIN})


def _code_fits(invoice_type: InvoiceType, code: str) -> bool:
    if len(code) == 10 and invoice_type in _TEN_DIGIT_KIND:
        return code[7] in _TEN_DIGIT_KIND[invoice_type]
    if len(code) == 12 and invoice_type in _TWELVE_DIGIT_SUFFIX:
        return code[0] == "0" and code[10:] in _TWELVE_DIGIT_SUFFIX[invoice_type]
    return len(code) == 12 and invoice_type in _TWELVE_DIGITS_ANY


def invoice_code_matches_type(invoice: Invoice, context: CheckContext) -> Finding:
    """发票代码: its length and kind digits say the type; exocr answers 3204 otherwise.

    A 数电 invoice has no code; a 20-digit number that arrived split into a 12-digit
    "code" and an 8-digit "number" is accepted (the invoice key joins them back).
    """
    name = "invoice_code_matches_type"
    invoice_type = invoice.invoice_type
    code = _compact(invoice.invoice_code)
    if invoice_type.exocr_total is None:
        return _skipped(name, f"{invoice_type.name} is not verified by the tax authority")
    if invoice_type.is_digital:
        number = _compact(invoice.invoice_number)
        if not code or (len(code) == 12 and len(number) == 8):
            return _passed(name)
        return _failed(name, f"a 数电 invoice has no invoice code, got {code!r}", CODE_FORMAT)
    if not code:
        return _failed(name, f"{invoice_type.name} needs its invoice code", CODE_FORMAT)
    if not _DIGITS.fullmatch(code):
        return _failed(name, f"invoice code {code!r} is not digits", CODE_FORMAT)
    if not _code_fits(invoice_type, code):
        return _failed(
            name, f"invoice code {code!r} is not the code of a {invoice_type.name}", CODE_FORMAT
        )
    return _passed(name)


def invoice_number_is_well_formed(invoice: Invoice, context: CheckContext) -> Finding:
    """发票号码: 8 digits, or 20 for 数电 invoices.

    The 20 digits of a 数电 number are: 1-2 the year it was issued (last two digits),
    3-4 the province, 5 the issuing channel, 6-20 a sequence (国家税务总局). The year
    must agree with the invoice date.
    """
    name = "invoice_number_is_well_formed"
    number = _compact(invoice.invoice_number)
    if not number:
        return _failed(name, "no invoice number", INVALID_PARAMETER)
    invoice_type = invoice.invoice_type
    if invoice_type.exocr_total is None and not invoice_type.is_digital:
        # a train ticket's red serial (Z080334) has a letter; taxi and quota: 8 digits
        return _skipped(name, f"{invoice_type.name} numbers have no fixed form")
    if not _DIGITS.fullmatch(number):
        return _failed(name, f"invoice number {number!r} is not digits", INVALID_PARAMETER)
    if invoice_type.is_digital:
        code = _compact(invoice.invoice_code)
        full = code + number if len(code) == 12 and len(number) == 8 else number
        if len(full) != 20:
            return _failed(
                name, f"a 数电 number has 20 digits, {full!r} has {len(full)}", INVALID_PARAMETER
            )
        day = invoice.receipt_date
        if day is not None and full[:2] != f"{day.year % 100:02d}":
            return _failed(
                name,
                f"数电 number {full!r} was issued in 20{full[:2]}, the invoice is dated {day}",
                INVALID_PARAMETER,
            )
        return _passed(name)
    if len(number) != 8:
        return _failed(
            name, f"invoice number {number!r} has {len(number)} digits, not 8", INVALID_PARAMETER
        )
    return _passed(name)


# --- dates ---------------------------------------------------------------------------


def _five_years_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 5)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 5, day=28)


def receipt_date_is_not_in_the_future(invoice: Invoice, context: CheckContext) -> Finding:
    """开票日期 after today (Asia/Shanghai) is a misread date, never a real invoice."""
    name = "receipt_date_is_not_in_the_future"
    day = invoice.receipt_date
    if day is None:
        return _skipped(name, "no invoice date")
    if day > context.today:
        return _failed(
            name, f"invoice date {day} is after today {context.today}", INVALID_PARAMETER
        )
    return _passed(name)


def receipt_date_is_within_five_years(invoice: Invoice, context: CheckContext) -> Finding:
    """The tax authority answers only for five years: 003 3207 5年以前开具的发票无法查询."""
    name = "receipt_date_is_within_five_years"
    day = invoice.receipt_date
    if day is None:
        return _skipped(name, "no invoice date")
    if invoice.invoice_type.exocr_total is None:
        return _skipped(name, f"{invoice.invoice_type.name} is not verified by the tax authority")
    oldest = _five_years_before(context.today)
    if day < oldest:
        return _failed(name, f"invoice date {day} is before {oldest}, five years ago", TOO_OLD)
    return _passed(name)


def receipt_date_is_not_today(invoice: Invoice, context: CheckContext) -> Finding:
    """Same-day invoices reach the tax authority's query service the next day: asking
    today pays for a "does not exist" (result 9). Deferred, not failed."""
    name = "receipt_date_is_not_today"
    if invoice.receipt_date is None:
        return _skipped(name, "no invoice date")
    if invoice.receipt_date == context.today:
        return Finding(
            check=name,
            outcome=Outcome.DEFERRED,
            reason=f"issued today ({context.today}): the tax authority has it from tomorrow",
        )
    return _passed(name)


# --- amounts and check code ----------------------------------------------------------


def amounts_add_up(invoice: Invoice, context: CheckContext) -> Finding:
    """金额 + 税额 = 价税合计, and the lines add up to 金额: printed totals are exact sums,
    so a difference of a cent is a misread digit, which exocr would answer with 6."""
    name = "amounts_add_up"
    amount, tax, total = invoice.amount, invoice.tax_amount, invoice.total_amount
    if amount is None or tax is None or total is None:
        return _skipped(name, "amount, tax or total is absent")
    if amount + tax != total:
        return _failed(
            name, f"amount {amount} + tax {tax} = {amount + tax}, not the total {total}", IRREGULAR
        )
    lines = [item.amount for item in invoice.items]
    if lines and all(line is not None for line in lines):
        line_sum = sum((line for line in lines if line is not None), Decimal(0))
        if line_sum != amount:
            return _failed(
                name, f"the lines add up to {line_sum}, the amount is {amount}", IRREGULAR
            )
    return _passed(name)


# Types whose verification needs the check code (003: 机动车、二手车、专票可为空).
_NEEDS_CHECK_CODE = frozenset(
    {T.VAT_NORMAL, T.VAT_ELECTRONIC_NORMAL, T.VAT_ROLL, T.VAT_ELECTRONIC_TOLL, T.BLOCKCHAIN}
)


def check_code_has_valid_length(invoice: Invoice, context: CheckContext) -> Finding:
    """校验码: 20 digits printed, of which exocr takes the last 6 (a blockchain invoice: 5).

    Ordinary invoices cannot be verified without it (003 3210); a code of another
    length is a misread one.
    """
    name = "check_code_has_valid_length"
    code = _compact(invoice.check_code)
    invoice_type = invoice.invoice_type
    if not code:
        if invoice_type in _NEEDS_CHECK_CODE:
            return _incomplete(name, ["check_code"], CHECK_CODE_MISSING)
        return _skipped(name, "no check code, and the type does not need one")
    if invoice_type is T.BLOCKCHAIN:
        if _ALNUM.fullmatch(code.upper()) and len(code) >= 5:
            return _passed(name)
        return _failed(name, f"blockchain check code {code!r} is too short", INVALID_PARAMETER)
    if not _DIGITS.fullmatch(code) or len(code) not in (6, 20):
        return _failed(
            name,
            f"check code {code!r} has {len(code)} characters: 20 digits, or their last 6",
            INVALID_PARAMETER,
        )
    return _passed(name)


def has_what_verification_needs(invoice: Invoice, context: CheckContext) -> Finding:
    """The fields exocr's form needs for the type (003 请求参数): the date, and the
    amount that ``total`` means for the type. Without them exocr answers 4001."""
    name = "has_what_verification_needs"
    kind = invoice.invoice_type.exocr_total
    if kind is None:
        return _skipped(name, f"{invoice.invoice_type.name} is not verified by the tax authority")
    missing = []
    if invoice.receipt_date is None:
        missing.append("receipt_date")
    if kind in (ExocrTotal.PRETAX, ExocrTotal.SUM) and invoice.amount is None:
        missing.append("amount")
    if kind in (ExocrTotal.TOTAL_WITH_TAX, ExocrTotal.CAR_PRICE) and invoice.total_amount is None:
        missing.append("total_amount")
    if missing:
        return _incomplete(name, missing, INVALID_PARAMETER)
    return _passed(name)


def qr_agrees_with_printed_fields(invoice: Invoice, context: CheckContext) -> Finding:
    """The QR code and the printed text are the same invoice: a disagreement means a
    misread field or a tampered invoice (a copied QR code on another invoice)."""
    name = "qr_agrees_with_printed_fields"
    qr = context.qr
    if qr is None:
        return _skipped(name, "no QR code read")
    differences = _qr_differences(qr, invoice)
    if differences:
        return _failed(name, "QR code disagrees: " + "; ".join(differences), IRREGULAR)
    return _passed(name)


def _qr_differences(qr: QrFields, invoice: Invoice) -> list[str]:
    """Each field the QR code carries and the printed invoice says otherwise."""
    differences: list[str] = []
    if qr.invoice_type is not None and qr.invoice_type is not invoice.invoice_type:
        differences.append(f"type {qr.invoice_type.name} vs {invoice.invoice_type.name}")
    if qr.invoice_code and _compact(qr.invoice_code) != _compact(invoice.invoice_code):
        differences.append(f"code {qr.invoice_code} vs {invoice.invoice_code}")
    if qr.invoice_number and _compact(qr.invoice_number) != _compact(invoice.invoice_number):
        differences.append(f"number {qr.invoice_number} vs {invoice.invoice_number}")
    if qr.receipt_date is not None and qr.receipt_date != invoice.receipt_date:
        differences.append(f"date {qr.receipt_date} vs {invoice.receipt_date}")
    if qr.amount is not None and qr.amount not in (invoice.amount, invoice.total_amount):
        differences.append(f"amount {qr.amount} vs {invoice.amount}/{invoice.total_amount}")
    printed_check = _compact(invoice.check_code)
    qr_check = _compact(qr.check_code)
    if _check_codes_differ(qr_check, printed_check):
        differences.append(f"check code …{qr_check[-6:]} vs …{printed_check[-6:]}")
    return differences


def _check_codes_differ(qr_check: str, printed_check: str) -> bool:
    """Both check codes read and different: all 20 digits compared when both have them,
    else the last 6 (the part exocr takes)."""
    if not qr_check or not printed_check:
        return False
    if len(qr_check) == len(printed_check) == 20:
        return qr_check != printed_check
    return qr_check[-6:] != printed_check[-6:]


CHECKS: tuple[Check, ...] = (
    has_what_verification_needs,
    invoice_number_is_well_formed,
    invoice_code_matches_type,
    check_code_has_valid_length,
    receipt_date_is_not_in_the_future,
    receipt_date_is_within_five_years,
    buyer_tax_id_is_valid,
    seller_tax_id_is_valid,
    amounts_add_up,
    qr_agrees_with_printed_fields,
    receipt_date_is_not_today,
)
"""Every offline check, in the order they run (all run: a caller hears every problem)."""


def run_offline_checks(
    invoice: Invoice, today: dt.date, qr: QrFields | None = None
) -> list[Finding]:
    context = CheckContext(today=today, qr=qr)
    return [check(invoice, context) for check in CHECKS]


def failed(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.outcome is Outcome.FAILED]


def incomplete(findings: list[Finding]) -> list[Finding]:
    """What a check needs and was not read: the invoice waits to be completed (C)."""
    return [finding for finding in findings if finding.outcome is Outcome.INCOMPLETE]
