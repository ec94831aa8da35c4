"""Spec 001 wire models <-> the canonical ``Invoice`` and ``CheckResult``.

Only translation happens here: type codes through the catalogue, "yyyyMMdd" and ISO
datetimes through ``fapiao.dates``, Y/N to bool, 001's names to canonical names. The
001 rules (one invoice, a check for VAT, per-type required fields) are in
``fapiao.rules``. Unknown type codes raise ``UnknownTypeCode``, malformed dates and
times ``InvalidDate``; both are ``ValueError`` for the handler to answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from fapiao.catalogue.types import (
    InvoiceType,
    UnknownTypeCode,
    Vocabulary,
    from_platform_code,
    to_platform_code,
)
from fapiao.dates import (
    date_to_utc_midnight_iso,
    parse_date,
    parse_datetime,
    parse_hhmm,
    to_iso_utc,
    to_yyyymmdd,
)
from fapiao.model import CheckResult, FlightSegment, Invoice, InvoiceState, LineItem
from fapiao.model.create import CreateCommand, CreateOutcome
from fapiao.wire.invoice_create import (
    CheckDetailLine,
    CreateRequest,
    CreateResponse,
    ExpenseResult,
    FlightLeg,
    OcrInvoice,
    ReceiptCheck,
    ReceiptOcr,
)

# Canonical field names that 001's receipt_ocr.invoices[] names otherwise (every other
# field has the same name in both): what a field's provenance is answered under.
OCR_NAMES = {"buyer_account": "buyer_bank", "passenger_name": "name"}


def flag_from_yes_no(value: str | None) -> bool | None:
    """A Y/N flag as a bool: Y true, N false, absent None (the wire model normalised it)."""
    if value is None:
        return None
    return value == "Y"


def yes_no_from_flag(value: bool | None) -> Literal["Y", "N"] | None:
    """A bool as a Y/N flag; None stays absent."""
    if value is None:
        return None
    return "Y" if value else "N"


# --- into the canonical model -------------------------------------------------------


def invoice_from_ocr_invoice(item: OcrInvoice) -> Invoice:
    """One element of ``receipt_ocr.invoices`` as a canonical invoice."""
    return Invoice(
        invoice_type=from_platform_code(item.invoice_type),
        invoice_code=item.invoice_code,
        invoice_number=item.invoice_number,
        receipt_date=parse_date(item.receipt_date),
        check_code=item.check_code,
        title=item.title,
        amount=item.amount,
        tax_amount=item.tax_amount,
        total_amount=item.total_amount,
        subtotal_amount=item.subtotal_amount,
        tax_rate=item.tax_rate,
        currency=item.currency,
        buyer_name=item.buyer_name,
        buyer_tax_code=item.buyer_tax_code,
        buyer_account=item.buyer_bank,  # 开户银行
        seller_name=item.seller_name,
        seller_tax_code=item.seller_tax_code,
        remark=item.remark,
        agent_mark=item.agent_mark,
        company_seal=flag_from_yes_no(item.company_seal),
        purchase_invoice=flag_from_yes_no(item.purchase_invoice),
        highway_flag=flag_from_yes_no(item.highway_flag),
        other_info=item.other_info,
        error_num_flag=item.error_num_flag,
        start_time=parse_hhmm(item.start_time),
        end_time=parse_hhmm(item.end_time),
        start_datetime=parse_hhmm(item.start_datetime),
        mileage=item.mileage,
        destination_city=item.destination_city,
        destination_city_to=item.destination_city_to,
        train_number=item.train_number,
        train_class=item.train_class,
        passenger_name=item.name,
        id_card=item.id_card,
        fare=item.fare,
        fuel_surcharge=item.fuel_surcharge,
        civil_avn_dev_fund=item.civil_avn_dev_fund,
        other_taxes=item.other_taxes,
        insurance=item.insurance,
        international_flag=item.international_flag,
        flight_detail=[_segment(leg) for leg in item.flight_detail or ()],
        attachment_url=item.attachment_url,
        image_size=item.image_size,
        direction=item.direction,
        region=item.region,
    )


def _segment(leg: FlightLeg) -> FlightSegment:
    return FlightSegment(
        departure=leg.from_,
        arrival=leg.to,
        date=leg.date,
        time=parse_hhmm(leg.time),
        seat=leg.seat,
        flight_class=leg.flight_class,
        class_name=leg.class_name,
        flight_number=leg.flight_number,
    )


def _line(line: CheckDetailLine) -> LineItem:
    return LineItem(
        name=line.name,
        specification=line.specification,
        unit=line.unit,
        quantity=line.quantity,
        unit_price=line.price,
        amount=line.amount,
        tax_rate=line.tax_rate,
        tax_amount=line.tax_amount,
        total_amount=line.total_amount,
    )


def check_from_receipt_check(
    check: ReceiptCheck, *, default_type: InvoiceType | None = None
) -> CheckResult:
    """``receipt_check`` as a canonical check result.

    ``receipt_check.invoice_type`` is optional in 001; without it the invoice is taken
    to be of ``default_type`` (the recognized invoice's type), and without both the
    type is unknown.
    """
    if check.invoice_type is not None:
        invoice_type = from_platform_code(check.invoice_type)
    elif default_type is not None:
        invoice_type = default_type
    else:
        raise UnknownTypeCode(Vocabulary.PLATFORM, None)
    cancelled = check.cancellation_mark == "Y"
    return CheckResult(
        success=check.result == 1,
        error=check.error,
        message=check.message,
        checked_at=parse_datetime(check.check_date),
        invoice=Invoice(
            invoice_type=invoice_type,
            invoice_code=check.invoice_code,
            invoice_number=check.invoice_num,
            receipt_date=parse_date(check.receipt_date),
            check_code=check.check_code,
            total_amount=check.total_amount,
            amount=check.amount,
            tax_amount=check.tax_amount,
            remark=check.remark,
            buyer_name=check.buyer_name,
            buyer_tax_code=check.buyer_tax_code,
            buyer_address_phone=check.buyer_address_phone,
            buyer_account=check.buyer_account,
            seller_name=check.seller_name,
            seller_tax_code=check.seller_tax_code,
            seller_address_phone=check.seller_address_phone,
            seller_account=check.seller_account,
            items=[_line(line) for line in check.detail_list or ()],
        ),
        cancelled=cancelled,
        # 作废 is the one state 001 can say; the finer states come from exocr (003).
        state=InvoiceState.VOID if cancelled else InvoiceState.NORMAL,
        repeat_flag=check.repeat_flag,
    )


def invoices_from_create_request(request: CreateRequest) -> list[Invoice]:
    """Every element of ``receipt_ocr.invoices`` (001 accepts one; ``fapiao.rules``
    says so when there are more or none)."""
    return [invoice_from_ocr_invoice(item) for item in request.receipt_ocr.invoices]


def invoice_from_create_request(request: CreateRequest) -> tuple[Invoice, CheckResult | None]:
    """The request's invoice and check result, for a request that holds one invoice.

    Call it once the one-invoice rule has passed; with no invoice at all it raises
    ``ValueError``, with several it maps the first.
    """
    if not request.receipt_ocr.invoices:
        raise ValueError("receipt_ocr.invoices is empty")
    invoice = invoice_from_ocr_invoice(request.receipt_ocr.invoices[0])
    check = None
    if request.receipt_check is not None:
        check = check_from_receipt_check(request.receipt_check, default_type=invoice.invoice_type)
    return invoice, check


# --- out of the canonical model -----------------------------------------------------


def to_ocr_invoice(invoice: Invoice) -> OcrInvoice:
    """A canonical invoice as an element of ``receipt_ocr.invoices``.

    001 requires ``attachment_url`` and ``total_amount``: an invoice without them
    cannot be written (pydantic's ``ValidationError``).
    """
    return OcrInvoice.model_validate(
        {
            "image_size": invoice.image_size,
            "attachment_url": invoice.attachment_url,
            "invoice_type": to_platform_code(invoice.invoice_type),
            "direction": invoice.direction,
            "region": invoice.region,
            "invoice_code": invoice.invoice_code,
            "amount": invoice.amount,
            "tax_amount": invoice.tax_amount,
            "total_amount": invoice.total_amount,
            "subtotal_amount": invoice.subtotal_amount,
            "highway_flag": yes_no_from_flag(invoice.highway_flag),
            "tax_rate": invoice.tax_rate,
            "invoice_number": invoice.invoice_number,
            "receipt_date": _yyyymmdd(invoice),
            "remark": invoice.remark,
            "title": invoice.title,
            "check_code": invoice.check_code,
            "agent_mark": invoice.agent_mark,
            "buyer_name": invoice.buyer_name,
            "buyer_tax_code": invoice.buyer_tax_code,
            "seller_name": invoice.seller_name,
            "seller_tax_code": invoice.seller_tax_code,
            "currency": invoice.currency,
            "purchase_invoice": yes_no_from_flag(invoice.purchase_invoice),
            "buyer_bank": invoice.buyer_account,
            "other_info": invoice.other_info,
            "start_time": invoice.start_time,
            "end_time": invoice.end_time,
            "mileage": invoice.mileage,
            "destination_city": invoice.destination_city,
            "destination_city_to": invoice.destination_city_to,
            "train_class": invoice.train_class,
            "train_number": invoice.train_number,
            "start_datetime": invoice.start_datetime,
            "name": invoice.passenger_name,
            "id_card": invoice.id_card,
            "fare": invoice.fare,
            "fuel_surcharge": invoice.fuel_surcharge,
            "civil_avn_dev_fund": invoice.civil_avn_dev_fund,
            "other_taxes": invoice.other_taxes,
            "insurance": invoice.insurance,
            "international_flag": invoice.international_flag,
            "error_num_flag": invoice.error_num_flag,
            "flight_detail": [_leg(s) for s in invoice.flight_detail] or None,
            "company_seal": yes_no_from_flag(invoice.company_seal),
        }
    )


def _yyyymmdd(invoice: Invoice) -> str | None:
    return None if invoice.receipt_date is None else to_yyyymmdd(invoice.receipt_date)


def _leg(segment: FlightSegment) -> FlightLeg:
    return FlightLeg.model_validate(
        {
            "from": segment.departure,
            "to": segment.arrival,
            "time": segment.time,
            "date": segment.date,
            "seat": segment.seat,
            "flight_class": segment.flight_class,
            "class_name": segment.class_name,
            "flight_number": segment.flight_number,
        }
    )


def _detail_lines(items: Iterable[LineItem]) -> list[CheckDetailLine]:
    return [
        CheckDetailLine(
            name=item.name,
            specification=item.specification,
            unit=item.unit,
            total_amount=item.total_amount,
            amount=item.amount,
            tax_amount=item.tax_amount,
            price=item.unit_price,
            quantity=item.quantity,
            tax_rate=item.tax_rate,
        )
        for item in items
    ]


def to_receipt_check(check: CheckResult) -> ReceiptCheck:
    """A canonical check result as 001 ``receipt_check``.

    Dates are written as instants: ``receipt_date`` is midnight Asia/Shanghai of the
    invoice date ("2022-06-26T16:00:00.000Z" for 2022-06-27), which reads back as the
    same date; 001's example writes midnight UTC, which reads back the same too.
    """
    printed = check.invoice
    return ReceiptCheck(
        result=1 if check.success else 0,
        error=check.error,
        message=check.message,
        check_date=None if check.checked_at is None else to_iso_utc(check.checked_at),
        invoice_type=to_platform_code(printed.invoice_type),
        invoice_code=printed.invoice_code,
        invoice_num=printed.invoice_number,
        receipt_date=(
            None if printed.receipt_date is None else date_to_utc_midnight_iso(printed.receipt_date)
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
        repeat_flag=check.repeat_flag,
        detail_list=_detail_lines(printed.items),
    )


def to_create_request(
    *,
    biz_id: str,
    timestamp: int,
    user_code: str,
    invoice: Invoice,
    check: CheckResult | None = None,
) -> CreateRequest:
    """A whole 001 request for one invoice (what a client of the hub sends)."""
    return CreateRequest(
        biz_id=biz_id,
        timestamp=timestamp,
        user_code=user_code,
        receipt_ocr=ReceiptOcr(result=1, invoices=[to_ocr_invoice(invoice)]),
        receipt_check=None if check is None else to_receipt_check(check),
    )


# --- to and from the create_invoice use case ------------------------------------------


def create_command_from_request(request: CreateRequest) -> CreateCommand:
    """The use case's command: every invoice of the request (the rules count them)."""
    invoices = invoices_from_create_request(request)
    check = None
    if request.receipt_check is not None:
        default_type = invoices[0].invoice_type if invoices else None
        check = check_from_receipt_check(request.receipt_check, default_type=default_type)
    return CreateCommand(
        biz_id=request.biz_id,
        user_code=request.user_code,
        recognition_result=request.receipt_ocr.result,
        invoices=invoices,
        check=check,
    )


def to_create_response(biz_id: str, outcome: CreateOutcome) -> CreateResponse:
    """001's answer: resCode 200000 whenever the request was accepted, the invoice's own
    outcome (status, message, code) in ``data``."""
    code = outcome.message_code
    return CreateResponse(
        res_code=200000,
        res_msg="success",
        biz_id=biz_id,
        data=ExpenseResult(
            expense_id=outcome.expense_id,
            invoice_message=outcome.message,
            invoice_message_code=None if code is None else int(code),
            invoice_status=outcome.status,
        ),
    )
