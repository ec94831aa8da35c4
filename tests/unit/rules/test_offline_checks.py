"""The offline checks: each one passes a right invoice and names what is wrong in a bad one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from fapiao.catalogue.errors import Family, by_code
from fapiao.catalogue.types import InvoiceType
from fapiao.model import Invoice, LineItem
from fapiao.rules import offline_checks as oc
from fapiao.rules.offline_checks import CheckContext, Finding, Outcome, QrFields

T = InvoiceType
D = Decimal
TODAY = dt.date(2024, 6, 1)
CONTEXT = CheckContext(today=TODAY)
SELLER = "91110000600037341L"  # a unified social credit code with its check character
BUYER = "91310000MA1FL8XQ37"


def invoice(**fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": T.VAT_SPECIAL,
        "invoice_code": "3100231130",  # 10 digits, 8th digit 1: 专票
        "invoice_number": "12345678",
        "receipt_date": dt.date(2024, 5, 6),
        "amount": D("100.00"),
        "tax_amount": D("13.00"),
        "total_amount": D("113.00"),
        "buyer_tax_code": BUYER,
        "seller_tax_code": SELLER,
    }
    base.update(fields)
    return Invoice(**base)


def digital(**fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": T.DIGITAL_NORMAL,
        "invoice_code": None,
        "invoice_number": "24312000000012345678",
    }
    return invoice(**(base | fields))


def test_a_right_invoice_passes_every_check() -> None:
    findings = oc.run_offline_checks(invoice(), TODAY)
    assert [f.check for f in findings] == [check.__name__ for check in oc.CHECKS]
    assert {f.outcome for f in findings} <= {Outcome.PASSED, Outcome.SKIPPED}
    assert oc.failed(findings) == []


def test_every_failure_code_is_a_row_of_the_catalogue() -> None:
    for code in (oc.CODE_FORMAT, oc.TOO_OLD, oc.CHECK_CODE_MISSING, oc.INVALID_PARAMETER):
        assert by_code(Family.EXOCR, code).retryable is False
    assert by_code(Family.EXOCR_RESULT, oc.IRREGULAR).retryable is False


def assert_failed(finding: Finding, code: str, *words: str) -> None:
    assert finding.outcome is Outcome.FAILED, finding
    assert finding.code == code
    for word in words:
        assert word in (finding.reason or "")


def assert_incomplete(finding: Finding, code: str, *fields: str) -> None:
    """Not wrong, only not read: the finding names the 001 fields a completion needs."""
    assert finding.outcome is Outcome.INCOMPLETE, finding
    assert finding.code == code
    assert finding.fields == fields
    for field in fields:
        assert field in (finding.reason or "")


# --- tax IDs -------------------------------------------------------------------------


def test_seller_tax_id_with_a_wrong_check_character_fails() -> None:
    finding = oc.seller_tax_id_is_valid(invoice(seller_tax_code="91110000600037341M"), CONTEXT)
    assert_failed(finding, "105", "seller", "check character")


def test_buyer_tax_id_of_a_person_is_a_resident_id_number() -> None:
    person = invoice(buyer_tax_code="11010519491231002X")
    assert oc.buyer_tax_id_is_valid(person, CONTEXT).outcome is Outcome.PASSED


@pytest.mark.parametrize("legacy", ["110108600037341", "11010860003734101"])
def test_pre_2015_taxpayer_numbers_pass_on_their_form(legacy: str) -> None:
    finding = oc.buyer_tax_id_is_valid(invoice(buyer_tax_code=legacy), CONTEXT)
    assert finding.outcome is Outcome.PASSED


@pytest.mark.parametrize("bad", ["9111000060003734", "91110000-0003734", "91110000600037341LX"])
def test_tax_id_of_wrong_length_or_characters_fails(bad: str) -> None:
    assert_failed(oc.buyer_tax_id_is_valid(invoice(buyer_tax_code=bad), CONTEXT), "105", "buyer")


def test_absent_buyer_tax_id_is_skipped() -> None:
    finding = oc.buyer_tax_id_is_valid(invoice(buyer_tax_code=None), CONTEXT)
    assert finding.outcome is Outcome.SKIPPED


# --- invoice code and number ---------------------------------------------------------


@pytest.mark.parametrize(
    ("invoice_type", "code"),
    [
        (T.VAT_SPECIAL, "3100231130"),
        (T.VAT_FREIGHT_SPECIAL, "3100231230"),
        (T.VAT_NORMAL, "3100231330"),
        (T.VAT_NORMAL, "031002300104"),
        (T.VAT_ELECTRONIC_NORMAL, "031002300111"),
        (T.VAT_ROLL, "031002300107"),
        (T.VAT_ELECTRONIC_TOLL, "031002300112"),
        (T.VAT_ELECTRONIC_SPECIAL, "031002300113"),
        (T.MOTOR_VEHICLE, "131002320000"),
    ],
)
def test_invoice_code_of_its_type_passes(invoice_type: InvoiceType, code: str) -> None:
    finding = oc.invoice_code_matches_type(
        invoice(invoice_type=invoice_type, invoice_code=code), CONTEXT
    )
    assert finding.outcome is Outcome.PASSED


@pytest.mark.parametrize(
    ("invoice_type", "code", "why"),
    [
        (T.VAT_SPECIAL, "3100231330", "not the code"),  # 8th digit 3: an ordinary invoice
        (T.VAT_ELECTRONIC_NORMAL, "031002300113", "not the code"),  # 13: electronic special
        (T.VAT_SPECIAL, "31002311", "not the code"),  # 8 digits
        (T.VAT_SPECIAL, "31002311A0", "not digits"),
        (T.VAT_SPECIAL, None, "needs its invoice code"),
    ],
)
def test_invoice_code_of_another_type_fails_with_3204(
    invoice_type: InvoiceType, code: str | None, why: str
) -> None:
    finding = oc.invoice_code_matches_type(
        invoice(invoice_type=invoice_type, invoice_code=code), CONTEXT
    )
    assert_failed(finding, "3204", why)


def test_digital_invoice_has_no_code_but_a_split_20_digit_number_is_accepted() -> None:
    assert oc.invoice_code_matches_type(digital(), CONTEXT).outcome is Outcome.PASSED
    split = invoice(
        invoice_type=T.DIGITAL_NORMAL, invoice_code="243120000000", invoice_number="12345678"
    )
    assert oc.invoice_code_matches_type(split, CONTEXT).outcome is Outcome.PASSED
    assert oc.invoice_number_is_well_formed(split, CONTEXT).outcome is Outcome.PASSED
    coded = digital(invoice_code="3100231130")
    assert_failed(oc.invoice_code_matches_type(coded, CONTEXT), "3204", "no invoice code")


def test_digital_number_has_20_digits_and_the_year_of_the_invoice() -> None:
    assert oc.invoice_number_is_well_formed(digital(), CONTEXT).outcome is Outcome.PASSED
    short = digital(invoice_number="2431200000001234567")
    assert_failed(oc.invoice_number_is_well_formed(short, CONTEXT), "4001", "20 digits")
    other_year = digital(invoice_number="23312000000012345678")
    assert_failed(oc.invoice_number_is_well_formed(other_year, CONTEXT), "4001", "2023")


@pytest.mark.parametrize("number", ["1234567", "123456789", "1234567A", ""])
def test_legacy_number_has_8_digits(number: str) -> None:
    finding = oc.invoice_number_is_well_formed(invoice(invoice_number=number or None), CONTEXT)
    assert_failed(finding, "4001")


def test_a_train_tickets_red_serial_has_a_letter_and_passes() -> None:
    ticket = Invoice(invoice_type=InvoiceType.TRAIN, invoice_number="Z080334", receipt_date=TODAY)
    finding = oc.invoice_number_is_well_formed(ticket, CONTEXT)
    assert finding.outcome is Outcome.SKIPPED
    vat = invoice(invoice_number="Z0803345")
    assert_failed(oc.invoice_number_is_well_formed(vat, CONTEXT), "4001", "not digits")


# --- dates ---------------------------------------------------------------------------


def test_date_in_the_future_fails() -> None:
    tomorrow = invoice(receipt_date=TODAY + dt.timedelta(days=1))
    assert_failed(oc.receipt_date_is_not_in_the_future(tomorrow, CONTEXT), "4001", "after today")
    assert oc.receipt_date_is_not_in_the_future(invoice(), CONTEXT).outcome is Outcome.PASSED


def test_five_years_is_the_limit_exocr_answers_3207_beyond() -> None:
    limit = invoice(receipt_date=dt.date(2019, 6, 1))
    older = invoice(receipt_date=dt.date(2019, 5, 31))
    assert oc.receipt_date_is_within_five_years(limit, CONTEXT).outcome is Outcome.PASSED
    assert_failed(oc.receipt_date_is_within_five_years(older, CONTEXT), "3207", "2019-05-31")


def test_five_years_bind_only_what_the_tax_authority_verifies() -> None:
    """A 2017 train ticket is no 907008: the authority never verifies train tickets."""
    old_ticket = Invoice(
        invoice_type=InvoiceType.TRAIN, invoice_number="Z080334", receipt_date=dt.date(2017, 3, 1)
    )
    finding = oc.receipt_date_is_within_five_years(old_ticket, CONTEXT)
    assert finding.outcome is Outcome.SKIPPED


def test_five_years_before_29_february_is_28_february() -> None:
    leap = CheckContext(today=dt.date(2024, 2, 29))
    finding = oc.receipt_date_is_within_five_years(invoice(receipt_date=dt.date(2019, 2, 28)), leap)
    assert finding.outcome is Outcome.PASSED


def test_same_day_invoice_is_deferred_not_failed() -> None:
    finding = oc.receipt_date_is_not_today(invoice(receipt_date=TODAY), CONTEXT)
    assert finding.outcome is Outcome.DEFERRED
    assert "tomorrow" in (finding.reason or "")
    assert oc.receipt_date_is_not_today(invoice(), CONTEXT).outcome is Outcome.PASSED


# --- amounts and check code ----------------------------------------------------------


def test_amount_plus_tax_must_be_the_total_to_the_cent() -> None:
    off = invoice(total_amount=D("113.01"))
    assert_failed(oc.amounts_add_up(off, CONTEXT), "105", "113.01")
    assert oc.amounts_add_up(invoice(), CONTEXT).outcome is Outcome.PASSED


def test_lines_must_add_up_to_the_amount() -> None:
    lines = [LineItem(amount=D("60.00")), LineItem(amount=D("40.00"))]
    assert oc.amounts_add_up(invoice(items=lines), CONTEXT).outcome is Outcome.PASSED
    wrong = [LineItem(amount=D("60.00")), LineItem(amount=D("39.00"))]
    assert_failed(oc.amounts_add_up(invoice(items=wrong), CONTEXT), "105", "99.00")


def test_amounts_are_skipped_when_one_is_missing() -> None:
    assert oc.amounts_add_up(invoice(tax_amount=None), CONTEXT).outcome is Outcome.SKIPPED


def test_ordinary_invoice_without_check_code_is_incomplete_with_3210() -> None:
    normal = invoice(invoice_type=T.VAT_NORMAL, invoice_code="3100231330", check_code=None)
    finding = oc.check_code_has_valid_length(normal, CONTEXT)
    assert_incomplete(finding, "3210", "check_code")
    assert oc.incomplete([finding]) == [finding]
    assert oc.failed([finding]) == []
    special = invoice(check_code=None)  # 003: 专票可为空
    assert oc.check_code_has_valid_length(special, CONTEXT).outcome is Outcome.SKIPPED


@pytest.mark.parametrize("code", ["12345678901234567890", "567890", "1234 5678 9012 3456 7890"])
def test_check_code_is_20_digits_or_its_last_6(code: str) -> None:
    finding = oc.check_code_has_valid_length(invoice(check_code=code), CONTEXT)
    assert finding.outcome is Outcome.PASSED


@pytest.mark.parametrize("code", ["1234567890123456789", "12345", "12345A"])
def test_check_code_of_another_length_fails(code: str) -> None:
    assert_failed(oc.check_code_has_valid_length(invoice(check_code=code), CONTEXT), "4001")


def test_blockchain_check_code_is_five_characters() -> None:
    chain = invoice(invoice_type=T.BLOCKCHAIN, invoice_code="144032009110", check_code="a1b2c")
    assert oc.check_code_has_valid_length(chain, CONTEXT).outcome is Outcome.PASSED


def test_verification_needs_the_amount_that_total_means_for_the_type() -> None:
    special = invoice(amount=None)  # 01: total is the pre-tax amount
    assert_incomplete(oc.has_what_verification_needs(special, CONTEXT), "4001", "amount")
    electronic = digital(total_amount=None)  # 16: total is 价税合计
    assert_incomplete(oc.has_what_verification_needs(electronic, CONTEXT), "4001", "total_amount")
    undated = invoice(receipt_date=None, amount=None)
    assert_incomplete(
        oc.has_what_verification_needs(undated, CONTEXT), "4001", "receipt_date", "amount"
    )
    assert oc.has_what_verification_needs(invoice(), CONTEXT).outcome is Outcome.PASSED
    taxi = invoice(invoice_type=T.TAXI)
    assert oc.has_what_verification_needs(taxi, CONTEXT).outcome is Outcome.SKIPPED


# --- QR code ---------------------------------------------------------------------------


def qr_context(**fields: Any) -> CheckContext:
    base: dict[str, Any] = {
        "invoice_type": T.VAT_SPECIAL,
        "invoice_code": "3100231130",
        "invoice_number": "12345678",
        "amount": D("100.00"),
        "receipt_date": dt.date(2024, 5, 6),
    }
    base.update(fields)
    return CheckContext(today=TODAY, qr=QrFields(**base))


def test_qr_that_agrees_passes_either_amount() -> None:
    assert oc.qr_agrees_with_printed_fields(invoice(), qr_context()).outcome is Outcome.PASSED
    total = qr_context(amount=D("113"))
    assert oc.qr_agrees_with_printed_fields(invoice(), total).outcome is Outcome.PASSED


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [
        ("invoice_number", "12345679", "number"),
        ("invoice_code", "3100231131", "code"),
        ("amount", D("100.10"), "amount"),
        ("receipt_date", dt.date(2024, 5, 7), "date"),
        ("invoice_type", T.VAT_NORMAL, "type"),
        ("check_code", "00000000000000111111", "check code"),
    ],
)
def test_qr_that_disagrees_fails_and_says_where(field: str, value: object, word: str) -> None:
    printed = invoice(check_code="00000000000000222222")
    finding = oc.qr_agrees_with_printed_fields(printed, qr_context(**{field: value}))
    assert_failed(finding, "105", word)


def test_without_qr_the_qr_check_is_skipped() -> None:
    assert oc.qr_agrees_with_printed_fields(invoice(), CONTEXT).outcome is Outcome.SKIPPED
