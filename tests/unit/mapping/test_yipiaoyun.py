"""Spec 004 mapper: yipiaoyun result data -> canonical invoice, and back for the hub's API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from fapiao.catalogue.types import InvoiceType, TypeNotInVocabulary, UnknownTypeCode
from fapiao.dates import InvalidDate
from fapiao.mapping.yipiaoyun import (
    InvalidAmountError,
    invoice_from_identify_result,
    to_identify_result,
)
from fapiao.model import FlightSegment, Invoice, LineItem
from fapiao.wire.common import dump_json, load_json
from fapiao.wire.yipiaoyun import (
    MachinePrintedResult,
    MotorVehicleResult,
    OtherResult,
    ResultResponse,
    TaxCertificateResult,
    VatResult,
)

T = InvoiceType
D = Decimal

# The data of 004's result examples, as yipiaoyun sends them.
VAT: dict[str, Any] = {
    "invoiceType": "10102",
    "invoiceCode": "050003521107",
    "invoiceNo": "89050020",
    "date": "2019年07月06日",
    "amountWithoutTax": "2.91",
    "taxAmount": "0.09",
    "amountWithTax": "3.00",
    "checkCode": "07452879925677728392",
    "purchaserTaxNo": "9131010563178864XK",
    "purchaserName": "换了丑章",
    "sellerTaxNo": "11010120181016022",
    "sellerName": "测试22",
    "companySeal": "1",
    "formType": "",
    "ciphertext": "03>98/-7<1-7688*0053->1+6",
    "payee": "张果老",
    "reviewer": ":南极翁",
    "ticketHolder": "铁头娃",
    "province": "重庆市",
    "city": "",
    "remark": "",
    "itemNames": "*软饮料*可乐",
}
TAXI: dict[str, Any] = {
    "invoiceType": "5000",
    "invoiceCode": "050003521107",
    "invoiceNo": "89050020",
    "date": "2019年07月06日",
    "timeGetOn": "11:23",
    "timeGetOff": "11:39",
    "mileage": "3.2",
    "totalAmount": "23.30",
    "place": "浙江省杭州市",
    "province": "浙江省",
    "city": "杭州市",
}
TRAIN: dict[str, Any] = {
    "invoiceType": "5001",
    "invoiceNo": "80K015233",
    "date": "2019年05月10日",
    "totalAmount": "73.00",
    "time": "08:42",
    "stationGetOn": "上海虹桥",
    "stationGetOff": "杭州东",
    "trainNumber": "G1509",
    "seat": "二等座",
    "serialNumber": "66103212100511K013431",
    "idNumber": "3101061994****0492",
}
MACHINE_PRINTED: dict[str, Any] = {
    "invoiceType": "6001",
    "invoiceCode": "050003521107",
    "invoiceNo": "89050020",
    "date": "2019年07月06日",
    "time": "11:23:45",
    "checkCode": "07452879925677728392",
    "category": "oil",
    "totalAmount": "23.34",
    "purchaserTaxNo": "9131010563178864XK",
    "purchaserName": "测试公司",
    "sellerTaxNo": "11010120181016022",
    "sellerName": "小白鼠",
    "province": "浙江省",
    "city": "杭州市",
    "companySeal": "1",
}
ROLL: dict[str, Any] = {
    "invoiceType": "1003",
    "invoiceCode": "050003521107",
    "invoiceNo": "89050020",
    "date": "2019年07月06日",
    "checkCode": "07452879925677728392",
    "purchaserTaxNo": "9131010563178864XK",
    "purchaserName": "测试公司",
    "sellerTaxNo": "11010120181016022",
    "sellerName": "小白鼠",
    "category": "oil",
    "totalAmount": "300.00",
    "province": "浙江省",
    "city": "杭州市",
    "companySeal": "1",
    "serviceName": "汽油",
    "itemNames": "*95#汽油",
}
QUOTA: dict[str, Any] = {
    "invoiceType": "2000",
    "invoiceCode": "050003521107",
    "totalAmount": "300.00",
    "province": "浙江省",
    "city": "杭州市",
    "companySeal": "1",
}
TOLL: dict[str, Any] = {
    "invoiceType": "5004",
    "invoiceCode": "131001860207",
    "invoiceNo": "20790117",
    "date": "",
    "totalAmount": "20.00",
    "time": "",
    "entrance": "康桥",
    "exit": "嘉闵高架",
}
BUS: dict[str, Any] = {
    "invoiceType": "5002",
    "invoiceCode": "39320323",
    "invoiceNo": "49302323",
    "date": "2019年05月10日",
    "totalAmount": "73.00",
    "time": "08:42",
    "stationGetOn": "杭州东",
    "stationGetOff": "上海虹桥",
    "name": "小白鼠",
}
FLIGHT: dict[str, Any] = {
    "invoiceType": "5003",
    "invoiceNo": "4792345930496",
    "date": "2019年03月04日",
    "taxAmount": "10.00",
    "totalAmount": "1420.00",
    "checkCode": "0034",
    "name": "小白鼠",
    "idNumber": "530492199402239932",
    "agentCode": "SZH888,08676032",
    "issueUnit": "上海华程西南国际旅行社有限公司",
    "fareAmount": "1370.00",
    "fuelSurcharge": "0.00",
    "caacDevelopmentFund": "50.00",
    "flightInfos": [
        {
            "startPoint": "T3深圳",
            "endPoint": "杭州",
            "flightNumber": "ZH9883",
            "date": "2019年01月25日",
            "time": "18:05",
            "seat": "Y",
            "carrier": "深航",
        }
    ],
    "internationalFlag": "国内(D)",
}
USED_CAR: dict[str, Any] = {
    "invoiceType": "1005",
    "invoiceCode": "050003521107",
    "invoiceNo": "89050020",
    "date": "2019年07月06日",
    "totalAmount": "112300.00",
    "sellerName": "测试公司",
    "sellerNumber": "9131010563178864XK",
    "purchaserName": "小白鼠",
    "purchaserNumber": "11010120181016022",
    "companyName": "二手车交易管理有限公司",
    "companyTaxNo": "TEST34056KS43064XK",
    "licensePlate": "浙A123456",
    "registrationNumber": "32031231254",
    "carCode": "SLDOEOSJ8FG349582",
    "carModel": "大众牌LKS3232N4",
    "province": "浙江省",
    "city": "杭州市",
}
MOTOR_VEHICLE: dict[str, Any] = {
    "invoiceType": "1004",
    "invoiceCode": "144001724660",
    "invoiceNo": "01005461",
    "date": "2018年04月18日",
    "taxAmount": "1278.63",
    "totalAmount": "8800.00",
    "sellerName": "测试公司",
    "sellerTaxNo": "9144152157012358X0",
    "purchaserName": "小白鼠",
    "purchaserNumber": "11010120181016022",
    "carCode": "ODKSLSZG5J8049341",
    "carModel": "索市牌ZS452ZH-7C",
    "machineCode": "231231723023",
    "machineNumber": "49229461",
    "taxAuthoritiesName": "国家税务局办税服务厅",
    "taxAuthoritiesCode": "144152302",
    "carEngineCode": "8J101041",
    "certificateNumber": "YK0708170645023",
    "taxRate": "17%",
    "province": "广东省",
    "city": "广州市",
}
RECEIPT: dict[str, Any] = {
    "invoiceType": "2001",
    "date": "2014年01月13日",
    "amountWithoutTax": "1009.00",
    "taxAmount": "0.00",
    "totalAmount": "913.00",
    "time": "",
    "storeName": "测试酒店",
    "discountAmount": "96.00",
    "tipAmount": "0.00",
    "currencyCode": "CNY",
}
TAX_CERTIFICATE: dict[str, Any] = {
    "invoiceType": "6001",
    "invoiceNo": "00427046",
    "date": "2019年04月23日",
    "totalAmount": "122.40",
    "purchaserTaxNo": "1101012018101602Y",
    "purchaserName": "小白鼠",
}
RIDE_HAILING: dict[str, Any] = {
    "invoiceType": "2002",
    "date": "2018年07月10日",
    "totalAmount": "56.53",
    "startDate": "2018年01月19日",
    "endDate": "2018年07月10日",
    "phone": "13944433849",
    "tripInfos": [
        {
            "carType": "专车",
            "timeGetOn": "01-19 08:32 周五",
            "city": "深圳市",
            "stationGetOn": "金地金谷公寓",
            "stationGetOff": "大冲国际中心",
            "mileage": "4.8",
            "amount": "33.63",
        }
    ],
}

ALL = {
    "vat": VAT,
    "taxi": TAXI,
    "train": TRAIN,
    "machine_printed": MACHINE_PRINTED,
    "roll": ROLL,
    "quota": QUOTA,
    "toll": TOLL,
    "bus": BUS,
    "flight": FLIGHT,
    "used_car": USED_CAR,
    "motor_vehicle": MOTOR_VEHICLE,
    "receipt": RECEIPT,
    "tax_certificate": TAX_CERTIFICATE,
    "ride_hailing": RIDE_HAILING,
}


def _read(data: dict[str, Any]) -> Invoice:
    """As the provider adapter reads it: JSON text -> envelope -> data -> invoice."""
    response = ResultResponse.model_validate(load_json(dump_json({"code": 0, "data": data})))
    assert response.data is not None
    return invoice_from_identify_result(response.data)


def _no_floats(invoice: Invoice) -> None:
    def walk(value: Any) -> None:
        assert not isinstance(value, float), value
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(invoice.model_dump(mode="python"))


# --- invoice_from_identify_result ---------------------------------------------------


def test_vat_example_typed_10102_with_amount_with_tax() -> None:
    invoice = _read(VAT)
    assert invoice.invoice_type is T.VAT_ELECTRONIC_NORMAL
    assert invoice.invoice_code == "050003521107"
    assert invoice.invoice_number == "89050020"
    assert invoice.receipt_date == dt.date(2019, 7, 6)
    assert (invoice.amount, invoice.tax_amount, invoice.total_amount) == (
        D("2.91"),
        D("0.09"),
        D("3.00"),
    )
    assert str(invoice.total_amount) == "3.00"
    assert invoice.check_code == "07452879925677728392"
    assert (invoice.buyer_name, invoice.buyer_tax_code) == ("换了丑章", "9131010563178864XK")
    assert (invoice.seller_name, invoice.seller_tax_code) == ("测试22", "11010120181016022")
    assert invoice.company_seal is True
    assert invoice.remark is None
    assert invoice.items == [LineItem(name="*软饮料*可乐")]


def test_vat_total_amount_wins_over_amount_with_tax() -> None:
    invoice = _read({**VAT, "invoiceType": "1000", "totalAmount": "0.00"})
    assert invoice.invoice_type is T.VAT_SPECIAL
    assert invoice.total_amount == D("0.00")


def test_item_names_split_into_line_items() -> None:
    invoice = _read({**VAT, "itemNames": "*软饮料*可乐,*软饮料*雪碧, "})
    assert [item.name for item in invoice.items] == ["*软饮料*可乐", "*软饮料*雪碧"]


def test_taxi_times_and_mileage() -> None:
    invoice = _read(TAXI)
    assert invoice.invoice_type is T.TAXI
    assert (invoice.start_time, invoice.end_time) == ("11:23", "11:39")
    assert invoice.mileage == D("3.2")
    assert invoice.total_amount == D("23.30")
    assert invoice.receipt_date == dt.date(2019, 7, 6)


def test_train_stations_number_seat_and_id() -> None:
    invoice = _read(TRAIN)
    assert invoice.invoice_type is T.TRAIN
    assert invoice.destination_city == "上海虹桥"
    assert invoice.destination_city_to == "杭州东"
    assert invoice.train_number == "G1509"
    assert invoice.train_class == "二等座"
    assert invoice.id_card == "3101061994****0492"
    assert invoice.start_datetime == "08:42"
    assert invoice.invoice_number == "80K015233"
    assert invoice.receipt_date == dt.date(2019, 5, 10)


def test_6001_in_the_machine_printed_shape_is_machine_printed() -> None:
    invoice = _read(MACHINE_PRINTED)
    assert invoice.invoice_type is T.MACHINE_PRINTED
    assert invoice.invoice_code == "050003521107"
    assert invoice.seller_name == "小白鼠"
    assert invoice.buyer_tax_code == "9131010563178864XK"
    assert invoice.total_amount == D("23.34")
    assert invoice.company_seal is True


def test_6001_in_the_tables_shape_is_a_tax_certificate() -> None:
    invoice = _read(TAX_CERTIFICATE)
    assert invoice.invoice_type is T.TAX_CERTIFICATE
    assert invoice.invoice_number == "00427046"
    assert invoice.buyer_name == "小白鼠"
    assert invoice.buyer_tax_code == "1101012018101602Y"
    assert invoice.total_amount == D("122.40")


def test_roll_invoice() -> None:
    invoice = _read(ROLL)
    assert invoice.invoice_type is T.VAT_ROLL
    assert invoice.total_amount == D("300.00")
    assert invoice.items == [LineItem(name="*95#汽油")]
    assert invoice.seller_tax_code == "11010120181016022"


def test_quota_invoice_has_a_seal() -> None:
    invoice = _read(QUOTA)
    assert invoice.invoice_type is T.QUOTA
    assert invoice.invoice_code == "050003521107"
    assert invoice.company_seal is True
    assert invoice.total_amount == D("300.00")


def test_toll_entrance_and_exit_with_empty_date() -> None:
    invoice = _read(TOLL)
    assert invoice.invoice_type is T.TOLL
    assert (invoice.destination_city, invoice.destination_city_to) == ("康桥", "嘉闵高架")
    assert invoice.receipt_date is None
    assert invoice.start_time is None


def test_bus_ticket() -> None:
    invoice = _read(BUS)
    assert invoice.invoice_type is T.BUS
    assert (invoice.destination_city, invoice.destination_city_to) == ("杭州东", "上海虹桥")
    assert invoice.passenger_name == "小白鼠"
    assert invoice.start_time == "08:42"


def test_flight_itinerary_segments_and_charges() -> None:
    invoice = _read(FLIGHT)
    assert invoice.invoice_type is T.FLIGHT_ITINERARY
    assert invoice.invoice_number == "4792345930496"
    assert invoice.passenger_name == "小白鼠"
    assert invoice.id_card == "530492199402239932"
    assert invoice.international_flag == "D"
    assert invoice.fare == D("1370.00")
    assert invoice.fuel_surcharge == D("0.00")
    assert invoice.civil_avn_dev_fund == D("50.00")
    assert invoice.other_taxes == D("10.00")  # 税费, not VAT
    assert invoice.tax_amount is None
    assert invoice.total_amount == D("1420.00")
    assert invoice.seller_name == "上海华程西南国际旅行社有限公司"
    assert invoice.flight_detail == [
        FlightSegment(
            departure="T3深圳",
            arrival="杭州",
            flight_number="ZH9883",
            date="2019-01-25",
            time="18:05",
            seat="Y",
            carrier="深航",
        )
    ]


@pytest.mark.parametrize(("wire", "flag"), [("国内(D)", "D"), ("国际(I)", "I"), ("I", "I")])
def test_international_flag_is_d_or_i(wire: str, flag: str) -> None:
    assert _read({**FLIGHT, "internationalFlag": wire}).international_flag == flag


def test_used_car_seller_and_buyer_numbers() -> None:
    invoice = _read(USED_CAR)
    assert invoice.invoice_type is T.USED_CAR
    assert (invoice.seller_name, invoice.seller_tax_code) == ("测试公司", "9131010563178864XK")
    assert (invoice.buyer_name, invoice.buyer_tax_code) == ("小白鼠", "11010120181016022")
    assert invoice.total_amount == D("112300.00")


def test_motor_vehicle_example_names_and_percent_rate() -> None:
    invoice = _read(MOTOR_VEHICLE)
    assert invoice.invoice_type is T.MOTOR_VEHICLE
    assert invoice.seller_tax_code == "9144152157012358X0"  # the example's sellerTaxNo
    assert invoice.tax_rate == D("0.17")
    assert invoice.tax_amount == D("1278.63")
    assert invoice.total_amount == D("8800.00")
    assert invoice.receipt_date == dt.date(2018, 4, 18)


def test_motor_vehicle_table_name_wins_over_the_examples() -> None:
    invoice = _read({**MOTOR_VEHICLE, "sellerNumber": "TABLE"})
    assert invoice.seller_tax_code == "TABLE"


def test_receipt_store_and_currency() -> None:
    invoice = _read(RECEIPT)
    assert invoice.invoice_type is T.RECEIPT
    assert invoice.seller_name == "测试酒店"
    assert invoice.currency == "CNY"
    assert (invoice.amount, invoice.total_amount) == (D("1009.00"), D("913.00"))


def test_ride_hailing_itinerary_typed_2002() -> None:
    invoice = _read(RIDE_HAILING)
    assert invoice.invoice_type is T.RIDE_HAILING_ITINERARY
    assert invoice.receipt_date == dt.date(2018, 7, 10)
    assert invoice.total_amount == D("56.53")


@pytest.mark.parametrize(("wire", "seal"), [("1", True), ("0", False), ("", None)])
def test_company_seal_is_a_bool(wire: str, seal: bool | None) -> None:
    assert _read({**QUOTA, "companySeal": wire}).company_seal is seal


@pytest.mark.parametrize("name", list(ALL))
def test_amounts_are_decimal_never_float(name: str) -> None:
    _no_floats(_read(ALL[name]))


def test_amount_sent_as_a_json_number_keeps_its_scale() -> None:
    invoice = _read({**TAXI, "totalAmount": D("23.30")})
    assert isinstance(invoice.total_amount, Decimal)
    assert str(invoice.total_amount) == "23.30"


def test_other_reimbursable_keeps_the_shared_fields() -> None:
    invoice = _read({"invoiceType": "6000", "invoiceNo": "1", "totalAmount": "9.90"})
    assert invoice.invoice_type is T.OTHER_REIMBURSABLE
    assert invoice.invoice_number == "1"
    assert invoice.total_amount == D("9.90")


def test_unknown_type_code_is_refused() -> None:
    with pytest.raises(UnknownTypeCode):
        _read({"invoiceType": "9999", "totalAmount": "1.00"})


def test_impossible_date_is_refused() -> None:
    with pytest.raises(InvalidDate):
        _read({**TAXI, "date": "2019年02月30日"})


def test_unparseable_amount_is_refused() -> None:
    with pytest.raises(InvalidAmountError):
        _read({**TAXI, "totalAmount": "二十三"})


def test_time_that_is_not_a_time_of_day_is_kept_as_it_came() -> None:
    assert _read({**TAXI, "timeGetOn": "11点23"}).start_time == "11点23"


# --- to_identify_result (the hub's own identify API) --------------------------------


@pytest.mark.parametrize("name", list(ALL))
def test_served_result_reads_back_as_the_same_invoice(name: str) -> None:
    invoice = _read(ALL[name])
    served = ResultResponse(code=0, data=to_identify_result(invoice))
    again = ResultResponse.model_validate(load_json(dump_json(served.to_wire())))
    assert again.data is not None
    assert invoice_from_identify_result(again.data) == invoice


def test_served_vat_writes_the_tables_names_and_codes() -> None:
    data = to_identify_result(_read(VAT))
    assert isinstance(data, VatResult)
    wire = data.to_wire()
    assert wire["invoiceType"] == "1002"  # not the example's 10102
    assert wire["totalAmount"] == "3.00"
    assert "amountWithTax" not in wire
    assert wire["date"] == "2019年07月06日"
    assert wire["companySeal"] == "1"
    assert wire["itemNames"] == "*软饮料*可乐"
    assert wire["city"] == ""  # 004 writes "" for nothing


def test_served_machine_printed_is_typed_4000() -> None:
    data = to_identify_result(_read(MACHINE_PRINTED))
    assert isinstance(data, MachinePrintedResult)
    assert data.invoiceType == "4000"


def test_served_tax_certificate_is_typed_6001() -> None:
    data = to_identify_result(_read(TAX_CERTIFICATE))
    assert isinstance(data, TaxCertificateResult)
    assert data.invoiceType == "6001"


def test_served_motor_vehicle_writes_seller_number_and_percent() -> None:
    data = to_identify_result(_read(MOTOR_VEHICLE))
    assert isinstance(data, MotorVehicleResult)
    wire = data.to_wire()
    assert wire["sellerNumber"] == "9144152157012358X0"
    assert {"sellerTaxNo", "machineNumber"}.isdisjoint(wire)
    assert wire["taxRate"] == "17%"


def test_served_flight_writes_chinese_dates_and_flag() -> None:
    wire = to_identify_result(_read(FLIGHT)).to_wire()
    assert wire["internationalFlag"] == "国内(D)"
    assert wire["flightInfos"][0]["date"] == "2019年01月25日"
    assert wire["taxAmount"] == "10.00"


def test_served_money_has_two_decimals() -> None:
    invoice = Invoice(invoice_type=T.TAXI, total_amount=D("23.3"), mileage=D("3.20"))
    wire = to_identify_result(invoice).to_wire()
    assert wire["totalAmount"] == "23.30"
    assert wire["mileage"] == "3.20"


def test_served_other_type_keeps_the_shared_fields() -> None:
    data = to_identify_result(Invoice(invoice_type=T.OTHER, total_amount=D("1")))
    assert isinstance(data, OtherResult)
    assert data.to_wire()["invoiceType"] == "0000"
    assert data.to_wire()["totalAmount"] == "1.00"


@pytest.mark.parametrize("invoice_type", [T.DIGITAL_NORMAL, T.DIGITAL_RAIL, T.BLOCKCHAIN])
def test_served_type_with_no_yipiaoyun_code_is_refused(invoice_type: InvoiceType) -> None:
    with pytest.raises(TypeNotInVocabulary):
        to_identify_result(Invoice(invoice_type=invoice_type))
