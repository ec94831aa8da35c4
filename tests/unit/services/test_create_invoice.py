"""The invoice/create use case (spec 001) on MemoryInvoiceStore with a fixed clock."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from contract.spec_examples import examples

from fakes.memory import MemoryInvoiceStore
from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.mapping.invoice_create import create_command_from_request, to_create_response
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.model.create import CreateCommand, CreateOutcome
from fapiao.model.stored import Correction, StoredInvoice, Transition, new_expense_id
from fapiao.rules.create import RuleViolation
from fapiao.services import create_invoice as service
from fapiao.services.create_invoice import create_invoice
from fapiao.settings import CompanySettings, CompanyTitle
from fapiao.wire.common import dump_json, load_json
from fapiao.wire.invoice_create import CreateRequest

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 5, 1, 10, 30, 15, tzinfo=SHANGHAI)
KEY = "03302210021168552329"  # 001's example: code 033022100211 + number 68552329
BUYER = "快舱(江苏)供应链管理有限公司常州分公司"
BUYER_TAX_CODE = "91320402MA1YA9ELXL"
MEIKE = CompanyTitle(name="杭州每刻科技有限公司", tax_code="91330108341927699X")


def clock() -> dt.datetime:
    return NOW


@pytest.fixture
def store() -> MemoryInvoiceStore:
    return MemoryInvoiceStore()


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every expense id the use case draws, in order (the real generator)."""
    ids: list[int] = []

    def recording() -> int:
        ids.append(new_expense_id())
        return ids[-1]

    monkeypatch.setattr(service, "new_expense_id", recording)
    return ids


def example(**changes: Any) -> dict[str, Any]:
    """001's request example; ``changes`` are set on receipt_ocr.invoices[0] unless they
    name a top-level key or start with ``check_`` (set on receipt_check)."""
    request: dict[str, Any] = copy.deepcopy(examples("001")[0])
    for name, value in changes.items():
        if name in request:
            request[name] = value
        elif name.startswith("check_"):
            request["receipt_check"][name.removeprefix("check_")] = value
        else:
            request["receipt_ocr"]["invoices"][0][name] = value
    return request


def command(**changes: Any) -> CreateCommand:
    return create_command_from_request(CreateRequest.model_validate(example(**changes)))


def run(
    cmd: CreateCommand,
    store: MemoryInvoiceStore,
    company: CompanySettings | None = None,
    now: Callable[[], dt.datetime] = clock,
) -> CreateOutcome:
    return create_invoice(cmd, store, company or CompanySettings(), now)


def taxi_command(biz_id: str = "taxi-1") -> CreateCommand:
    taxi = Invoice(
        invoice_type=InvoiceType.TAXI,
        invoice_code="133011960101",
        invoice_number="12345678",
        total_amount=D("36.50"),
        start_time="08:05",
        end_time="08:41",
        mileage=D("12.3"),
    )
    return CreateCommand(biz_id, "sss.ddd", 1, [taxi], None)


# --- the spec example -----------------------------------------------------------------


def test_spec_example_is_verified_and_bound_to_a_new_expense(
    store: MemoryInvoiceStore, drawn: list[int]
) -> None:
    outcome = run(command(), store)
    assert outcome == CreateOutcome(
        expense_id=drawn[0], status=InvoiceStatus.VERIFIED, invoice_key=KEY
    )
    assert (outcome.message, outcome.message_code) == (None, None)
    assert len(store) == 1


def test_spec_example_is_stored_with_its_status_history_and_expense(
    store: MemoryInvoiceStore,
) -> None:
    outcome = run(command(), store)
    stored = store.get(KEY)
    assert stored is not None
    assert stored.expense_id == outcome.expense_id
    assert (stored.biz_id, stored.user_code) == ("1659685330206", "sss.ddd")
    assert stored.status is InvoiceStatus.VERIFIED
    assert (stored.message, stored.message_code, stored.title_conflict) == (None, None, False)
    assert stored.currency == "CNY"  # not in the request, none configured: 默认CNY
    assert stored.created_at == NOW
    assert stored.transitions == [Transition(status=InvoiceStatus.VERIFIED, at=NOW, reason=None)]
    assert stored.invoice.invoice_type is InvoiceType.VAT_ELECTRONIC_NORMAL
    assert stored.invoice.receipt_date == dt.date(2022, 6, 27)
    assert stored.invoice.total_amount == D("250")
    assert stored.invoice.currency == "CNY"
    assert stored.check is not None
    assert stored.check.invoice.invoice_number == "68552329"

    assert outcome.expense_id is not None
    expense = store.get_expense(outcome.expense_id)
    assert expense is not None
    assert expense.invoice_keys == [KEY]
    assert (expense.user_code, expense.currency) == ("sss.ddd", "CNY")
    assert expense.total_amount == D("250")
    assert expense.created_at == NOW


def test_currency_stored_is_the_company_default(store: MemoryInvoiceStore) -> None:
    outcome = run(command(), store, CompanySettings(default_currency="HKD"))
    stored = store.get(KEY)
    assert stored is not None
    assert stored.currency == "HKD"
    assert outcome.expense_id is not None
    expense = store.get_expense(outcome.expense_id)
    assert expense is not None
    assert expense.currency == "HKD"


def test_currency_of_the_request_wins_over_the_company(store: MemoryInvoiceStore) -> None:
    run(command(currency="USD"), store, CompanySettings(default_currency="HKD"))
    stored = store.get(KEY)
    assert stored is not None
    assert stored.currency == "USD"


def test_missing_amount_is_computed_and_stored(store: MemoryInvoiceStore) -> None:
    cmd = command(amount=None, tax_amount=D("13.00"), total_amount=D("113.00"))
    run(
        replace_check(cmd, amount=D("100.00"), tax_amount=D("13.00"), total_amount=D("113.00")),
        store,
    )
    stored = store.get(KEY)
    assert stored is not None
    assert (stored.invoice.amount, stored.invoice.tax_amount) == (D("100.00"), D("13.00"))


def replace_check(cmd: CreateCommand, **changes: Any) -> CreateCommand:
    assert cmd.check is not None
    invoice = cmd.check.invoice.model_copy(update=changes)
    return CreateCommand(
        cmd.biz_id,
        cmd.user_code,
        cmd.recognition_result,
        cmd.invoices,
        cmd.check.model_copy(update={"invoice": invoice}),
    )


# --- a second import ------------------------------------------------------------------


def test_second_import_under_another_biz_id_is_f_907002_and_writes_nothing(
    store: MemoryInvoiceStore, drawn: list[int]
) -> None:
    first = run(command(), store)
    before = store.get(KEY)
    assert first.expense_id is not None
    expense_before = store.get_expense(first.expense_id)

    later = dt.datetime(2024, 5, 2, 9, 0, tzinfo=SHANGHAI)
    second = run(command(bizId="another-biz-id"), store, now=lambda: later)

    assert second.status is InvoiceStatus.CHECK_FAILED
    assert second.problem is Problem.DUPLICATE_INVOICE
    assert second.message == "发票已导入"
    assert second.message_code == "907002"
    assert second.expense_id == first.expense_id
    assert second.invoice_key == KEY
    # Nothing written: the first record and expense as they were, no second expense.
    assert len(store) == 1
    assert store.get(KEY) == before
    assert store.get_expense(first.expense_id) == expense_before
    assert [store.get_expense(i) for i in drawn[1:]] == [None] * len(drawn[1:])


def test_second_import_answers_the_spec_response_example(store: MemoryInvoiceStore) -> None:
    first = run(command(), store)
    second = run(command(bizId="1659685478833"), store)
    wire = load_json(dump_json(to_create_response("1659685478833", second)))
    expected = copy.deepcopy(examples("001")[1])  # 001 返回示例: the duplicate answer
    expected["data"]["expense_id"] = first.expense_id
    assert wire == expected


def test_split_digital_number_is_the_same_invoice(store: MemoryInvoiceStore) -> None:
    number = "22312000000012345678"

    def digital(biz_id: str, code: str | None, num: str) -> CreateCommand:
        invoice = Invoice(
            invoice_type=InvoiceType.DIGITAL_NORMAL,
            invoice_code=code,
            invoice_number=num,
            receipt_date=dt.date(2023, 3, 1),
            amount=D("100.00"),
            tax_amount=D("13.00"),
            total_amount=D("113.00"),
        )
        check = CheckResult(success=True, invoice=invoice)
        return CreateCommand(biz_id, "sss.ddd", 1, [invoice], check)

    first = run(digital("whole", None, number), store)
    second = run(digital("split", number[:12], number[12:]), store)
    assert first.status is InvoiceStatus.VERIFIED
    assert (second.problem, second.expense_id) == (Problem.DUPLICATE_INVOICE, first.expense_id)
    assert len(store) == 1


def train_command(biz_id: str, number: str, name: str) -> CreateCommand:
    ticket = Invoice(
        invoice_type=InvoiceType.TRAIN,
        invoice_number=number,
        total_amount=D("73.00"),
        destination_city="上海虹桥",
        destination_city_to="杭州东",
        train_number="G1509",
        train_class="二等座",
        passenger_name=name,
    )
    return CreateCommand(biz_id, "sss.ddd", 1, [ticket], None)


def test_train_tickets_differing_in_a_letter_are_two_invoices(store: MemoryInvoiceStore) -> None:
    first = run(train_command("t-1", "80K015233", "张三"), store)
    second = run(train_command("t-2", "80J015233", "李四"), store)
    assert first.status is InvoiceStatus.RECOGNIZED
    assert (second.status, second.problem) == (InvoiceStatus.RECOGNIZED, None)
    assert second.expense_id != first.expense_id
    assert len(store) == 2


def test_same_train_ticket_twice_is_a_duplicate(store: MemoryInvoiceStore) -> None:
    first = run(train_command("t-1", "80K015233", "张三"), store)
    second = run(train_command("t-2", "80K015233", "张三"), store)
    assert (second.problem, second.expense_id) == (Problem.DUPLICATE_INVOICE, first.expense_id)


# --- outcomes stored as F or with a message -------------------------------------------


def test_void_invoice_is_stored_f_907003(store: MemoryInvoiceStore) -> None:
    outcome = run(command(check_cancellation_mark="Y"), store)
    assert outcome.status is InvoiceStatus.CHECK_FAILED
    assert (outcome.problem, outcome.message_code) == (Problem.INVOICE_VOID, "907003")
    assert outcome.message == "发票已作废"
    assert outcome.expense_id is not None
    stored = store.get(KEY)
    assert stored is not None
    assert (stored.status, stored.message_code, stored.message) == (
        InvoiceStatus.CHECK_FAILED,
        "907003",
        "发票已作废",
    )
    assert stored.transitions == [
        Transition(
            status=InvoiceStatus.CHECK_FAILED, at=NOW, reason="发票已作废", message_code="907003"
        )
    ]
    assert store.get_expense(outcome.expense_id) is not None


def test_red_letter_invoice_is_stored_f_907004(store: MemoryInvoiceStore) -> None:
    cmd = command()
    assert cmd.check is not None
    red = CreateCommand(
        cmd.biz_id,
        cmd.user_code,
        1,
        cmd.invoices,
        cmd.check.model_copy(update={"state": InvoiceState.RED_REVERSED}),
    )
    outcome = run(red, store)
    assert (outcome.status, outcome.message_code) == (InvoiceStatus.CHECK_FAILED, "907004")
    stored = store.get(KEY)
    assert stored is not None
    assert stored.status is InvoiceStatus.CHECK_FAILED


def test_failed_check_is_stored_f_907001_with_the_checkers_message(
    store: MemoryInvoiceStore,
) -> None:
    outcome = run(command(check_result=0, check_message="所查发票不存在"), store)
    assert outcome.status is InvoiceStatus.CHECK_FAILED
    assert (outcome.problem, outcome.message_code) == (Problem.CHECK_FAILED, "907001")
    # The catalogue's words first, then the checker's own: "message: detail".
    assert (outcome.detail, outcome.message) == ("所查发票不存在", "发票查验失败: 所查发票不存在")
    stored = store.get(KEY)
    assert stored is not None
    assert (stored.status, stored.message, stored.message_code) == (
        InvoiceStatus.CHECK_FAILED,
        "发票查验失败: 所查发票不存在",
        "907001",
    )
    assert (stored.transitions[0].reason, stored.transitions[0].message_code) == (
        "发票查验失败: 所查发票不存在",
        "907001",
    )


def test_failed_check_without_a_message_gets_the_catalogue_message(
    store: MemoryInvoiceStore,
) -> None:
    outcome = run(command(check_result=0, check_message=None), store)
    assert (outcome.message, outcome.message_code) == ("发票查验失败", "907001")


def test_title_mismatch_keeps_the_status_and_records_907005(store: MemoryInvoiceStore) -> None:
    outcome = run(command(), store, CompanySettings(titles=(MEIKE,)))
    assert outcome.status is InvoiceStatus.VERIFIED
    assert (outcome.problem, outcome.message_code) == (Problem.TITLE_MISMATCH, "907005")
    assert outcome.message is not None
    assert BUYER in outcome.message
    assert outcome.expense_id is not None
    stored = store.get(KEY)
    assert stored is not None
    assert stored.status is InvoiceStatus.VERIFIED
    assert (stored.title_conflict, stored.message_code) == (True, "907005")


def test_title_among_the_companys_passes_without_a_message(store: MemoryInvoiceStore) -> None:
    own = CompanyTitle(name=BUYER, tax_code=BUYER_TAX_CODE)
    outcome = run(command(), store, CompanySettings(titles=(MEIKE, own)))
    assert (outcome.status, outcome.problem, outcome.message) == (
        InvoiceStatus.VERIFIED,
        None,
        None,
    )


def test_taxi_without_check_is_recognized_i(store: MemoryInvoiceStore) -> None:
    outcome = run(taxi_command(), store)
    assert (outcome.status, outcome.problem) == (InvoiceStatus.RECOGNIZED, None)
    stored = store.get("13301196010112345678")
    assert stored is not None
    assert stored.status is InvoiceStatus.RECOGNIZED
    assert stored.check is None


# --- rule violations store nothing ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"remark": "备" * 1025}, Problem.REMARK_TOO_LONG),
        ({"receipt_date": None}, Problem.RECEIPT_DATE_REQUIRED),
        ({"currency": "XYZ"}, Problem.UNSUPPORTED_CURRENCY),
        ({"total_amount": D("250.02")}, Problem.TAX_MISMATCH),
        ({"receipt_check": None}, Problem.CHECK_REQUIRED),
        ({"check_invoice_type": "04"}, Problem.CHECK_TYPE_MISMATCH),
        ({"check_invoice_num": "68552330"}, Problem.CHECK_OF_ANOTHER_INVOICE),
        ({"bizId": "b" * 37}, Problem.INVALID_REQUEST),
        ({"total_amount": D("1E+30")}, Problem.AMOUNT_OUT_OF_RANGE),
        ({"check_total_amount": D("1E+30")}, Problem.AMOUNT_OUT_OF_RANGE),
        ({"total_amount": D("-250"), "amount": D("-250")}, Problem.NEGATIVE_TOTAL),
        ({"total_amount": D("-250")}, Problem.NEGATIVE_TOTAL),
        ({"receipt_date": "20991231"}, Problem.RECEIPT_DATE_IN_FUTURE),
    ],
)
def test_rule_violation_stores_nothing(
    store: MemoryInvoiceStore, drawn: list[int], changes: dict[str, Any], problem: Problem
) -> None:
    with pytest.raises(RuleViolation) as caught:
        run(command(**changes), store)
    assert caught.value.problem is problem
    assert len(store) == 0
    assert store.get(KEY) is None
    assert drawn == []  # refused before an expense id was even drawn


def test_two_invoices_or_failed_recognition_store_nothing(store: MemoryInvoiceStore) -> None:
    request = example()
    request["receipt_ocr"]["invoices"].append(copy.deepcopy(request["receipt_ocr"]["invoices"][0]))
    two = create_command_from_request(CreateRequest.model_validate(request))
    with pytest.raises(RuleViolation) as caught:
        run(two, store)
    assert caught.value.problem is Problem.ONE_INVOICE_ONLY
    request = example()
    request["receipt_ocr"]["result"] = 0
    with pytest.raises(RuleViolation) as caught:
        run(create_command_from_request(CreateRequest.model_validate(request)), store)
    assert caught.value.problem is Problem.RECOGNITION_FAILED
    assert len(store) == 0


def test_check_lines_inconsistent_with_their_rate_are_refused(store: MemoryInvoiceStore) -> None:
    # README: "tax rate consistent with the lines"; the line's tax should be 100 x 0.13 = 13.
    cmd = replace_check(
        command(amount=D("100.00"), tax_amount=D("5.00"), total_amount=D("105.00")),
        amount=D("100.00"),
        tax_amount=D("5.00"),
        total_amount=D("105.00"),
        items=[
            LineItem(
                amount=D("100.00"),
                tax_rate=D("0.13"),
                tax_amount=D("5.00"),
                total_amount=D("105.00"),
            )
        ],
    )
    with pytest.raises(RuleViolation) as caught:
        run(cmd, store)
    assert caught.value.problem is Problem.TAX_MISMATCH
    assert caught.value.field == "receipt_check.detail_list[0].tax_amount"
    assert len(store) == 0


def test_rate_of_the_check_lines_is_stored(store: MemoryInvoiceStore) -> None:
    run(command(), store)  # 001's example: one line, tax_rate 0
    stored = store.get(KEY)
    assert stored is not None
    assert stored.invoice.tax_rate == D("0")


# --- expense-id collisions ------------------------------------------------------------


def test_expense_id_collision_is_drawn_again(
    store: MemoryInvoiceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = run(taxi_command(), store).expense_id
    assert taken is not None
    fresh = taken + 1
    draws = iter([taken, fresh])
    monkeypatch.setattr(service, "new_expense_id", lambda: next(draws))

    outcome = run(command(), store)

    assert (outcome.status, outcome.expense_id) == (InvoiceStatus.VERIFIED, fresh)
    assert len(store) == 2
    stored = store.get(KEY)
    assert stored is not None
    assert stored.expense_id == fresh
    taxi_expense = store.get_expense(taken)
    assert taxi_expense is not None
    assert taxi_expense.invoice_keys == ["13301196010112345678"]  # not overwritten
    new_expense = store.get_expense(fresh)
    assert new_expense is not None
    assert new_expense.invoice_keys == [KEY]


def test_expense_ids_that_keep_colliding_give_up(
    store: MemoryInvoiceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = run(taxi_command(), store).expense_id
    monkeypatch.setattr(service, "new_expense_id", lambda: taken)
    with pytest.raises(RuntimeError, match="expense id"):
        run(command(), store)
    assert store.get(KEY) is None


# --- 001's response ---------------------------------------------------------------------


def test_response_of_a_verified_invoice(store: MemoryInvoiceStore) -> None:
    outcome = run(command(), store)
    wire = load_json(dump_json(to_create_response("1659685330206", outcome)))
    assert wire == {
        "resCode": 200000,
        "resMsg": "success",
        "bizId": "1659685330206",
        "data": {
            "expense_id": outcome.expense_id,
            "invoice_message": None,
            "invoice_message_code": None,
            "invoice_status": "Y",
        },
    }


def test_response_carries_the_message_code_as_a_number(store: MemoryInvoiceStore) -> None:
    outcome = run(command(check_cancellation_mark="Y"), store)
    response = to_create_response("b-1", outcome)
    assert response.res_code == 200000
    assert response.data is not None
    code = response.data.invoice_message_code
    assert isinstance(code, int)
    assert code == 907003
    assert (response.data.invoice_status, response.data.invoice_message) == ("F", "发票已作废")
    assert '"invoice_message_code": 907003' in dump_json(response)


# --- what a client read, against the check it sent (001 receipt_check) ----------------


def test_a_receipt_date_after_today_in_shanghai_is_refused_by_the_services_clock(
    store: MemoryInvoiceStore,
) -> None:
    # 2024-04-30T23:30Z is already 2024-05-01 in Shanghai: a date of the 1st is today.
    late_utc = dt.datetime(2024, 4, 30, 23, 30, tzinfo=dt.UTC)
    today = command(receipt_date="20240501", check_receipt_date="2024-05-01T00:00:00.000Z")
    assert run(today, store, now=lambda: late_utc).status is InvoiceStatus.VERIFIED
    tomorrow = command(
        bizId="tomorrow",
        invoice_number="68552330",
        check_invoice_num="68552330",
        receipt_date="20240502",
        check_receipt_date="2024-05-02T00:00:00.000Z",
    )
    with pytest.raises(RuleViolation) as caught:
        run(tomorrow, store, now=lambda: late_utc)
    assert caught.value.problem is Problem.RECEIPT_DATE_IN_FUTURE
    assert caught.value.field == "receipt_ocr.invoices[0].receipt_date"
    assert len(store) == 1


def test_a_reading_that_differs_from_its_check_is_stored_f_907007_with_both_sides(
    store: MemoryInvoiceStore,
) -> None:
    outcome = run(command(amount=D("240"), total_amount=D("240")), store)
    assert outcome.status is InvoiceStatus.CHECK_FAILED
    assert (outcome.problem, outcome.message_code) == (Problem.CHECK_MISMATCH, "907007")
    assert outcome.message == (
        "识别结果与查验结果不一致: amount 识别 240 / 查验 250; total_amount 识别 240 / 查验 250"
    )
    assert outcome.expense_id is not None
    stored = store.get(KEY)
    assert stored is not None
    assert (stored.status, stored.message_code, stored.message) == (
        InvoiceStatus.CHECK_FAILED,
        "907007",
        outcome.message,
    )
    # Both sides kept: the invoice as read, the check as the tax authority said.
    assert (stored.invoice.amount, stored.invoice.total_amount) == (D("240"), D("240"))
    assert stored.check is not None
    assert (stored.check.invoice.amount, stored.check.invoice.total_amount) == (D(250), D(250))
    assert stored.transitions == [
        Transition(
            status=InvoiceStatus.CHECK_FAILED,
            at=NOW,
            reason=outcome.message,
            message_code="907007",
        )
    ]
    expense = store.get_expense(outcome.expense_id)
    assert expense is not None
    assert expense.total_amount == D("240")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (
            {"check_receipt_date": "2022-06-28T00:00:00.000Z"},
            "receipt_date 识别 20220627 / 查验 20220628",
        ),
        ({"check_tax_amount": D("0.02")}, "tax_amount 识别 0 / 查验 0.02"),
        (
            {"check_seller_tax_code": "91330212MA2J5RER98"},
            "seller_tax_code 识别 91330212MA2J5RER99 / 查验 91330212MA2J5RER98",
        ),
        (
            {"buyer_tax_code": "91320402MA1YA9ELXM"},
            "buyer_tax_code 识别 91320402MA1YA9ELXM / 查验 91320402MA1YA9ELXL",
        ),
    ],
)
def test_each_field_read_otherwise_than_checked_is_named(
    store: MemoryInvoiceStore, changes: dict[str, Any], named: str
) -> None:
    outcome = run(command(**changes), store)
    assert (outcome.status, outcome.message_code) == (InvoiceStatus.CHECK_FAILED, "907007")
    assert outcome.message == f"识别结果与查验结果不一致: {named}"


def test_a_difference_of_one_fen_is_not_a_mismatch(store: MemoryInvoiceStore) -> None:
    cmd = command(amount=D("250.01"), total_amount=D("250.01"))
    assert run(cmd, store).status is InvoiceStatus.VERIFIED


def test_a_void_or_failed_check_says_so_before_a_mismatch(store: MemoryInvoiceStore) -> None:
    void = run(command(total_amount=D("240"), amount=D("240"), check_cancellation_mark="Y"), store)
    assert (void.status, void.problem) == (InvoiceStatus.CHECK_FAILED, Problem.INVOICE_VOID)
    failed = run(
        command(
            bizId="failed",
            invoice_number="68552330",
            check_invoice_num="68552330",
            total_amount=D("240"),
            amount=D("240"),
            check_result=0,
        ),
        store,
    )
    assert (failed.status, failed.problem) == (InvoiceStatus.CHECK_FAILED, Problem.CHECK_FAILED)


def test_what_the_hub_read_and_verified_itself_is_not_refused_nor_cross_checked(
    store: MemoryInvoiceStore,
) -> None:
    # The one-call endpoints and the pipeline: the offline checks and the verifier judged
    # the reading (a future date is F 907009 there, stored for review), and the check is
    # the verifier's answer to exactly what was read.
    cmd = command()
    assert cmd.check is not None
    future = cmd.invoices[0].model_copy(update={"receipt_date": dt.date(2099, 12, 31)})
    hub_read = CreateCommand(
        cmd.biz_id,
        cmd.user_code,
        1,
        [future],
        None,
        awaiting_check=True,
        cause=Problem.INVOICE_IRREGULAR,
        cause_detail="invoice date 2099-12-31 is after today 2024-05-01",
    )
    assert not hub_read.claimed and cmd.claimed
    outcome = run(hub_read, store)
    assert (outcome.status, outcome.message_code) == (InvoiceStatus.CHECK_FAILED, "907009")
    # A verified reading whose printed seller the verifier's data writes otherwise: Y.
    verified = CreateCommand(
        "verified",
        cmd.user_code,
        1,
        [cmd.invoices[0].model_copy(update={"invoice_number": "68552330"})],
        cmd.check.model_copy(
            update={
                "invoice": cmd.check.invoice.model_copy(
                    update={"invoice_number": "68552330", "seller_tax_code": "91110000600037341L"}
                )
            }
        ),
        awaiting_check=True,
    )
    assert run(verified, store).status is InvoiceStatus.VERIFIED
    assert len(store) == 2


# --- a fuller reading completes a record waiting for it (C 907010) --------------------


def qr_only_command(user_code: str = "sss.ddd", biz_id: str = "qr-photo") -> CreateCommand:
    """A photo whose QR code gave code, number, date and pre-tax amount, no total: the
    verification waited for completion (what process_file.create_command passes)."""
    read = Invoice(
        invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
        invoice_code="033022100211",
        invoice_number="68552329",
        receipt_date=dt.date(2022, 6, 27),
        amount=D("250"),
        check_code="58053893572132760108",
        attachment_url="s3://drop/sss.ddd/photo.jpg",
    )
    return CreateCommand(
        biz_id,
        user_code,
        1,
        [read],
        None,
        awaiting_check=True,
        cause=Problem.AWAITING_COMPLETION,
        cause_detail="total_amount",
    )


def full_reading(biz_id: str = "pdf", user_code: str = "sss.ddd", **cause: Any) -> CreateCommand:
    """The clean PDF of the same invoice, verified by the hub (the pipeline's command)."""
    cmd = command()
    return CreateCommand(
        biz_id, user_code, 1, cmd.invoices, cmd.check, awaiting_check=True, **cause
    )


LATER = dt.datetime(2024, 5, 3, 8, 0, tzinfo=SHANGHAI)


def waiting(store: MemoryInvoiceStore) -> CreateOutcome:
    first = run(qr_only_command(), store)
    assert (first.status, first.message_code) == (InvoiceStatus.AWAITING_CHECK, "907010")
    assert first.message == "发票信息不全,补全后查验: total_amount"
    return first


def test_a_fuller_reading_by_the_owner_completes_the_waiting_record(
    store: MemoryInvoiceStore, drawn: list[int]
) -> None:
    first = waiting(store)
    before = store.get(KEY)
    assert before is not None

    second = run(full_reading(), store, now=lambda: LATER)

    assert second == CreateOutcome(
        expense_id=first.expense_id, status=InvoiceStatus.VERIFIED, invoice_key=KEY
    )
    assert len(store) == 1
    assert [store.get_expense(i) for i in drawn[1:]] == [None] * len(drawn[1:])  # none new
    stored = store.get(KEY)
    assert stored is not None
    assert (stored.status, stored.message, stored.message_code) == (
        InvoiceStatus.VERIFIED,
        None,
        None,
    )
    assert stored.invoice.total_amount == D("250")
    assert stored.check is not None and stored.check.success
    # The original's expense, creation and bizId; its history grows by the completion.
    assert (stored.expense_id, stored.created_at, stored.biz_id) == (
        first.expense_id,
        NOW,
        "qr-photo",
    )
    assert (stored.version, stored.updated_at) == (before.version + 1, LATER)
    assert stored.transitions == [
        *before.transitions,
        Transition(status=InvoiceStatus.VERIFIED, at=LATER, reason=None, published=True),
    ]


def test_a_completion_keeps_the_corrections_and_answers_as_a_create(
    store: MemoryInvoiceStore,
) -> None:
    first = waiting(store)
    before = store.get(KEY)
    assert before is not None
    fix = Correction(field="remark", old=None, new="出差", at=NOW, by="finance")
    store.replace(before.model_copy(update={"corrections": [fix]}))

    # A full reading sent by the client itself (001) completes it too: F when it differs.
    second = run(command(amount=D("240"), total_amount=D("240")), store, now=lambda: LATER)

    assert (second.expense_id, second.status) == (first.expense_id, InvoiceStatus.CHECK_FAILED)
    assert second.message_code == "907007"
    stored = store.get(KEY)
    assert stored is not None
    assert stored.corrections == [fix]
    assert (stored.status, stored.message, stored.message_code) == (
        InvoiceStatus.CHECK_FAILED,
        second.message,
        "907007",
    )
    assert stored.transitions[-1] == Transition(
        status=InvoiceStatus.CHECK_FAILED, at=LATER, reason=second.message, message_code="907007"
    )
    wire = to_create_response("1659685330206", second)
    assert wire.data is not None
    assert (wire.data.expense_id, wire.data.invoice_message_code) == (first.expense_id, 907007)


def test_the_same_invoice_from_another_owner_is_still_a_duplicate(
    store: MemoryInvoiceStore,
) -> None:
    first = waiting(store)
    before = store.get(KEY)

    second = run(full_reading(user_code="someone.else"), store, now=lambda: LATER)

    assert (second.status, second.problem) == (
        InvoiceStatus.CHECK_FAILED,
        Problem.DUPLICATE_INVOICE,
    )
    assert (second.message_code, second.expense_id) == ("907002", first.expense_id)
    assert store.get(KEY) == before


def test_a_reading_as_incomplete_as_the_record_does_not_replace_it(
    store: MemoryInvoiceStore,
) -> None:
    waiting(store)
    before = store.get(KEY)
    second = run(qr_only_command(biz_id="another-photo"), store, now=lambda: LATER)
    assert (second.problem, second.message_code) == (Problem.DUPLICATE_INVOICE, "907002")
    assert store.get(KEY) == before


@pytest.mark.parametrize(
    "cause", [Problem.CHECK_DEFERRED, Problem.CHECK_TOMORROW, Problem.NO_VERIFIER]
)
def test_a_record_waiting_for_its_check_not_for_completion_is_a_duplicate(
    store: MemoryInvoiceStore, cause: Problem
) -> None:
    run(full_reading(biz_id="deferred", cause=cause), store)
    before = store.get(KEY)
    assert before is not None and before.status is InvoiceStatus.AWAITING_CHECK
    second = run(full_reading(), store, now=lambda: LATER)
    assert second.problem is Problem.DUPLICATE_INVOICE
    assert store.get(KEY) == before


def test_a_completed_record_is_not_completed_again(store: MemoryInvoiceStore) -> None:
    waiting(store)
    run(full_reading(), store, now=lambda: LATER)
    completed = store.get(KEY)
    third = run(full_reading(biz_id="pdf-again"), store, now=lambda: LATER)
    assert third.problem is Problem.DUPLICATE_INVOICE
    assert store.get(KEY) == completed


class RacingStore(MemoryInvoiceStore):
    """A store where another writer (a correction) replaces the record just before each
    of the first ``races`` replaces of the use case: those are stale."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races
        self.replaced = 0

    def replace(self, invoice: StoredInvoice) -> StoredInvoice:
        if self.races:
            self.races -= 1
            current = self.get(invoice.invoice_key)
            assert current is not None
            fix = Correction(field="remark", old=None, new=f"race {self.races}", at=NOW, by="x")
            super().replace(current.model_copy(update={"corrections": [*current.corrections, fix]}))
        self.replaced += 1
        return super().replace(invoice)


def test_a_stale_record_is_read_again_and_completed() -> None:
    racing = RacingStore(races=2)
    first = run(qr_only_command(), racing)

    second = run(full_reading(), racing, now=lambda: LATER)

    assert (second.status, second.expense_id) == (InvoiceStatus.VERIFIED, first.expense_id)
    stored = racing.get(KEY)
    assert stored is not None
    assert stored.status is InvoiceStatus.VERIFIED
    assert [c.new for c in stored.corrections] == ["race 1", "race 0"]  # the winners' kept
    assert stored.version == 3  # the two corrections, then the completion
    assert racing.replaced == 3


def test_a_record_that_keeps_changing_is_busy_and_the_race_winners_stay() -> None:
    racing = RacingStore(races=100)
    run(qr_only_command(), racing)
    with pytest.raises(HubError) as caught:
        run(full_reading(), racing, now=lambda: LATER)
    assert caught.value.problem is Problem.BUSY
    stored = racing.get(KEY)
    assert stored is not None
    assert (stored.status, stored.message_code) == (InvoiceStatus.AWAITING_CHECK, "907010")
