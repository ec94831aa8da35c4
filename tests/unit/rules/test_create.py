"""Spec 001's rules (fapiao/rules/create.py): each one refused and passed, field named.

A refusal is a ``RuleViolation``: its problem decides the 4001xx ``resCode`` and its
field is what ``resMsg`` names, so both are asserted together with the catalogue row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from fapiao.catalogue.errors import Family, Problem
from fapiao.catalogue.types import PLATFORM, InvoiceType, from_platform_code
from fapiao.model import CheckResult, FlightSegment, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.rules import create as rules
from fapiao.rules.create import RuleViolation
from fapiao.settings import CompanySettings, CompanyTitle

D = Decimal
INVOICE = "receipt_ocr.invoices[0]"
# The buyer of 001's request example.
BUYER = "快舱(江苏)供应链管理有限公司常州分公司"
BUYER_TAX_CODE = "91320402MA1YA9ELXL"
OWN_TITLE = CompanyTitle(name=BUYER, tax_code=BUYER_TAX_CODE)
OTHER_TITLE = CompanyTitle(name="杭州每刻科技有限公司", tax_code="91330108341927699X")

# 001 日期必填票据类型: invoiceType 01, 02, 03, 04, 08, 10, 11, 14, 15, 18, 19, 20, 21, 67, 68.
DATED_CODES = ("01", "02", "03", "04", "08", "10", "11", "14", "15", "18", "19", "20", "21")
DATED_CODES += ("67", "68")


def vat(**changes: Any) -> Invoice:
    """001's example invoice (type 10), changed as a test needs."""
    fields: dict[str, Any] = {
        "invoice_type": InvoiceType.VAT_ELECTRONIC_NORMAL,
        "invoice_code": "033022100211",
        "invoice_number": "68552329",
        "receipt_date": dt.date(2022, 6, 27),
        "amount": D("250"),
        "tax_amount": D("0"),
        "total_amount": D("250"),
        "buyer_name": BUYER,
        "buyer_tax_code": BUYER_TAX_CODE,
    }
    fields.update(changes)
    return Invoice(**fields)


def checked(invoice: Invoice | None = None, **changes: Any) -> CheckResult:
    fields: dict[str, Any] = {"success": True, "invoice": invoice or vat()}
    fields.update(changes)
    return CheckResult(**fields)


# Complete invoices of the types with private fields (001 几种票据类型私有字段).
def train(**changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "invoice_type": InvoiceType.TRAIN,
        "invoice_number": "E012345678",
        "total_amount": D("553.00"),
        "destination_city": "上海虹桥",
        "destination_city_to": "北京南",
        "train_number": "G2",
        "train_class": "二等座",
    }
    return Invoice(**(fields | changes))


def taxi(**changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "invoice_type": InvoiceType.TAXI,
        "invoice_code": "133011960101",
        "invoice_number": "12345678",
        "total_amount": D("36.50"),
        "start_time": "08:05",
        "end_time": "08:41",
        "mileage": D("12.3"),
    }
    return Invoice(**(fields | changes))


def toll(**changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "invoice_type": InvoiceType.TOLL,
        "invoice_number": "00012345",
        "total_amount": D("45"),
        "destination_city": "杭州",
        "destination_city_to": "宁波",
    }
    return Invoice(**(fields | changes))


def leg(**changes: Any) -> FlightSegment:
    fields: dict[str, Any] = {
        "departure": "PEK",
        "arrival": "SHA",
        "flight_number": "CA1501",
        "date": "2022-07-01",
        "time": "09:00",
    }
    return FlightSegment(**(fields | changes))


def flight(**changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "invoice_type": InvoiceType.FLIGHT_ITINERARY,
        "invoice_number": "7812345678",
        "total_amount": D("1350.00"),
        "flight_detail": [leg()],
        "fare": D("1250.00"),
        "fuel_surcharge": D("50.00"),
        "id_card": "110101199003071234",
        "international_flag": "D",
    }
    return Invoice(**(fields | changes))


def quota(**changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "invoice_type": InvoiceType.QUOTA,
        "invoice_code": "133011890101",
        "invoice_number": "00123456",
        "total_amount": D("10"),
        "company_seal": True,
    }
    return Invoice(**(fields | changes))


def digital(invoice_type: InvoiceType, **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "invoice_type": invoice_type,
        "invoice_number": "22312000000012345678",
        "receipt_date": dt.date(2023, 3, 1),
        "total_amount": D("553.00"),
        "buyer_name": BUYER,
    }
    return Invoice(**(fields | changes))


def refused(call: Callable[[], object], problem: Problem, field: str) -> RuleViolation:
    """The call breaks a rule: its problem, the field it names, and the 4001xx row."""
    with pytest.raises(RuleViolation) as caught:
        call()
    violation = caught.value
    assert violation.problem is problem
    assert violation.field == field
    assert str(violation).startswith(f"{field}: ")  # resMsg names the field
    assert violation.entry(Family.PLATFORM).http_status == 400
    return violation


# --- bizId ----------------------------------------------------------------------------


@pytest.mark.parametrize("biz_id", ["1659685330206", "x", "b" * 36])
def test_biz_id_of_1_to_36_characters_passes(biz_id: str) -> None:
    rules.require_biz_id(biz_id)


@pytest.mark.parametrize("biz_id", ["", "   ", "b" * 37])
def test_biz_id_empty_or_over_36_characters_is_refused(biz_id: str) -> None:
    violation = refused(lambda: rules.require_biz_id(biz_id), Problem.INVALID_REQUEST, "bizId")
    assert violation.entry(Family.PLATFORM).code == "400000"


# --- one invoice, result 1 ------------------------------------------------------------


def test_exactly_one_invoice_is_returned() -> None:
    invoice = vat()
    assert rules.require_one_invoice([invoice]) is invoice


@pytest.mark.parametrize("count", [0, 2])
def test_zero_or_two_invoices_are_refused(count: int) -> None:
    invoices = [vat(invoice_number=f"6855232{i}") for i in range(count)]
    violation = refused(
        lambda: rules.require_one_invoice(invoices),
        Problem.ONE_INVOICE_ONLY,
        "receipt_ocr.invoices",
    )
    assert violation.entry(Family.PLATFORM).code == "400101"


def test_recognition_result_1_passes() -> None:
    rules.require_recognition_success(1)


@pytest.mark.parametrize("result", [0, 2])
def test_recognition_result_other_than_1_is_refused(result: int) -> None:
    violation = refused(
        lambda: rules.require_recognition_success(result),
        Problem.RECOGNITION_FAILED,
        "receipt_ocr.result",
    )
    assert violation.entry(Family.PLATFORM).code == "400102"


# --- the invoice number (duplicate-import key) ----------------------------------------


def test_invoice_number_gives_the_key_of_code_and_number() -> None:
    assert rules.require_invoice_number(vat()) == "03302210021168552329"


def test_digital_number_split_12_plus_8_gives_the_same_key_as_whole() -> None:
    whole = digital(InvoiceType.DIGITAL_NORMAL, invoice_number="22312000000012345678")
    split = digital(
        InvoiceType.DIGITAL_NORMAL, invoice_code="223120000000", invoice_number="12345678"
    )
    assert rules.require_invoice_number(whole) == rules.require_invoice_number(split)


@pytest.mark.parametrize("number", [None, "", "--"])
def test_invoice_without_a_number_is_refused(number: str | None) -> None:
    refused(
        lambda: rules.require_invoice_number(vat(invoice_number=number)),
        Problem.TYPE_FIELD_REQUIRED,
        f"{INVOICE}.invoice_number",
    )


# --- receipt_check for VAT invoices ---------------------------------------------------


@pytest.mark.parametrize("code", ["01", "04", "08", "10", "20", "21", "67", "68"])
def test_vat_invoice_without_check_is_refused(code: str) -> None:
    invoice = vat(invoice_type=from_platform_code(code))
    violation = refused(
        lambda: rules.require_check_for_vat(invoice, None), Problem.CHECK_REQUIRED, "receipt_check"
    )
    assert violation.entry(Family.PLATFORM).code == "400104"


def test_vat_invoice_with_check_passes() -> None:
    rules.require_check_for_vat(vat(), checked())


@pytest.mark.parametrize("code", ["51", "60", "61", "63", "65"])
def test_non_vat_invoice_needs_no_check(code: str) -> None:
    rules.require_check_for_vat(taxi(invoice_type=from_platform_code(code)), None)


def test_check_of_another_type_is_refused() -> None:
    check = checked(vat(invoice_type=InvoiceType.VAT_SPECIAL))
    violation = refused(
        lambda: rules.require_matching_check_type(vat(), check),
        Problem.CHECK_TYPE_MISMATCH,
        "receipt_check.invoice_type",
    )
    assert violation.entry(Family.PLATFORM).code == "400105"


def test_check_of_the_same_type_or_no_check_passes() -> None:
    rules.require_matching_check_type(vat(), checked())
    rules.require_matching_check_type(taxi(), None)


def test_check_of_another_invoice_is_refused() -> None:
    check = checked(vat(invoice_number="68552330"))
    violation = refused(
        lambda: rules.require_check_of_this_invoice(vat(), check),
        Problem.CHECK_OF_ANOTHER_INVOICE,
        "receipt_check.invoice_num",
    )
    assert violation.entry(Family.PLATFORM).code == "400106"


def test_check_of_another_invoice_code_is_refused() -> None:
    check = checked(vat(invoice_code="033022100212"))
    refused(
        lambda: rules.require_check_of_this_invoice(vat(), check),
        Problem.CHECK_OF_ANOTHER_INVOICE,
        "receipt_check.invoice_num",
    )


def test_check_of_this_invoice_passes_whole_or_split() -> None:
    rules.require_check_of_this_invoice(vat(), checked())
    split = digital(
        InvoiceType.DIGITAL_NORMAL, invoice_code="223120000000", invoice_number="12345678"
    )
    whole = digital(InvoiceType.DIGITAL_NORMAL)
    rules.require_check_of_this_invoice(split, checked(whole))
    rules.require_check_of_this_invoice(vat(), None)


# --- receipt_date ---------------------------------------------------------------------


@pytest.mark.parametrize("code", DATED_CODES)
def test_receipt_date_is_required_for_the_dated_types(code: str) -> None:
    invoice = vat(invoice_type=from_platform_code(code), receipt_date=None)
    violation = refused(
        lambda: rules.require_receipt_date(invoice),
        Problem.RECEIPT_DATE_REQUIRED,
        f"{INVOICE}.receipt_date",
    )
    assert violation.entry(Family.PLATFORM).code == "400107"


@pytest.mark.parametrize("code", DATED_CODES)
def test_receipt_date_given_passes_for_the_dated_types(code: str) -> None:
    rules.require_receipt_date(vat(invoice_type=from_platform_code(code)))


@pytest.mark.parametrize("code", ["51", "60", "61", "63", "65"])
def test_receipt_date_is_not_required_for_other_types(code: str) -> None:
    rules.require_receipt_date(taxi(invoice_type=from_platform_code(code), receipt_date=None))


def test_exactly_the_fifteen_dated_platform_codes_require_a_date() -> None:
    dated = {code for code, kind in PLATFORM.items() if kind.requires_receipt_date}
    assert dated == set(DATED_CODES)


# --- per-type fields ------------------------------------------------------------------

COMPLETE: dict[str, Callable[..., Invoice]] = {
    "60": train,
    "61": taxi,
    "63": toll,
    "65": flight,
    "51": quota,
    "67": lambda **c: digital(InvoiceType.DIGITAL_RAIL, **c),
    "68": lambda **c: digital(InvoiceType.DIGITAL_FLIGHT, **c),
}

# 001 几种票据类型私有字段, plus "buyer_name ... 票据类型为67、68时必填".
REQUIRED = [
    ("60", "destination_city", "destination_city"),
    ("60", "destination_city_to", "destination_city_to"),
    ("60", "train_number", "train_number"),
    ("60", "train_class", "train_class"),
    ("61", "start_time", "start_time"),
    ("61", "end_time", "end_time"),
    ("61", "mileage", "mileage"),
    ("63", "destination_city", "destination_city"),
    ("63", "destination_city_to", "destination_city_to"),
    ("65", "flight_detail", "flight_detail"),
    ("65", "fare", "fare"),
    ("65", "fuel_surcharge", "fuel_surcharge"),
    ("65", "id_card", "id_card"),
    ("65", "international_flag", "international_flag"),
    ("51", "company_seal", "company_seal"),
    ("67", "buyer_name", "buyer_name"),
    ("68", "buyer_name", "buyer_name"),
]


@pytest.mark.parametrize("code", sorted(COMPLETE))
def test_complete_invoice_of_each_type_passes(code: str) -> None:
    invoice = COMPLETE[code]()
    assert invoice.invoice_type is from_platform_code(code)
    rules.require_type_fields(invoice)


@pytest.mark.parametrize(("code", "field", "wire"), REQUIRED)
def test_missing_type_field_is_refused(code: str, field: str, wire: str) -> None:
    invoice = COMPLETE[code](**{field: [] if field == "flight_detail" else None})
    violation = refused(
        lambda: rules.require_type_fields(invoice), Problem.TYPE_FIELD_REQUIRED, f"{INVOICE}.{wire}"
    )
    assert violation.entry(Family.PLATFORM).code == "400108"


@pytest.mark.parametrize(
    ("code", "field"), [("60", "train_number"), ("63", "destination_city"), ("67", "buyer_name")]
)
def test_empty_text_counts_as_missing(code: str, field: str) -> None:
    refused(
        lambda: rules.require_type_fields(COMPLETE[code](**{field: ""})),
        Problem.TYPE_FIELD_REQUIRED,
        f"{INVOICE}.{field}",
    )


def test_quota_without_seal_is_present_as_n() -> None:
    rules.require_type_fields(quota(company_seal=False))  # N: 没有 (a value, not missing)


@pytest.mark.parametrize("flag", ["I", "D"])
def test_flight_international_flag_i_or_d_passes(flag: str) -> None:
    rules.require_type_fields(flight(international_flag=flag))


@pytest.mark.parametrize("flag", ["X", "国内", "DI"])
def test_flight_international_flag_not_i_or_d_is_refused(flag: str) -> None:
    refused(
        lambda: rules.require_type_fields(flight(international_flag=flag)),
        Problem.TYPE_FIELD_REQUIRED,
        f"{INVOICE}.international_flag",
    )


@pytest.mark.parametrize(
    ("canonical", "wire"),
    [("departure", "from"), ("arrival", "to"), ("flight_number", "flight_number")],
)
def test_flight_leg_missing_from_to_or_number_is_refused(canonical: str, wire: str) -> None:
    invoice = flight(flight_detail=[leg(), leg(**{canonical: None})])
    refused(
        lambda: rules.require_type_fields(invoice),
        Problem.TYPE_FIELD_REQUIRED,
        f"{INVOICE}.flight_detail[1].{wire}",
    )


def test_types_without_private_fields_need_none() -> None:
    rules.require_type_fields(vat())
    rules.require_type_fields(Invoice(invoice_type=InvoiceType.BUS, total_amount=D("20")))


# --- remark ---------------------------------------------------------------------------


@pytest.mark.parametrize("remark", [None, "", "备" * 1024])
def test_remark_up_to_1024_characters_passes(remark: str | None) -> None:
    rules.limit_remark(vat(remark=remark))


def test_remark_of_1025_characters_is_refused() -> None:
    violation = refused(
        lambda: rules.limit_remark(vat(remark="备" * 1025)),
        Problem.REMARK_TOO_LONG,
        f"{INVOICE}.remark",
    )
    assert violation.entry(Family.PLATFORM).code == "400109"


# --- currency: 1.取入参 2.取公司配置 3.默认CNY, and supported ----------------------------


def test_currency_of_the_request_wins() -> None:
    company = CompanySettings(default_currency="HKD")
    assert rules.choose_currency(vat(currency="USD"), company) == "USD"


def test_currency_falls_back_to_the_company_default() -> None:
    company = CompanySettings(default_currency="HKD")
    assert rules.choose_currency(vat(currency=None), company) == "HKD"


def test_currency_defaults_to_cny() -> None:
    assert rules.choose_currency(vat(currency=None), CompanySettings()) == "CNY"


@pytest.mark.parametrize(
    ("currency", "company"),
    [
        ("XYZ", CompanySettings()),
        ("USD", CompanySettings(currencies=frozenset({"CNY"}))),
    ],
)
def test_unsupported_currency_is_refused(currency: str, company: CompanySettings) -> None:
    violation = refused(
        lambda: rules.choose_currency(vat(currency=currency), company),
        Problem.UNSUPPORTED_CURRENCY,
        f"{INVOICE}.currency",
    )
    assert violation.entry(Family.PLATFORM).code == "400110"


# --- tax: amount + tax = total within one fen, missing pieces computed ------------------


def test_consistent_amounts_are_kept() -> None:
    invoice = vat(amount=D("100.00"), tax_amount=D("13.00"), total_amount=D("113.00"))
    done = rules.complete_tax(invoice)
    assert (done.amount, done.tax_amount, done.total_amount) == (D("100"), D("13"), D("113"))


def test_missing_amount_is_total_minus_tax() -> None:
    done = rules.complete_tax(vat(amount=None, tax_amount=D("13.00"), total_amount=D("113.00")))
    assert done.amount == D("100.00")


def test_missing_tax_is_total_minus_amount() -> None:
    done = rules.complete_tax(vat(amount=D("100.00"), tax_amount=None, total_amount=D("113.00")))
    assert done.tax_amount == D("13.00")


def test_missing_total_is_amount_plus_tax() -> None:
    done = rules.complete_tax(vat(amount=D("100.00"), tax_amount=D("13.00"), total_amount=None))
    assert done.total_amount == D("113.00")


@pytest.mark.parametrize(
    ("total", "rate", "amount", "tax"),
    [
        ("113.00", "0.13", "100.00", "13.00"),
        ("100.00", "0.06", "94.34", "5.66"),  # 100 / 1.06 = 94.339..., rounded to the fen
        ("250", "0", "250.00", "0.00"),
    ],
)
def test_amount_and_tax_computed_from_total_and_rate(
    total: str, rate: str, amount: str, tax: str
) -> None:
    invoice = vat(amount=None, tax_amount=None, total_amount=D(total), tax_rate=D(rate))
    done = rules.complete_tax(invoice)
    assert (done.amount, done.tax_amount) == (D(amount), D(tax))
    assert done.amount + done.tax_amount == D(total)  # type: ignore[operator]


def test_rate_taken_from_the_lines_when_they_agree() -> None:
    lines = [
        LineItem(amount=D("60.00"), tax_rate=D("0.13"), tax_amount=D("7.80")),
        LineItem(amount=D("40.00"), tax_rate=D("0.13"), tax_amount=D("5.20")),
    ]
    invoice = vat(amount=None, tax_amount=None, total_amount=D("113.00"), items=lines)
    done = rules.complete_tax(invoice)
    assert (done.tax_rate, done.amount, done.tax_amount) == (D("0.13"), D("100"), D("13"))


def test_amount_plus_tax_off_by_more_than_a_fen_is_refused() -> None:
    invoice = vat(amount=D("100.00"), tax_amount=D("13.00"), total_amount=D("113.02"))
    violation = refused(
        lambda: rules.complete_tax(invoice), Problem.TAX_MISMATCH, f"{INVOICE}.total_amount"
    )
    assert violation.entry(Family.PLATFORM).code == "400111"


@pytest.mark.parametrize("total", ["113.01", "112.99"])
def test_amount_plus_tax_off_by_exactly_a_fen_is_accepted(total: str) -> None:
    invoice = vat(amount=D("100.00"), tax_amount=D("13.00"), total_amount=D(total))
    assert rules.complete_tax(invoice).total_amount == D(total)


def test_line_tax_off_its_rate_by_more_than_a_fen_is_refused() -> None:
    lines = [
        LineItem(amount=D("60.00"), tax_rate=D("0.13"), tax_amount=D("7.80")),
        LineItem(amount=D("40.00"), tax_rate=D("0.13"), tax_amount=D("5.22")),  # 5.20
    ]
    invoice = vat(amount=D("100.00"), tax_amount=D("13.02"), total_amount=D("113.02"), items=lines)
    refused(
        lambda: rules.complete_tax(invoice),
        Problem.TAX_MISMATCH,
        "receipt_check.detail_list[1].tax_amount",
    )


def test_line_tax_within_a_fen_of_its_rate_passes() -> None:
    lines = [LineItem(amount=D("100.05"), tax_rate=D("0.13"), tax_amount=D("13.00"))]  # 13.0065
    invoice = vat(amount=D("100.05"), tax_amount=D("13.00"), total_amount=D("113.05"), items=lines)
    assert rules.complete_tax(invoice).tax_rate == D("0.13")


def test_invoice_rate_not_among_the_line_rates_is_refused() -> None:
    lines = [LineItem(amount=D("100.00"), tax_rate=D("0.13"), tax_amount=D("13.00"))]
    invoice = vat(
        amount=D("100.00"),
        tax_amount=D("13.00"),
        total_amount=D("113.00"),
        tax_rate=D("0.06"),
        items=lines,
    )
    refused(lambda: rules.complete_tax(invoice), Problem.TAX_MISMATCH, f"{INVOICE}.tax_rate")


def test_invoice_rate_among_mixed_line_rates_passes() -> None:
    lines = [
        LineItem(amount=D("100.00"), tax_rate=D("0.13"), tax_amount=D("13.00")),
        LineItem(amount=D("100.00"), tax_rate=D("0.09"), tax_amount=D("9.00")),
    ]
    invoice = vat(
        amount=D("200.00"),
        tax_amount=D("22.00"),
        total_amount=D("222.00"),
        tax_rate=D("0.09"),
        items=lines,
    )
    assert rules.complete_tax(invoice).tax_rate == D("0.09")


# --- buyer title (抬头校验) ------------------------------------------------------------


def test_title_check_is_off_without_titles() -> None:
    stranger = vat(buyer_name="某某公司", buyer_tax_code="91110000000000000X")
    assert rules.check_buyer_title(stranger, CompanySettings()) is None


def test_buyer_among_the_titles_passes() -> None:
    company = CompanySettings(titles=(OTHER_TITLE, OWN_TITLE))
    assert rules.check_buyer_title(vat(), company) is None


def test_buyer_name_not_among_the_titles_is_reported() -> None:
    company = CompanySettings(titles=(OTHER_TITLE,))
    message = rules.check_buyer_title(vat(), company)
    assert message is not None
    assert BUYER in message


def test_buyer_name_of_a_title_with_another_tax_code_is_reported() -> None:
    company = CompanySettings(titles=(OWN_TITLE,))
    message = rules.check_buyer_title(vat(buyer_tax_code="91320402MA1YA9ELXX"), company)
    assert message is not None
    assert "91320402MA1YA9ELXX" in message


def test_right_tax_code_with_another_name_is_reported() -> None:
    company = CompanySettings(titles=(OWN_TITLE,))
    assert rules.check_buyer_title(vat(buyer_name="快舱供应链有限公司"), company) is not None


def test_tax_code_compares_case_insensitively() -> None:
    company = CompanySettings(titles=(OWN_TITLE,))
    assert rules.check_buyer_title(vat(buyer_tax_code=BUYER_TAX_CODE.lower()), company) is None


def test_buyer_name_alone_is_checked_by_name() -> None:
    company = CompanySettings(titles=(OWN_TITLE,))
    assert rules.check_buyer_title(vat(buyer_tax_code=None), company) is None
    assert rules.check_buyer_title(vat(buyer_name="别家", buyer_tax_code=None), company)


def test_invoice_without_a_buyer_is_not_checked() -> None:
    company = CompanySettings(titles=(OTHER_TITLE,))
    assert rules.check_buyer_title(taxi(), company) is None


# --- status of an accepted invoice -----------------------------------------------------


def test_successful_check_is_verified() -> None:
    assert rules.status_of(vat(), checked()) == (InvoiceStatus.VERIFIED, None)


def test_no_check_is_recognized() -> None:
    assert rules.status_of(taxi(), None) == (InvoiceStatus.RECOGNIZED, None)


def test_failed_check_is_f_check_failed() -> None:
    status = rules.status_of(vat(), checked(success=False, message="所查发票不存在"))
    assert status == (InvoiceStatus.CHECK_FAILED, Problem.CHECK_FAILED)


@pytest.mark.parametrize(
    "check",
    [checked(cancelled=True), checked(state=InvoiceState.VOID)],
    ids=["cancellation_mark", "state_void"],
)
def test_void_invoice_is_f_void(check: CheckResult) -> None:
    assert rules.status_of(vat(), check) == (InvoiceStatus.CHECK_FAILED, Problem.INVOICE_VOID)


@pytest.mark.parametrize(
    "state",
    [
        InvoiceState.RED_LETTER,
        InvoiceState.RED_REVERSED,
        InvoiceState.PARTLY_RED_REVERSED,
        InvoiceState.FULLY_RED_REVERSED,
    ],
)
def test_red_letter_states_are_f_red_letter(state: InvoiceState) -> None:
    status = rules.status_of(vat(), checked(state=state))
    assert status == (InvoiceStatus.CHECK_FAILED, Problem.INVOICE_RED_LETTER)


# --- what no invoice says: a future date, a negative blue total, an impossible amount ----

TODAY = dt.date(2024, 5, 1)  # Asia/Shanghai


def test_receipt_date_after_today_is_refused() -> None:
    violation = refused(
        lambda: rules.require_receipt_date_not_in_the_future(
            vat(receipt_date=dt.date(2099, 12, 31)), TODAY
        ),
        Problem.RECEIPT_DATE_IN_FUTURE,
        f"{INVOICE}.receipt_date",
    )
    assert violation.entry(Family.PLATFORM).code == "400112"
    assert "20991231" in str(violation)
    refused(
        lambda: rules.require_receipt_date_not_in_the_future(
            vat(receipt_date=dt.date(2024, 5, 2)), TODAY
        ),
        Problem.RECEIPT_DATE_IN_FUTURE,
        f"{INVOICE}.receipt_date",
    )


@pytest.mark.parametrize("day", [dt.date(2024, 5, 1), dt.date(2022, 6, 27), None])
def test_receipt_date_of_today_or_before_or_none_passes(day: dt.date | None) -> None:
    rules.require_receipt_date_not_in_the_future(vat(receipt_date=day), TODAY)


@pytest.mark.parametrize(
    "check",
    [
        None,
        checked(),
        checked(state=InvoiceState.RED_REVERSED),  # a blue invoice that was reversed
        checked(state=InvoiceState.FULLY_RED_REVERSED),
    ],
    ids=["no_check", "normal", "red_reversed", "fully_red_reversed"],
)
def test_negative_total_of_a_blue_invoice_is_refused(check: CheckResult | None) -> None:
    violation = refused(
        lambda: rules.require_blue_total_not_negative(vat(total_amount=D("-250")), check),
        Problem.NEGATIVE_TOTAL,
        f"{INVOICE}.total_amount",
    )
    assert violation.entry(Family.PLATFORM).code == "400113"
    assert "-250" in str(violation)


def test_negative_total_of_a_red_letter_invoice_passes() -> None:
    red = checked(vat(total_amount=D("-250")), state=InvoiceState.RED_LETTER)
    rules.require_blue_total_not_negative(vat(total_amount=D("-250")), red)


@pytest.mark.parametrize("total", ["0", "0.00", "250", "-0"])
def test_zero_or_positive_total_passes(total: str) -> None:
    rules.require_blue_total_not_negative(vat(total_amount=D(total)), None)


@pytest.mark.parametrize("total", ["999999999999.99", "-999999999999.99", "0.01", "100000000000"])
def test_amounts_of_up_to_12_integer_digits_pass(total: str) -> None:
    rules.require_amounts_in_range(vat(total_amount=D(total)), checked())


@pytest.mark.parametrize("total", ["1E+30", "1000000000000", "-1000000000000.00", "1E+12"])
def test_amount_of_more_than_12_integer_digits_is_refused(total: str) -> None:
    violation = refused(
        lambda: rules.require_amounts_in_range(vat(total_amount=D(total)), checked()),
        Problem.AMOUNT_OUT_OF_RANGE,
        f"{INVOICE}.total_amount",
    )
    assert violation.entry(Family.PLATFORM).code == "400114"
    assert total in str(violation)


@pytest.mark.parametrize(
    ("invoice", "check", "field"),
    [
        (vat(amount=D("1E+13")), None, f"{INVOICE}.amount"),
        (vat(tax_amount=D("1E+13")), None, f"{INVOICE}.tax_amount"),
        (flight(fare=D("1E+13")), None, f"{INVOICE}.fare"),
        (vat(items=[LineItem(amount=D("1E+13"))]), None, f"{INVOICE}.items[0].amount"),
        (vat(), checked(vat(total_amount=D("1E+30"))), "receipt_check.total_amount"),
        (
            vat(),
            checked(vat(items=[LineItem(amount=D("250")), LineItem(unit_price=D("1E+15"))])),
            "receipt_check.detail_list[1].price",
        ),
    ],
    ids=["amount", "tax", "fare", "ocr_line", "check_total", "check_line_price"],
)
def test_every_money_field_of_the_invoice_its_check_and_their_lines_is_in_range(
    invoice: Invoice, check: CheckResult | None, field: str
) -> None:
    refused(
        lambda: rules.require_amounts_in_range(invoice, check),
        Problem.AMOUNT_OUT_OF_RANGE,
        field,
    )


def test_fields_that_are_not_money_may_be_large() -> None:
    rules.require_amounts_in_range(taxi(mileage=D("1E+15")), None)
    line = LineItem(amount=D("250"), quantity=D("1E+15"))
    rules.require_amounts_in_range(vat(items=[line]), None)


# --- what was read against what the tax authority said ---------------------------------


def test_a_check_that_agrees_has_no_differences() -> None:
    assert rules.differences_from_check(vat(), checked()) == []


def test_no_check_or_a_failed_one_is_not_compared() -> None:
    assert rules.differences_from_check(vat(total_amount=D("1")), None) == []
    failed = checked(success=False, message="所查发票不存在")
    assert rules.differences_from_check(vat(total_amount=D("1")), failed) == []


def test_each_amount_differing_by_more_than_a_fen_is_named_with_both_sides() -> None:
    read = vat(amount=D("240"), tax_amount=D("0.02"), total_amount=D("1E+30"))
    assert rules.differences_from_check(read, checked()) == [
        "amount 识别 240 / 查验 250",
        "tax_amount 识别 0.02 / 查验 0",
        "total_amount 识别 1E+30 / 查验 250",
    ]


@pytest.mark.parametrize("total", ["250.01", "249.99", "250.00", "250.010"])
def test_amounts_within_a_fen_agree(total: str) -> None:
    assert rules.differences_from_check(vat(total_amount=D(total)), checked()) == []


def test_an_amount_only_one_side_says_is_not_a_difference() -> None:
    assert rules.differences_from_check(vat(amount=None, tax_amount=None), checked()) == []
    check = checked(vat(amount=None, tax_amount=None))
    assert rules.differences_from_check(vat(), check) == []


def test_a_negative_reading_of_a_positive_check_differs() -> None:
    differences = rules.differences_from_check(vat(total_amount=D("-250")), checked())
    assert differences == ["total_amount 识别 -250 / 查验 250"]


def test_any_difference_in_the_date_is_named_yyyymmdd() -> None:
    read = vat(receipt_date=dt.date(2022, 6, 28))
    assert rules.differences_from_check(read, checked()) == [
        "receipt_date 识别 20220628 / 查验 20220627"
    ]


def test_a_difference_in_the_type_is_named_with_platform_codes() -> None:
    check = checked(vat(invoice_type=InvoiceType.VAT_NORMAL))
    assert rules.differences_from_check(vat(), check) == ["invoice_type 识别 10 / 查验 04"]


def test_code_and_number_of_one_key_written_whole_or_split_agree() -> None:
    split = digital(
        InvoiceType.DIGITAL_NORMAL, invoice_code="223120000000", invoice_number="12345678"
    )
    whole = digital(InvoiceType.DIGITAL_NORMAL)
    assert rules.differences_from_check(split, checked(whole)) == []


def test_a_code_or_number_that_differs_is_named() -> None:
    # (create refuses a check of another invoice first: 400106; the comparison says it too)
    check = checked(vat(invoice_code="033022100212"))
    assert rules.differences_from_check(vat(), check) == [
        "invoice_code 识别 033022100211 / 查验 033022100212"
    ]
    check = checked(vat(invoice_number="68552330"))
    assert rules.differences_from_check(vat(), check) == [
        "invoice_number 识别 68552329 / 查验 68552330"
    ]


def test_buyer_and_seller_tax_codes_are_compared_when_both_sides_say_them() -> None:
    read = vat(seller_tax_code="91330212MA2J5RER99")
    check = checked(vat(buyer_tax_code="91320402MA1YA9ELXM", seller_tax_code="91330212ma2j5rer99"))
    assert rules.differences_from_check(read, check) == [
        "buyer_tax_code 识别 91320402MA1YA9ELXL / 查验 91320402MA1YA9ELXM"
    ]
    assert rules.differences_from_check(vat(buyer_tax_code=None), check) == []
