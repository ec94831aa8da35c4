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
from fapiao.catalogue.errors import Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.mapping.invoice_create import create_command_from_request, to_create_response
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus, LineItem
from fapiao.model.create import CreateCommand, CreateOutcome
from fapiao.model.stored import Transition, new_expense_id
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
        Transition(status=InvoiceStatus.CHECK_FAILED, at=NOW, reason="发票已作废")
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
    assert outcome.message == "所查发票不存在"
    stored = store.get(KEY)
    assert stored is not None
    assert (stored.status, stored.message, stored.message_code) == (
        InvoiceStatus.CHECK_FAILED,
        "所查发票不存在",
        "907001",
    )
    assert stored.transitions[0].reason == "所查发票不存在"


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
