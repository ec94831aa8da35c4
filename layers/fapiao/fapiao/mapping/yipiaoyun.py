"""Spec 004 (yipiaoyun identify) result data to and from the canonical model.

``parse_send_response`` and ``parse_result_response`` read yipiaoyun's JSON tolerantly
(fields 004 does not name are dropped, see ``fapiao.mapping.tolerant``; an empty
``data`` is a recognition in progress); ``invoice_from_identify_result`` reads what
yipiaoyun recognized; ``to_identify_result`` writes the hub's own identify answer.
Dates travel as "2019年07月06日", amounts as strings ("23.30") read into ``Decimal``;
``companySeal`` "1"/"0" is a bool.

Decisions where 004 is silent or contradicts itself:

- A 6001 payload in the machine-printed shape (see ``fapiao.wire.yipiaoyun``) is a
  machine-printed invoice, answered back as 4000; a 6001 in the table's shape is a 完税
  证明.
- The VAT example's ``amountWithTax`` and the motor-vehicle example's ``sellerTaxNo``
  are read when the table's ``totalAmount`` / ``sellerNumber`` are absent; the hub
  writes the table's names. (``machineNumber``, like ``machineNo``, has no canonical
  field.)
- A flight itinerary's ``taxAmount`` (税费) is its other taxes, not VAT.
- ``itemNames`` (comma-separated) becomes one line item per name.
- Fields with no place in the canonical invoice (province, city, payee, trip lists …)
  are not kept; the hub answers them empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from fapiao.catalogue.types import InvoiceType, from_yipiaoyun_code, to_yipiaoyun_code
from fapiao.dates import InvalidDate, parse_date, to_chinese_date
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
from fapiao.mapping.tolerant import prune, prune_items, wire_names
from fapiao.model import FlightSegment, Invoice, LineItem
from fapiao.wire.yipiaoyun import (
    BusResult,
    FlightInfo,
    FlightItineraryResult,
    IdentifyResultData,
    MachinePrintedResult,
    MotorVehicleResult,
    OtherResult,
    QuotaResult,
    ReceiptResult,
    ResultResponse,
    RideHailingResult,
    RollResult,
    SendResponse,
    TaxCertificateResult,
    TaxiResult,
    TollResult,
    TrainResult,
    TripInfo,
    UsedCarResult,
    VatResult,
    result_data_kind,
)

__all__ = [
    "RECOGNIZING",
    "InvalidAmountError",
    "invoice_from_identify_result",
    "parse_result_response",
    "parse_send_response",
    "to_identify_result",
]


_VAT_TYPES = (InvoiceType.VAT_SPECIAL, InvoiceType.VAT_NORMAL, InvoiceType.VAT_ELECTRONIC_NORMAL)


# --- reading yipiaoyun's answers ------------------------------------------------------

RECOGNIZING = "识别中"  # in a message or as data: the recognition is still in progress

_RESULT_MODELS: dict[str, type[BaseModel]] = {
    model.kind: model
    for model in (
        VatResult,
        TaxiResult,
        TrainResult,
        MachinePrintedResult,
        RollResult,
        QuotaResult,
        TollResult,
        BusResult,
        FlightItineraryResult,
        UsedCarResult,
        MotorVehicleResult,
        ReceiptResult,
        TaxCertificateResult,
        RideHailingResult,
        OtherResult,
    )
}
_LIST_MODELS: dict[str, type[BaseModel]] = {"flightInfos": FlightInfo, "tripInfos": TripInfo}


def parse_send_response(payload: object) -> tuple[SendResponse, list[str]]:
    """A sendByImageUrl / sendByImageFile answer, with fields 004 does not name dropped.

    An identify id sent as a JSON number is read as its text. Raises ``WireError`` or
    ``ValidationError`` when what remains is not 004.
    """
    dropped: list[str] = []
    envelope = _envelope(payload, SendResponse, dropped)
    data = envelope.get("data")
    if isinstance(data, int | Decimal) and not isinstance(data, bool):
        envelope["data"] = str(data)
    elif isinstance(data, str) and not data.strip():
        envelope["data"] = None
    return SendResponse.model_validate(envelope), dropped


def parse_result_response(payload: object) -> tuple[ResultResponse, list[str]]:
    """A result answer, with fields 004 does not name dropped (also inside ``data`` and
    its ``flightInfos`` / ``tripInfos``); an empty ``data`` (pending) is None.

    Raises ``WireError`` or ``ValidationError`` when what remains is not 004.
    """
    dropped: list[str] = []
    envelope = _envelope(payload, ResultResponse, dropped)
    data = envelope.get("data")
    if _is_empty(data):
        envelope["data"] = None
    elif isinstance(data, Mapping):
        envelope["data"] = _pruned_data(data, dropped)
    return ResultResponse.model_validate(envelope), dropped


def _envelope(payload: object, model: type[BaseModel], dropped: list[str]) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise WireError(f"yipiaoyun answered a JSON {type(payload).__name__}, not an object")
    envelope = prune(payload, model, dropped, "")
    message = envelope.get("message")
    if message is not None and not isinstance(message, str):
        envelope["message"] = str(message)
    return envelope


def _is_empty(data: object) -> bool:
    """004's "nothing yet": no data, an empty string, object or list, or 识别中 as data."""
    if data is None:
        return True
    if isinstance(data, str):
        return not data.strip() or RECOGNIZING in data
    return isinstance(data, Mapping | list) and not data


def _pruned_data(data: Mapping[str, Any], dropped: list[str]) -> dict[str, Any]:
    model = _RESULT_MODELS[result_data_kind(data)]
    kept = dict(data) if model is OtherResult else prune(data, model, dropped, "data.")
    for name, item_model in _LIST_MODELS.items():
        items = kept.get(name)
        if name in wire_names(model) and isinstance(items, list):
            kept[name] = prune_items(items, item_model, dropped, f"data.{name}")
    return kept


# --- 004 result data -> the canonical invoice -----------------------------------------


def invoice_from_identify_result(data: IdentifyResultData) -> Invoice:
    """The canonical invoice of one 004 result, for every type.

    Raises ``UnknownTypeCode`` for an ``invoiceType`` outside the catalogue and
    ``InvalidDate`` / ``InvalidAmountError`` for values that are not what they claim.
    """
    if isinstance(data, MachinePrintedResult):
        # Typed 4000 by the table and 6001 by the example: the shape decides.
        invoice_type = InvoiceType.MACHINE_PRINTED
    else:
        invoice_type = from_yipiaoyun_code(data.invoiceType)
    return _READERS[type(data)](data, invoice_type)


def _vat_invoice(data: VatResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        amount=wire_decimal(data.amountWithoutTax, "amountWithoutTax"),
        tax_amount=wire_decimal(data.taxAmount, "taxAmount"),
        # the table's totalAmount, else the example's amountWithTax
        total_amount=wire_decimal(wire_text(data.totalAmount) or data.amountWithTax, "totalAmount"),
        check_code=wire_text(data.checkCode),
        buyer_name=wire_text(data.purchaserName),
        buyer_tax_code=wire_text(data.purchaserTaxNo),
        seller_name=wire_text(data.sellerName),
        seller_tax_code=wire_text(data.sellerTaxNo),
        company_seal=_seal(data.companySeal),
        remark=wire_text(data.remark),
        items=_items(data.itemNames),
    )


def _roll_invoice(data: RollResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        check_code=wire_text(data.checkCode),
        buyer_name=wire_text(data.purchaserName),
        buyer_tax_code=wire_text(data.purchaserTaxNo),
        seller_name=wire_text(data.sellerName),
        seller_tax_code=wire_text(data.sellerTaxNo),
        company_seal=_seal(data.companySeal),
        items=_items(data.itemNames),
    )


def _machine_printed_invoice(data: MachinePrintedResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        check_code=wire_text(data.checkCode),
        buyer_name=wire_text(data.purchaserName),
        buyer_tax_code=wire_text(data.purchaserTaxNo),
        seller_name=wire_text(data.sellerName),
        seller_tax_code=wire_text(data.sellerTaxNo),
        company_seal=_seal(data.companySeal),
    )


def _quota_invoice(data: QuotaResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        company_seal=_seal(data.companySeal),
    )


def _taxi_invoice(data: TaxiResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        start_time=hhmm_or_text(data.timeGetOn),
        end_time=hhmm_or_text(data.timeGetOff),
        mileage=wire_decimal(data.mileage, "mileage"),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
    )


def _train_invoice(data: TrainResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        start_datetime=hhmm_or_text(data.time),
        destination_city=wire_text(data.stationGetOn),
        destination_city_to=wire_text(data.stationGetOff),
        train_number=wire_text(data.trainNumber),
        train_class=wire_text(data.seat),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        id_card=wire_text(data.idNumber),
    )


def _bus_invoice(data: BusResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        start_time=hhmm_or_text(data.time),
        destination_city=wire_text(data.stationGetOn),
        destination_city_to=wire_text(data.stationGetOff),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        passenger_name=wire_text(data.name),
    )


def _toll_invoice(data: TollResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        start_time=hhmm_or_text(data.time),
        destination_city=wire_text(data.entrance),
        destination_city_to=wire_text(data.exit),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
    )


def _flight_itinerary_invoice(data: FlightItineraryResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_number=wire_text(data.invoiceNo),
        check_code=wire_text(data.checkCode),
        receipt_date=_date(data.date),
        passenger_name=wire_text(data.name),
        id_card=wire_text(data.idNumber),
        seller_name=wire_text(data.issueUnit),  # 填开单位
        fare=wire_decimal(data.fareAmount, "fareAmount"),
        other_taxes=wire_decimal(data.taxAmount, "taxAmount"),
        fuel_surcharge=wire_decimal(data.fuelSurcharge, "fuelSurcharge"),
        civil_avn_dev_fund=wire_decimal(data.caacDevelopmentFund, "caacDevelopmentFund"),
        insurance=wire_decimal(data.insuranceAmount, "insuranceAmount"),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        international_flag=_international_flag(data.internationalFlag),
        flight_detail=[_segment(info) for info in data.flightInfos or []],
    )


def _used_car_invoice(data: UsedCarResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        seller_name=wire_text(data.sellerName),
        seller_tax_code=wire_text(data.sellerNumber),
        buyer_name=wire_text(data.purchaserName),
        buyer_tax_code=wire_text(data.purchaserNumber),
    )


def _motor_vehicle_invoice(data: MotorVehicleResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(data.invoiceCode),
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        amount=wire_decimal(data.amountWithoutTax, "amountWithoutTax"),
        tax_amount=wire_decimal(data.taxAmount, "taxAmount"),
        tax_rate=wire_rate(data.taxRate),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        seller_name=wire_text(data.sellerName),
        seller_tax_code=wire_text(data.sellerNumber) or wire_text(data.sellerTaxNo),
        buyer_name=wire_text(data.purchaserName),
        buyer_tax_code=wire_text(data.purchaserNumber),
    )


def _receipt_invoice(data: ReceiptResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        receipt_date=_date(data.date),
        amount=wire_decimal(data.amountWithoutTax, "amountWithoutTax"),
        tax_amount=wire_decimal(data.taxAmount, "taxAmount"),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        seller_name=wire_text(data.storeName),
        currency=wire_text(data.currencyCode),
    )


def _tax_certificate_invoice(data: TaxCertificateResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        invoice_number=wire_text(data.invoiceNo),
        receipt_date=_date(data.date),
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
        buyer_name=wire_text(data.purchaserName),
        buyer_tax_code=wire_text(data.purchaserTaxNo),
    )


def _ride_hailing_invoice(data: RideHailingResult, invoice_type: InvoiceType) -> Invoice:
    return Invoice(
        invoice_type=invoice_type,
        receipt_date=_date(data.date),  # 申请日期
        total_amount=wire_decimal(data.totalAmount, "totalAmount"),
    )


def _other_invoice(data: OtherResult, invoice_type: InvoiceType) -> Invoice:
    # No table in 004: keep the fields every table shares, if they came.
    extra: dict[str, Any] = data.model_extra or {}
    return Invoice(
        invoice_type=invoice_type,
        invoice_code=wire_text(_str(extra.get("invoiceCode"))),
        invoice_number=wire_text(_str(extra.get("invoiceNo"))),
        receipt_date=_date(_str(extra.get("date"))),
        total_amount=wire_decimal(_str(extra.get("totalAmount")), "totalAmount"),
    )


# Each per-type table of 004 and the function that reads it.
_READERS: dict[type[BaseModel], Callable[[Any, InvoiceType], Invoice]] = {
    VatResult: _vat_invoice,
    RollResult: _roll_invoice,
    MachinePrintedResult: _machine_printed_invoice,
    QuotaResult: _quota_invoice,
    TaxiResult: _taxi_invoice,
    TrainResult: _train_invoice,
    BusResult: _bus_invoice,
    TollResult: _toll_invoice,
    FlightItineraryResult: _flight_itinerary_invoice,
    UsedCarResult: _used_car_invoice,
    MotorVehicleResult: _motor_vehicle_invoice,
    ReceiptResult: _receipt_invoice,
    TaxCertificateResult: _tax_certificate_invoice,
    RideHailingResult: _ride_hailing_invoice,
    OtherResult: _other_invoice,
}


def _segment(info: FlightInfo) -> FlightSegment:
    return FlightSegment(
        departure=wire_text(info.startPoint),
        arrival=wire_text(info.endPoint),
        flight_number=wire_text(info.flightNumber),
        date=iso_date_or_text(info.date),
        time=hhmm_or_text(info.time),
        seat=wire_text(info.seat),
        carrier=wire_text(info.carrier),
    )


def _items(item_names: str | None) -> list[LineItem]:
    """004 itemNames: 商品名称,每个以逗号隔开."""
    names = (wire_text(item_names) or "").replace(",", ",").split(",")
    return [LineItem(name=name.strip()) for name in names if name.strip()]


# --- the canonical invoice -> 004 result data (the hub's own identify API) ---------


def to_identify_result(invoice: Invoice) -> IdentifyResultData:
    """The 004 result data for ``invoice``, as the hub's own identify API answers it.

    Writes the table's field names and codes only, "" for what the invoice lacks (as
    004's examples do). Raises ``TypeNotInVocabulary`` for a type 004 has no code for.
    """
    invoice_type = invoice.invoice_type
    code = to_yipiaoyun_code(invoice_type)
    date = to_chinese_date(invoice.receipt_date) if invoice.receipt_date else ""
    write = _WRITERS.get(invoice_type, _other_result)  # 6000, 0000: no table of their own
    return write(invoice, code, date)


def _vat_result(invoice: Invoice, code: str, date: str) -> VatResult:
    return VatResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        amountWithoutTax=money_text(invoice.amount),
        taxAmount=money_text(invoice.tax_amount),
        totalAmount=money_text(invoice.total_amount),
        checkCode=blank_if_none(invoice.check_code),
        purchaserTaxNo=blank_if_none(invoice.buyer_tax_code),
        purchaserName=blank_if_none(invoice.buyer_name),
        sellerTaxNo=blank_if_none(invoice.seller_tax_code),
        sellerName=blank_if_none(invoice.seller_name),
        companySeal=_seal_out(invoice.company_seal),
        formType="",
        formName="",
        ciphertext="",
        payee="",
        reviewer="",
        ticketHolder="",
        province="",
        city="",
        remark=blank_if_none(invoice.remark),
        itemNames=_item_names(invoice),
    )


def _roll_result(invoice: Invoice, code: str, date: str) -> RollResult:
    return RollResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        checkCode=blank_if_none(invoice.check_code),
        purchaserTaxNo=blank_if_none(invoice.buyer_tax_code),
        purchaserName=blank_if_none(invoice.buyer_name),
        sellerTaxNo=blank_if_none(invoice.seller_tax_code),
        sellerName=blank_if_none(invoice.seller_name),
        category="",
        totalAmount=money_text(invoice.total_amount),
        province="",
        city="",
        companySeal=_seal_out(invoice.company_seal),
        serviceName="",
        itemNames=_item_names(invoice),
    )


def _machine_printed_result(invoice: Invoice, code: str, date: str) -> MachinePrintedResult:
    return MachinePrintedResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        time="",
        checkCode=blank_if_none(invoice.check_code),
        category="",
        totalAmount=money_text(invoice.total_amount),
        purchaserTaxNo=blank_if_none(invoice.buyer_tax_code),
        purchaserName=blank_if_none(invoice.buyer_name),
        sellerTaxNo=blank_if_none(invoice.seller_tax_code),
        sellerName=blank_if_none(invoice.seller_name),
        province="",
        city="",
        companySeal=_seal_out(invoice.company_seal),
    )


def _quota_result(invoice: Invoice, code: str, date: str) -> QuotaResult:
    return QuotaResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        totalAmount=money_text(invoice.total_amount),
        province="",
        city="",
        companySeal=_seal_out(invoice.company_seal),
    )


def _taxi_result(invoice: Invoice, code: str, date: str) -> TaxiResult:
    return TaxiResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        timeGetOn=blank_if_none(invoice.start_time),
        timeGetOff=blank_if_none(invoice.end_time),
        mileage=number_text(invoice.mileage),
        totalAmount=money_text(invoice.total_amount),
        place="",
        province="",
        city="",
    )


def _train_result(invoice: Invoice, code: str, date: str) -> TrainResult:
    return TrainResult(
        invoiceType=code,
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        time=blank_if_none(invoice.start_datetime),
        stationGetOn=blank_if_none(invoice.destination_city),
        stationGetOff=blank_if_none(invoice.destination_city_to),
        trainNumber=blank_if_none(invoice.train_number),
        seat=blank_if_none(invoice.train_class),
        totalAmount=money_text(invoice.total_amount),
        serialNumber="",
        idNumber=blank_if_none(invoice.id_card),
    )


def _bus_result(invoice: Invoice, code: str, date: str) -> BusResult:
    return BusResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        time=blank_if_none(invoice.start_time),
        stationGetOn=blank_if_none(invoice.destination_city),
        stationGetOff=blank_if_none(invoice.destination_city_to),
        totalAmount=money_text(invoice.total_amount),
        name=blank_if_none(invoice.passenger_name),
    )


def _toll_result(invoice: Invoice, code: str, date: str) -> TollResult:
    return TollResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        time=blank_if_none(invoice.start_time),
        entrance=blank_if_none(invoice.destination_city),
        exit=blank_if_none(invoice.destination_city_to),
        totalAmount=money_text(invoice.total_amount),
    )


def _flight_itinerary_result(invoice: Invoice, code: str, date: str) -> FlightItineraryResult:
    return FlightItineraryResult(
        invoiceType=code,
        invoiceNo=blank_if_none(invoice.invoice_number),
        checkCode=blank_if_none(invoice.check_code),
        name=blank_if_none(invoice.passenger_name),
        idNumber=blank_if_none(invoice.id_card),
        date=date,
        agentCode="",
        issueUnit=blank_if_none(invoice.seller_name),
        fareAmount=money_text(invoice.fare),
        taxAmount=money_text(invoice.other_taxes),
        fuelSurcharge=money_text(invoice.fuel_surcharge),
        caacDevelopmentFund=money_text(invoice.civil_avn_dev_fund),
        insuranceAmount=money_text(invoice.insurance),
        totalAmount=money_text(invoice.total_amount),
        internationalFlag=_international_flag_out(invoice.international_flag),
        flightInfos=[
            FlightInfo(
                startPoint=blank_if_none(segment.departure),
                endPoint=blank_if_none(segment.arrival),
                flightNumber=blank_if_none(segment.flight_number),
                date=_chinese_date_or_text(segment.date),
                time=blank_if_none(segment.time),
                seat=blank_if_none(segment.seat),
                carrier=blank_if_none(segment.carrier),
            )
            for segment in invoice.flight_detail
        ],
    )


def _used_car_result(invoice: Invoice, code: str, date: str) -> UsedCarResult:
    return UsedCarResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        totalAmount=money_text(invoice.total_amount),
        sellerName=blank_if_none(invoice.seller_name),
        sellerNumber=blank_if_none(invoice.seller_tax_code),
        purchaserName=blank_if_none(invoice.buyer_name),
        purchaserNumber=blank_if_none(invoice.buyer_tax_code),
        companyName="",
        companyTaxNo="",
        licensePlate="",
        registrationNumber="",
        carCode="",
        carModel="",
        province="",
        city="",
    )


def _motor_vehicle_result(invoice: Invoice, code: str, date: str) -> MotorVehicleResult:
    return MotorVehicleResult(
        invoiceType=code,
        invoiceCode=blank_if_none(invoice.invoice_code),
        invoiceNo=blank_if_none(invoice.invoice_number),
        machineCode="",
        machineNo="",
        date=date,
        amountWithoutTax=money_text(invoice.amount),
        totalAmount=money_text(invoice.total_amount),
        sellerName=blank_if_none(invoice.seller_name),
        sellerNumber=blank_if_none(invoice.seller_tax_code),
        purchaserName=blank_if_none(invoice.buyer_name),
        purchaserNumber=blank_if_none(invoice.buyer_tax_code),
        taxAuthoritiesName="",
        taxAuthoritiesCode="",
        carCode="",
        carEngineCode="",
        carModel="",
        certificateNumber="",
        taxAmount=money_text(invoice.tax_amount),
        taxRate=_percent(invoice.tax_rate),
        province="",
        city="",
    )


def _receipt_result(invoice: Invoice, code: str, date: str) -> ReceiptResult:
    return ReceiptResult(
        invoiceType=code,
        date=date,
        time="",
        amountWithoutTax=money_text(invoice.amount),
        taxAmount=money_text(invoice.tax_amount),
        totalAmount=money_text(invoice.total_amount),
        storeName=blank_if_none(invoice.seller_name),
        discountAmount="",
        tipAmount="",
        currencyCode=blank_if_none(invoice.currency),
    )


def _tax_certificate_result(invoice: Invoice, code: str, date: str) -> TaxCertificateResult:
    return TaxCertificateResult(
        invoiceType=code,
        invoiceNo=blank_if_none(invoice.invoice_number),
        date=date,
        totalAmount=money_text(invoice.total_amount),
        purchaserTaxNo=blank_if_none(invoice.buyer_tax_code),
        purchaserName=blank_if_none(invoice.buyer_name),
    )


def _ride_hailing_result(invoice: Invoice, code: str, date: str) -> RideHailingResult:
    return RideHailingResult(
        invoiceType=code,
        date=date,
        startDate="",
        endDate="",
        phone="",
        totalAmount=money_text(invoice.total_amount),
        tripInfos=[],
    )


def _other_result(invoice: Invoice, code: str, date: str) -> OtherResult:
    # 6000 可报销其他发票 and 0000 其他: no table, so the fields every table shares.
    return OtherResult.model_validate(
        {
            "invoiceType": code,
            "invoiceCode": blank_if_none(invoice.invoice_code),
            "invoiceNo": blank_if_none(invoice.invoice_number),
            "date": date,
            "totalAmount": money_text(invoice.total_amount),
        }
    )


# The type of every table of 004; 6000 (可报销其他发票) and 0000 (其他) have none.
_WRITERS: dict[InvoiceType, Callable[[Invoice, str, str], IdentifyResultData]] = {
    **dict.fromkeys(_VAT_TYPES, _vat_result),
    InvoiceType.VAT_ROLL: _roll_result,
    InvoiceType.MACHINE_PRINTED: _machine_printed_result,
    InvoiceType.QUOTA: _quota_result,
    InvoiceType.TAXI: _taxi_result,
    InvoiceType.TRAIN: _train_result,
    InvoiceType.BUS: _bus_result,
    InvoiceType.TOLL: _toll_result,
    InvoiceType.FLIGHT_ITINERARY: _flight_itinerary_result,
    InvoiceType.USED_CAR: _used_car_result,
    InvoiceType.MOTOR_VEHICLE: _motor_vehicle_result,
    InvoiceType.RECEIPT: _receipt_result,
    InvoiceType.TAX_CERTIFICATE: _tax_certificate_result,
    InvoiceType.RIDE_HAILING_ITINERARY: _ride_hailing_result,
}


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _date(value: str | None) -> dt.date | None:
    return parse_date(wire_text(value))


def _percent(rate: Decimal | None) -> str:
    """A fraction as 004's percent text: 0.17 -> "17%"."""
    return "" if rate is None else percent_text(rate) + "%"


def _seal(value: str | None) -> bool | None:
    """companySeal: "1" has a seal, "0" has none; anything else is not known."""
    return {"1": True, "0": False}.get(wire_text(value) or "")


def _seal_out(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")


def _item_names(invoice: Invoice) -> str:
    return ",".join(item.name for item in invoice.items if item.name)


def _chinese_date_or_text(value: str | None) -> str:
    try:
        day = parse_date(wire_text(value))
    except InvalidDate:
        return blank_if_none(value)
    return to_chinese_date(day) if day is not None else ""


def _international_flag(value: str | None) -> str | None:
    """004 "国内(D)" / "国际(I)" as 001's D / I."""
    text = wire_text(value)
    if text is None:
        return None
    if "国际" in text or "(I)" in text.upper() or text.upper() == "I":
        return "I"
    if "国内" in text or "(D)" in text.upper() or text.upper() == "D":
        return "D"
    return text


def _international_flag_out(value: str | None) -> str:
    return {"D": "国内(D)", "I": "国际(I)"}.get(value or "", blank_if_none(value))
