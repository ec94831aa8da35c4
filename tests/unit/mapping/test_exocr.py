"""Spec 003 mapper: canonical invoice -> verify form, exocr answer -> check result, and back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from fapiao.catalogue.types import InvoiceType, TypeNotInVocabulary, UnknownTypeCode
from fapiao.dates import SHANGHAI
from fapiao.mapping.exocr import (
    IncompleteInvoiceError,
    InvalidAmountError,
    MissingCheckDataError,
    UnknownInvoiceStateError,
    check_from_exocr,
    invoice_from_verify_request,
    to_exocr_response,
    to_verify_request,
)
from fapiao.model import CheckResult, FlightSegment, Invoice, InvoiceState, LineItem
from fapiao.wire.common import dump_json, load_json
from fapiao.wire.exocr import (
    MotorVehicleData,
    RailTicketData,
    RollData,
    UsedCarData,
    VatData,
    VerifyRequest,
    VerifyResponse,
)

T = InvoiceType
D = Decimal

# The response example of spec 003, as exocr sends it (numbers as strings).
EXAMPLE: dict[str, Any] = {
    "result": {
        "desc": "查验成功",
        "data": {
            "invoice_code": "044031900111",
            "invoice_no": "12345678",
            "invoice_type": "90",
            "verify_count": "1113",
            "create_date": "20210121",
            "buyer_name": "海口某某有限公司",
            "buyer_tax_no": "91460100MA5T000001",
            "buyer_address": "海南省海口市 0898-1234567",
            "buyer_bank_info": "工行海口市支行 1234",
            "seller_name": "海口某水果有限公司",
            "seller_tax_no": "91460100MA5T000002",
            "seller_address": "海南省海口市某路",
            "seller_bank_info": "工行琼山支行 5678",
            "total": "1300.00",
            "total_tax": "117.00",
            "amount": "1417.00",
            "note": "",
            "machine_no": "661234567890",
            "check_code": "07452879925677728392",
            "cancel_flag": "N",
            "inv_status": "30",
            "productO_oil_flag": "N",
            "verify_date": "2023-10-17 21:09:47",
            "detail_list": [
                {
                    "name": "*水果*橙",
                    "type": "",
                    "unit": "kg",
                    "count": "100",
                    "unit_price": "13.00",
                    "amount": "1300.00",
                    "tax_rate": "9",
                    "tax": "117.00",
                }
            ],
            "agent_mark": "N",
        },
        "image_base64": "data:image/jpg;base64,#####",
        "result_code": 1,
    },
    "error_code": 0,
    "description": "调用成功",
    "request_id": "B540EA16BE344940A3818BD993E7995F",
    "recognize_time": 668,
    "available_count": 854,
    "version": None,
}


def _response(data: dict[str, Any] | None, result_code: int = 1, error_code: int = 0) -> Any:
    return VerifyResponse.model_validate(
        {
            "result": {"desc": "查验成功", "data": data, "result_code": result_code},
            "error_code": error_code,
            "description": "调用成功",
        }
    )


def _decimals_are_never_float(model: BaseModel) -> None:
    def walk(value: Any) -> None:
        assert not isinstance(value, float), value
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(model.model_dump(mode="python"))


# --- to_verify_request --------------------------------------------------------------


def _invoice(invoice_type: InvoiceType, **fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_code": "044031900111",
        "invoice_number": "12345678",
        "receipt_date": dt.date(2021, 1, 21),
        "check_code": "07452879925677728392",
        "amount": D("1300"),
        "tax_amount": D("117.00"),
        "total_amount": D("1417.00"),
    }
    return Invoice(invoice_type=invoice_type, **{**base, **fields})


def test_vat_special_request_carries_code_01_pretax_total_and_yyyymmdd() -> None:
    request = to_verify_request(_invoice(T.VAT_SPECIAL), "key", "secret")
    assert request.to_form() == {
        "app_key": "key",
        "app_secret": "secret",
        "invoice_type": "01",
        "invoice_no": "12345678",
        "invoice_code": "044031900111",
        "check_code_last6": "728392",
        "total": "1300.00",  # scale of two, from Decimal("1300"), never via float
        "create_date": "20210121",
    }


@pytest.mark.parametrize(
    ("invoice_type", "code", "total"),
    [
        (T.VAT_SPECIAL, "01", "1300.00"),  # 开具金额(不含税)
        (T.VAT_FREIGHT_SPECIAL, "02", "1300.00"),  # 合计金额
        (T.MOTOR_VEHICLE, "03", "1300.00"),  # 不含税价
        (T.VAT_NORMAL, "04", None),  # 可不传
        (T.VAT_ELECTRONIC_SPECIAL, "09", "1300.00"),
        (T.VAT_ELECTRONIC_NORMAL, "10", "1417.00"),  # 价税合计
        (T.VAT_ROLL, "11", None),
        (T.VAT_ELECTRONIC_TOLL, "14", None),
        (T.USED_CAR, "15", "1417.00"),  # 车价合计
        (T.DIGITAL_NORMAL, "16", "1417.00"),
        (T.DIGITAL_SPECIAL, "16", "1417.00"),
        (T.DIGITAL_RAIL, "16", "1417.00"),
        (T.DIGITAL_FLIGHT, "16", "1417.00"),
        (T.BLOCKCHAIN, "17", "1300.00"),  # 不含税金额
    ],
)
def test_request_type_code_and_total_follow_the_type(
    invoice_type: InvoiceType, code: str, total: str | None
) -> None:
    request = to_verify_request(_invoice(invoice_type), "k", "s")
    assert request.invoice_type == code
    assert request.total == total
    assert ("total" in request.to_form()) is (total is not None)


def test_blockchain_request_sends_five_check_code_digits() -> None:
    request = to_verify_request(_invoice(T.BLOCKCHAIN), "k", "s")
    assert request.check_code_last6 == "28392"


def test_request_without_check_code_leaves_it_out() -> None:
    request = to_verify_request(_invoice(T.VAT_SPECIAL, check_code=None), "k", "s")
    assert "check_code_last6" not in request.to_form()


def test_digital_request_without_code_leaves_invoice_code_out() -> None:
    invoice = _invoice(T.DIGITAL_NORMAL, invoice_code=None, invoice_number="2" * 20)
    form = to_verify_request(invoice, "k", "s", want_image=True).to_form()
    assert "invoice_code" not in form
    assert form["invoice_no"] == "2" * 20
    assert form["want_image"] == "1"


def test_request_keeps_money_scale_beyond_two_decimals() -> None:
    request = to_verify_request(_invoice(T.VAT_SPECIAL, amount=D("1300.125")), "k", "s")
    assert request.total == "1300.125"


@pytest.mark.parametrize(
    ("invoice_type", "missing", "field"),
    [
        (T.VAT_SPECIAL, {"amount": None}, "amount"),
        (T.VAT_ELECTRONIC_NORMAL, {"total_amount": None}, "total_amount"),
        (T.VAT_NORMAL, {"invoice_number": None}, "invoice_number"),
        (T.VAT_NORMAL, {"receipt_date": None}, "receipt_date"),
    ],
)
def test_request_missing_what_exocr_needs_is_refused(
    invoice_type: InvoiceType, missing: dict[str, Any], field: str
) -> None:
    with pytest.raises(IncompleteInvoiceError) as raised:
        to_verify_request(_invoice(invoice_type, **missing), "k", "s")
    assert raised.value.field == field


def test_vat_normal_request_needs_no_amount() -> None:
    request = to_verify_request(_invoice(T.VAT_NORMAL, amount=None, total_amount=None), "k", "s")
    assert request.total is None


@pytest.mark.parametrize("invoice_type", [T.TAXI, T.TRAIN, T.QUOTA, T.FLIGHT_ITINERARY])
def test_type_exocr_cannot_verify_is_refused(invoice_type: InvoiceType) -> None:
    with pytest.raises(TypeNotInVocabulary):
        to_verify_request(_invoice(invoice_type), "k", "s")


# --- check_from_exocr ---------------------------------------------------------------


def test_spec_example_reads_as_a_verified_check() -> None:
    check = check_from_exocr(VerifyResponse.model_validate(EXAMPLE))
    invoice = check.invoice
    assert check.success is True
    assert check.error is None
    assert check.message == "查验成功"
    assert check.checked_at == dt.datetime(2023, 10, 17, 21, 9, 47, tzinfo=SHANGHAI)
    assert check.verify_count == 1113
    assert check.cancelled is False
    assert check.state is InvoiceState.RED_REVERSED  # inv_status 30
    assert invoice.invoice_type is T.VAT_ELECTRONIC_SPECIAL  # response code 90
    assert invoice.receipt_date == dt.date(2021, 1, 21)
    # exocr's total is the pre-tax sum, total_tax the tax, amount the total with tax.
    assert invoice.amount == D("1300.00")
    assert invoice.tax_amount == D("117.00")
    assert invoice.total_amount == D("1417.00")
    assert str(invoice.total_amount) == "1417.00"
    assert invoice.buyer_tax_code == "91460100MA5T000001"
    assert invoice.buyer_address_phone == "海南省海口市 0898-1234567"
    assert invoice.seller_account == "工行琼山支行 5678"
    assert invoice.remark is None  # "" is nothing
    assert invoice.machine_number == "661234567890"
    assert invoice.check_code == "07452879925677728392"
    assert invoice.agent_mark == "N"
    assert invoice.items == [
        LineItem(
            name="*水果*橙",
            unit="kg",
            quantity=D("100"),
            unit_price=D("13.00"),
            amount=D("1300.00"),
            tax_rate=D("0.09"),
            tax_amount=D("117.00"),
            total_amount=D("1417.00"),
        )
    ]
    _decimals_are_never_float(check)


@pytest.mark.parametrize(
    ("wire", "fraction"),
    [
        ("9", D("0.09")),
        ("13", D("0.13")),
        ("13%", D("0.13")),
        ("0.06", D("0.06")),
        ("1.5", D("0.015")),
        ("0", D("0")),
        ("免税", None),
        ("不征税", None),
        ("", None),
    ],
)
def test_item_tax_rate_is_a_fraction(wire: str, fraction: Decimal | None) -> None:
    data = {"invoice_type": "10", "detail_list": [{"name": "x", "tax_rate": wire}]}
    (item,) = check_from_exocr(_response(data)).invoice.items
    assert item.tax_rate == fraction
    if fraction is not None:
        assert isinstance(item.tax_rate, Decimal)


@pytest.mark.parametrize(
    ("inv_status", "state"),
    [
        ("0", InvoiceState.NORMAL),
        ("10", InvoiceState.VOID),
        ("20", InvoiceState.RED_LETTER),
        ("30", InvoiceState.RED_REVERSED),
        ("40", InvoiceState.PARTLY_RED_REVERSED),
        ("50", InvoiceState.FULLY_RED_REVERSED),
        ("", InvoiceState.NORMAL),
    ],
)
def test_inv_status_is_the_invoice_state(inv_status: str, state: InvoiceState) -> None:
    check = check_from_exocr(_response({"invoice_type": "10", "inv_status": inv_status}))
    assert check.state is state
    assert check.cancelled is (state is InvoiceState.VOID)


def test_cancel_flag_y_is_cancelled() -> None:
    data = {"invoice_type": "10", "cancel_flag": "Y", "inv_status": "0"}
    check = check_from_exocr(_response(data))
    assert check.cancelled is True
    assert check.state is InvoiceState.NORMAL  # exocr's two words are reported as said


def test_cancelled_roll_invoice_without_inv_status_is_void() -> None:
    data = {"invoice_type": "60", "cancel_flag": "Y", "receiver": "张三"}
    check = check_from_exocr(_response(data))
    assert check.cancelled is True
    assert check.state is InvoiceState.VOID


def test_unknown_inv_status_is_refused() -> None:
    with pytest.raises(UnknownInvoiceStateError):
        check_from_exocr(_response({"invoice_type": "10", "inv_status": "60"}))


@pytest.mark.parametrize("code", ["999", "01", ""])
def test_unknown_response_type_code_is_refused(code: str) -> None:
    with pytest.raises(UnknownTypeCode):
        check_from_exocr(_response({"invoice_type": code, "invoice_no": "1"}))


def test_missing_type_code_takes_the_requested_type() -> None:
    requested = _invoice(T.VAT_SPECIAL)
    check = check_from_exocr(_response({"invoice_no": "12345678"}), requested)
    assert check.invoice.invoice_type is T.VAT_SPECIAL


def test_unparseable_amount_is_refused() -> None:
    with pytest.raises(InvalidAmountError):
        check_from_exocr(_response({"invoice_type": "10", "total": "一千"}))


def test_failed_call_is_a_failed_check_of_the_requested_invoice() -> None:
    requested = _invoice(T.VAT_SPECIAL)
    response = VerifyResponse.model_validate(
        {"result": None, "error_code": 4002, "description": "授权验证未通过"}
    )
    check = check_from_exocr(response, requested)
    assert check.success is False
    assert check.error == "4002"
    assert check.message == "授权验证未通过"
    assert check.invoice == requested


def test_invoice_that_does_not_exist_is_a_failed_check() -> None:
    response = VerifyResponse.model_validate(
        {"result": {"desc": "所查发票不存在", "data": None, "result_code": 9}, "error_code": 0}
    )
    check = check_from_exocr(response, _invoice(T.VAT_NORMAL))
    assert (check.success, check.error, check.message) == (False, "9", "所查发票不存在")


def test_no_data_and_no_requested_invoice_is_refused() -> None:
    response = VerifyResponse.model_validate({"result": None, "error_code": 4007})
    with pytest.raises(MissingCheckDataError):
        check_from_exocr(response)


def test_mismatch_reports_the_tax_authoritys_data_as_a_failure() -> None:
    check = check_from_exocr(_response({"invoice_type": "10", "amount": "1.00"}, result_code=6))
    assert check.success is False
    assert check.error == "6"
    assert check.invoice.total_amount == D("1.00")


def test_roll_schema_items_carry_tax_inclusive_amounts() -> None:
    data = {
        "invoice_type": "60",
        "seller_name": "加油站",
        "total": "265.49",
        "total_tax": "34.51",
        "amount": "300.00",
        "receiver": "张三",
        "detail_list": [
            {"item": "*汽油*95#", "count": "40", "unit_prcie": "7.50", "amount": "300"}
        ],
    }
    invoice = check_from_exocr(_response(data)).invoice
    assert invoice.invoice_type is T.VAT_ROLL
    assert (invoice.amount, invoice.tax_amount, invoice.total_amount) == (
        D("265.49"),
        D("34.51"),
        D("300.00"),
    )
    assert invoice.items == [LineItem(name="*汽油*95#", quantity=D("40"), total_amount=D("300"))]


def test_motor_vehicle_schema_reads_seller_from_tounit_name() -> None:
    data = {
        "invoice_type": "50",
        "buyer_tax_name": "小白鼠",
        "buyer_id": "110101199001011234",
        "seller_name": "轿车",  # 车辆类型 per the spec
        "tounit_name": "某汽车销售有限公司",
        "seller_tax_no": "9144152157012358X0",
        "account": "广州市某路1号",
        "phone": "020-1234567",
        "receive_bank": "工行广州支行",
        "total": "7521.37",
        "zztax_rate": "17%",
        "zztax": "1278.63",
        "amount": "8800.00",
        "note": "LSVAA4182E2000001",  # the VIN, not a remark
        "inv_status": "0",
    }
    invoice = check_from_exocr(_response(data)).invoice
    assert invoice.invoice_type is T.MOTOR_VEHICLE
    assert invoice.seller_name == "某汽车销售有限公司"
    assert invoice.seller_address_phone == "广州市某路1号 020-1234567"
    assert invoice.buyer_name == "小白鼠"
    assert invoice.buyer_tax_code == "110101199001011234"  # buyer_id when no tax number
    assert (invoice.amount, invoice.tax_amount, invoice.total_amount) == (
        D("7521.37"),
        D("1278.63"),
        D("8800.00"),
    )
    assert invoice.tax_rate == D("0.17")
    assert invoice.remark is None


def test_used_car_schema_reads_the_misspelt_seller() -> None:
    data = {
        "invoice_type": "70",
        "buyer_tax_name": "小白鼠",
        "buyer_tax_no": "11010120181016022",
        "selier_name": "测试公司",
        "selier_id": "9131010563178864XK",
        "selier_tax_address": "上海市",
        "selier_tax_phone": "021-1234567",
        "total": "112300.00",
        "Used_car_market": "二手车交易管理有限公司",
        "Usedcar_matker_phone": "021-7654321",
        "remark": "备注",
    }
    invoice = check_from_exocr(_response(data)).invoice
    assert invoice.invoice_type is T.USED_CAR
    assert invoice.seller_name == "测试公司"
    assert invoice.seller_tax_code == "9131010563178864XK"
    assert invoice.seller_address_phone == "上海市 021-1234567"
    assert invoice.total_amount == D("112300.00")  # 车价合计
    assert invoice.remark == "备注"


def test_toll_schema_reads_equio_no_and_items() -> None:
    data = {
        "invoice_type": "80",
        "equio_no": "499099999999",
        "txf_flag": "Y",
        "total": "97.09",
        "total_tax": "2.91",
        "amount": "100.00",
        "detail_list": [
            {
                "name": "*经营租赁*通行费",
                "license_type": "沪A12345",
                "type": "客车",
                "txr_from": "20230101",
                "txr_to": "20230101",
                "total": "97.09",
                "tax_rate": "3",
                "tax": "2.91",
            }
        ],
    }
    invoice = check_from_exocr(_response(data)).invoice
    assert invoice.invoice_type is T.VAT_ELECTRONIC_TOLL
    assert invoice.machine_number == "499099999999"
    assert invoice.highway_flag is True
    assert invoice.items == [
        LineItem(
            name="*经营租赁*通行费",
            specification="客车",
            amount=D("97.09"),
            tax_rate=D("0.03"),
            tax_amount=D("2.91"),
        )
    ]


def test_rail_schema_is_a_digital_rail_ticket_with_buyer_fields_read_by_content() -> None:
    data = {
        "invoice_type": "110",
        "invoice_no": "24319110000000000001",
        "create_date": "20240301",
        "buyer_name": "91310000MA1FL1234X",  # the spec's descriptions swap these two
        "buyer_tax_no": "某某科技有限公司",
        "name": "张三",
        "id_no": "3101061994****0492",
        "total": "68.81",
        "total_tax": "6.19",
        "amount": "75.00",
        "tax_rate": "9",
        "station_from": "上海虹桥",
        "station_to": "杭州东",
        "train_no": "G7501",
        "departure_date": "20240302",
        "departure_time": "8:05",
        "seat_class": "二等座",
        "inv_status": "0",
    }
    check = check_from_exocr(_response(data))
    invoice = check.invoice
    assert invoice.invoice_type is T.DIGITAL_RAIL
    assert invoice.buyer_name == "某某科技有限公司"
    assert invoice.buyer_tax_code == "91310000MA1FL1234X"
    assert invoice.passenger_name == "张三"
    assert (invoice.destination_city, invoice.destination_city_to) == ("上海虹桥", "杭州东")
    assert invoice.train_number == "G7501"
    assert invoice.train_class == "二等座"
    assert invoice.start_datetime == "08:05"
    assert invoice.total_amount == D("75.00")
    assert invoice.tax_rate == D("0.09")


def test_flight_schema_is_a_digital_flight_itinerary_with_segments() -> None:
    data = {
        "invoice_no": "24319110000000000002",
        "create_date": "20240301",
        "name": "张三",
        "total_tax": "0.00",
        "amount": "1420.00",
        "domestic_or_intl": "国内",
        "gp_no": "",
        "detail_list": [
            {
                "invoice_detail_number": "1",
                "from": "深圳",
                "to": "杭州",
                "carrier": "ZH",
                "flight_no": "ZH9883",
                "seat_class": "Y",
                "date": "2024-03-02",
                "time": "18:05",
                "fare_basis": "YB",
            }
        ],
    }
    invoice = check_from_exocr(_response(data)).invoice
    assert invoice.invoice_type is T.DIGITAL_FLIGHT
    assert invoice.international_flag == "D"
    assert invoice.flight_detail == [
        FlightSegment(
            departure="深圳",
            arrival="杭州",
            carrier="ZH",
            flight_number="ZH9883",
            seat="Y",
            class_name="YB",
            date="2024-03-02",
            time="18:05",
        )
    ]


# --- to_exocr_response (the hub's own verify endpoint) ------------------------------

_CHECKED_AT = dt.datetime(2023, 10, 17, 21, 9, 47, tzinfo=SHANGHAI)
_PARTIES: dict[str, Any] = {
    "buyer_name": "某某科技有限公司",
    "buyer_tax_code": "91310000MA1FL1234X",
    "seller_name": "某某销售有限公司",
    "seller_tax_code": "9144152157012358X0",
}
_ADDRESSES: dict[str, Any] = {
    "buyer_address_phone": "上海市 021-1",
    "buyer_account": "工行 1",
    "seller_address_phone": "广州市 020-2",
    "seller_account": "建行 2",
}
_MONEY: dict[str, Any] = {
    "amount": D("1300.00"),
    "tax_amount": D("117.00"),
    "total_amount": D("1417.00"),
}
_KEY: dict[str, Any] = {
    "invoice_code": "044031900111",
    "invoice_number": "12345678",
    "receipt_date": dt.date(2021, 1, 21),
}

INVOICES: list[Invoice] = [
    Invoice(
        invoice_type=T.VAT_SPECIAL,
        **_KEY,
        **_PARTIES,
        **_ADDRESSES,
        **_MONEY,
        check_code="07452879925677728392",
        remark="备注",
        machine_number="661234567890",
        agent_mark="N",
        items=[
            LineItem(
                name="*水果*橙",
                specification="A",
                unit="kg",
                quantity=D("100"),
                unit_price=D("13.2743362832"),
                amount=D("1300.00"),
                tax_rate=D("0.09"),
                tax_amount=D("117.00"),
                total_amount=D("1417.00"),
            )
        ],
    ),
    Invoice(
        invoice_type=T.BLOCKCHAIN, **_KEY, **_PARTIES, **_MONEY, check_code="12345", agent_mark="N"
    ),
    Invoice(
        invoice_type=T.VAT_ROLL,
        **_KEY,
        **_PARTIES,
        **_MONEY,
        check_code="07452879925677728392",
        machine_number="661234567890",
        agent_mark="N",
        items=[LineItem(name="*汽油*95#", quantity=D("40"), total_amount=D("1417.00"))],
    ),
    Invoice(
        invoice_type=T.MOTOR_VEHICLE,
        **_KEY,
        **_PARTIES,
        **_MONEY,
        tax_rate=D("0.13"),
        seller_address_phone="广州市 020-2",
        seller_account="建行 2",
        machine_number="661234567890",
    ),
    Invoice(
        invoice_type=T.USED_CAR,
        **_KEY,
        **_PARTIES,
        total_amount=D("112300.00"),
        buyer_address_phone="上海市 021-1",
        seller_address_phone="广州市 020-2",
        remark="备注",
        machine_number="661234567890",
    ),
    Invoice(
        invoice_type=T.VAT_ELECTRONIC_TOLL,
        **_KEY,
        **_PARTIES,
        **_ADDRESSES,
        **_MONEY,
        check_code="07452879925677728392",
        machine_number="499099999999",
        highway_flag=False,
        items=[
            LineItem(
                name="*经营租赁*通行费",
                specification="客车",
                amount=D("1300.00"),
                tax_rate=D("0.03"),
                tax_amount=D("117.00"),
            )
        ],
    ),
    Invoice(
        invoice_type=T.DIGITAL_RAIL,
        invoice_number="24319110000000000001",
        receipt_date=dt.date(2024, 3, 1),
        **_PARTIES | {"seller_name": None, "seller_tax_code": None},
        **_MONEY,
        tax_rate=D("0.09"),
        passenger_name="张三",
        id_card="3101061994****0492",
        destination_city="上海虹桥",
        destination_city_to="杭州东",
        train_number="G7501",
        train_class="二等座",
        start_datetime="08:05",
        remark="备注",
    ),
    Invoice(
        invoice_type=T.DIGITAL_FLIGHT,
        invoice_number="24319110000000000002",
        receipt_date=dt.date(2024, 3, 1),
        buyer_name="某某科技有限公司",
        buyer_tax_code="91310000MA1FL1234X",
        tax_amount=D("0.00"),
        total_amount=D("1420.00"),
        passenger_name="张三",
        id_card="530492199402239932",
        international_flag="I",
        flight_detail=[
            FlightSegment(
                departure="深圳",
                arrival="香港",
                carrier="CX",
                flight_number="CX123",
                seat="Y",
                class_name="YB",
                date="2024-03-02",
                time="18:05",
            )
        ],
        remark="备注",
    ),
]


@pytest.mark.parametrize("invoice", INVOICES, ids=[i.invoice_type.name for i in INVOICES])
def test_served_answer_reads_back_as_the_same_check(invoice: Invoice) -> None:
    check = CheckResult(
        success=True,
        message="查验成功",
        checked_at=_CHECKED_AT,
        invoice=invoice,
        state=InvoiceState.PARTLY_RED_REVERSED
        if invoice.invoice_type is not T.VAT_ROLL
        else InvoiceState.NORMAL,
        verify_count=3,
    )
    served = to_exocr_response(check, request_id="R1", recognize_time=5, available_count=9)
    on_the_wire = load_json(dump_json(served.to_wire()))
    assert on_the_wire["error_code"] == 0
    assert on_the_wire["result"]["result_code"] == 1
    again = check_from_exocr(VerifyResponse.model_validate(on_the_wire))
    assert again == check


@pytest.mark.parametrize(
    ("invoice_type", "schema", "code"),
    [
        (T.VAT_SPECIAL, VatData, "10"),
        (T.VAT_ROLL, RollData, "60"),
        (T.MOTOR_VEHICLE, MotorVehicleData, "50"),
        (T.USED_CAR, UsedCarData, "70"),
        (T.DIGITAL_RAIL, RailTicketData, "110"),  # 003 names no code of its own
    ],
)
def test_served_answer_uses_the_types_schema_and_response_code(
    invoice_type: InvoiceType, schema: type[BaseModel], code: str
) -> None:
    check = CheckResult(success=True, invoice=_invoice(invoice_type))
    result = to_exocr_response(check).result
    assert result is not None
    assert type(result.data) is schema
    assert result.data is not None
    assert result.data.invoice_type == code


def test_served_answer_writes_exocr_spelling_and_percent() -> None:
    check = check_from_exocr(VerifyResponse.model_validate(EXAMPLE))
    served = to_exocr_response(check, request_id="R1").to_wire()
    data = served["result"]["data"]
    assert data["total"] == "1300.00"
    assert data["amount"] == "1417.00"
    assert data["inv_status"] == "30"
    assert data["cancel_flag"] == "N"
    assert data["verify_date"] == "2023-10-17 21:09:47"
    assert data["create_date"] == "20210121"
    assert "productO_oil_flag" in data
    assert data["detail_list"][0]["tax_rate"] == "9"
    assert data["note"] == ""  # exocr writes "" for nothing
    assert served["request_id"] == "R1"


def test_served_answer_of_a_void_invoice_is_cancelled() -> None:
    check = CheckResult(
        success=True, invoice=_invoice(T.VAT_NORMAL), cancelled=True, state=InvoiceState.VOID
    )
    result = to_exocr_response(check).result
    assert result is not None
    assert isinstance(result.data, VatData)
    assert (result.data.cancel_flag, result.data.inv_status) == ("Y", "10")


@pytest.mark.parametrize(
    ("error", "error_code", "result_code"),
    [
        ("4002", 4002, None),  # a call error: no result at all
        ("3213", 3213, None),
        ("9", 0, 9),  # a verification outcome
        ("2", 0, 2),
        ("907002", 0, 8),  # not exocr's: 发票查验操作异常
        (None, 0, 8),
    ],
)
def test_served_failure_is_told_by_exocr_codes(
    error: str | None, error_code: int, result_code: int | None
) -> None:
    check = CheckResult(success=False, error=error, invoice=_invoice(T.VAT_NORMAL))
    served = to_exocr_response(check)
    assert served.error_code == error_code
    if result_code is None:
        assert served.result is None
        assert served.description
    else:
        assert served.result is not None
        assert served.result.result_code == result_code
        assert served.result.data is None
        assert served.result.desc


def test_served_mismatch_carries_the_data() -> None:
    check = CheckResult(success=False, error="6", invoice=_invoice(T.VAT_NORMAL))
    result = to_exocr_response(check).result
    assert result is not None
    assert result.result_code == 6
    assert isinstance(result.data, VatData)


def test_served_answer_for_a_type_exocr_does_not_know_is_refused() -> None:
    with pytest.raises(TypeNotInVocabulary):
        to_exocr_response(CheckResult(success=True, invoice=_invoice(T.TAXI)))


def test_verify_form_reads_as_the_invoice_it_asks_about() -> None:
    request = VerifyRequest.from_form(
        {
            "app_key": "k",
            "app_secret": "s",
            "invoice_type": "10",
            "invoice_no": "12345678",
            "invoice_code": "044031900111",
            "check_code_last6": "728392",
            "total": "1417.00",
            "create_date": "20210121",
        }
    )
    invoice = invoice_from_verify_request(request)
    assert invoice.invoice_type is T.VAT_ELECTRONIC_NORMAL
    assert invoice.total_amount == D("1417.00")  # 10: 价税合计
    assert invoice.amount is None
    assert invoice.receipt_date == dt.date(2021, 1, 21)
    assert invoice.check_code is None


def test_verify_form_with_unknown_type_code_is_refused() -> None:
    request = VerifyRequest(app_key="k", app_secret="s", invoice_type="99", invoice_no="1")
    with pytest.raises(UnknownTypeCode):
        invoice_from_verify_request(request)
