"""The canonical model -> spec 002 Maycur ``InvoiceDto`` and the response envelope.

``invoiceTypeEnum`` is the canonical type's name and ``invoiceTypeDesc`` its Chinese
name (Maycur's own enum, e.g. ``SHIPMENT_VAT``, is not published); ``type`` and the line
items' ``invoiceType`` carry the platform code. Dates are epoch milliseconds, money is
``Decimal`` and every amount with a currency is an ``AmountInput``.

The printed fields come from the ``invoice`` passed in: a service that has a
successful check passes the invoice as the tax authority knows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from fapiao.catalogue.types import to_platform_code
from fapiao.dates import SHANGHAI, datetime_to_epoch_millis, to_epoch_millis
from fapiao.mapping.messages import refusal_message
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.model.stored import expense_code
from fapiao.results import ImportedInvoice
from fapiao.wire.maycur import (
    AmountInput,
    Attachment,
    FileInfo,
    ImportInvoicePicResponse,
    InvoiceDto,
    LineItemDto,
    TicketData,
    ValidateStatus,
)

ACK = "ACK"  # 002 ``code`` of a successful call
NACK = "NACK"  # ``code`` of a failed call (002 shows only success; Maycur's OpenAPI uses NACK)
SOURCE = "OPENAPI_IMPORT"  # 002 source: 接口导入
CNY = "CNY"
CANCELLED = "INVALID"  # cancellationMark of a 作废 invoice
NOT_CANCELLED = "NOT_INVALID"  # cancellationMark in 002's example

_CENT = Decimal("0.01")
# amountStr prefixes; other currencies are written "USD 1.00"-style with their code.
_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥"}

# C (not checked yet: waiting for completion, a busy provider, tomorrow) is 未验真, never
# 验真失败; the remark says why in the catalogue's words.
_VALIDATE_STATUS = {
    InvoiceStatus.VERIFIED: ValidateStatus.VALIDATED,
    InvoiceStatus.CHECK_FAILED: ValidateStatus.VALIDATION_FAILED,
    InvoiceStatus.AWAITING_CHECK: ValidateStatus.NOT_VALIDATION,
    InvoiceStatus.RECOGNIZING: ValidateStatus.NOT_VALIDATION,
    InvoiceStatus.UNRECOGNISABLE: ValidateStatus.NOT_VALIDATION,
    InvoiceStatus.RECOGNIZED: ValidateStatus.NOT_VALIDATION,
}


def validate_status(status: InvoiceStatus) -> ValidateStatus:
    """Y -> VALIDATED, F -> VALIDATION_FAILED, every other status -> NOT_VALIDATION."""
    return _VALIDATE_STATUS[status]


def amount_str(amount: Decimal, currency: str) -> str:
    """The amount with its currency as Maycur shows it: "¥0.00", "-¥3.67", "CHF 1.00"."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    symbol = _SYMBOLS.get(currency)
    prefix = symbol if symbol is not None else f"{currency} "
    return f"{sign}{prefix}{abs(cents):f}"


def amount_input(
    amount: Decimal, currency: str, exchange_rate: Decimal | None = None
) -> AmountInput:
    """002 AmountInput; the exchange rate of CNY is 1, of others the one given."""
    if exchange_rate is None and currency == CNY:
        exchange_rate = Decimal(1)
    return AmountInput(
        currency=currency,
        amount=amount,
        custom_exchange_rate=exchange_rate,
        amount_str=amount_str(amount, currency),
    )


def _millis(day: date | None) -> int | None:
    return None if day is None else to_epoch_millis(day)


def _line_items(
    items: Iterable[LineItem],
    *,
    invoice_data_code: str | None,
    expense_code: str | None,
    type_code: str,
) -> list[LineItemDto]:
    return [
        LineItemDto(
            invoice_data_code=invoice_data_code,
            name=item.name,
            price_amount=item.amount,
            tax_rate=item.tax_rate,
            tax_amount=item.tax_amount,
            num=item.quantity,
            specification_model=item.specification,
            unit=item.unit,
            unit_price=item.unit_price,
            expense_code=expense_code,
            invoice_type=type_code,
        )
        for item in items
    ]


def _cancellation_mark(check: CheckResult | None) -> str | None:
    if check is None:
        return None  # not checked: nobody knows
    if check.cancelled or check.state is InvoiceState.VOID:
        return CANCELLED
    return NOT_CANCELLED


def to_invoice_dto(  # long: a keyword per field of 002's InvoiceDto, nothing to split
    invoice: Invoice,
    check: CheckResult | None,
    status: InvoiceStatus,
    *,
    invoice_data_code: str | None = None,
    expense_code: str | None = None,
    user_code: str | None = None,
    employee_id: str | None = None,
    imported_at: datetime | None = None,
    attachments: Sequence[Attachment] = (),
    attachment_files: Sequence[FileInfo] | None = None,
    currency: str | None = None,
    approved_tax_amount: Decimal | None = None,
    approved_deduction_amount: Decimal | None = None,
    remark: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> InvoiceDto:
    """An imported invoice as 002 ``InvoiceDto``.

    ``approved_tax_amount``/``approved_deduction_amount`` are what the tax computation
    decided; they are not derived here. ``currency`` defaults to the invoice's, and a
    fapiao without one is in CNY. ``imported_at`` must be aware. ``error_code`` and
    ``error_message`` are the catalogue's code and message of what is wrong with the
    invoice (``fapiao.catalogue.errors.invoice_message``), never a provider's or a
    rule's own words alone.
    """
    money = currency or invoice.currency or CNY
    type_code = to_platform_code(invoice.invoice_type)
    issue_date = _millis(invoice.receipt_date)
    shown = validate_status(status)
    # 002: the accounts are "" for non-VAT invoices and for unverified ones.
    show_accounts = shown is ValidateStatus.VALIDATED and invoice.invoice_type.is_vat
    return InvoiceDto(
        invoice_data_code=invoice_data_code,
        user_code=user_code,
        expense_code=expense_code,
        buyer_name=invoice.buyer_name,
        buyer_tax_number=invoice.buyer_tax_code,
        invoice_code=invoice.invoice_code,
        invoice_number=invoice.invoice_number,
        issue_date=issue_date,
        total_price_amount=invoice.amount,
        total_tax_amount=invoice.tax_amount,
        total_price_and_tax=invoice.total_amount,
        supplier_name=invoice.seller_name,
        supplier_address=invoice.seller_address_phone,
        invoice_type_desc=invoice.invoice_type.value,
        invoice_type_enum=invoice.invoice_type.name,
        attachments=list(attachments),
        attachment_files=None if attachment_files is None else list(attachment_files),
        validate_status=shown,
        validate_status_desc=shown.desc,
        remark=remark,
        imported_at=None if imported_at is None else datetime_to_epoch_millis(imported_at),
        imported_at_year_month=(
            None if imported_at is None else f"{imported_at.astimezone(SHANGHAI):%Y%m}"
        ),
        ticket_data=TicketData(
            consume_time=issue_date,
            consume_start_date=issue_date,
            consume_end_date=issue_date,
            machine_code=invoice.machine_number,
        ),
        approved_tax_amount=(
            None if approved_tax_amount is None else amount_input(approved_tax_amount, money)
        ),
        approved_deduction_amount=(
            None
            if approved_deduction_amount is None
            else amount_input(approved_deduction_amount, money)
        ),
        error_message=error_message,
        error_code=error_code,
        tax_rate=invoice.tax_rate,
        supplier_tax_number=invoice.seller_tax_code,
        employee_id=employee_id,
        buyer_address_phone=invoice.buyer_address_phone,
        buyer_account=(invoice.buyer_account or "") if show_accounts else "",
        supplier_account=(invoice.seller_account or "") if show_accounts else "",
        source=SOURCE,
        source_desc=SOURCE,
        company_seal=invoice.company_seal,
        invoice_tax_dto_list=[],
        invoice_remark=invoice.remark,
        agent_mark=invoice.agent_mark,
        cancellation_mark=_cancellation_mark(check),
        title=invoice.title,
        invoice_code_number=invoice.invoice_key,
        checksum=invoice.check_code,
        type=type_code,
        line_items=_line_items(
            invoice.items,
            invoice_data_code=invoice_data_code,
            expense_code=expense_code,
            type_code=type_code,
        ),
    )


def to_import_response(invoices: Sequence[InvoiceDto]) -> ImportInvoicePicResponse:
    """002's answer to a successful import."""
    return ImportInvoicePicResponse(code=ACK, data=list(invoices), success=True)


def to_import_failure(error_code: str, message: str) -> ImportInvoicePicResponse:
    """002's answer to a failed import: ``errorCode`` from 002's list (INV20006, ...)."""
    return ImportInvoicePicResponse(
        code=NACK, message=message, error_code=error_code, success=False
    )


INVOICE_DATA_CODE_PREFIX = "INV"  # 002's example: INV123293506094510086
_DIRECT_KEY_CHARS = 21  # "INV" + key: at most 24 characters; a hashed code has 25


def invoice_data_code(invoice_key: str) -> str:
    """002 ``invoiceDataCode`` (String(25)) of the invoice stored under ``invoice_key``:
    "INV" + the key when the key has at most 21 characters (code + number of every
    invoice the hub has met: 20), else "INV" + 22 hex digits of its SHA-256. The two
    forms differ in length, so two invoices never share a code."""
    if len(invoice_key) <= _DIRECT_KEY_CHARS:
        return INVOICE_DATA_CODE_PREFIX + invoice_key
    digest = hashlib.sha256(invoice_key.encode("utf-8")).hexdigest().upper()
    return INVOICE_DATA_CODE_PREFIX + digest[:22]


IMPORTED_REMARK = "成功"  # 002's example: remark of an invoice imported


def to_imported_dto(imported: ImportedInvoice, imported_at: datetime) -> InvoiceDto:
    """An invoice the import stored, as 002 ``InvoiceDto``: as the tax authority knows
    it when the check succeeded, else as read from the file. ``remark`` is "成功", or
    why the invoice has its status in the catalogue's words (also ``errorCode`` and
    ``errorMessage``): "开票日期超过五年,无法查验: …" for an F, "发票信息不全,补全后查验:
    total_amount" for a C (未验真)."""
    outcome = imported.outcome
    assert outcome is not None and outcome.expense_id is not None, "not a stored invoice"
    verification = imported.item.verification
    check = None if verification is None else verification.check
    invoice = imported.item.recognized.invoice
    if check is not None and check.success:
        invoice = check.invoice
    assert invoice is not None
    return to_invoice_dto(
        invoice,
        check,
        outcome.status,
        invoice_data_code=invoice_data_code(outcome.invoice_key),
        expense_code=expense_code(outcome.expense_id),
        user_code=imported.employee.user_code,
        employee_id=imported.employee.employee_id,
        imported_at=imported_at,
        remark=outcome.message or IMPORTED_REMARK,
        error_code=outcome.message_code,
        error_message=outcome.message,
    )


def skipped_message(imported: Sequence[ImportedInvoice]) -> str | None:
    """``message`` of a successful import that left invoices of the file out: how many
    were imported before, how many could not be saved (and why the first)."""
    duplicates = sum(1 for i in imported if i.duplicate)
    refused = [i.refused for i in imported if i.refused is not None]
    parts = []
    if duplicates:
        parts.append(f"{duplicates} 张发票已导入过,已跳过")
    if refused:
        parts.append(f"{len(refused)} 张发票无法保存,已跳过: {refusal_message(refused[0])[1]}")
    return "; ".join(parts) or None


def to_import_answer(
    imported: Sequence[ImportedInvoice], imported_at: datetime
) -> ImportInvoicePicResponse:
    """002's answer to an import: ``data`` the invoices stored, in file order;
    ``message`` says which of the file's invoices were left out."""
    answer = to_import_response([to_imported_dto(i, imported_at) for i in imported if i.stored])
    return answer.model_copy(update={"message": skipped_message(imported)})
