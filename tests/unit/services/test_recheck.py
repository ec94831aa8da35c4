"""Re-verification on schedule (services/recheck.py): when the hub checks a C invoice
again by itself, and what a re-check stores and publishes.

The store, bus and scheduler are memory fakes; the verifier is scripted with the
verifications a provider's answers end in (busy, verified, refused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from fakes.memory import MemoryInvoiceStore, MemoryVerificationCache
from fakes.rechecks import MemoryRecheckScheduler, MemoryStatusBus
from fapiao.catalogue.errors import HubError, Problem, invoice_message
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.create import CreateOutcome
from fapiao.model.stored import Expense, StoredInvoice, Transition
from fapiao.ports import VerifyDeps
from fapiao.results import Source, Verification
from fapiao.rules.offline_checks import Finding, Outcome
from fapiao.services.recheck import (
    DAILY_CHECKS,
    MAX_WAIT,
    RecheckDeps,
    check_again,
    next_check_at,
    run_scheduled,
    schedule_created,
    schedule_recheck,
    schedule_stored,
)
from fapiao.settings import CompanySettings, CompanyTitle

C, Y, F = InvoiceStatus.AWAITING_CHECK, InvoiceStatus.VERIFIED, InvoiceStatus.CHECK_FAILED
NUMBER = "12345678"
KEY = "3100231130" + NUMBER
FIRST_WAIT = dt.timedelta(seconds=5)
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI)
MIDNIGHT = dt.datetime(2024, 6, 2, tzinfo=SHANGHAI)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class ScriptedVerifier:
    """Answers the scripted verifications in order, the last one again and again."""

    def __init__(self, *answers: Callable[[Invoice], Verification]) -> None:
        self.answers = list(answers)
        self.calls: list[Invoice] = []

    @property
    def remote(self) -> bool:
        return True

    def verify(self, invoice: Invoice) -> Verification:
        self.calls.append(invoice)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(invoice)


def invoice(**fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": InvoiceType.VAT_SPECIAL,
        "invoice_code": "3100231130",
        "invoice_number": NUMBER,
        "receipt_date": dt.date(2024, 5, 6),
        "amount": Decimal("100.00"),
        "tax_amount": Decimal("13.00"),
        "total_amount": Decimal("113.00"),
        "buyer_name": "上海某某科技有限公司",
        "buyer_tax_code": "91310000MA1FL8XQ37",
        "seller_tax_code": "91110000600037341L",
    }
    base.update(fields)
    return Invoice(**base)


def busy(asked: Invoice) -> Verification:
    return Verification(
        invoice_key=asked.invoice_key,
        status=C,
        source=Source.PROVIDER,
        reason="服务器忙,请重试",
        code="4007",
        retry_at=NOW + FIRST_WAIT,  # the verifier's: now + FAPIAO_VERIFY_RETRY_AFTER_SECONDS
    )


def verified(asked: Invoice) -> Verification:
    check = CheckResult(success=True, message="查验成功", invoice=asked)
    return Verification(
        invoice_key=asked.invoice_key, status=Y, source=Source.PROVIDER, check=check, code="1"
    )


def refused(asked: Invoice) -> Verification:
    check = CheckResult(success=False, error="9", message="查无此票", invoice=asked)
    return Verification(
        invoice_key=asked.invoice_key, status=F, source=Source.PROVIDER, check=check, code="9"
    )


def daily_cap(asked: Invoice) -> Verification:
    return Verification(
        invoice_key=asked.invoice_key,
        status=C,
        source=Source.PROVIDER,
        code="2",
        retry_at=MIDNIGHT,
    )


def stored_c(problem: Problem = Problem.CHECK_DEFERRED, **fields: Any) -> StoredInvoice:
    """A record as create stores an invoice whose check was deferred."""
    code, message = invoice_message(problem, "服务器忙,请重试")
    base: dict[str, Any] = {
        "invoice_key": KEY,
        "expense_id": 41981033,
        "user_code": "sss.ddd",
        "biz_id": "biz-1",
        "status": C,
        "message": message,
        "message_code": str(code),
        "currency": "CNY",
        "invoice": invoice(),
        "created_at": NOW - dt.timedelta(minutes=1),
        "transitions": [Transition(status=C, at=NOW - dt.timedelta(minutes=1), reason=message)],
    }
    base.update(fields)
    return StoredInvoice(**base)


class World:
    def __init__(self, verifier: ScriptedVerifier, company: CompanySettings | None = None) -> None:
        self.clock = Clock(NOW)
        self.store = MemoryInvoiceStore()
        self.bus = MemoryStatusBus()
        self.scheduler = MemoryRecheckScheduler()
        self.verifier = verifier
        self.deps = RecheckDeps(
            store=self.store,
            verify=VerifyDeps(
                verifier=verifier,
                cache=MemoryVerificationCache(),
                known=None,
                clock=self.clock,
                retry_after=FIRST_WAIT,
            ),
            bus=self.bus,
            scheduler=self.scheduler,
            company=company or CompanySettings(),
        )

    def put(self, record: StoredInvoice) -> StoredInvoice:
        expense = Expense(
            expense_id=record.expense_id,
            user_code=record.user_code,
            invoice_keys=[record.invoice_key],
            currency="CNY",
            created_at=record.created_at,
        )
        self.store.create(record, expense)
        stored = self.store.get(record.invoice_key)
        assert stored is not None
        return stored

    def record(self) -> StoredInvoice:
        stored = self.store.get(KEY)
        assert stored is not None
        return stored


# --- next_check_at ------------------------------------------------------------------------


def attempts(*ats: dt.datetime) -> StoredInvoice:
    return stored_c(check_attempts=list(ats))


def test_the_first_wait_is_the_setting_and_each_later_one_doubles() -> None:
    assert next_check_at(attempts(), busy(invoice()), NOW, FIRST_WAIT) == NOW + FIRST_WAIT
    once = attempts(NOW)
    assert next_check_at(once, busy(invoice()), NOW, FIRST_WAIT) == NOW + 2 * FIRST_WAIT
    thrice = attempts(NOW, NOW, NOW)
    assert next_check_at(thrice, busy(invoice()), NOW, FIRST_WAIT) == NOW + 8 * FIRST_WAIT


def test_the_wait_is_capped() -> None:
    hour = dt.timedelta(hours=1)
    three = attempts(NOW - 3 * dt.timedelta(days=1), NOW - 2 * dt.timedelta(days=1), NOW - hour)
    assert next_check_at(three, busy(invoice()), NOW, hour) == NOW + MAX_WAIT
    many = attempts(*[NOW - dt.timedelta(days=n) for n in range(1, 60)])
    assert next_check_at(many, busy(invoice()), NOW, FIRST_WAIT) == NOW + MAX_WAIT


def test_the_providers_own_retry_time_is_honoured() -> None:
    assert next_check_at(attempts(), daily_cap(invoice()), NOW, FIRST_WAIT) == MIDNIGHT
    # an earlier one is not: the backoff still holds
    soon = busy(invoice()).model_copy(update={"retry_at": NOW + dt.timedelta(seconds=1)})
    assert next_check_at(attempts(NOW), soon, NOW, FIRST_WAIT) == NOW + 2 * FIRST_WAIT


def test_the_sixth_check_of_a_shanghai_day_waits_for_the_next_day() -> None:
    today = [NOW - dt.timedelta(minutes=n) for n in range(DAILY_CHECKS)]
    assert next_check_at(attempts(*today), busy(invoice()), NOW, FIRST_WAIT) == MIDNIGHT
    # yesterday's checks (23:00 in Shanghai, 15:00 UTC) do not count
    yesterday = [dt.datetime(2024, 5, 31, 23, 0, tzinfo=SHANGHAI)] * DAILY_CHECKS
    four_today = [*yesterday, *today[:4]]
    expected = NOW + FIRST_WAIT * 2**9  # 9 checks so far
    assert next_check_at(attempts(*four_today), busy(invoice()), NOW, FIRST_WAIT) == expected
    # a Shanghai day, not a UTC one: 01:00 in Shanghai is still the previous UTC day
    early = dt.datetime(2024, 6, 1, 1, 0, tzinfo=SHANGHAI)
    five = attempts(*[early] * DAILY_CHECKS)
    assert next_check_at(five, busy(invoice()), early, FIRST_WAIT) == MIDNIGHT


def test_no_recheck_for_a_final_answer_or_what_a_later_check_cannot_cure() -> None:
    assert next_check_at(attempts(), verified(invoice()), NOW, FIRST_WAIT) is None
    assert next_check_at(attempts(), refused(invoice()), NOW, FIRST_WAIT) is None
    incomplete = Verification(
        invoice_key=KEY,
        status=C,
        source=Source.OFFLINE_CHECKS,
        findings=[Finding(check="x", outcome=Outcome.INCOMPLETE, fields=("total_amount",))],
    )
    assert incomplete.cause is Problem.AWAITING_COMPLETION
    assert next_check_at(attempts(), incomplete, NOW, FIRST_WAIT) is None
    no_verifier = Verification(invoice_key=KEY, status=C, source=Source.NO_PROVIDER)
    assert no_verifier.cause is Problem.NO_VERIFIER
    assert next_check_at(attempts(), no_verifier, NOW, FIRST_WAIT) is None


def test_a_retry_time_is_a_whole_second() -> None:
    odd = NOW + dt.timedelta(microseconds=250)
    at = next_check_at(attempts(), busy(invoice()), odd, FIRST_WAIT)
    assert at == NOW + FIRST_WAIT + dt.timedelta(seconds=1)


# --- check_again ---------------------------------------------------------------------------


def test_a_c_invoice_verified_now_becomes_y_and_one_event_is_published() -> None:
    world = World(ScriptedVerifier(verified))
    world.put(stored_c(retry_at=NOW))
    after = check_again(world.record(), world.deps)
    assert (after.status, after.message, after.message_code) == (Y, None, None)
    assert after.retry_at is None
    assert after.check is not None and after.check.success
    assert after.check_attempts == [NOW]
    assert after.updated_at == NOW
    assert [t.status for t in after.transitions] == [C, Y]
    assert all(t.published for t in after.transitions)
    assert world.record() == after
    (change,) = world.bus.changes
    assert change.model_dump(mode="json") == {
        "invoice_key": KEY,
        "owner": "sss.ddd",
        "expense_id": 41981033,
        "previous_status": "C",
        "status": "Y",
        "message_code": None,
        "message": None,
        "invoice_type": {"code": "01", "name": "增值税专用发票"},
        "at": "2024-06-01T10:30:00+08:00",
    }


def test_a_refusal_is_f_with_the_catalogue_code_as_an_integer() -> None:
    world = World(ScriptedVerifier(refused))
    world.put(stored_c(retry_at=NOW))
    after = check_again(world.record(), world.deps)
    assert (after.status, after.message_code) == (F, "907001")
    (change,) = world.bus.changes
    assert (change.previous_status, change.status, change.message_code) == (C, F, 907001)
    assert change.message == after.message == invoice_message(Problem.CHECK_FAILED, "查无此票")[1]
    assert after.transitions[-1].message_code == "907001"


def test_still_busy_stores_the_attempt_and_the_next_time_without_an_event() -> None:
    world = World(ScriptedVerifier(busy))
    world.put(stored_c(retry_at=NOW))
    after = check_again(world.record(), world.deps)
    assert after.status is C
    assert after.message_code == "907011"
    assert after.check_attempts == [NOW]
    assert after.retry_at == NOW + 2 * FIRST_WAIT  # the second wait doubles the first
    assert [t.status for t in after.transitions] == [C]
    assert world.bus.changes == []


def test_an_automatic_recheck_leaves_a_record_no_longer_c_alone() -> None:
    world = World(ScriptedVerifier(verified))
    world.put(stored_c(status=Y, message=None, message_code=None))
    before = world.record()
    assert check_again(before, world.deps) == before
    waiting = World(ScriptedVerifier(verified))
    waiting.put(stored_c(Problem.AWAITING_COMPLETION))
    assert check_again(waiting.record(), waiting.deps).status is C
    assert world.verifier.calls == [] and waiting.verifier.calls == []


def test_the_title_check_applies_as_in_create() -> None:
    company = CompanySettings(
        titles=(CompanyTitle(name="别家公司", tax_code="91310000000000000X"),)
    )
    world = World(ScriptedVerifier(verified), company)
    world.put(stored_c(retry_at=NOW))
    after = check_again(world.record(), world.deps)
    assert (after.status, after.message_code, after.title_conflict) == (Y, "907005", True)
    (change,) = world.bus.changes
    assert change.message_code == 907005


def test_a_record_changed_meanwhile_is_read_again_and_paid_for_once() -> None:
    world = World(ScriptedVerifier(verified))
    world.put(stored_c(retry_at=NOW))
    read = world.record()
    # another writer (a schedule after create) replaces the record after it was read
    world.store.replace(read.model_copy(update={"retry_at": NOW + FIRST_WAIT}))
    after = check_again(read, world.deps)
    assert after.status is Y
    assert after.version == read.version + 3  # the other writer's, this check, published
    assert len(world.verifier.calls) == 1
    assert len(world.bus.changes) == 1


def test_a_record_corrected_meanwhile_is_not_overwritten() -> None:
    world = World(ScriptedVerifier(refused))
    world.put(stored_c(retry_at=NOW))
    read = world.record()
    corrected = read.model_copy(update={"invoice": invoice(remark="补全")})
    world.store.replace(corrected)
    after = check_again(read, world.deps)
    assert after.invoice.remark == "补全"
    assert after.status is C  # the correction's own check decides, not this one
    assert world.bus.changes == []


def test_a_crash_between_store_and_publish_is_published_by_the_next_run() -> None:
    world = World(ScriptedVerifier(verified))
    world.put(stored_c(retry_at=NOW))
    world.bus.fail_next = 1
    with pytest.raises(RuntimeError):
        check_again(world.record(), world.deps)
    stored = world.record()
    assert stored.status is Y and not stored.transitions[-1].published
    run = run_scheduled(KEY, NOW, world.deps)  # the task run again (Step Functions' retry)
    assert run.final
    assert len(world.bus.changes) == 1
    assert world.record().transitions[-1].published
    assert len(world.verifier.calls) == 1  # published, not checked again


def test_beyond_the_days_checks_nothing_is_asked_and_the_record_waits_for_tomorrow() -> None:
    world = World(ScriptedVerifier(verified))
    today = [NOW - dt.timedelta(minutes=n + 1) for n in range(DAILY_CHECKS)]
    world.put(stored_c(retry_at=NOW, check_attempts=today))
    after = check_again(world.record(), world.deps)
    assert world.verifier.calls == []
    assert (after.status, after.message_code, after.retry_at) == (C, "907013", MIDNIGHT)
    with pytest.raises(HubError) as refused_by_hand:
        check_again(world.record(), world.deps, by_hand=True)
    assert refused_by_hand.value.problem is Problem.RATE_LIMITED


def test_a_recheck_by_hand_checks_now_and_schedules_what_stays_c() -> None:
    world = World(ScriptedVerifier(busy))
    world.put(stored_c(Problem.AWAITING_COMPLETION))  # completed by a fix, say
    after = check_again(world.record(), world.deps, by_hand=True)
    assert len(world.verifier.calls) == 1
    assert after.message_code == "907011"
    assert after.retry_at is not None
    assert world.scheduler.scheduled == [(KEY, after.retry_at)]


def test_a_recheck_by_hand_asks_again_although_a_deferral_is_remembered() -> None:
    world = World(ScriptedVerifier(busy, verified))
    world.put(stored_c(retry_at=NOW))
    check_again(world.record(), world.deps)  # busy: remembered until NOW + 5 s
    world.clock.advance(seconds=1)
    assert world.verifier.calls and len(world.verifier.calls) == 1
    after = check_again(world.record(), world.deps, by_hand=True)
    assert len(world.verifier.calls) == 2
    assert after.status is Y


def test_a_recheck_by_hand_of_an_f_invoice_can_make_it_y() -> None:
    world = World(ScriptedVerifier(verified))
    code, message = invoice_message(Problem.CHECK_MISMATCH)
    created = Transition(status=F, at=NOW - dt.timedelta(days=1), reason=message)
    world.put(stored_c(status=F, message=message, message_code=str(code), transitions=[created]))
    after = check_again(world.record(), world.deps, by_hand=True)
    assert after.status is Y
    (change,) = world.bus.changes
    assert (change.previous_status, change.status) == (F, Y)


# --- the scheduled task --------------------------------------------------------------------


def test_a_scheduled_run_checks_when_due_and_answers_the_next_wait() -> None:
    world = World(ScriptedVerifier(busy, verified))
    world.put(stored_c(retry_at=NOW))
    first = run_scheduled(KEY, NOW, world.deps)
    assert not first.final
    assert first.retry_at == world.record().retry_at
    assert first.retry_at is not None
    world.clock.now = first.retry_at
    second = run_scheduled(KEY, first.retry_at, world.deps)
    assert (second.final, second.retry_at) == (True, None)
    assert world.record().status is Y
    assert len(world.bus.changes) == 1


def test_an_early_run_waits_on_and_a_superseded_one_ends() -> None:
    world = World(ScriptedVerifier(verified))
    later = NOW + dt.timedelta(minutes=1)
    world.put(stored_c(retry_at=later))
    early = run_scheduled(KEY, later, world.deps)
    assert (early.final, early.retry_at) == (False, later)
    superseded = run_scheduled(KEY, NOW - dt.timedelta(minutes=1), world.deps)
    assert superseded.final
    assert run_scheduled("nothing-stored", NOW, world.deps).final
    assert world.verifier.calls == []


# --- the first schedule --------------------------------------------------------------------


def test_a_record_created_c_gets_its_retry_time_and_is_scheduled() -> None:
    world = World(ScriptedVerifier(verified))
    world.put(stored_c())
    record = schedule_stored(KEY, world.store, world.scheduler, now=NOW, first_wait=FIRST_WAIT)
    assert record is not None and record.retry_at == NOW + FIRST_WAIT
    assert world.record().retry_at == NOW + FIRST_WAIT
    assert world.scheduler.scheduled == [(KEY, NOW + FIRST_WAIT)]
    # run again (a Step Functions retry): the same schedule, one execution
    schedule_stored(KEY, world.store, world.scheduler, now=NOW, first_wait=FIRST_WAIT)
    assert world.scheduler.scheduled == [(KEY, NOW + FIRST_WAIT)]


def test_an_invoice_issued_today_is_scheduled_for_the_next_shanghai_day() -> None:
    world = World(ScriptedVerifier(verified))
    record = world.put(stored_c(Problem.CHECK_TOMORROW))
    schedule_recheck(record, world.store, world.scheduler, now=NOW, first_wait=FIRST_WAIT)
    assert world.scheduler.scheduled == [(KEY, MIDNIGHT)]


def test_what_a_later_check_cannot_cure_is_not_scheduled() -> None:
    world = World(ScriptedVerifier(verified))
    world.put(stored_c(Problem.AWAITING_COMPLETION))
    schedule_stored(KEY, world.store, world.scheduler, now=NOW, first_wait=FIRST_WAIT)
    assert world.scheduler.scheduled == []
    assert world.record().retry_at is None


def test_a_one_call_create_schedules_with_the_providers_time_and_never_fails() -> None:
    world = World(ScriptedVerifier(verified))
    world.put(stored_c())
    outcome = CreateOutcome(41981033, C, KEY, Problem.CHECK_DEFERRED)
    schedule_created(
        outcome, busy(invoice()), world.store, world.scheduler, now=NOW, first_wait=FIRST_WAIT
    )
    assert world.scheduler.scheduled == [(KEY, NOW + FIRST_WAIT)]

    class Down:
        def schedule(self, invoice_key: str, at: dt.datetime) -> None:
            raise RuntimeError("Step Functions is down")

    other = World(ScriptedVerifier(verified))
    other.put(stored_c())
    schedule_created(outcome, busy(invoice()), other.store, Down(), now=NOW, first_wait=FIRST_WAIT)
    # the Y, F and duplicate answers schedule nothing
    for status, problem in ((Y, None), (F, Problem.DUPLICATE_INVOICE)):
        answered = CreateOutcome(41981033, status, KEY, problem)
        schedule_created(
            answered, busy(invoice()), other.store, other.scheduler, now=NOW, first_wait=FIRST_WAIT
        )
    assert other.scheduler.scheduled == []
