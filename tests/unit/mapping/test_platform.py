"""Mappers of the platform specs: 001 request <-> canonical, canonical -> 000 results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from fapiao.catalogue.types import InvoiceType, UnknownTypeCode
from fapiao.dates import InvalidDate
from fapiao.mapping.invoice_create import (
    check_from_receipt_check,
    invoice_from_create_request,
    invoice_from_ocr_invoice,
    invoices_from_create_request,
    to_create_request,
    to_ocr_invoice,
    to_receipt_check,
)
from fapiao.mapping.ocr_sync import to_check_result, to_ocr_result, to_ocr_sync_item
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.wire.common import load_json
from fapiao.wire.invoice_create import CreateRequest, OcrInvoice, ReceiptCheck
from fapiao.wire.ocr_sync import OcrSyncResponse

# 001's request example (its invoice trimmed of the fields that are null there).
CREATE_EXAMPLE = """
{
  "bizId": "1659685330206",
  "timestamp": 1659685330206,
  "user_code": "sss.ddd",
  "receipt_ocr": {
    "result": 1, "error": null, "message": "success", "time_cost": "1360",
    "version": "20201023",
    "invoices": [
      {
        "image_size": [720, 1280],
        "attachment_url": "22067/2022/07-22/receipt/04a8454b.jpg",
        "invoice_type": "10",
        "direction": 3,
        "region": [0, 75, 720, 1280],
        "invoice_code": "033022100211",
        "amount": 250,
        "tax_amount": 0,
        "total_amount": 250,
        "invoice_number": "68552329",
        "receipt_date": "20220627",
        "remark": "JIHAIR0NGv.2225/219359778//CHATT0GRAM/",
        "title": "宁波增值税电子普通发票",
        "check_code": "58053893572132760108",
        "agent_mark": null,
        "buyer_name": "快舱(江苏)供应链管理有限公司常州分公司",
        "buyer_tax_code": "91320402MA1YA9ELXL",
        "seller_name": "宁波港东南扬子江物流有限公司",
        "seller_tax_code": "91330212MA2J5RER99",
        "flight_detail": null,
        "purchase_invoice": null
      }
    ]
  },
  "receipt_check": {
    "result": 1, "error": null, "message": null,
    "check_date": "2022-07-21T17:07:42.000Z",
    "invoice_type": "10",
    "invoice_code": "033022100211",
    "invoice_num": "68552329",
    "receipt_date": "2022-06-27T00:00:00.000Z",
    "check_code": "58053893572132760108",
    "total_amount": 250, "amount": 250, "tax_amount": 0,
    "remark": "JI HAI RONG v.2225 / 219359778 /  / CHATTOGRAM /",
    "buyer_name": "快舱(江苏)供应链管理有限公司常州分公司",
    "buyer_tax_code": "91320402MA1YA9ELXL",
    "buyer_address_phone": "常州市天宁区关河东路66号1906室0519-88761158",
    "buyer_account": "中国银行常州天宁支行营业部513173202341",
    "seller_name": "宁波港东南扬子江物流有限公司",
    "seller_tax_code": "91330212MA2J5RER99",
    "seller_address_phone": "宁波市鄞州区昌乐路258号东南物流大厦501-2室0574-87096741",
    "seller_account": "中国银行宁波市分行RMB355879523118",
    "cancellation_mark": "N",
    "repeat_flag": null,
    "detail_list": [
      {"name": "*经纪代理服务*国际货物运输代理服务费", "specification": "", "unit": "票",
       "total_amount": 250, "amount": 250, "tax_amount": 0, "price": 250, "quantity": 1,
       "tax_rate": 0}
    ]
  }
}
"""

SHANGHAI_MIDNIGHT_2022_06_27 = 1656259200000  # 2022-06-26T16:00:00Z
UTC_MIDNIGHT_2022_06_27 = 1656288000000  # 2022-06-27T00:00:00Z, as 000's checkResult writes


def create_example() -> CreateRequest:
    return CreateRequest.model_validate(load_json(CREATE_EXAMPLE))


def ocr_invoice(**fields: Any) -> OcrInvoice:
    base: dict[str, Any] = {"attachment_url": "a.pdf", "invoice_type": "10", "total_amount": 1}
    return OcrInvoice.model_validate({**base, **fields})


def assert_no_floats(value: Any, path: str = "$") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_floats(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_floats(item, f"{path}[{index}]")
    else:
        assert not isinstance(value, float), f"{path} is a float: {value!r}"


# --- 001 -> canonical ---------------------------------------------------------------


def test_001_example_invoice_is_canonical() -> None:
    invoice, check = invoice_from_create_request(create_example())
    assert invoice.invoice_type is InvoiceType.VAT_ELECTRONIC_NORMAL
    assert invoice.total_amount == Decimal("250")
    assert isinstance(invoice.total_amount, Decimal)
    assert invoice.tax_amount == Decimal(0)
    assert invoice.receipt_date == dt.date(2022, 6, 27)
    assert invoice.invoice_key == "03302210021168552329"
    assert invoice.image_size == [720, 1280]
    assert invoice.region == [0, 75, 720, 1280]
    assert invoice.direction == 3
    assert invoice.purchase_invoice is None
    assert invoice.flight_detail == []
    assert check is not None


def test_001_example_check_is_canonical() -> None:
    _, check = invoice_from_create_request(create_example())
    assert check is not None
    assert check.success is True
    assert check.checked_at == dt.datetime(2022, 7, 21, 17, 7, 42, tzinfo=dt.UTC)
    assert check.cancelled is False
    assert check.state is InvoiceState.NORMAL
    assert check.invoice.invoice_type is InvoiceType.VAT_ELECTRONIC_NORMAL
    assert check.invoice.invoice_number == "68552329"
    # midnight UTC in the example is 08:00 in Shanghai: the same calendar date
    assert check.invoice.receipt_date == dt.date(2022, 6, 27)
    assert check.invoice.buyer_account == "中国银行常州天宁支行营业部513173202341"
    (line,) = check.invoice.items
    assert line.unit_price == Decimal(250)
    assert line.quantity == Decimal(1)
    assert line.specification == ""


def test_001_receipt_date_at_shanghai_midnight_reads_as_the_same_date() -> None:
    check = check_from_receipt_check(
        ReceiptCheck(invoice_type="10", receipt_date="2022-06-26T16:00:00.000Z")
    )
    assert check.invoice.receipt_date == dt.date(2022, 6, 27)


def test_001_cancellation_mark_y_is_cancelled() -> None:
    check = check_from_receipt_check(
        ReceiptCheck.model_validate({"result": 1, "invoice_type": "04", "cancellation_mark": "Y"})
    )
    assert check.cancelled is True
    assert check.state is InvoiceState.VOID
    assert check.invoice.invoice_type is InvoiceType.VAT_NORMAL


def test_001_check_result_other_than_1_is_a_failed_check() -> None:
    check = check_from_receipt_check(
        ReceiptCheck(result=0, error="3202", message="busy", invoice_type="10")
    )
    assert check.success is False
    assert check.error == "3202"


def test_001_check_without_type_takes_the_recognized_type() -> None:
    check = check_from_receipt_check(ReceiptCheck(result=1), default_type=InvoiceType.VAT_SPECIAL)
    assert check.invoice.invoice_type is InvoiceType.VAT_SPECIAL
    with pytest.raises(UnknownTypeCode):
        check_from_receipt_check(ReceiptCheck(result=1))


@pytest.mark.parametrize("code", ["42", "", "1000", "VAT"])
def test_001_unknown_type_code_raises(code: str) -> None:
    with pytest.raises(UnknownTypeCode):
        invoice_from_ocr_invoice(ocr_invoice(invoice_type=code))


def test_001_unknown_type_code_in_the_check_raises() -> None:
    with pytest.raises(UnknownTypeCode):
        check_from_receipt_check(ReceiptCheck(invoice_type="42"))


def test_001_type_code_as_a_number_decodes() -> None:
    invoice = invoice_from_ocr_invoice(ocr_invoice(invoice_type=1))
    assert invoice.invoice_type is InvoiceType.VAT_SPECIAL


def test_001_type_codes_name_the_transport_types() -> None:
    expected = {
        "51": InvoiceType.QUOTA,
        "60": InvoiceType.TRAIN,
        "61": InvoiceType.TAXI,
        "63": InvoiceType.TOLL,
        "65": InvoiceType.FLIGHT_ITINERARY,
        "67": InvoiceType.DIGITAL_RAIL,
        "68": InvoiceType.DIGITAL_FLIGHT,
    }
    for code, invoice_type in expected.items():
        assert invoice_from_ocr_invoice(ocr_invoice(invoice_type=code)).invoice_type is (
            invoice_type
        )


def test_001_malformed_receipt_date_raises() -> None:
    with pytest.raises(InvalidDate):
        invoice_from_ocr_invoice(ocr_invoice(receipt_date="20221340"))


def test_001_flight_itinerary_fields() -> None:
    invoice = invoice_from_ocr_invoice(
        ocr_invoice(
            invoice_type="65",
            name="张三",
            id_card="110101199003071234",
            fare="1200.00",
            fuel_surcharge=50,
            international_flag="D",
            flight_detail=[
                {
                    "from": "北京",
                    "to": "上海",
                    "time": "8:05",
                    "date": "2022-06-27",
                    "seat": "Y",
                    "flight_class": "经济舱",
                    "class_name": "Y",
                    "flight_number": "MU5100",
                }
            ],
        )
    )
    assert invoice.passenger_name == "张三"
    assert invoice.fare == Decimal("1200.00")
    assert invoice.fuel_surcharge == Decimal(50)
    (leg,) = invoice.flight_detail
    assert (leg.departure, leg.arrival) == ("北京", "上海")
    assert leg.time == "08:05"  # HH:mm
    assert leg.flight_number == "MU5100"


def test_001_taxi_and_train_fields() -> None:
    taxi = invoice_from_ocr_invoice(
        ocr_invoice(invoice_type="61", start_time="9:30", end_time="10:02", mileage="12.5")
    )
    assert (taxi.start_time, taxi.end_time, taxi.mileage) == ("09:30", "10:02", Decimal("12.5"))
    train = invoice_from_ocr_invoice(
        ocr_invoice(
            invoice_type="60",
            destination_city="北京南",
            destination_city_to="上海虹桥",
            train_number="G1",
            train_class="二等座",
            start_datetime="07:00",
        )
    )
    assert (train.destination_city, train.destination_city_to) == ("北京南", "上海虹桥")
    assert (train.train_number, train.train_class, train.start_datetime) == (
        "G1",
        "二等座",
        "07:00",
    )


@pytest.mark.parametrize(("flag", "read"), [("Y", True), ("N", False), ("y", True), (None, None)])
def test_001_y_n_flags_are_bools(flag: str | None, read: bool | None) -> None:
    invoice = invoice_from_ocr_invoice(
        ocr_invoice(company_seal=flag, purchase_invoice=flag, highway_flag=flag)
    )
    assert invoice.company_seal is read
    assert invoice.purchase_invoice is read
    assert invoice.highway_flag is read


def test_001_buyer_bank_is_the_buyer_account() -> None:
    assert invoice_from_ocr_invoice(ocr_invoice(buyer_bank="工行 123")).buyer_account == "工行 123"


def test_001_every_invoice_is_mapped_for_the_one_invoice_rule() -> None:
    request = create_example()
    request.receipt_ocr.invoices.append(request.receipt_ocr.invoices[0])
    assert len(invoices_from_create_request(request)) == 2
    request.receipt_ocr.invoices.clear()
    assert invoices_from_create_request(request) == []
    with pytest.raises(ValueError, match="empty"):
        invoice_from_create_request(request)


def test_001_request_without_check_maps_to_none() -> None:
    request = create_example()
    request.receipt_check = None
    _, check = invoice_from_create_request(request)
    assert check is None


# --- canonical -> 001 ---------------------------------------------------------------


def test_001_invoice_round_trips_through_the_wire() -> None:
    invoice, _ = invoice_from_create_request(create_example())
    wire = to_ocr_invoice(invoice)
    assert wire.receipt_date == "20220627"
    assert wire.invoice_type == "10"
    assert invoice_from_ocr_invoice(wire) == invoice


def test_001_flight_legs_are_written_with_from_and_to() -> None:
    invoice = invoice_from_ocr_invoice(
        ocr_invoice(invoice_type="65", flight_detail=[{"from": "PEK", "to": "SHA"}])
    )
    written = to_ocr_invoice(invoice).to_wire()
    assert written["flight_detail"][0]["from"] == "PEK"
    assert written["flight_detail"][0]["to"] == "SHA"
    assert invoice_from_ocr_invoice(to_ocr_invoice(invoice)) == invoice


def test_001_invoice_without_file_or_total_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="attachment_url"):
        to_ocr_invoice(Invoice(invoice_type=InvoiceType.TAXI, total_amount=Decimal(1)))


def test_001_check_round_trips_through_the_wire() -> None:
    _, check = invoice_from_create_request(create_example())
    assert check is not None
    wire = to_receipt_check(check)
    assert wire.check_date == "2022-07-21T17:07:42.000Z"
    # as 001's example writes it: the calendar date at 00:00 UTC
    assert wire.receipt_date == "2022-06-27T00:00:00.000Z"
    assert wire.cancellation_mark == "N"
    assert check_from_receipt_check(wire) == check


def test_001_void_state_is_written_as_cancelled() -> None:
    check = CheckResult(
        success=True,
        invoice=Invoice(invoice_type=InvoiceType.VAT_SPECIAL),
        state=InvoiceState.VOID,
    )
    assert to_receipt_check(check).cancellation_mark == "Y"


def test_001_whole_request_is_built_and_reads_back() -> None:
    invoice, check = invoice_from_create_request(create_example())
    request = to_create_request(
        biz_id="b1", timestamp=1659685330206, user_code="u", invoice=invoice, check=check
    )
    again = CreateRequest.model_validate(load_json(request.to_json()))
    assert invoice_from_create_request(again) == (invoice, check)
    assert load_json(request.to_json())["bizId"] == "b1"


# --- canonical -> 000 ---------------------------------------------------------------


def test_000_check_result_receipt_date_is_utc_midnight_in_millis() -> None:
    _, check = invoice_from_create_request(create_example())
    assert check is not None
    result = to_check_result(check)
    assert result.receipt_date == UTC_MIDNIGHT_2022_06_27
    wire = result.to_wire()
    assert wire["receiptDate"] == UTC_MIDNIGHT_2022_06_27
    assert wire["invoiceType"] == "10"
    assert wire["invoiceNum"] == "68552329"
    assert wire["cancellationMark"] == "N"
    assert wire["result"] == 1
    assert wire["detailList"][0]["price"] == Decimal(250)
    assert_no_floats(wire)


def test_000_receipt_date_of_the_000_example_is_its_epoch_millis() -> None:
    invoice = Invoice(
        invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL, receipt_date=dt.date(2024, 4, 10)
    )
    assert to_ocr_result(invoice, InvoiceStatus.RECOGNIZED).receipt_date == 1712678400000


def test_000_ocr_result_amounts_and_names() -> None:
    invoice = Invoice(
        invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
        invoice_number="1",
        amount=Decimal("913.76"),
        tax_amount=Decimal("82.24"),
        total_amount=Decimal("996.00"),
        buyer_account="bank 1",
        buyer_address_phone="addr 0518-83096666",
        highway_flag=False,
        passenger_name="李四",
        items=[LineItem(name="x", unit_price=Decimal("152.293333"), quantity=Decimal(6))],
    )
    wire = to_ocr_result(invoice, InvoiceStatus.VERIFIED).to_wire()
    assert wire["amount"] == Decimal("996.00")  # with tax, as in 000's example
    assert str(wire["amount"]) == "996.00"
    assert wire["pretax_amount"] == Decimal("913.76")
    assert wire["tax_amount"] == Decimal("82.24")
    assert wire["invoice_status"] == "Y"
    assert wire["invoice_type"] == "10"
    assert wire["invoice_num"] == "1"
    assert wire["buyer_bank_account"] == "bank 1"
    assert wire["buyer_addr_tel"] == "addr 0518-83096666"
    assert wire["highway_flag"] == "N"
    assert wire["name"] == "李四"
    assert wire["items"][0]["price"] == Decimal("152.293333")
    assert_no_floats(wire)


def test_000_cancelled_check_is_marked_y() -> None:
    check = CheckResult(
        success=True, invoice=Invoice(invoice_type=InvoiceType.VAT_SPECIAL), cancelled=True
    )
    assert to_check_result(check).cancellation_mark == "Y"


def test_000_item_without_check_has_null_check_result() -> None:
    invoice = Invoice(invoice_type=InvoiceType.TAXI, total_amount=Decimal("23.00"))
    item = to_ocr_sync_item(invoice, None, InvoiceStatus.RECOGNIZED)
    assert item.to_wire()["checkResult"] is None
    assert item.ocr_result is not None
    assert item.ocr_result.invoice_type == "61"


def test_000_response_of_mapped_items_serialises_and_reads_back() -> None:
    invoice, check = invoice_from_create_request(create_example())
    response = OcrSyncResponse(
        res_code=200000,
        res_msg="success",
        biz_id="b",
        data=[to_ocr_sync_item(invoice, check, InvoiceStatus.VERIFIED)],
    )
    text = response.to_json()
    assert '"totalAmount": 250' in text
    again = OcrSyncResponse.model_validate(load_json(text))
    assert again == response


def test_000_item_says_why_its_status_with_001_s_names() -> None:
    invoice = Invoice(invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL, invoice_number="1")
    item = to_ocr_sync_item(
        invoice,
        None,
        InvoiceStatus.CHECK_FAILED,
        message_code=907008,
        message="开票日期超过五年,无法查验",
    )
    wire = item.to_wire()
    assert (wire["invoice_message_code"], wire["invoice_message"]) == (
        907008,
        "开票日期超过五年,无法查验",
    )
    response = OcrSyncResponse(res_code=200000, biz_id="b", data=[item])
    again = OcrSyncResponse.model_validate(load_json(response.to_json()))
    assert again == response  # still read as an ocrResult element, not an expense one
    verified = to_ocr_sync_item(invoice, None, InvoiceStatus.VERIFIED).to_wire()
    assert (verified["invoice_message_code"], verified["invoice_message"]) == (None, None)
