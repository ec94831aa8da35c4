"""Use case: turn one recognized (and checked) invoice into an invoice and expense record.

Spec 001 (票据创建). The rules refuse a bad request before anything is stored; the
store refuses a second import of the same invoice even when two requests race.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from fapiao.catalogue.errors import HubError, Problem
from fapiao.dates import now_in_shanghai
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.create import CreateCommand, CreateOutcome
from fapiao.model.stored import (
    DuplicateInvoice,
    Expense,
    ExpenseIdTaken,
    ExpenseLocked,
    ExpenseNotFound,
    StoredInvoice,
    Transition,
    new_expense_id,
)
from fapiao.ports import InvoiceStore
from fapiao.rules import create as rules
from fapiao.settings import CompanySettings

_ID_ATTEMPTS = 5  # expense-id collisions need 22 equal random bits in one millisecond


def create_invoice(
    command: CreateCommand,
    store: InvoiceStore,
    company: CompanySettings,
    now: Callable[[], dt.datetime] = now_in_shanghai,
) -> CreateOutcome:
    invoice, invoice_key, currency = _accepted_invoice(command, company)
    answer, title_conflict = _answer(command, invoice, invoice_key, company)
    created_at = now()
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
            created_at=created_at,
            transitions=[Transition(status=answer.status, at=created_at, reason=answer.message)],
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
            # 001: 对于重复导入票据会记录查验失败和错误信息 — answered F with 907002 and the
            # expense the invoice already belongs to; nothing new is written.
            existing = duplicate.existing
            return CreateOutcome(
                expense_id=None if existing is None else existing.expense_id,
                status=InvoiceStatus.CHECK_FAILED,
                invoice_key=invoice_key,
                problem=Problem.DUPLICATE_INVOICE,
            )
        return replace(answer, expense_id=expense_id)
    raise RuntimeError("could not draw a free expense id")


def _accepted_invoice(command: CreateCommand, company: CompanySettings) -> tuple[Invoice, str, str]:
    """Spec 001's rules, in the order they refuse: the invoice, its key and its currency."""
    rules.require_biz_id(command.biz_id)
    invoice = rules.require_one_invoice(command.invoices)
    rules.require_recognition_success(command.recognition_result)
    rules.require_receipt_date(invoice)
    rules.require_type_fields(invoice)
    rules.limit_remark(invoice)
    invoice_key = rules.require_invoice_number(invoice)
    if not command.awaiting_check and command.cause is None:
        rules.require_check_for_vat(invoice, command.check)
    rules.require_matching_check_type(invoice, command.check)
    rules.require_check_of_this_invoice(invoice, command.check)
    if command.check is not None and not invoice.items:
        # 001 sends the lines only in receipt_check.detail_list; the tax rules read them.
        invoice = invoice.model_copy(update={"items": command.check.invoice.items})
    invoice = rules.complete_tax(invoice)
    currency = rules.choose_currency(invoice, company)
    invoice = invoice.model_copy(update={"currency": currency})
    return invoice, invoice_key, currency


def _answer(
    command: CreateCommand, invoice: Invoice, invoice_key: str, company: CompanySettings
) -> tuple[CreateOutcome, bool]:
    """The status and message the invoice is stored and answered with; and a title conflict."""
    status, problem = rules.status_of(invoice, command.check)
    detail = None
    if problem is Problem.CHECK_FAILED and command.check is not None:
        detail = command.check.message  # the checker's own reason, when it gave one
    if command.cause is not None:
        problem, detail = command.cause, command.cause_detail
        status = status_of_cause(command.cause)
    elif command.check is None and command.awaiting_check and invoice.invoice_type.is_vat:
        status = InvoiceStatus.AWAITING_CHECK
    title_message = rules.check_buyer_title(invoice, company)
    if problem is None and title_message is not None:
        problem, detail = Problem.TITLE_MISMATCH, title_message
    return CreateOutcome(None, status, invoice_key, problem, detail), title_message is not None


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
