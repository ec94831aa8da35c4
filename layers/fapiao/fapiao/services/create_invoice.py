"""Use case: turn one recognized (and checked) invoice into an invoice and expense record.

Spec 001 (票据创建). The rules refuse a bad request before anything is stored; the
store refuses a second import of the same invoice even when two requests race. A
client's reading is cross-checked against its own check (F 907007 where they differ);
a fuller reading of an invoice its owner's record waits for (C 907010) completes that
record instead of being refused as a duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from fapiao.catalogue.errors import HubError, Problem
from fapiao.dates import now_in_shanghai, today_in_shanghai
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.create import CreateCommand, CreateOutcome
from fapiao.model.stored import (
    CheckRecord,
    DuplicateInvoice,
    Expense,
    ExpenseIdTaken,
    ExpenseLocked,
    ExpenseNotFound,
    StaleInvoice,
    StoredInvoice,
    Transition,
    awaits_completion,
    new_expense_id,
)
from fapiao.ports import InvoiceStore
from fapiao.rules import create as rules
from fapiao.rules.file_signatures import signature_refusal
from fapiao.settings import CompanySettings

_ID_ATTEMPTS = 5  # expense-id collisions need 22 equal random bits in one millisecond


def create_invoice(
    command: CreateCommand,
    store: InvoiceStore,
    company: CompanySettings,
    now: Callable[[], dt.datetime] = now_in_shanghai,
) -> CreateOutcome:
    created_at = now()
    accepted = _accepted_invoice(command, company, today_in_shanghai(created_at))
    answer, title_conflict = _answer(command, accepted, company)
    invoice, invoice_key, currency = accepted.invoice, accepted.key, accepted.currency
    for _ in range(_ID_ATTEMPTS):
        expense_id = command.bind_to if command.bind_to is not None else new_expense_id()
        record = StoredInvoice(
            invoice_key=invoice_key,
            expense_id=expense_id,
            user_code=command.user_code,
            biz_id=command.biz_id,
            status=answer.status,
            message=answer.message,
            message_code=answer.message_code,
            currency=currency,
            title_conflict=title_conflict,
            invoice=invoice,
            check=command.check,
            signature=command.signature,
            provenance=command.provenance,
            checks=_first_checks(command, answer, created_at),
            created_at=created_at,
            transitions=[
                Transition(
                    status=answer.status,
                    at=created_at,
                    reason=answer.message,
                    message_code=answer.message_code,
                )
            ],
        )
        expense = Expense(
            expense_id=expense_id,
            user_code=command.user_code,
            invoice_keys=[invoice_key],
            currency=currency,
            total_amount=invoice.total_amount,
            created_at=created_at,
            employee_id=command.employee_id,
        )
        try:
            _save(command, store, record, expense)
        except ExpenseIdTaken:
            continue
        except DuplicateInvoice as duplicate:
            return _complete_or_duplicate(duplicate.existing, record, answer, store)
        return replace(answer, expense_id=expense_id)
    raise RuntimeError("could not draw a free expense id")


def _first_checks(
    command: CreateCommand, answer: CreateOutcome, at: dt.datetime
) -> list[CheckRecord]:
    """The record's check history as the create begins it: the verification given with
    the command (the hub's, or 001's own receipt_check), if any."""
    if command.checked_by is None and command.check is None:
        return []
    return [
        CheckRecord(
            at=at,
            status=answer.status,
            message_code=answer.message_code,
            message=answer.message,
            source=command.checked_by or "client",
            paid=command.paid,
        )
    ]


@dataclass(frozen=True)
class _Accepted:
    """An invoice the rules let through: as it is stored (amounts completed, currency
    chosen), its key, and where what was read disagrees with its check."""

    invoice: Invoice
    key: str
    currency: str
    differences: list[str]


def _accepted_invoice(
    command: CreateCommand, company: CompanySettings, today: dt.date
) -> _Accepted:
    """Spec 001's rules, in the order they refuse: the invoice, its key and its currency."""
    rules.require_biz_id(command.biz_id)
    invoice = rules.require_one_invoice(command.invoices)
    rules.require_recognition_success(command.recognition_result)
    rules.require_receipt_date(invoice)
    rules.require_type_fields(invoice)
    rules.limit_remark(invoice)
    invoice_key = rules.require_invoice_number(invoice)
    differences: list[str] = []
    if command.claimed:
        # What a client says it read and checked: refused when no invoice could say it,
        # cross-checked against its own receipt_check (the hub's own readings were
        # checked offline and by the verifier, whose answer is the authority's data).
        rules.require_amounts_in_range(invoice, command.check)
        rules.require_blue_total_not_negative(invoice, command.check)
        rules.require_receipt_date_not_in_the_future(invoice, today)
    if not command.awaiting_check and command.cause is None:
        rules.require_check_for_vat(invoice, command.check)
    rules.require_matching_check_type(invoice, command.check)
    rules.require_check_of_this_invoice(invoice, command.check)
    if command.claimed:
        differences = rules.differences_from_check(invoice, command.check)
    if command.check is not None and not invoice.items:
        # 001 sends the lines only in receipt_check.detail_list; the tax rules read them.
        invoice = invoice.model_copy(update={"items": command.check.invoice.items})
    invoice = rules.complete_tax(invoice)
    currency = rules.choose_currency(invoice, company)
    invoice = invoice.model_copy(update={"currency": currency})
    return _Accepted(invoice, invoice_key, currency, differences)


def _answer(
    command: CreateCommand, accepted: _Accepted, company: CompanySettings
) -> tuple[CreateOutcome, bool]:
    """The status and message the invoice is stored and answered with; and a title conflict."""
    invoice = accepted.invoice
    status, problem = rules.status_of(invoice, command.check)
    detail = None
    if problem is Problem.CHECK_FAILED and command.check is not None:
        detail = command.check.message  # the checker's own reason, when it gave one
    if problem is None and accepted.differences:
        # Checked, but not what was read: a void or red-letter invoice says so first.
        status, problem = InvoiceStatus.CHECK_FAILED, Problem.CHECK_MISMATCH
        detail = "; ".join(accepted.differences)
    refusal = signature_refusal(command.signature, company.verify_file_signatures)
    if refusal is not None:  # not the file that was issued, whatever its check said
        status, problem, detail = InvoiceStatus.CHECK_FAILED, refusal.problem, refusal.detail
    elif command.cause is not None:
        problem, detail = command.cause, command.cause_detail
        status = status_of_cause(command.cause)
    elif command.check is None and command.awaiting_check and invoice.invoice_type.is_vat:
        status = InvoiceStatus.AWAITING_CHECK
    title_message = rules.check_buyer_title(invoice, company)
    if problem is None and title_message is not None:
        problem, detail = Problem.TITLE_MISMATCH, title_message
    return CreateOutcome(None, status, accepted.key, problem, detail), title_message is not None


# --- a second reading of an invoice ----------------------------------------------------

_REPLACE_ATTEMPTS = 5  # another completion, re-check or correction won the race: read again


def _complete_or_duplicate(
    existing: StoredInvoice | None,
    record: StoredInvoice,
    answer: CreateOutcome,
    store: InvoiceStore,
) -> CreateOutcome:
    """The invoice is stored already. Its owner's record that waits for completion
    (907010: read too incompletely to check) is completed by this fuller reading, and
    answered as its create; anything else is a duplicate (001: 对于重复导入票据会记录
    查验失败和错误信息 — F 907002 with the expense it already belongs to, nothing new
    written)."""
    for _ in range(_REPLACE_ATTEMPTS):
        if existing is None or not _completes(record, existing):
            return CreateOutcome(
                expense_id=None if existing is None else existing.expense_id,
                status=InvoiceStatus.CHECK_FAILED,
                invoice_key=record.invoice_key,
                problem=Problem.DUPLICATE_INVOICE,
            )
        try:
            written = store.replace(_completed(existing, record))
        except StaleInvoice:
            existing = store.get(record.invoice_key)
            continue
        return replace(answer, expense_id=written.expense_id)
    raise HubError(Problem.BUSY, f"invoice {record.invoice_key} keeps changing; try again")


def _completes(reading: StoredInvoice, existing: StoredInvoice) -> bool:
    """Does this reading complete the record? Its owner's, waiting for completion, and
    this reading is not itself too incomplete to check."""
    return (
        existing.user_code == reading.user_code
        and existing.status is InvoiceStatus.AWAITING_CHECK
        and awaits_completion(existing.message_code)
        and not awaits_completion(reading.message_code)
    )


def _completed(existing: StoredInvoice, reading: StoredInvoice) -> StoredInvoice:
    """The record with the new reading's invoice, check and outcome; its expense,
    creation, corrections and bizId stay the original's, its history grows by one."""
    at = reading.created_at  # when this reading was taken
    return existing.model_copy(
        update={
            "invoice": reading.invoice,
            "check": reading.check,
            "signature": reading.signature,
            "provenance": reading.provenance,
            "checks": [*existing.checks, *reading.checks],
            "currency": reading.currency,
            "title_conflict": reading.title_conflict,
            "status": reading.status,
            "message": reading.message,
            "message_code": reading.message_code,
            "transitions": [
                *existing.transitions,
                Transition(
                    status=reading.status,
                    at=at,
                    reason=reading.message,
                    message_code=reading.message_code,
                    published=True,  # told by this create's own answer or outcome
                ),
            ],
            "updated_at": at,
        }
    )


_AWAITING: frozenset[Problem] = frozenset(
    {
        Problem.AWAITING_COMPLETION,
        Problem.CHECK_DEFERRED,
        Problem.CHECK_TOMORROW,
        Problem.DAILY_CHECK_LIMIT,
        Problem.NO_VERIFIER,
    }
)


def status_of_cause(cause: Problem) -> InvoiceStatus:
    """The status a verification's cause stores an invoice with: C for what can still be
    checked (later, or once completed), I for a type that is never checked, else F."""
    if cause in _AWAITING:
        return InvoiceStatus.AWAITING_CHECK
    if cause is Problem.NOT_CHECKED_TYPE:
        return InvoiceStatus.RECOGNIZED
    return InvoiceStatus.CHECK_FAILED


def _save(
    command: CreateCommand, store: InvoiceStore, record: StoredInvoice, expense: Expense
) -> None:
    """Bind to the named expense or create a new one; an unusable expense is the client's."""
    try:
        if command.bind_to is not None:
            store.bind(record)
        else:
            store.create(record, expense)
    except ExpenseNotFound as missing:
        raise HubError(Problem.UNKNOWN_EXPENSE, f"no expense {missing}") from None
    except ExpenseLocked as locked:
        raise HubError(Problem.EXPENSE_LOCKED, f"expense {locked} is not open") from None
