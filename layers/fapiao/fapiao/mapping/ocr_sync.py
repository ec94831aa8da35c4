"""The canonical model -> spec 000 ``ocrResult`` and ``checkResult``.

Dates become epoch milliseconds, each as 000's example writes it: ``ocrResult`` at
midnight Asia/Shanghai, ``checkResult`` at midnight UTC (``fapiao.dates``); type
codes the platform's (the catalogue), bools Y/N. ``ocrResult.amount`` is the total with
tax and ``pretax_amount`` the amount without, as in 000's example.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fapiao.catalogue.errors import Problem, invoice_message
from fapiao.catalogue.types import InvoiceType, to_platform_code
from fapiao.dates import to_epoch_millis, to_utc_midnight_millis
from fapiao.mapping.invoice_create import yes_no_from_flag
from fapiao.mapping.messages import file_invoice_message
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.results import OcrSyncResult
from fapiao.wire.invoice_create import ExpenseResult
from fapiao.wire.ocr_sync import (
    CheckDetail,
    OcrLine,
    OcrResult,
    OcrSyncCheckResult,
    OcrSyncItem,
    OcrSyncResponse,
)

OCR_SOURCE = "interface"  # ocrResult.source of invoices that came through this API


def _millis(day: date | None) -> int | None:
    return None if day is None else to_epoch_millis(day)


def _ocr_line(item: LineItem) -> OcrLine:
    return OcrLine(
        name=item.name,
        specification=item.specification,
        unit=item.unit,
        quantity=item.quantity,
        price=item.unit_price,
        amount=item.amount,
        tax_rate=item.tax_rate,
        tax_amount=item.tax_amount,
        total_amount=item.total_amount,
    )


def to_ocr_result(invoice: Invoice, status: InvoiceStatus) -> OcrResult:
    """A recognized invoice and its status as 000 ``ocrResult``."""
    return OcrResult(
        attachment_url=invoice.attachment_url,
        source=OCR_SOURCE,
        invoice_type=to_platform_code(invoice.invoice_type),
        invoice_status=status,
        invoice_code=invoice.invoice_code,
        invoice_num=invoice.invoice_number,
        amount=invoice.total_amount,
        currency=invoice.currency,
        tax_amount=invoice.tax_amount,
        receipt_date=_millis(invoice.receipt_date),
        buyer_name=invoice.buyer_name,
        buyer_tax_code=invoice.buyer_tax_code,
        buyer_bank_account=invoice.buyer_account,
        buyer_addr_tel=invoice.buyer_address_phone,
        seller_name=invoice.seller_name,
        seller_tax_code=invoice.seller_tax_code,
        seller_bank_account=invoice.seller_account,
        seller_addr_tel=invoice.seller_address_phone,
        pretax_amount=invoice.amount,
        remark=invoice.remark,
        name=invoice.passenger_name,
        highway_flag=yes_no_from_flag(invoice.highway_flag),
        items=[_ocr_line(item) for item in invoice.items],
    )


def _check_detail(item: LineItem) -> CheckDetail:
    return CheckDetail(
        name=item.name,
        specification=item.specification,
        unit=item.unit,
        amount=item.amount,
        price=item.unit_price,
        quantity=item.quantity,
        tax_rate=item.tax_rate,
        tax_amount=item.tax_amount,
        total_amount=item.total_amount,
    )


def to_check_result(check: CheckResult) -> OcrSyncCheckResult:
    """A check result as 000 ``checkResult`` (the invoice as the tax authority knows it)."""
    printed = check.invoice
    return OcrSyncCheckResult(
        result=1 if check.success else 0,
        invoice_type=to_platform_code(printed.invoice_type),
        invoice_code=printed.invoice_code,
        invoice_num=printed.invoice_number,
        receipt_date=(
            None if printed.receipt_date is None else to_utc_midnight_millis(printed.receipt_date)
        ),
        check_code=printed.check_code,
        total_amount=printed.total_amount,
        amount=printed.amount,
        tax_amount=printed.tax_amount,
        remark=printed.remark,
        buyer_name=printed.buyer_name,
        buyer_tax_code=printed.buyer_tax_code,
        buyer_address_phone=printed.buyer_address_phone,
        buyer_account=printed.buyer_account,
        seller_name=printed.seller_name,
        seller_tax_code=printed.seller_tax_code,
        seller_address_phone=printed.seller_address_phone,
        seller_account=printed.seller_account,
        cancellation_mark=yes_no_from_flag(check.cancelled or check.state is InvoiceState.VOID),
        detail_list=[_check_detail(item) for item in printed.items],
    )


def to_ocr_sync_item(
    invoice: Invoice,
    check: CheckResult | None,
    status: InvoiceStatus,
    *,
    message_code: int | None = None,
    message: str | None = None,
) -> OcrSyncItem:
    """One element of 000's ``data`` when no expense is created; ``checkResult`` is
    null for an invoice that was not checked. ``message_code``/``message`` say why the
    status (``invoice_message``), as the answer with an expense does."""
    return OcrSyncItem(
        ocr_result=to_ocr_result(invoice, status),
        check_result=None if check is None else to_check_result(check),
        invoice_message_code=message_code,
        invoice_message=message,
    )


# --- the ocr_sync use case's answer ---------------------------------------------------


def to_ocr_sync_response(
    biz_id: str, results: Sequence[OcrSyncResult], create_expense: bool
) -> OcrSyncResponse:
    """000's answer: ``data`` an array, one element per invoice found in the file."""
    elements: list[OcrSyncItem | ExpenseResult] = []
    for result in results:
        recognized = result.item.recognized
        verification = result.item.verification
        check = None if verification is None else verification.check
        if not create_expense:
            invoice = recognized.invoice or Invoice(invoice_type=InvoiceType.OTHER)
            code, message = file_invoice_message(result.item)
            elements.append(
                to_ocr_sync_item(
                    invoice, check, result.item.status, message_code=code, message=message
                )
            )
        elif result.created is None:
            code, message = invoice_message(Problem.UNRECOGNISABLE, recognized.reason)
            elements.append(
                ExpenseResult(
                    expense_id=None,
                    invoice_message=message,
                    invoice_message_code=code,
                    invoice_status=InvoiceStatus.UNRECOGNISABLE,
                )
            )
        else:
            created_code = result.created.message_code
            elements.append(
                ExpenseResult(
                    expense_id=result.created.expense_id,
                    invoice_message=result.created.message,
                    invoice_message_code=None if created_code is None else int(created_code),
                    invoice_status=result.created.status,
                )
            )
    return OcrSyncResponse(res_code=200000, res_msg="success", biz_id=biz_id, data=elements)
