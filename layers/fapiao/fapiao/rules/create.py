"""Spec 001's rules for creating an invoice, one function each, with the line it enforces.

A rule that refuses the request raises ``RuleViolation`` (nothing is stored); the
outcome rules at the end decide the status an accepted invoice is stored with.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType, TypeNotInVocabulary, to_platform_code
from fapiao.dates import to_yyyymmdd
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus
from fapiao.settings import CompanySettings

FEN = Decimal("0.01")
REMARK_LIMIT = 1024
RED_STATES = frozenset(
    {
        InvoiceState.RED_LETTER,
        InvoiceState.RED_REVERSED,
        InvoiceState.PARTLY_RED_REVERSED,
        InvoiceState.FULLY_RED_REVERSED,
    }
)


class RuleViolation(HubError):
    """A request that breaks a rule of spec 001; ``field`` names what to fix."""

    def __init__(self, problem: Problem, field: str, detail: str) -> None:
        super().__init__(problem, f"{field}: {detail}", field=field)
        self.field = field


BIZ_ID_LIMIT = 36


def require_biz_id(biz_id: str) -> None:
    """001: bizId 业务唯一识别码, 长度限制 36."""
    if not biz_id.strip() or len(biz_id) > BIZ_ID_LIMIT:
        raise RuleViolation(
            Problem.INVALID_REQUEST, "bizId", f"1 to {BIZ_ID_LIMIT} characters, got {len(biz_id)}"
        )


def require_one_invoice(invoices: Sequence[Invoice]) -> Invoice:
    """001: invoices — 发票具体信息,只接受一张发票信息."""
    if len(invoices) != 1:
        raise RuleViolation(
            Problem.ONE_INVOICE_ONLY,
            "receipt_ocr.invoices",
            f"exactly one invoice per call, got {len(invoices)}",
        )
    return invoices[0]


def require_recognition_success(result: int) -> None:
    """001: 接口只处理发票识别和查验成功的数据 (receipt_ocr.result 1:成功)."""
    if result != 1:
        raise RuleViolation(
            Problem.RECOGNITION_FAILED, "receipt_ocr.result", f"must be 1 (success), got {result}"
        )


def require_invoice_number(invoice: Invoice) -> str:
    """The duplicate-import check needs the invoice's number to know it again."""
    key = invoice.invoice_key
    if key is None:
        raise RuleViolation(
            Problem.TYPE_FIELD_REQUIRED,
            "receipt_ocr.invoices[0].invoice_number",
            "required to recognize a second import of the same invoice",
        )
    return key


def require_check_for_vat(invoice: Invoice, check: CheckResult | None) -> None:
    """001: 创建增值税发票的时候需要查验结果,即receipt_check不能为空."""
    if invoice.invoice_type.is_vat and check is None:
        raise RuleViolation(Problem.CHECK_REQUIRED, "receipt_check", "required for a VAT invoice")


def require_matching_check_type(invoice: Invoice, check: CheckResult | None) -> None:
    """001: invoices中的invoice_type和receipt_check的invoice_type必须一致."""
    if check is not None and check.invoice.invoice_type is not invoice.invoice_type:
        raise RuleViolation(
            Problem.CHECK_TYPE_MISMATCH,
            "receipt_check.invoice_type",
            "must equal receipt_ocr.invoices[0].invoice_type",
        )


def require_check_of_this_invoice(invoice: Invoice, check: CheckResult | None) -> None:
    """A check result only counts for the invoice it checked (same code and number)."""
    if check is None or check.invoice.invoice_key is None:
        return
    if check.invoice.invoice_key != invoice.invoice_key:
        raise RuleViolation(
            Problem.CHECK_OF_ANOTHER_INVOICE,
            "receipt_check.invoice_num",
            "code and number differ from the recognized invoice's",
        )


def require_receipt_date(invoice: Invoice) -> None:
    """001: receipt_date (yyyyMMdd) 必填 for types 01, 02, 03, 04, 08, 10, 11, 14, 15, 18,
    19, 20, 21, 67, 68 (日期必填票据类型)."""
    if invoice.invoice_type.requires_receipt_date and invoice.receipt_date is None:
        raise RuleViolation(
            Problem.RECEIPT_DATE_REQUIRED,
            "receipt_ocr.invoices[0].receipt_date",
            f"required (yyyyMMdd) for {invoice.invoice_type.value}",
        )


def require_receipt_date_not_in_the_future(invoice: Invoice, today: dt.date) -> None:
    """开票日期 (yyyyMMdd): no invoice is issued after today in China (Asia/Shanghai);
    a later date is misread or made up, and would wait for a check that never comes."""
    day = invoice.receipt_date
    if day is not None and day > today:
        raise RuleViolation(
            Problem.RECEIPT_DATE_IN_FUTURE,
            "receipt_ocr.invoices[0].receipt_date",
            f"{to_yyyymmdd(day)} is after today {to_yyyymmdd(today)} (Asia/Shanghai)",
        )


def is_red_letter(check: CheckResult | None) -> bool:
    """A red-letter invoice (红字发票, exocr inv_status 20 红票) as the tax authority
    says: the only kind whose amounts are negative. The blue invoice a red one reverses
    (30 红冲, 40/50 部分/全额红冲) keeps its positive amounts. 001 has no marker of its
    own for it (its receipt_check says 作废 at most)."""
    return check is not None and check.state is InvoiceState.RED_LETTER


def require_blue_total_not_negative(invoice: Invoice, check: CheckResult | None) -> None:
    """价税合计 of a blue (ordinary) invoice is never negative: only a red-letter invoice,
    which reverses another, carries negative amounts. (A number that is no amount at
    all is ``require_amounts_in_range``'s.)"""
    total = invoice.total_amount
    if total is not None and total.is_finite() and total < 0 and not is_red_letter(check):
        raise RuleViolation(
            Problem.NEGATIVE_TOTAL,
            "receipt_ocr.invoices[0].total_amount",
            f"{total} is negative; only a red-letter invoice is",
        )


MONEY_DIGITS = 12  # integer digits: up to 999,999,999,999.99 yuan
_MONEY_LIMIT = Decimal(10) ** MONEY_DIGITS
_MONEY_FIELDS = (
    "amount",
    "tax_amount",
    "total_amount",
    "subtotal_amount",
    "fare",
    "fuel_surcharge",
    "civil_avn_dev_fund",
    "other_taxes",
    "insurance",
)
_LINE_MONEY_FIELDS = (  # canonical name, 001 detail_list name
    ("amount", "amount"),
    ("tax_amount", "tax_amount"),
    ("total_amount", "total_amount"),
    ("unit_price", "price"),
)


def _money_of(invoice: Invoice, at: str, lines_at: str) -> Iterator[tuple[str, Decimal]]:
    for field in _MONEY_FIELDS:
        value = getattr(invoice, field)
        if value is not None:
            yield f"{at}{field}", value
    for index, item in enumerate(invoice.items):
        for canonical, wire in _LINE_MONEY_FIELDS:
            value = getattr(item, canonical)
            if value is not None:
                yield f"{lines_at}[{index}].{wire}", value


def require_amounts_in_range(invoice: Invoice, check: CheckResult | None) -> None:
    """No real invoice holds an amount of more than 12 integer digits (a trillion yuan):
    such a number (1E+30) is a misread or a forged one, in what was read, in the check
    or in their lines."""
    money = list(_money_of(invoice, "receipt_ocr.invoices[0].", "receipt_ocr.invoices[0].items"))
    if check is not None:
        money += _money_of(check.invoice, "receipt_check.", "receipt_check.detail_list")
    for field, value in money:
        if not value.is_finite() or abs(value) >= _MONEY_LIMIT:
            raise RuleViolation(
                Problem.AMOUNT_OUT_OF_RANGE,
                field,
                f"{value} is beyond any invoice (more than {MONEY_DIGITS} integer digits)",
            )


# 001 几种票据类型私有字段: the fields each type must carry.
_TYPE_FIELDS: dict[InvoiceType, tuple[str, ...]] = {
    InvoiceType.TRAIN: ("destination_city", "destination_city_to", "train_number", "train_class"),
    InvoiceType.TAXI: ("start_time", "end_time", "mileage"),
    InvoiceType.TOLL: ("destination_city", "destination_city_to"),
    InvoiceType.FLIGHT_ITINERARY: (
        "flight_detail",
        "fare",
        "fuel_surcharge",
        "id_card",
        "international_flag",
    ),
    InvoiceType.QUOTA: ("company_seal",),
    InvoiceType.DIGITAL_RAIL: ("buyer_name",),
    InvoiceType.DIGITAL_FLIGHT: ("buyer_name",),
}
# Wire names where the canonical name differs.
_WIRE_NAMES = {"passenger_name": "name"}
_FLIGHT_LEG_FIELDS = (("departure", "from"), ("arrival", "to"), ("flight_number", "flight_number"))


def _missing(field: str) -> RuleViolation:
    return RuleViolation(
        Problem.TYPE_FIELD_REQUIRED,
        f"receipt_ocr.invoices[0].{_WIRE_NAMES.get(field, field)}",
        "required for this invoice type",
    )


def require_type_fields(invoice: Invoice) -> None:
    """001: 几种票据类型私有字段 — 60 train, 61 taxi (HH:mm), 63 toll, 65 flight itinerary
    (flight_detail, fare, fuel_surcharge, id_card, international_flag I/D), 51 quota
    (company_seal Y/N); buyer_name for 67 and 68."""
    for field in _TYPE_FIELDS.get(invoice.invoice_type, ()):
        value = getattr(invoice, field)
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            raise _missing(field)
    if invoice.invoice_type is InvoiceType.FLIGHT_ITINERARY:
        _require_flight_fields(invoice)


def _require_flight_fields(invoice: Invoice) -> None:
    """A flight itinerary says domestic or international, and each leg is complete."""
    if invoice.international_flag not in ("I", "D"):
        raise RuleViolation(
            Problem.TYPE_FIELD_REQUIRED,
            "receipt_ocr.invoices[0].international_flag",
            "must be I (international) or D (domestic)",
        )
    for index, leg in enumerate(invoice.flight_detail):
        for canonical, wire in _FLIGHT_LEG_FIELDS:
            if not getattr(leg, canonical):
                raise RuleViolation(
                    Problem.TYPE_FIELD_REQUIRED,
                    f"receipt_ocr.invoices[0].flight_detail[{index}].{wire}",
                    "required for a flight itinerary",
                )


def limit_remark(invoice: Invoice) -> None:
    """001: remark 备注 (长度不超过1024)."""
    if invoice.remark is not None and len(invoice.remark) > REMARK_LIMIT:
        raise RuleViolation(
            Problem.REMARK_TOO_LONG,
            "receipt_ocr.invoices[0].remark",
            f"{len(invoice.remark)} characters, at most {REMARK_LIMIT}",
        )


def choose_currency(invoice: Invoice, company: CompanySettings) -> str:
    """001: currency 设置顺序:1.取入参 2.取公司配置 3.默认CNY (如果填写,则要求是系统支持的币种)."""
    currency = (invoice.currency or company.default_currency or "CNY").strip().upper()
    if currency not in company.currencies:
        raise RuleViolation(
            Problem.UNSUPPORTED_CURRENCY,
            "receipt_ocr.invoices[0].currency",
            f"{currency} is not a supported currency",
        )
    return currency


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def complete_tax(invoice: Invoice) -> Invoice:
    """001: 接口处理税额相关计算 — amount + tax = total within one fen, missing pieces
    computed from the others, and the tax rate consistent with the line items."""
    rate = _rate_agreeing_with_items(invoice)
    _require_item_taxes(invoice)
    amount, tax, total = _fill_missing_amounts(
        invoice.amount, invoice.tax_amount, invoice.total_amount, rate
    )
    if None not in (amount, tax, total) and abs(amount + tax - total) > FEN:  # type: ignore[operator]
        raise RuleViolation(
            Problem.TAX_MISMATCH,
            "receipt_ocr.invoices[0].total_amount",
            f"amount {amount} + tax_amount {tax} is not total_amount {total}",
        )
    return invoice.model_copy(
        update={"amount": amount, "tax_amount": tax, "total_amount": total, "tax_rate": rate}
    )


def _rate_agreeing_with_items(invoice: Invoice) -> Decimal | None:
    """The invoice's tax rate, taken from its line items when they share one; a rate
    given must be the rate of some line item."""
    rate = invoice.tax_rate
    item_rates = {i.tax_rate for i in invoice.items if i.tax_rate is not None}
    if rate is None and len(item_rates) == 1:
        return next(iter(item_rates))
    if rate is not None and item_rates and rate not in item_rates:
        raise RuleViolation(
            Problem.TAX_MISMATCH,
            "receipt_ocr.invoices[0].tax_rate",
            f"{rate} is not the rate of any line item ({sorted(item_rates)})",
        )
    return rate


def _require_item_taxes(invoice: Invoice) -> None:
    """Each line item's tax is its amount x its rate, within one fen."""
    for index, item in enumerate(invoice.items):
        if None not in (item.amount, item.tax_rate, item.tax_amount):
            expected = _fen(item.amount * item.tax_rate)  # type: ignore[operator]
            if abs(expected - item.tax_amount) > FEN:  # type: ignore[operator]
                raise RuleViolation(
                    Problem.TAX_MISMATCH,
                    f"receipt_check.detail_list[{index}].tax_amount",
                    f"{item.tax_amount} is not {item.amount} x {item.tax_rate}",
                )


def _fill_missing_amounts(
    amount: Decimal | None, tax: Decimal | None, total: Decimal | None, rate: Decimal | None
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """Amount, tax and total, one missing piece computed from the other two (or amount
    and tax from the total and the rate)."""
    if total is not None and amount is None and tax is not None:
        return total - tax, tax, total
    if total is not None and tax is None and amount is not None:
        return amount, total - amount, total
    if total is None and amount is not None and tax is not None:
        return amount, tax, amount + tax
    if total is not None and amount is None and tax is None and rate is not None:
        amount = _fen(total / (1 + rate))
        return amount, total - amount, total
    return amount, tax, total


def check_buyer_title(invoice: Invoice, company: CompanySettings) -> str | None:
    """001: 接口会进行发票抬头校验 — the buyer must be one of the company's titles.

    Returns the mismatch message to record, or None. Not configured (no titles) or an
    invoice with no buyer printed on it (taxi, train, quota): nothing to check.
    """
    if not company.titles or not (invoice.buyer_name or invoice.buyer_tax_code):
        return None
    for title in company.titles:
        name_ok = invoice.buyer_name is None or invoice.buyer_name.strip() == title.name
        code_ok = (
            invoice.buyer_tax_code is None
            or invoice.buyer_tax_code.strip().upper() == title.tax_code.upper()
        )
        if name_ok and code_ok:
            return None
    return (
        f"发票抬头 {invoice.buyer_name or ''} {invoice.buyer_tax_code or ''}".rstrip()
        + " 不是公司的抬头"
    )


# --- what was read against what the tax authority said ----------------------------------

_AMOUNTS = ("amount", "tax_amount", "total_amount")
_PARTIES = ("buyer_tax_code", "seller_tax_code")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def _identifier(value: str | None) -> str:
    return _NOT_ALNUM.sub("", value or "").upper()


def _type_code(invoice_type: InvoiceType) -> str:
    try:
        return to_platform_code(invoice_type)
    except TypeNotInVocabulary:
        return invoice_type.value


def _said(field: str, read: object, checked: object) -> str:
    return f"{field} 识别 {read} / 查验 {checked}"


def differences_from_check(read: Invoice, check: CheckResult | None) -> list[str]:
    """001: receipt_check is the tax authority's answer for the invoice that was read
    (receipt_ocr): where both say a field and disagree, the reading is wrong (or the
    claim is). Amounts beyond one fen; any difference in the date, the type, the code
    and number (one key written whole or split is the same), or the buyer's and
    seller's tax codes. Each difference names the field (001's name) and what each side
    said; none for no check or a failed one (its data is not the tax authority's word).
    """
    if check is None or not check.success:
        return []
    known = check.invoice
    return [
        *_amount_differences(read, known),
        *_date_and_type_differences(read, known),
        *_identifier_differences(read, known),
    ]


def _amount_differences(read: Invoice, known: Invoice) -> Iterator[str]:
    for field in _AMOUNTS:
        mine, theirs = getattr(read, field), getattr(known, field)
        if mine is not None and theirs is not None and abs(mine - theirs) > FEN:
            yield _said(field, mine, theirs)


def _date_and_type_differences(read: Invoice, known: Invoice) -> Iterator[str]:
    mine, theirs = read.receipt_date, known.receipt_date
    if mine is not None and theirs is not None and mine != theirs:
        yield _said("receipt_date", to_yyyymmdd(mine), to_yyyymmdd(theirs))
    if read.invoice_type is not known.invoice_type:
        yield _said("invoice_type", _type_code(read.invoice_type), _type_code(known.invoice_type))


def _identifier_differences(read: Invoice, known: Invoice) -> Iterator[str]:
    fields = list(_PARTIES)
    if read.invoice_key is None or read.invoice_key != known.invoice_key:
        fields[:0] = ["invoice_code", "invoice_number"]
    for field in fields:
        mine, theirs = getattr(read, field), getattr(known, field)
        if _identifier(mine) and _identifier(theirs) and _identifier(mine) != _identifier(theirs):
            yield _said(field, mine, theirs)


def status_of(invoice: Invoice, check: CheckResult | None) -> tuple[InvoiceStatus, Problem | None]:
    """The status an accepted invoice is stored with (001 invoice_status).

    A voided or red-letter invoice, or a failed check, is F with its reason (对于...
    记录查验失败和错误信息); a VAT invoice checked successfully is Y; an invoice that the
    tax authority cannot check (taxi, train, quota) and was recognized is I.
    """
    if check is not None:
        if not check.success:
            return InvoiceStatus.CHECK_FAILED, Problem.CHECK_FAILED
        if check.cancelled or check.state is InvoiceState.VOID:
            return InvoiceStatus.CHECK_FAILED, Problem.INVOICE_VOID
        if check.state in RED_STATES:
            return InvoiceStatus.CHECK_FAILED, Problem.INVOICE_RED_LETTER
        return InvoiceStatus.VERIFIED, None
    return InvoiceStatus.RECOGNIZED, None
