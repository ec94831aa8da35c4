"""Mapper of spec 002: canonical invoice + check + status -> Maycur InvoiceDto."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from fapiao.catalogue.types import InvoiceType
from fapiao.mapping.maycur import (
    amount_input,
    amount_str,
    to_import_failure,
    to_import_response,
    to_invoice_dto,
    validate_status,
)
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.wire.common import load_json
from fapiao.wire.maycur import (
    Attachment,
    ImportInvoicePicResponse,
    InvoiceDto,
    ValidateStatus,
)

# 002's example invoice, as the canonical model holds it.
METRO = Invoice(
    invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
    invoice_code="033002300611",
    invoice_number="99007885",
    receipt_date=dt.date(2024, 6, 27),
    check_code="60258258882690380411",
    amount=Decimal("3.67"),
    tax_amount=Decimal("0.33"),
    total_amount=Decimal("4.00"),
    tax_rate=Decimal("0.09"),
    buyer_name="杭州每刻科技有限公司",
    buyer_tax_code="91330108341927699X",
    buyer_account="工行 1",
    seller_name="杭州地铁运营有限公司",
    seller_tax_code="91330102MA7F72672F",
    seller_address_phone="浙江省杭州市上城区九和路466号3幢12层0571-96600",
    seller_account="中国建设银行股份有限公司杭州秋涛支行营业部33050110438609666666",
    machine_number="661103102500",
    company_seal=True,
    items=[
        LineItem(
            name="*运输服务*地铁票",
            quantity=Decimal("1.0"),
            unit_price=Decimal("3.669725"),
            amount=Decimal("3.670000"),
            tax_rate=Decimal("0.090000"),
            tax_amount=Decimal("0.330000"),
        )
    ],
)
CHECKED = CheckResult(success=True, invoice=METRO)
ISSUE_DATE_MILLIS = 1719417600000  # 2024-06-27 00:00 Asia/Shanghai, as in 002's example


def assert_no_floats(value: Any, path: str = "$") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_floats(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_floats(item, f"{path}[{index}]")
    else:
        assert not isinstance(value, float), f"{path} is a float: {value!r}"


@pytest.mark.parametrize(
    ("status", "expected", "desc"),
    [
        (InvoiceStatus.VERIFIED, ValidateStatus.VALIDATED, "已验真"),
        (InvoiceStatus.CHECK_FAILED, ValidateStatus.VALIDATION_FAILED, "验真失败"),
        (InvoiceStatus.AWAITING_CHECK, ValidateStatus.NOT_VALIDATION, "未验真"),
        (InvoiceStatus.RECOGNIZING, ValidateStatus.NOT_VALIDATION, "未验真"),
        (InvoiceStatus.UNRECOGNISABLE, ValidateStatus.NOT_VALIDATION, "未验真"),
        (InvoiceStatus.RECOGNIZED, ValidateStatus.NOT_VALIDATION, "未验真"),
    ],
)
def test_validate_status_follows_the_invoice_status(
    status: InvoiceStatus, expected: ValidateStatus, desc: str
) -> None:
    assert validate_status(status) is expected
    dto = to_invoice_dto(METRO, None, status)
    assert dto.validate_status is expected
    assert dto.validate_status_desc == desc
    assert dto.to_wire()["validateStatus"] == expected.value


def test_type_is_the_canonical_name_and_its_chinese_value() -> None:
    wire = to_invoice_dto(METRO, CHECKED, InvoiceStatus.VERIFIED).to_wire()
    assert wire["invoiceTypeEnum"] == "VAT_ELECTRONIC_NORMAL"
    assert wire["invoiceTypeDesc"] == "增值税电子普通发票"
    assert wire["type"] == "10"  # the platform code
    assert wire["lineItems"][0]["invoiceType"] == "10"


def test_printed_fields_and_dates() -> None:
    dto = to_invoice_dto(
        METRO,
        CHECKED,
        InvoiceStatus.VERIFIED,
        invoice_data_code="INV1",
        expense_code="FD1",
        user_code="UI1",
        employee_id="MK00001",
    )
    wire = dto.to_wire()
    assert wire["issueDate"] == ISSUE_DATE_MILLIS
    assert wire["ticketData"]["consumeTime"] == ISSUE_DATE_MILLIS
    assert wire["ticketData"]["machineCode"] == "661103102500"
    assert wire["totalPriceAmount"] == Decimal("3.67")
    assert wire["totalTaxAmount"] == Decimal("0.33")
    assert str(wire["totalPriceAndTax"]) == "4.00"
    assert wire["invoiceCodeNumber"] == "03300230061199007885"
    assert wire["checksum"] == "60258258882690380411"
    assert wire["supplierName"] == "杭州地铁运营有限公司"
    assert wire["supplierAddress"] == "浙江省杭州市上城区九和路466号3幢12层0571-96600"
    assert wire["supplierTaxNumber"] == "91330102MA7F72672F"
    assert wire["buyerTaxNumber"] == "91330108341927699X"
    assert wire["companySeal"] is True
    assert wire["source"] == "OPENAPI_IMPORT"
    assert wire["invoiceDataCode"] == "INV1"
    assert wire["expenseCode"] == "FD1"
    assert wire["userCode"] == "UI1"
    assert wire["employeeId"] == "MK00001"
    assert wire["cancellationMark"] == "NOT_INVALID"
    (line,) = wire["lineItems"]
    assert line["priceAmount"] == Decimal("3.670000")
    assert line["unitPrice"] == Decimal("3.669725")
    assert line["num"] == Decimal("1.0")
    assert line["invoiceDataCode"] == "INV1"
    assert line["expenseCode"] == "FD1"


def test_amounts_are_never_floats() -> None:
    dto = to_invoice_dto(
        METRO,
        CHECKED,
        InvoiceStatus.VERIFIED,
        approved_tax_amount=Decimal("0.33"),
        approved_deduction_amount=Decimal("0.00"),
    )
    wire = dto.to_wire()
    assert_no_floats(wire)
    assert isinstance(wire["approvedTaxAmount"]["amount"], Decimal)
    # and the JSON text keeps the scale
    text = dto.to_json()
    assert '"totalPriceAndTax": 4.00' in text
    assert '"amount": 0.00' in text


def test_approved_amounts_are_amount_inputs_in_the_invoice_currency() -> None:
    dto = to_invoice_dto(
        METRO,
        CHECKED,
        InvoiceStatus.VERIFIED,
        approved_tax_amount=Decimal("0.33"),
        approved_deduction_amount=Decimal("0.00"),
    )
    wire = dto.to_wire()
    assert wire["approvedTaxAmount"] == {
        "currency": "CNY",
        "amount": Decimal("0.33"),
        "customExchangeRate": Decimal(1),
        "amountStr": "¥0.33",
    }
    assert wire["approvedDeductionAmount"]["amountStr"] == "¥0.00"
    unset = to_invoice_dto(METRO, CHECKED, InvoiceStatus.VERIFIED)
    assert unset.approved_tax_amount is None  # the tax computation decides, not the mapper


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("0.00"), "CNY", "¥0.00"),
        (Decimal("0"), "CNY", "¥0.00"),
        (Decimal("250"), "CNY", "¥250.00"),
        (Decimal("152.295"), "CNY", "¥152.30"),
        (Decimal("-3.67"), "CNY", "-¥3.67"),
        (Decimal("1E+3"), "USD", "$1000.00"),
        (Decimal("12.5"), "CHF", "CHF 12.50"),
    ],
)
def test_amount_str(amount: Decimal, currency: str, text: str) -> None:
    assert amount_str(amount, currency) == text


def test_amount_input_exchange_rate_is_one_only_for_cny() -> None:
    assert amount_input(Decimal(1), "CNY").custom_exchange_rate == Decimal(1)
    assert amount_input(Decimal(1), "USD").custom_exchange_rate is None
    given = amount_input(Decimal(1), "USD", Decimal("7.1234"))
    assert given.custom_exchange_rate == Decimal("7.1234")


def test_currency_of_the_invoice_then_cny() -> None:
    in_usd = METRO.model_copy(update={"currency": "USD"})
    dto = to_invoice_dto(in_usd, None, InvoiceStatus.RECOGNIZED, approved_tax_amount=Decimal(1))
    assert dto.approved_tax_amount is not None
    assert dto.approved_tax_amount.currency == "USD"
    assert dto.approved_tax_amount.amount_str == "$1.00"
    dto = to_invoice_dto(METRO, None, InvoiceStatus.RECOGNIZED, approved_tax_amount=Decimal(1))
    assert dto.approved_tax_amount is not None
    assert dto.approved_tax_amount.currency == "CNY"


def test_accounts_are_empty_unless_a_vat_invoice_is_verified() -> None:
    verified = to_invoice_dto(METRO, CHECKED, InvoiceStatus.VERIFIED)
    assert verified.supplier_account == METRO.seller_account
    assert verified.buyer_account == "工行 1"
    unverified = to_invoice_dto(METRO, None, InvoiceStatus.RECOGNIZED)
    assert (unverified.supplier_account, unverified.buyer_account) == ("", "")
    taxi = Invoice(invoice_type=InvoiceType.TAXI, seller_account="x")
    not_vat = to_invoice_dto(taxi, None, InvoiceStatus.VERIFIED)
    assert not_vat.supplier_account == ""


def test_cancellation_mark_from_the_check() -> None:
    void = CheckResult(success=True, invoice=METRO, cancelled=True, state=InvoiceState.VOID)
    assert to_invoice_dto(METRO, void, InvoiceStatus.VERIFIED).cancellation_mark == "INVALID"
    assert to_invoice_dto(METRO, CHECKED, InvoiceStatus.VERIFIED).cancellation_mark == (
        "NOT_INVALID"
    )
    assert to_invoice_dto(METRO, None, InvoiceStatus.RECOGNIZED).cancellation_mark is None


def test_the_error_is_the_catalogue_s_code_and_message_never_the_checker_s_alone() -> None:
    failed = CheckResult(
        success=False, error="3207", message="5年以前开具的发票无法查询", invoice=METRO
    )
    said = "开票日期超过五年,无法查验: 5年以前开具的发票无法查询"
    dto = to_invoice_dto(
        METRO, failed, InvoiceStatus.CHECK_FAILED, error_code="907008", error_message=said
    )
    assert (dto.error_code, dto.error_message) == ("907008", said)
    unsaid = to_invoice_dto(METRO, failed, InvoiceStatus.CHECK_FAILED)
    assert (unsaid.error_code, unsaid.error_message) == (None, None)  # exocr's 3207 is not 002's
    assert to_invoice_dto(METRO, CHECKED, InvoiceStatus.VERIFIED).error_code is None


def test_an_invoice_awaiting_its_check_is_not_validated_never_validation_failed() -> None:
    # C (waiting for completion, a busy provider, tomorrow) is 未验真: nothing failed.
    dto = to_invoice_dto(
        METRO,
        None,
        InvoiceStatus.AWAITING_CHECK,
        remark="发票信息不全,补全后查验: total_amount",
        error_code="907010",
        error_message="发票信息不全,补全后查验: total_amount",
    )
    assert (dto.validate_status, dto.validate_status_desc) == (
        ValidateStatus.NOT_VALIDATION,
        "未验真",
    )
    assert dto.remark == "发票信息不全,补全后查验: total_amount"


def test_imported_at_is_epoch_millis_and_shanghai_year_month() -> None:
    # 2024-11-30T20:00Z is already December 1st in Shanghai
    imported_at = dt.datetime(2024, 11, 30, 20, 0, tzinfo=dt.UTC)
    dto = to_invoice_dto(METRO, None, InvoiceStatus.RECOGNIZED, imported_at=imported_at)
    assert dto.imported_at == 1732996800000
    assert dto.imported_at_year_month == "202412"


def test_invoice_without_date_or_code_has_nulls() -> None:
    digital = Invoice(invoice_type=InvoiceType.DIGITAL_NORMAL, invoice_number="2" * 20)
    wire = to_invoice_dto(digital, None, InvoiceStatus.RECOGNIZED).to_wire()
    assert wire["issueDate"] is None
    assert wire["invoiceCode"] is None
    assert wire["invoiceCodeNumber"] == "2" * 20
    assert wire["type"] == "21"


def test_attachments_are_written_as_given() -> None:
    attachment = Attachment(code="ATT1", filename="a.pdf", type="application/pdf")
    dto = to_invoice_dto(METRO, None, InvoiceStatus.RECOGNIZED, attachments=[attachment])
    assert dto.to_wire()["attachments"][0]["code"] == "ATT1"


def test_import_response_envelope() -> None:
    dto = to_invoice_dto(METRO, CHECKED, InvoiceStatus.VERIFIED, invoice_data_code="INV1")
    response = to_import_response([dto])
    wire = load_json(response.to_json())
    assert wire["code"] == "ACK"
    assert wire["success"] is True
    assert wire["errorCode"] is None
    assert wire["message"] is None
    assert wire["data"][0]["invoiceDataCode"] == "INV1"
    again = ImportInvoicePicResponse.model_validate(wire)
    assert again.data is not None
    assert isinstance(again.data[0], InvoiceDto)
    assert again == response


def test_import_failure_envelope() -> None:
    wire = load_json(to_import_failure("INV20006", "传入的文件无法识别").to_json())
    assert wire == {
        "code": "NACK",
        "message": "传入的文件无法识别",
        "data": None,
        "errorCode": "INV20006",
        "success": False,
    }
