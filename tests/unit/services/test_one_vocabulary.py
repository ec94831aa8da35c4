"""One message vocabulary: every answer (000 with and without an expense, 001), every
Maycur remark and errorMessage (002) and every pipeline outcome (the ERP event) says an
invoice's outcome with the error catalogue's code and Chinese message, then the detail.
The offline checks' function names and the ``Problem`` values never reach them, whatever
``Verification.reason`` (the log's words) holds."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fakes.memory import MemoryInvoiceStore, MemoryVerificationCache
from fapiao.catalogue.errors import HubError, Problem, invoice_message
from fapiao.catalogue.types import InvoiceType
from fapiao.mapping.invoice_create import to_create_response
from fapiao.mapping.maycur import to_import_answer
from fapiao.mapping.ocr_sync import to_ocr_sync_response
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.model.parties import Employee
from fapiao.model.pipeline import DroppedObject, Found, Outcome, OutcomeKind
from fapiao.model.status import InvoiceTypeName
from fapiao.ports import VerifyDeps
from fapiao.providers.offline import OfflineVerifier
from fapiao.recognize import FileKind
from fapiao.recognize.result import RecognizedInvoice
from fapiao.results import FileInvoice, ImportedInvoice, OcrSyncResult, Source, Verification
from fapiao.rules.offline_checks import CHECKS, QrFields
from fapiao.rules.offline_checks import Outcome as FindingOutcome
from fapiao.services.create_invoice import create_invoice
from fapiao.services.pipeline import create_from_object, failure_outcome
from fapiao.services.process_file import create_command
from fapiao.services.verify import verify_invoice
from fapiao.settings import CompanySettings
from fapiao.wire.maycur import ValidateStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 7, 1, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
EMPLOYEE = Employee(employee_id="MK00001", name="张三", user_code="acme")
OBJECT = DroppedObject(bucket="fapiao-drop", key="acme/2024/07/a.pdf", etag="e1", version_id="v1")

# Every internal name: the offline checks' and the hub's problems (a rule name in a
# message is a leak, whatever the words around it).
RULE_NAMES = sorted({check.__name__ for check in CHECKS} | {p.value for p in Problem})
_NAMES = re.compile(
    "|".join(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])" for name in RULE_NAMES)
)

VALID = Invoice(
    invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
    invoice_code="033002300611",
    invoice_number="99007885",
    receipt_date=dt.date(2024, 6, 27),
    check_code="60258258882690380411",
    amount=Decimal("3.67"),
    tax_amount=Decimal("0.33"),
    total_amount=Decimal("4.00"),
    buyer_name="杭州每刻科技有限公司",
    buyer_tax_code="91330108341927699X",
    seller_name="杭州地铁运营有限公司",
    seller_tax_code="91330102MA7F72672F",
    items=[LineItem(name="*运输服务*地铁票", amount=Decimal("3.67"), tax_amount=Decimal("0.33"))],
)


def clock() -> dt.datetime:
    return NOW


def numbered(invoice: Invoice, number: int) -> Invoice:
    """The invoice under its own number (each case is another invoice in one store)."""
    return invoice.model_copy(update={"invoice_number": f"{99007000 + number}"})


# --- every offline check that refuses, defers or waits ------------------------------------

OFFLINE_CASES: dict[str, tuple[dict[str, Any], QrFields | None]] = {
    "has_what_verification_needs": ({"total_amount": None, "tax_amount": None}, None),
    "invoice_number_is_well_formed": ({"invoice_number": "12AB5678"}, None),
    "invoice_code_matches_type": ({"invoice_code": "033002300699"}, None),
    "check_code_has_valid_length": ({"check_code": "123"}, None),
    "check_code_missing": ({"check_code": None}, None),
    "receipt_date_is_not_in_the_future": ({"receipt_date": dt.date(2024, 7, 2)}, None),
    "receipt_date_is_within_five_years": ({"receipt_date": dt.date(2019, 1, 2)}, None),
    "buyer_tax_id_is_valid": ({"buyer_tax_code": "91330108341927699Y"}, None),
    "seller_tax_id_is_valid": ({"seller_tax_code": "ABC"}, None),
    "amounts_add_up": ({"total_amount": Decimal("5.00")}, None),
    "qr_agrees_with_printed_fields": ({}, QrFields(invoice_number="99007886")),
    "receipt_date_is_not_today": ({"receipt_date": TODAY}, None),
}


def offline_verification(name: str) -> tuple[Invoice, Verification]:
    changes, qr = OFFLINE_CASES[name]
    number = sorted(OFFLINE_CASES).index(name)
    invoice = numbered(VALID, number).model_copy(update=changes)
    if qr is not None:
        qr = qr.model_copy(update={"invoice_number": "1" + str(invoice.invoice_number)[1:]})
    deps = VerifyDeps(verifier=OfflineVerifier(clock), cache=MemoryVerificationCache(), clock=clock)
    return invoice, verify_invoice(invoice, deps, qr=qr)


def test_each_check_that_refuses_or_waits_is_a_case_here() -> None:
    """A new offline check must be added to the cases (and so to the sweep below)."""
    seen = {
        f.check
        for name in OFFLINE_CASES
        for f in offline_verification(name)[1].findings
        if f.outcome not in (FindingOutcome.PASSED, FindingOutcome.SKIPPED)
    }
    assert seen == {check.__name__ for check in CHECKS}


# --- every cause a verification can give --------------------------------------------------


def _provider(
    status: InvoiceStatus, number: int, check: CheckResult | None = None, **fields: Any
) -> tuple[Invoice, Verification]:
    invoice = numbered(VALID, 100 + number)
    verification = Verification(
        invoice_key=invoice.invoice_key,
        status=status,
        source=fields.pop("source", Source.PROVIDER),
        check=check,
        # what the logs read: it may name rules and problems, never seen by a client
        reason="has_what_verification_needs: check_failed; internal busy",
        **fields,
    )
    return invoice, verification


def _checked(invoice_number: int, **fields: Any) -> CheckResult:
    return CheckResult(
        success=fields.pop("success", True),
        checked_at=NOW,
        invoice=numbered(VALID, 100 + invoice_number),
        **fields,
    )


F, C = InvoiceStatus.CHECK_FAILED, InvoiceStatus.AWAITING_CHECK


def cause_cases() -> Iterator[tuple[str, Invoice, Verification]]:
    yield ("check failed", *_provider(F, 1, _checked(1, success=False, message="所查发票不存在")))
    yield ("void", *_provider(F, 2, _checked(2, cancelled=True)))
    yield ("red letter", *_provider(F, 3, _checked(3, state=InvoiceState.RED_LETTER)))
    yield ("mismatch", *_provider(F, 4, _checked(4, success=False), code="6"))
    yield ("too old (provider)", *_provider(F, 5, code="3207"))
    yield ("duplicate", *_provider(F, 6, problem=Problem.DUPLICATE_INVOICE, source=Source.STORE))
    yield ("daily limit", *_provider(C, 7, code="2", retry_at=NOW))
    yield ("deferred", *_provider(C, 8, problem=Problem.UPSTREAM_UNAVAILABLE, retry_at=NOW))
    yield ("busy", *_provider(C, 9, problem=Problem.BUSY, source=Source.HUB, retry_at=NOW))
    yield ("no verifier", *_provider(C, 10, source=Source.NO_PROVIDER))
    yield ("not checked", *_provider(InvoiceStatus.RECOGNIZED, 11, source=Source.OFFLINE_CHECKS))


def all_cases() -> Iterator[tuple[str, Invoice, Verification]]:
    for name in OFFLINE_CASES:
        yield (name, *offline_verification(name))
    yield from cause_cases()


CASES = list(all_cases())


def texts(value: Any) -> Iterator[str]:
    """Every string in a JSON value (keys aside)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


def assert_no_rule_names(value: Any) -> None:
    for text in texts(value):
        leaked = _NAMES.search(text)
        assert leaked is None, f"{leaked.group(0)!r} in {text!r}"


def file_invoice(invoice: Invoice, verification: Verification | None) -> FileInvoice:
    status = InvoiceStatus.RECOGNIZED if verification else InvoiceStatus.UNRECOGNISABLE
    recognized = RecognizedInvoice(status=status, kind=FileKind.PDF, invoice=invoice, page=1)
    return FileInvoice(recognized, verification)


@pytest.mark.parametrize(("case", "invoice", "verification"), CASES, ids=[c[0] for c in CASES])
def test_no_answer_remark_or_event_names_a_rule(
    case: str, invoice: Invoice, verification: Verification
) -> None:
    store = MemoryInvoiceStore()
    item = file_invoice(invoice, verification)
    cause = verification.cause

    # 000 without an expense: the cause's code and message
    plain = to_ocr_sync_response("b1", [OcrSyncResult(item)], create_expense=False).to_wire()
    (element,) = plain["data"]
    if cause is None:
        assert element["invoice_message_code"] is None
    else:
        assert element["invoice_message_code"] == invoice_message(cause)[0]
        assert element["invoice_message"].startswith(invoice_message(cause)[1])
    assert_no_rule_names(plain)

    # 000 with an expense and 001: the stored outcome's code and message (or the rule's
    # refusal: nothing stored, 002 says why it skipped the invoice)
    command = create_command(
        invoice, verification, biz_id=f"b-{case}", user_code="acme", attachment_url="a.pdf"
    )
    try:
        created = create_invoice(command, store, CompanySettings(), clock)
    except HubError as refusal:
        skipped = ImportedInvoice(item, None, EMPLOYEE, refusal)
        kept = ImportedInvoice(file_invoice(VALID, None), None, EMPLOYEE)
        assert_no_rule_names(to_import_answer([kept, skipped], NOW).to_wire())
    else:
        with_expense = to_ocr_sync_response("b1", [OcrSyncResult(item, created)], True)
        create_answer = to_create_response("b1", created).to_wire()
        assert_no_rule_names(with_expense.to_wire())
        assert_no_rule_names(create_answer)
        if created.message_code is not None:
            assert create_answer["data"]["invoice_message_code"] == int(created.message_code)
        # 002: remark and errorMessage
        imported = ImportedInvoice(item, created, EMPLOYEE)
        if imported.stored:
            (dto,) = to_import_answer([imported], NOW).to_wire()["data"]
            assert dto["remark"] == (created.message or "成功")
            assert dto["errorMessage"] == created.message
            assert_no_rule_names(dto)

    # the pipeline's outcome (the ERP event), on a store of its own
    found = Found(status=InvoiceStatus.RECOGNIZED, invoice=invoice, page=1)
    outcome = create_from_object(
        OBJECT, 0, found, verification, MemoryInvoiceStore(), CompanySettings(), clock
    )
    event = json.loads(outcome.model_dump_json())
    assert_no_rule_names(event)
    assert isinstance(event["message_code"], int | None)
    if outcome.message_code is not None and outcome.message_code // 1000 == 400:
        assert outcome.outcome is OutcomeKind.REJECTED  # a rule refused what was read
    elif verification.status in (F, C):
        assert cause is not None
        assert (outcome.message_code, outcome.message) == invoice_message(
            cause, verification.detail
        )


def test_a_refused_invoice_says_the_catalogue_s_words_in_002_and_in_the_event() -> None:
    store = MemoryInvoiceStore()
    too_long = numbered(VALID, 300).model_copy(update={"remark": "备" * 1025})
    item = file_invoice(too_long, None)
    command = create_command(too_long, None, biz_id="b", user_code="acme", attachment_url="a")
    with pytest.raises(HubError) as refused:
        create_invoice(command, store, CompanySettings(), clock)
    kept = ImportedInvoice(numbered_item := file_invoice(VALID, None), None, EMPLOYEE)
    del numbered_item

    answer = to_import_answer([kept, ImportedInvoice(item, None, EMPLOYEE, refused.value)], NOW)

    assert answer.message == "1 张发票无法保存,已跳过: 备注超过1024个字符: " + str(
        refused.value.detail
    )
    found = Found(status=InvoiceStatus.RECOGNIZED, invoice=too_long)
    outcome = create_from_object(OBJECT, 0, found, None, store, CompanySettings(), clock)
    assert outcome.outcome is OutcomeKind.REJECTED
    assert outcome.message_code == 400109
    assert outcome.message == f"备注超过1024个字符: {refused.value.detail}"
    assert_no_rule_names(answer.to_wire())
    assert_no_rule_names(json.loads(outcome.model_dump_json()))


# --- the cases the issue names --------------------------------------------------------------


def test_a_five_year_old_invoice_through_ocr_sync_without_an_expense_says_907008() -> None:
    invoice, verification = offline_verification("receipt_date_is_within_five_years")

    answer = to_ocr_sync_response(
        "b1", [OcrSyncResult(file_invoice(invoice, verification))], create_expense=False
    ).to_wire()

    (element,) = answer["data"]
    assert element["ocrResult"]["invoice_status"] == "F"
    assert element["invoice_message_code"] == 907008
    assert element["invoice_message"] == (
        "开票日期超过五年,无法查验: invoice date 2019-01-02 is before 2019-07-01, five years ago"
    )


def qr_only() -> tuple[Invoice, Verification]:
    """A photo whose QR code gave code, number, date, pre-tax amount and check code."""
    invoice = Invoice(
        invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
        invoice_code="033002300611",
        invoice_number="99007999",
        receipt_date=dt.date(2024, 6, 27),
        check_code="60258258882690380411",
        amount=Decimal("3.67"),
    )
    deps = VerifyDeps(verifier=OfflineVerifier(clock), cache=MemoryVerificationCache(), clock=clock)
    return invoice, verify_invoice(invoice, deps)


def test_a_qr_only_reading_is_c_907010_everywhere_and_never_validation_failed() -> None:
    invoice, verification = qr_only()
    item = file_invoice(invoice, verification)
    words = "发票信息不全,补全后查验: total_amount"

    (plain,) = to_ocr_sync_response("b", [OcrSyncResult(item)], False).to_wire()["data"]
    assert (plain["ocrResult"]["invoice_status"], plain["invoice_message_code"]) == ("C", 907010)
    assert plain["invoice_message"] == words

    store = MemoryInvoiceStore()
    command = create_command(
        invoice, verification, biz_id="b", user_code="acme", attachment_url="a"
    )
    created = create_invoice(command, store, CompanySettings(), clock)
    (expense,) = to_ocr_sync_response("b", [OcrSyncResult(item, created)], True).to_wire()["data"]
    assert (expense["invoice_status"], expense["invoice_message_code"]) == ("C", 907010)
    assert expense["invoice_message"] == words

    (dto,) = to_import_answer([ImportedInvoice(item, created, EMPLOYEE)], NOW).to_wire()["data"]
    assert (dto["validateStatus"], dto["validateStatusDesc"]) == ("NOT_VALIDATION", "未验真")
    assert dto["validateStatus"] != ValidateStatus.VALIDATION_FAILED.value
    assert (dto["remark"], dto["errorCode"], dto["errorMessage"]) == (words, "907010", words)

    found = Found(status=InvoiceStatus.RECOGNIZED, invoice=invoice)
    outcome = create_from_object(
        OBJECT, 0, found, verification, MemoryInvoiceStore(), CompanySettings(), clock
    )
    assert (outcome.outcome, outcome.status) == (OutcomeKind.CREATED, InvoiceStatus.AWAITING_CHECK)
    assert (outcome.message_code, outcome.message) == (907010, words)


def test_an_unreadable_invoice_is_907006_with_the_reason_in_000() -> None:
    unread = FileInvoice(
        RecognizedInvoice.unrecognisable(FileKind.PDF, "page 1: no invoice found", page=1),
        None,
    )
    for create_expense in (False, True):
        (element,) = to_ocr_sync_response("b", [OcrSyncResult(unread)], create_expense).to_wire()[
            "data"
        ]
        assert element["invoice_message_code"] == 907006
        assert element["invoice_message"] == "发票无法识别: page 1: no invoice found"


# --- the pipeline's outcome: the ERP event --------------------------------------------------


def test_an_event_carries_the_type_as_code_and_name_and_an_integer_code() -> None:
    found = Found(status=InvoiceStatus.RECOGNIZED, invoice=numbered(VALID, 400))
    store = MemoryInvoiceStore()
    create_from_object(OBJECT, 0, found, None, store, CompanySettings(), clock)
    again = create_from_object(
        OBJECT.model_copy(update={"version_id": "v2"}),
        0,
        found,
        None,
        store,
        CompanySettings(),
        clock,
    )

    detail = json.loads(again.model_dump_json())

    assert detail["invoice_type"] == {"code": "10", "name": "增值税电子普通发票"}
    assert (detail["message_code"], detail["message"]) == (907002, "发票已导入")
    assert detail["object"]["version_id"] == "v2"
    assert Outcome.model_validate_json(again.model_dump_json()) == again
    assert Outcome.model_validate(detail) == again


def test_an_unrecognisable_outcome_is_907006_with_the_recognition_s_reason() -> None:
    found = Found(status=InvoiceStatus.UNRECOGNISABLE, reason="page 2: no invoice found", page=2)

    outcome = failure_outcome(
        OBJECT, kind=OutcomeKind.UNRECOGNISABLE, index=1, found=found, now=clock
    )

    assert (outcome.status, outcome.message_code) == (InvoiceStatus.UNRECOGNISABLE, 907006)
    assert outcome.message == "发票无法识别: page 2: no invoice found"
    assert outcome.invoice_type is None


def test_a_failure_says_500000_and_keeps_the_error_s_name_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = {
        "Error": "Lambda.Unknown",
        "Cause": '{"errorMessage": "KeyError: has_what_verification_needs"}',
    }
    found = Found(status=InvoiceStatus.RECOGNIZED, invoice=numbered(VALID, 500))

    with caplog.at_level("ERROR"):
        outcome = failure_outcome(OBJECT, index=0, found=found, error=error, now=clock)

    assert (outcome.outcome, outcome.message_code, outcome.message) == (
        OutcomeKind.FAILED,
        500000,
        "系统内部错误",
    )
    assert outcome.invoice_type == InvoiceTypeName(code="10", name="增值税电子普通发票")
    (logged,) = caplog.records
    assert logged.error == "Lambda.Unknown"  # for the operator, never for the ERP
    assert_no_rule_names(json.loads(outcome.model_dump_json()))


def test_a_hub_error_s_own_words_follow_the_failure_s_message() -> None:
    cause = json.dumps({"errorMessage": "no such file: acme/a.pdf", "errorType": "HubError"})
    named = json.dumps({"errorMessage": "file_unreachable", "errorType": "HubError"})

    said = failure_outcome(OBJECT, error={"Error": "HubError", "Cause": cause}, now=clock)
    bare = failure_outcome(OBJECT, error={"Error": "HubError", "Cause": named}, now=clock)

    assert said.message == "系统内部错误: no such file: acme/a.pdf"
    assert bare.message == "系统内部错误"  # a problem's name is no message


def test_a_key_without_an_owner_fails_as_a_bad_drop() -> None:
    ownerless = DroppedObject(bucket="fapiao-drop", key="a.pdf", etag="e1")

    outcome = failure_outcome(ownerless, error={"Error": "HubError", "Cause": "{}"}, now=clock)

    assert (outcome.owner, outcome.message_code) == (None, 400000)
    assert outcome.message == "请求参数错误: the key names no owner: <user_code>/..."


def test_an_outcome_recorded_by_an_older_hub_still_reads() -> None:
    """Items of the OutcomesTable written before: the type as its Chinese name, the code
    as text, a failure's Step Functions error name as its code."""
    old = {
        "outcome": "rejected",
        "object": OBJECT.model_dump(mode="json"),
        "invoice_type": "增值税电子普通发票",
        "message_code": "907003",
        "at": NOW.isoformat(),
    }
    failed = {**old, "outcome": "failed", "invoice_type": None, "message_code": "States.TaskFailed"}

    read = Outcome.model_validate_json(json.dumps(old))
    read_failed = Outcome.model_validate_json(json.dumps(failed))

    assert read.invoice_type == InvoiceTypeName(code="10", name="增值税电子普通发票")
    assert read.message_code == 907003
    assert read_failed.message_code is None
