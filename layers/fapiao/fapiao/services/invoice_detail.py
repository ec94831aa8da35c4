"""Use case: 发票明细查询 — the stored invoices by invoice code + number or by expense."""

from __future__ import annotations

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model import invoice_key
from fapiao.model.stored import StoredInvoice
from fapiao.ports import InvoiceStore


def find_invoices(
    store: InvoiceStore,
    *,
    invoice_code: str | None = None,
    invoice_number: str | None = None,
    expense_id: int | None = None,
) -> list[StoredInvoice]:
    """By key (code + number, or a 数电 number alone) or by expense; key reads, no scans."""
    if expense_id is not None:
        if invoice_number:
            raise HubError(Problem.INVALID_REQUEST, "give expense_id or invoice_number, not both")
        expense = store.get_expense(expense_id)
        if expense is None:
            raise HubError(Problem.NOT_FOUND, f"no expense {expense_id}")
        found = [store.get(key) for key in expense.invoice_keys]
        return [invoice for invoice in found if invoice is not None]
    key = invoice_key(invoice_code, invoice_number)
    if key is None:
        raise HubError(Problem.INVALID_REQUEST, "invoice_number or expense_id: one is required")
    stored = store.get(key)
    if stored is None:
        raise HubError(Problem.NOT_FOUND, "no such invoice")
    return [stored]
