"""Spec 004 (yipiaoyun identify) result data to and from the canonical model.

``invoice_from_identify_result`` reads what yipiaoyun recognised; ``to_identify_result``
writes the hub's own identify answer. Dates travel as "2019年07月06日", amounts as
strings ("23.30") read into ``Decimal``; ``companySeal`` "1"/"0" is a bool.

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
from decimal import Decimal
from typing import Any

from fapiao.catalogue.types import InvoiceType, from_yipiaoyun_code, to_yipiaoyun_code
from fapiao.dates import InvalidDate, parse_date, to_chinese_date
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
    RideHailingResult,
    RollResult,
    TaxCertificateResult,
    TaxiResult,
    TollResult,
    TrainResult,
    UsedCarResult,
    VatResult,
)

__all__ = ["InvalidAmountError", "invoice_from_identify_result", "to_identify_result"]


_VAT_TYPES = (InvoiceType.VAT_SPECIAL, InvoiceType.VAT_NORMAL, InvoiceType.VAT_ELECTRONIC_NORMAL)


def invoice_from_identify_result(data: IdentifyResultData) -> Invoice:
    """The canonical invoice of one 004 result, for every type.

    Raises ``UnknownTypeCode`` for an ``invoiceType`` outside the catalogue and
    ``InvalidDate`` / ``InvalidAmountError`` for values that are not what they claim.
    """
    match data:
        case MachinePrintedResult():
            # Typed 4000 by the table and 6001 by the example: the shape decides.
            invoice_type = InvoiceType.MACHINE_PRINTED
        case _:
            invoice_type = from_yipiaoyun_code(data.invoiceType)
    match data:
        case VatResult():
            return Invoice(
                invoice_type=invoice_type,
                invoice_code=wire_text(data.invoiceCode),
                invoice_number=wire_text(data.invoiceNo),
                receipt_date=_date(data.date),
                amount=wire_decimal(data.amountWithoutTax, "amountWithoutTax"),
                tax_amount=wire_decimal(data.taxAmount, "taxAmount"),
                # the table's totalAmount, else the example's amountWithTax
                total_amount=wire_decimal(
                    wire_text(data.totalAmount) or data.amountWithTax, "totalAmount"
                ),
                check_code=wire_text(data.checkCode),
                buyer_name=wire_text(data.purchaserName),
                buyer_tax_code=wire_text(data.purchaserTaxNo),
                seller_name=wire_text(data.sellerName),
                seller_tax_code=wire_text(data.sellerTaxNo),
                company_seal=_seal(data.companySeal),
                remark=wire_text(data.remark),
                items=_items(data.itemNames),
            )
        case RollResult():
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
        case MachinePrintedResult():
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
        case QuotaResult():
            return Invoice(
                invoice_type=invoice_type,
                invoice_code=wire_text(data.invoiceCode),
                total_amount=wire_decimal(data.totalAmount, "totalAmount"),
                company_seal=_seal(data.companySeal),
            )
        case TaxiResult():
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
        case TrainResult():
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
        case BusResult():
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
        case TollResult():
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
        case FlightItineraryResult():
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
        case UsedCarResult():
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
        case MotorVehicleResult():
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
        case ReceiptResult():
            return Invoice(
                invoice_type=invoice_type,
                receipt_date=_date(data.date),
                amount=wire_decimal(data.amountWithoutTax, "amountWithoutTax"),
                tax_amount=wire_decimal(data.taxAmount, "taxAmount"),
                total_amount=wire_decimal(data.totalAmount, "totalAmount"),
                seller_name=wire_text(data.storeName),
                currency=wire_text(data.currencyCode),
            )
        case TaxCertificateResult():
            return Invoice(
                invoice_type=invoice_type,
                invoice_number=wire_text(data.invoiceNo),
                receipt_date=_date(data.date),
                total_amount=wire_decimal(data.totalAmount, "totalAmount"),
                buyer_name=wire_text(data.purchaserName),
                buyer_tax_code=wire_text(data.purchaserTaxNo),
            )
        case RideHailingResult():
            return Invoice(
                invoice_type=invoice_type,
                receipt_date=_date(data.date),  # 申请日期
                total_amount=wire_decimal(data.totalAmount, "totalAmount"),
            )
        case OtherResult():
            # No table in 004: keep the fields every table shares, if they came.
            extra: dict[str, Any] = data.model_extra or {}
            return Invoice(
                invoice_type=invoice_type,
                invoice_code=wire_text(_str(extra.get("invoiceCode"))),
                invoice_number=wire_text(_str(extra.get("invoiceNo"))),
                receipt_date=_date(_str(extra.get("date"))),
                total_amount=wire_decimal(_str(extra.get("totalAmount")), "totalAmount"),
            )


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


def to_identify_result(invoice: Invoice) -> IdentifyResultData:
    """The 004 result data for ``invoice``, as the hub's own identify API answers it.

    Writes the table's field names and codes only, "" for what the invoice lacks (as
    004's examples do). Raises ``TypeNotInVocabulary`` for a type 004 has no code for.
    """
    invoice_type = invoice.invoice_type
    code = to_yipiaoyun_code(invoice_type)
    date = to_chinese_date(invoice.receipt_date) if invoice.receipt_date else ""
    if invoice_type in _VAT_TYPES:
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
    match invoice_type:
        case InvoiceType.VAT_ROLL:
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
        case InvoiceType.MACHINE_PRINTED:
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
        case InvoiceType.QUOTA:
            return QuotaResult(
                invoiceType=code,
                invoiceCode=blank_if_none(invoice.invoice_code),
                totalAmount=money_text(invoice.total_amount),
                province="",
                city="",
                companySeal=_seal_out(invoice.company_seal),
            )
        case InvoiceType.TAXI:
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
        case InvoiceType.TRAIN:
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
        case InvoiceType.BUS:
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
        case InvoiceType.TOLL:
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
        case InvoiceType.FLIGHT_ITINERARY:
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
        case InvoiceType.USED_CAR:
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
        case InvoiceType.MOTOR_VEHICLE:
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
        case InvoiceType.RECEIPT:
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
        case InvoiceType.TAX_CERTIFICATE:
            return TaxCertificateResult(
                invoiceType=code,
                invoiceNo=blank_if_none(invoice.invoice_number),
                date=date,
                totalAmount=money_text(invoice.total_amount),
                purchaserTaxNo=blank_if_none(invoice.buyer_tax_code),
                purchaserName=blank_if_none(invoice.buyer_name),
            )
        case InvoiceType.RIDE_HAILING_ITINERARY:
            return RideHailingResult(
                invoiceType=code,
                date=date,
                startDate="",
                endDate="",
                phone="",
                totalAmount=money_text(invoice.total_amount),
                tripInfos=[],
            )
        case _:
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


# --- values -----------------------------------------------------------------------


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
