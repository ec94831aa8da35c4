"""Spec 003 (exocr verify_invoice) to and from the canonical model.

Calling exocr: ``to_verify_request`` builds the form, ``parse_verify_response`` reads
its JSON tolerantly (fields 003 does not name are dropped, see
``fapiao.mapping.tolerant``), ``check_from_exocr`` turns the answer into a check result.
Serving exocr's shape on the hub's own verify endpoint:
``invoice_from_verify_request`` reads the form, ``to_exocr_response`` writes the answer.

Amounts in exocr's VAT answer: ``total`` is the pre-tax sum (合计金额), ``total_tax``
the tax, ``amount`` the total with tax (价税合计). Tax rates are percent ("9" is 9 %);
the canonical rate is a fraction (0.09). Money is ``Decimal`` from the wire's text,
never float.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from fapiao.catalogue.errors import CatalogueEntry, Family, UnknownErrorCode, by_code
from fapiao.catalogue.types import (
    ExocrTotal,
    InvoiceType,
    TypeNotInVocabulary,
    Vocabulary,
    decode,
    from_exocr_response_code,
    to_exocr_request_code,
    to_exocr_response_code,
)
from fapiao.dates import SHANGHAI, parse_date, parse_datetime, to_yyyymmdd
from fapiao.jsontext import WireError
from fapiao.mapping.text import (
    InvalidAmountError,
    blank_if_none,
    hhmm_or_text,
    iso_date_or_text,
    money_text,
    number_text,
    percent_text,
    wire_decimal,
    wire_rate,
    wire_text,
)
from fapiao.mapping.tolerant import prune, prune_items
from fapiao.model import CheckResult, FlightSegment, Invoice, InvoiceState, LineItem
from fapiao.wire.exocr import (
    FlightDetail,
    FlightItineraryData,
    MotorVehicleData,
    RailTicketData,
    RollData,
    RollItem,
    TollData,
    TollItem,
    UsedCarData,
    VatData,
    VatItem,
    VerifyData,
    VerifyRequest,
    VerifyResponse,
    VerifyResult,
    verify_data_kind,
)

__all__ = [
    "IncompleteInvoiceError",
    "InvalidAmountError",
    "MissingCheckDataError",
    "UnknownInvoiceStateError",
    "check_from_exocr",
    "invoice_from_verify_request",
    "parse_verify_response",
    "to_exocr_response",
    "to_verify_request",
]


class IncompleteInvoiceError(ValueError):
    """The invoice lacks a field that exocr needs to verify it."""

    def __init__(self, invoice_type: InvoiceType, field: str) -> None:
        super().__init__(f"{invoice_type.name} needs {field} to be verified by exocr")
        self.field = field


class UnknownInvoiceStateError(ValueError):
    """An ``inv_status`` outside 003's list (0, 10, 20, 30, 40, 50)."""

    def __init__(self, value: str) -> None:
        super().__init__(f"unknown exocr inv_status: {value!r}")
        self.value = value


class MissingCheckDataError(ValueError):
    """exocr answered no invoice data and the caller gave no requested invoice."""


# 003 inv_status: 0 正常, 10 作废, 20 红票, 30 红冲, 40 部分红冲, 50 全额红冲.
_STATES: dict[str, InvoiceState] = {
    "0": InvoiceState.NORMAL,
    "10": InvoiceState.VOID,
    "20": InvoiceState.RED_LETTER,
    "30": InvoiceState.RED_REVERSED,
    "40": InvoiceState.PARTLY_RED_REVERSED,
    "50": InvoiceState.FULLY_RED_REVERSED,
}
_STATUS_CODES: dict[InvoiceState, str] = {state: code for code, state in _STATES.items()}

_VERIFIED = 1
_MISMATCH = 6  # 查验成功发票不一致: the tax authority's data comes back with it
_OPERATION_ERROR = 8  # what a failure without an exocr code is reported as

# 003 lists no response type code for the 数电 rail and flight tickets; their data
# schema says which they are. The hub answers them with 110 (电子发票(普通发票)), the
# family they belong to. TODO(catalogue): move to catalogue/types.py if exocr names codes.
_SCHEMA_TYPES: dict[type[VerifyData], InvoiceType] = {
    RailTicketData: InvoiceType.DIGITAL_RAIL,
    FlightItineraryData: InvoiceType.DIGITAL_FLIGHT,
}
_RESPONSE_CODE_FALLBACK: dict[InvoiceType, str] = {
    InvoiceType.DIGITAL_RAIL: "110",
    InvoiceType.DIGITAL_FLIGHT: "110",
}

_TAX_CODE = re.compile(r"[0-9A-Za-z]{15,20}")


# --- calling exocr ----------------------------------------------------------------


def to_verify_request(
    invoice: Invoice, app_key: str, app_secret: str, *, want_image: bool = False
) -> VerifyRequest:
    """The 003 form that asks exocr to verify ``invoice``.

    Raises ``TypeNotInVocabulary`` for a type exocr cannot verify and
    ``IncompleteInvoiceError`` when a field exocr needs for the type is missing.
    """
    invoice_type = invoice.invoice_type
    code = to_exocr_request_code(invoice_type)
    if not invoice.invoice_number:
        raise IncompleteInvoiceError(invoice_type, "invoice_number")
    if invoice.receipt_date is None:
        raise IncompleteInvoiceError(invoice_type, "receipt_date")
    return VerifyRequest(
        app_key=app_key,
        app_secret=app_secret,
        invoice_type=code,
        invoice_no=invoice.invoice_number,
        invoice_code=invoice.invoice_code or None,
        check_code_last6=_check_code_tail(invoice),
        total=_request_total(invoice),
        create_date=to_yyyymmdd(invoice.receipt_date),
        want_image=1 if want_image else None,
    )


def _request_total(invoice: Invoice) -> str | None:
    """003 ``total``: a different amount per type (``InvoiceType.exocr_total``)."""
    kind = invoice.invoice_type.exocr_total
    if kind is None:
        raise TypeNotInVocabulary(Vocabulary.EXOCR_REQUEST, invoice.invoice_type)
    if kind is ExocrTotal.NONE:
        return None  # 可不传
    # 02's 合计金额 is the pre-tax sum like the others; 15's 车价合计 is the total.
    pretax = kind in (ExocrTotal.PRETAX, ExocrTotal.SUM)
    field = "amount" if pretax else "total_amount"
    value = invoice.amount if pretax else invoice.total_amount
    if value is None:
        raise IncompleteInvoiceError(invoice.invoice_type, field)
    return money_text(value)


def _check_code_tail(invoice: Invoice) -> str | None:
    """Last six digits of the check code; a blockchain invoice sends five (003)."""
    code = (invoice.check_code or "").strip()
    if not code:
        return None
    return code[-5:] if invoice.invoice_type is InvoiceType.BLOCKCHAIN else code[-6:]


# --- reading exocr's answer ---------------------------------------------------------

_DATA_MODELS: dict[str, type[BaseModel]] = {
    model.kind: model
    for model in (
        VatData,
        RollData,
        MotorVehicleData,
        UsedCarData,
        TollData,
        RailTicketData,
        FlightItineraryData,
    )
}
_ITEM_MODELS: dict[type[BaseModel], type[BaseModel]] = {
    VatData: VatItem,
    RollData: RollItem,
    TollData: TollItem,
    FlightItineraryData: FlightDetail,
}


def parse_verify_response(payload: object) -> tuple[VerifyResponse, list[str]]:
    """exocr's answer as a ``VerifyResponse``, with fields 003 does not name dropped.

    Returns the model and the dotted names that were dropped. A ``result`` that is not
    an object (003 types it "string") is dropped too. Raises ``WireError`` for an answer
    that is not a JSON object and ``ValidationError`` when what remains is not 003 (no
    ``error_code``, a code that is not a number, ...).
    """
    if not isinstance(payload, Mapping):
        raise WireError(f"exocr answered a JSON {type(payload).__name__}, not an object")
    dropped: list[str] = []
    envelope = prune(payload, VerifyResponse, dropped, "")
    result = envelope.get("result")
    if result is not None and not isinstance(result, Mapping):
        dropped.append("result")
        envelope["result"] = None
    elif isinstance(result, Mapping):
        envelope["result"] = _pruned_result(result, dropped)
    return VerifyResponse.model_validate(envelope), dropped


def _pruned_result(result: Mapping[str, Any], dropped: list[str]) -> dict[str, Any]:
    kept = prune(result, VerifyResult, dropped, "result.")
    data = kept.get("data")
    if isinstance(data, Mapping):
        model = _DATA_MODELS[verify_data_kind(data)]
        data = prune(data, model, dropped, "result.data.")
        items = data.get("detail_list")
        item_model = _ITEM_MODELS.get(model)
        if isinstance(items, list) and item_model is not None:
            data["detail_list"] = prune_items(items, item_model, dropped, "result.data.detail_list")
        kept["data"] = data
    return kept


def check_from_exocr(response: VerifyResponse, requested: Invoice | None = None) -> CheckResult:
    """The canonical check result of an exocr answer, for every per-type schema.

    ``requested`` is the invoice that was sent: it stands in for the invoice when exocr
    answers no data (a failed call, an invoice that does not exist). ``success`` means
    the call worked (error_code 0) and the invoice verified (result_code 1).
    """
    result = response.result
    data = result.data if result is not None else None
    if response.error_code != 0:
        error: str | None = str(response.error_code)
        message = response.description
    elif result is None or result.result_code != _VERIFIED:
        code = result.result_code if result is not None else None
        error = str(code) if code is not None else None
        message = result.desc if result is not None else response.description
    else:
        error, message = None, result.desc
    success = error is None

    if data is not None and data.model_fields_set:
        invoice = _invoice_from_data(data, requested)
        cancelled = _flag(data.cancel_flag) is True
        status = data.inv_status if not isinstance(data, RollData) else None
        state = _state(status, cancelled)
        checked_at = parse_datetime(wire_text(data.verify_date))
        verify_count = _int(data.verify_count)
    elif requested is not None:
        invoice, cancelled, state = requested, False, InvoiceState.NORMAL
        checked_at, verify_count = None, None
    else:
        raise MissingCheckDataError(
            f"exocr answered no invoice data (error {error}) and no requested invoice was given"
        )
    return CheckResult(
        success=success,
        error=error,
        message=message,
        checked_at=checked_at,
        invoice=invoice,
        # 作废 is said twice (cancel_flag, inv_status 10); either one makes it void.
        cancelled=cancelled or state is InvoiceState.VOID,
        state=state,
        verify_count=verify_count,
    )


def _state(inv_status: str | None, cancelled: bool) -> InvoiceState:
    text = wire_text(inv_status)
    if text is None:
        # The roll schema has no inv_status; its cancel_flag is all there is.
        return InvoiceState.VOID if cancelled else InvoiceState.NORMAL
    key = str(int(text)) if text.isdigit() else text  # "00" is 0
    try:
        return _STATES[key]
    except KeyError:
        raise UnknownInvoiceStateError(text) from None


def _invoice_type(data: VerifyData, requested: Invoice | None) -> InvoiceType:
    for schema, invoice_type in _SCHEMA_TYPES.items():
        if isinstance(data, schema):
            return invoice_type
    code = wire_text(data.invoice_type)
    if code is None and requested is not None:
        return requested.invoice_type
    return from_exocr_response_code(code or "")  # UnknownTypeCode for "" too


def _invoice_from_data(data: VerifyData, requested: Invoice | None) -> Invoice:
    common: dict[str, Any] = {
        "invoice_type": _invoice_type(data, requested),
        "invoice_code": wire_text(data.invoice_code),
        "invoice_number": wire_text(data.invoice_no),
        "receipt_date": parse_date(wire_text(data.create_date)),
    }
    return _READERS[type(data)](data, common)


def _vat_invoice(data: VatData, common: dict[str, Any]) -> Invoice:
    return Invoice(
        **common,
        check_code=wire_text(data.check_code),
        amount=wire_decimal(data.total, "total"),
        tax_amount=wire_decimal(data.total_tax, "total_tax"),
        total_amount=wire_decimal(data.amount, "amount"),
        buyer_name=wire_text(data.buyer_name),
        buyer_tax_code=wire_text(data.buyer_tax_no),
        buyer_address_phone=wire_text(data.buyer_address),
        buyer_account=wire_text(data.buyer_bank_info),
        seller_name=wire_text(data.seller_name),
        seller_tax_code=wire_text(data.seller_tax_no),
        seller_address_phone=wire_text(data.seller_address),
        seller_account=wire_text(data.seller_bank_info),
        remark=wire_text(data.note),
        machine_number=wire_text(data.machine_no),
        agent_mark=wire_text(data.agent_mark),
        items=[_vat_item(item) for item in data.detail_list or []],
    )


def _roll_invoice(data: RollData, common: dict[str, Any]) -> Invoice:
    return Invoice(
        **common,
        check_code=wire_text(data.check_code),
        amount=wire_decimal(data.total, "total"),
        tax_amount=wire_decimal(data.total_tax, "total_tax"),
        total_amount=wire_decimal(data.amount, "amount"),
        buyer_name=wire_text(data.buyer_name),
        buyer_tax_code=wire_text(data.buyer_tax_no),
        seller_name=wire_text(data.seller_name),
        seller_tax_code=wire_text(data.seller_tax_no),
        remark=wire_text(data.note),
        machine_number=wire_text(data.machine_no),
        agent_mark=wire_text(data.agent_mark),
        items=[_roll_item(item) for item in data.detail_list or []],
    )


def _motor_vehicle_invoice(data: MotorVehicleData, common: dict[str, Any]) -> Invoice:
    # By the spec's descriptions: the seller is tounit_name (seller_name is the
    # vehicle type) and note is the VIN, so it is not the remark.
    return Invoice(
        **common,
        amount=wire_decimal(data.total, "total"),
        tax_amount=wire_decimal(data.zztax, "zztax"),
        tax_rate=wire_rate(data.zztax_rate),
        total_amount=wire_decimal(data.amount, "amount"),
        buyer_name=wire_text(data.buyer_tax_name),
        buyer_tax_code=wire_text(data.buyer_tax_no) or wire_text(data.buyer_id),
        seller_name=wire_text(data.tounit_name),
        seller_tax_code=wire_text(data.seller_tax_no),
        seller_address_phone=_join(data.account, data.phone),
        seller_account=wire_text(data.receive_bank),
        machine_number=wire_text(data.chinese_key),
    )


def _used_car_invoice(data: UsedCarData, common: dict[str, Any]) -> Invoice:
    return Invoice(
        **common,
        total_amount=wire_decimal(data.total, "total"),  # 车价合计
        buyer_name=wire_text(data.buyer_tax_name),
        buyer_tax_code=wire_text(data.buyer_tax_no),
        buyer_address_phone=_join(data.buyer_tax_address, data.buyer_tax_phone),
        seller_name=wire_text(data.selier_name),
        seller_tax_code=wire_text(data.selier_id),
        seller_address_phone=_join(data.selier_tax_address, data.selier_tax_phone),
        remark=wire_text(data.remark),
        machine_number=wire_text(data.chinese_key),
    )


def _toll_invoice(data: TollData, common: dict[str, Any]) -> Invoice:
    return Invoice(
        **common,
        check_code=wire_text(data.check_code),
        amount=wire_decimal(data.total, "total"),
        tax_amount=wire_decimal(data.total_tax, "total_tax"),
        total_amount=wire_decimal(data.amount, "amount"),
        buyer_name=wire_text(data.buyer_name),
        buyer_tax_code=wire_text(data.buyer_tax_no),
        buyer_address_phone=wire_text(data.buyer_address),
        buyer_account=wire_text(data.buyer_bank_info),
        seller_name=wire_text(data.seller_name),
        seller_tax_code=wire_text(data.seller_tax_no),
        seller_address_phone=wire_text(data.seller_address),
        seller_account=wire_text(data.seller_bank_info),
        remark=wire_text(data.note),
        machine_number=wire_text(data.equio_no),
        highway_flag=_flag(data.txf_flag),
        items=[_toll_item(item) for item in data.detail_list or []],
    )


def _rail_invoice(data: RailTicketData, common: dict[str, Any]) -> Invoice:
    buyer_name, buyer_tax_code = _buyer_by_content(data.buyer_name, data.buyer_tax_no)
    return Invoice(
        **common,
        amount=wire_decimal(data.total, "total"),
        tax_amount=wire_decimal(data.total_tax, "total_tax"),
        total_amount=wire_decimal(data.amount, "amount"),  # 票价
        tax_rate=wire_rate(data.tax_rate),
        buyer_name=buyer_name,
        buyer_tax_code=buyer_tax_code,
        passenger_name=wire_text(data.name),
        id_card=wire_text(data.id_no),
        destination_city=wire_text(data.station_from),
        destination_city_to=wire_text(data.station_to),
        train_number=wire_text(data.train_no),
        train_class=wire_text(data.seat_class),
        start_datetime=hhmm_or_text(data.departure_time),
        remark=wire_text(data.remark),
    )


def _flight_invoice(data: FlightItineraryData, common: dict[str, Any]) -> Invoice:
    return Invoice(
        **common,
        tax_amount=wire_decimal(data.total_tax, "total_tax"),
        total_amount=wire_decimal(data.amount, "amount"),
        buyer_name=wire_text(data.buyer_name),
        buyer_tax_code=wire_text(data.buyer_tax_no),
        passenger_name=wire_text(data.name),
        id_card=wire_text(data.id_no),
        international_flag=_international_flag(data.domestic_or_intl),
        flight_detail=[_segment(detail) for detail in data.detail_list or []],
        remark=wire_text(data.remark),
    )


# Each per-type schema of 003's data and the function that reads it.
_READERS: dict[type[BaseModel], Callable[[Any, dict[str, Any]], Invoice]] = {
    VatData: _vat_invoice,
    RollData: _roll_invoice,
    MotorVehicleData: _motor_vehicle_invoice,
    UsedCarData: _used_car_invoice,
    TollData: _toll_invoice,
    RailTicketData: _rail_invoice,
    FlightItineraryData: _flight_invoice,
}


def _vat_item(item: VatItem) -> LineItem:
    amount = wire_decimal(item.amount, "detail_list.amount")
    tax = wire_decimal(item.tax, "detail_list.tax")
    return LineItem(
        name=wire_text(item.name),
        specification=wire_text(item.type),
        unit=wire_text(item.unit),
        quantity=wire_decimal(item.count, "detail_list.count"),
        unit_price=wire_decimal(item.unit_price, "detail_list.unit_price"),
        amount=amount,
        tax_rate=wire_rate(item.tax_rate),
        tax_amount=tax,
        total_amount=amount + tax if amount is not None and tax is not None else None,
    )


def _roll_item(item: RollItem) -> LineItem:
    # unit_prcie is tax-inclusive and LineItem.unit_price is not: it has no place.
    return LineItem(
        name=wire_text(item.item),
        quantity=wire_decimal(item.count, "detail_list.count"),
        total_amount=wire_decimal(item.amount, "detail_list.amount"),  # 含税金额
    )


def _toll_item(item: TollItem) -> LineItem:
    return LineItem(
        name=wire_text(item.name),
        specification=wire_text(item.type),
        amount=wire_decimal(item.total, "detail_list.total"),
        tax_rate=wire_rate(item.tax_rate),
        tax_amount=wire_decimal(item.tax, "detail_list.tax"),
    )


def _segment(detail: FlightDetail) -> FlightSegment:
    return FlightSegment(
        departure=wire_text(detail.from_),
        arrival=wire_text(detail.to),
        carrier=wire_text(detail.carrier),
        flight_number=wire_text(detail.flight_no),
        seat=wire_text(detail.seat_class),
        class_name=wire_text(detail.fare_basis),
        date=iso_date_or_text(detail.date),
        time=hhmm_or_text(detail.time),
    )


def _buyer_by_content(name: str | None, tax_no: str | None) -> tuple[str | None, str | None]:
    """003 describes the rail schema's buyer_name and buyer_tax_no the wrong way round.

    Read them by what they hold: a tax code is 15 to 20 letters and digits.
    """
    name, tax_no = wire_text(name), wire_text(tax_no)
    if name and _TAX_CODE.fullmatch(name) and not (tax_no and _TAX_CODE.fullmatch(tax_no)):
        return tax_no, name
    return name, tax_no


# --- serving exocr's shape --------------------------------------------------------


def invoice_from_verify_request(request: VerifyRequest) -> Invoice:
    """The invoice a 003 form asks about (the hub's own verify endpoint).

    Request code 16 covers every 数电 type and decodes to 电子发票(普通发票). Only the
    tail of the check code travels, so ``check_code`` stays empty: compare the tail
    with ``request.check_code_last6``.
    """
    invoice_type = decode(Vocabulary.EXOCR_REQUEST, request.invoice_type)
    total = wire_decimal(request.total, "total")
    pretax = invoice_type.exocr_total in (ExocrTotal.PRETAX, ExocrTotal.SUM)
    with_tax = invoice_type.exocr_total in (ExocrTotal.TOTAL_WITH_TAX, ExocrTotal.CAR_PRICE)
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(request.invoice_code),
        invoice_number=wire_text(request.invoice_no),
        receipt_date=parse_date(wire_text(request.create_date)),
        amount=total if pretax else None,
        total_amount=total if with_tax else None,
    )


def to_exocr_response(
    check: CheckResult,
    *,
    request_id: str | None = None,
    recognize_time: int | None = None,
    available_count: int | None = None,
    image_base64: str | None = None,
) -> VerifyResponse:
    """The 003 answer for ``check``, as the hub's own verify endpoint serves it.

    A failure whose ``error`` is an exocr call code of the error catalogue answers that
    ``error_code`` and no result; an exocr result code answers error_code 0 and that
    ``result_code``; any other failure is result_code 8 (发票查验操作异常).
    Data travels with result codes 1 and 6 (verified, or verified but different).
    """
    request_id = request_id or uuid.uuid4().hex.upper()
    error = (check.error or "").strip()
    call_error = None if check.success else _entry(Family.EXOCR, error)
    if call_error is not None and call_error.code != "0":
        return VerifyResponse(
            result=None,
            error_code=int(call_error.code),
            description=check.message or call_error.message,
            request_id=request_id,
            recognize_time=recognize_time,
            available_count=available_count,
            version=None,
        )
    if check.success:
        result = by_code(Family.EXOCR_RESULT, _VERIFIED)
    else:
        known = _entry(Family.EXOCR_RESULT, error)
        verified = known is not None and known.code == str(_VERIFIED)
        result = (
            by_code(Family.EXOCR_RESULT, _OPERATION_ERROR) if known is None or verified else known
        )
    result_code = int(result.code)
    with_data = result_code in (_VERIFIED, _MISMATCH)
    return VerifyResponse(
        result=VerifyResult(
            desc=check.message or result.message,
            data=_to_data(check) if with_data else None,
            image_base64=image_base64,
            result_code=result_code,
        ),
        error_code=0,
        description=by_code(Family.EXOCR, 0).message,
        request_id=request_id,
        recognize_time=recognize_time,
        available_count=available_count,
        version=None,
    )


def _entry(family: Family, code: str) -> CatalogueEntry | None:
    """The catalogue row of an error code, if ``code`` is one of ``family``'s."""
    try:
        return by_code(family, code)
    except UnknownErrorCode:
        return None


def _response_code(invoice_type: InvoiceType) -> str:
    try:
        return to_exocr_response_code(invoice_type)
    except TypeNotInVocabulary:
        if invoice_type in _RESPONSE_CODE_FALLBACK:
            return _RESPONSE_CODE_FALLBACK[invoice_type]
        raise


def _to_data(check: CheckResult) -> VerifyData:
    invoice = check.invoice
    common: dict[str, Any] = {
        "invoice_code": blank_if_none(invoice.invoice_code),
        "invoice_no": blank_if_none(invoice.invoice_number),
        "invoice_type": _response_code(invoice.invoice_type),
        "verify_count": "" if check.verify_count is None else str(check.verify_count),
        "create_date": to_yyyymmdd(invoice.receipt_date) if invoice.receipt_date else "",
        "verify_date": (
            check.checked_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            if check.checked_at is not None
            else ""
        ),
        "cancel_flag": "Y" if check.cancelled else "N",
    }
    inv_status = _STATUS_CODES[check.state]
    write = _WRITERS.get(invoice.invoice_type, _vat_data)  # every other type: the VAT schema
    return write(invoice, common, inv_status)


def _roll_data(invoice: Invoice, common: dict[str, Any], inv_status: str) -> VerifyData:
    return RollData(
        **common,
        seller_name=blank_if_none(invoice.seller_name),
        seller_tax_no=blank_if_none(invoice.seller_tax_code),
        buyer_name=blank_if_none(invoice.buyer_name),
        buyer_tax_no=blank_if_none(invoice.buyer_tax_code),
        machine_no=blank_if_none(invoice.machine_number),
        total_tax=money_text(invoice.tax_amount),
        amount=money_text(invoice.total_amount),
        note=blank_if_none(invoice.remark),
        check_code=blank_if_none(invoice.check_code),
        total=money_text(invoice.amount),
        receiver="",
        productO_oil_flag="",
        detail_list=[
            RollItem(
                item=blank_if_none(item.name),
                count=number_text(item.quantity),
                unit_prcie="",
                amount=money_text(item.total_amount),
            )
            for item in invoice.items
        ],
        agent_mark=blank_if_none(invoice.agent_mark),
    )


def _motor_vehicle_data(invoice: Invoice, common: dict[str, Any], inv_status: str) -> VerifyData:
    return MotorVehicleData(
        **common,
        chinese_key=blank_if_none(invoice.machine_number),
        buyer_tax_name=blank_if_none(invoice.buyer_name),
        buyer_tax_no=blank_if_none(invoice.buyer_tax_code),
        total=money_text(invoice.amount),
        tounit_name=blank_if_none(invoice.seller_name),
        seller_tax_no=blank_if_none(invoice.seller_tax_code),
        account=blank_if_none(invoice.seller_address_phone),
        receive_bank=blank_if_none(invoice.seller_account),
        zztax_rate=percent_text(invoice.tax_rate),
        zztax=money_text(invoice.tax_amount),
        inv_status=inv_status,
        amount=money_text(invoice.total_amount),
    )


def _used_car_data(invoice: Invoice, common: dict[str, Any], inv_status: str) -> VerifyData:
    return UsedCarData(
        **common,
        chinese_key=blank_if_none(invoice.machine_number),
        buyer_tax_name=blank_if_none(invoice.buyer_name),
        buyer_tax_no=blank_if_none(invoice.buyer_tax_code),
        buyer_tax_address=blank_if_none(invoice.buyer_address_phone),
        total=money_text(invoice.total_amount),
        selier_name=blank_if_none(invoice.seller_name),
        selier_id=blank_if_none(invoice.seller_tax_code),
        selier_tax_address=blank_if_none(invoice.seller_address_phone),
        inv_status=inv_status,
        remark=blank_if_none(invoice.remark),
    )


def _toll_data(invoice: Invoice, common: dict[str, Any], inv_status: str) -> VerifyData:
    return TollData(
        **common,
        seller_name=blank_if_none(invoice.seller_name),
        seller_tax_no=blank_if_none(invoice.seller_tax_code),
        seller_address=blank_if_none(invoice.seller_address_phone),
        seller_bank_info=blank_if_none(invoice.seller_account),
        buyer_name=blank_if_none(invoice.buyer_name),
        buyer_tax_no=blank_if_none(invoice.buyer_tax_code),
        buyer_address=blank_if_none(invoice.buyer_address_phone),
        buyer_bank_info=blank_if_none(invoice.buyer_account),
        check_code=blank_if_none(invoice.check_code),
        total_tax=money_text(invoice.tax_amount),
        amount=money_text(invoice.total_amount),
        note=blank_if_none(invoice.remark),
        equio_no=blank_if_none(invoice.machine_number),
        total=money_text(invoice.amount),
        txf_flag=_yes_no(invoice.highway_flag),
        detail_list=[
            TollItem(
                name=blank_if_none(item.name),
                type=blank_if_none(item.specification),
                total=money_text(item.amount),
                tax_rate=percent_text(item.tax_rate),
                tax=money_text(item.tax_amount),
            )
            for item in invoice.items
        ],
        inv_status=inv_status,
    )


def _rail_data(invoice: Invoice, common: dict[str, Any], inv_status: str) -> VerifyData:
    return RailTicketData(
        **common,
        buyer_name=blank_if_none(invoice.buyer_name),
        buyer_tax_no=blank_if_none(invoice.buyer_tax_code),
        name=blank_if_none(invoice.passenger_name),
        id_no=blank_if_none(invoice.id_card),
        total=money_text(invoice.amount),
        total_tax=money_text(invoice.tax_amount),
        amount=money_text(invoice.total_amount),
        tax_rate=percent_text(invoice.tax_rate),
        station_from=blank_if_none(invoice.destination_city),
        station_to=blank_if_none(invoice.destination_city_to),
        train_no=blank_if_none(invoice.train_number),
        departure_time=blank_if_none(invoice.start_datetime),
        seat_class=blank_if_none(invoice.train_class),
        inv_status=inv_status,
        remark=blank_if_none(invoice.remark),
    )


def _flight_data(invoice: Invoice, common: dict[str, Any], inv_status: str) -> VerifyData:
    return FlightItineraryData(
        **common,
        buyer_name=blank_if_none(invoice.buyer_name),
        buyer_tax_no=blank_if_none(invoice.buyer_tax_code),
        name=blank_if_none(invoice.passenger_name),
        id_no=blank_if_none(invoice.id_card),
        total_tax=money_text(invoice.tax_amount),
        amount=money_text(invoice.total_amount),
        domestic_or_intl=blank_if_none(invoice.international_flag),
        detail_list=[
            FlightDetail(
                invoice_detail_number=str(index),
                from_=blank_if_none(segment.departure),
                to=blank_if_none(segment.arrival),
                carrier=blank_if_none(segment.carrier),
                flight_no=blank_if_none(segment.flight_number),
                seat_class=blank_if_none(segment.seat),
                date=blank_if_none(segment.date),
                time=blank_if_none(segment.time),
                fare_basis=blank_if_none(segment.class_name),
            )
            for index, segment in enumerate(invoice.flight_detail, start=1)
        ],
        inv_status=inv_status,
        remark=blank_if_none(invoice.remark),
    )


def _vat_data(invoice: Invoice, common: dict[str, Any], inv_status: str) -> VerifyData:
    return VatData(
        **common,
        buyer_name=blank_if_none(invoice.buyer_name),
        buyer_tax_no=blank_if_none(invoice.buyer_tax_code),
        buyer_address=blank_if_none(invoice.buyer_address_phone),
        buyer_bank_info=blank_if_none(invoice.buyer_account),
        seller_name=blank_if_none(invoice.seller_name),
        seller_tax_no=blank_if_none(invoice.seller_tax_code),
        seller_address=blank_if_none(invoice.seller_address_phone),
        seller_bank_info=blank_if_none(invoice.seller_account),
        total=money_text(invoice.amount),
        total_tax=money_text(invoice.tax_amount),
        amount=money_text(invoice.total_amount),
        note=blank_if_none(invoice.remark),
        machine_no=blank_if_none(invoice.machine_number),
        check_code=blank_if_none(invoice.check_code),
        inv_status=inv_status,
        productO_oil_flag="",  # the canonical invoice does not know it
        detail_list=[
            VatItem(
                name=blank_if_none(item.name),
                type=blank_if_none(item.specification),
                unit=blank_if_none(item.unit),
                count=number_text(item.quantity),
                unit_price=number_text(item.unit_price),
                amount=money_text(item.amount),
                tax_rate=percent_text(item.tax_rate),
                tax=money_text(item.tax_amount),
            )
            for item in invoice.items
        ],
        agent_mark=blank_if_none(invoice.agent_mark),
    )


# The types with a schema of their own in 003's data; every other type is written as VAT.
_WRITERS: dict[InvoiceType, Callable[[Invoice, dict[str, Any], str], VerifyData]] = {
    InvoiceType.VAT_ROLL: _roll_data,
    InvoiceType.MOTOR_VEHICLE: _motor_vehicle_data,
    InvoiceType.USED_CAR: _used_car_data,
    InvoiceType.VAT_ELECTRONIC_TOLL: _toll_data,
    InvoiceType.DIGITAL_RAIL: _rail_data,
    InvoiceType.DIGITAL_FLIGHT: _flight_data,
}


# --- values -----------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    text = wire_text(value)
    return int(text) if text is not None and text.isdigit() else None


def _flag(value: str | None) -> bool | None:
    text = (wire_text(value) or "").upper()
    return {"Y": True, "N": False}.get(text)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


def _join(*parts: str | None) -> str | None:
    """003 splits address and phone where the canonical model holds them together."""
    return " ".join(text for part in parts if (text := wire_text(part))) or None


def _international_flag(value: str | None) -> str | None:
    """D domestic, I international (001); exocr's wording is not documented."""
    text = wire_text(value)
    if text is None:
        return None
    if "国际" in text or text.upper() in ("I", "(I)"):
        return "I"
    if "国内" in text or text.upper() in ("D", "(D)"):
        return "D"
    return text
