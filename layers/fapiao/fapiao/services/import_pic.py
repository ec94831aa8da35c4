"""Use case (spec 002, Maycur 发票文件导入): a file by URL or base64, recognised,
verified, and bound to a new or existing expense of an employee."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import FileKind
from fapiao.recognize.detect import detect
from fapiao.services.create_invoice import CreateOutcome, create_invoice
from fapiao.services.process_file import (
    FileInvoice,
    FileLoader,
    create_command,
    recognise_and_verify,
)
from fapiao.services.verify import VerifyDeps
from fapiao.settings import CompanySettings
from fapiao.store.employees import Employee, EmployeeDirectory
from fapiao.store.invoices import Expense, ExpenseState, InvoiceStore, expense_id_of

MAX_FILE_BYTES = 8 * 1024 * 1024  # 002: INV30109 发票文件超过 8M
MAX_URL_CHARS = 100  # 002: fileUrl String(100)
# 002: fileType 仅支持 JPG、PNG、PDF和OFD 四种格式 — and what the bytes must then be.
FILE_TYPES: dict[str, FileKind] = {
    "JPG": FileKind.JPEG,
    "JPEG": FileKind.JPEG,
    "PNG": FileKind.PNG,
    "PDF": FileKind.PDF,
    "OFD": FileKind.OFD,
}


@dataclass(frozen=True)
class ImportCommand:
    employee_id: str
    file_type: str
    file_url: str | None = None
    file_base64: str | None = None
    expense_code: str | None = None
    all_to_one_expense: bool = False
    request_id: str = ""  # names the import in the stored records (their biz_id)


@dataclass(frozen=True)
class ImportDeps:
    fetch: FileLoader
    verify: VerifyDeps
    store: InvoiceStore
    employees: EmployeeDirectory
    company: Callable[[], CompanySettings]


@dataclass(frozen=True)
class ImportedInvoice:
    item: FileInvoice
    outcome: CreateOutcome
    employee: Employee

    @property
    def duplicate(self) -> bool:
        return self.outcome.problem is Problem.DUPLICATE_INVOICE


def find_employee(employee_id: str, employees: EmployeeDirectory) -> Employee:
    """002: AUTH0007 员工不存在."""
    employee = employees.get(employee_id.strip())
    if employee is None:
        raise HubError(Problem.UNKNOWN_EMPLOYEE, f"employeeId {employee_id}")
    return employee


def find_open_expense(code: str, employee: Employee, store: InvoiceStore) -> Expense:
    """002: EXPENSE_ERR_13 费用不存在 (or not the employee's); EXPENSE_ERR_58 the expense
    is in an approval flow or done."""
    expense_id = expense_id_of(code)
    expense = None if expense_id is None else store.get_expense(expense_id)
    if expense is None or expense.user_code != employee.user_code:
        raise HubError(Problem.UNKNOWN_EXPENSE, f"expenseCode {code}")
    if expense.state is not ExpenseState.OPEN:
        raise HubError(Problem.EXPENSE_LOCKED, f"expenseCode {code} is {expense.state.value}")
    return expense


def require_file_type(file_type: str) -> FileKind:
    """002: fileType JPG/PNG/PDF/OFD (INV30104)."""
    kind = FILE_TYPES.get(file_type.strip().upper())
    if kind is None:
        raise HubError(Problem.UNSUPPORTED_FILE_TYPE, f"fileType {file_type}")
    return kind


def load_import_file(command: ImportCommand, fetch: FileLoader) -> bytes:
    """002: fileUrl wins over fileBase64; over 8 MB is INV30109, unreadable INV30002."""
    if command.file_url:
        url = command.file_url.strip()
        if len(url) > MAX_URL_CHARS:
            raise HubError(Problem.INVALID_REQUEST, f"fileUrl: at most {MAX_URL_CHARS} characters")
        if not url.lower().startswith(("http://", "https://")):
            raise HubError(Problem.FILE_UNREACHABLE, "fileUrl must be http or https")
        return fetch(url, MAX_FILE_BYTES)
    if not command.file_base64:
        raise HubError(Problem.INVALID_REQUEST, "fileUrl or fileBase64: one is required")
    encoded = command.file_base64.strip()
    if encoded.startswith("data:") and "," in encoded:  # a data URL's payload
        encoded = encoded.split(",", 1)[1]
    if len(encoded) > (MAX_FILE_BYTES + 2) // 3 * 4 + 4:
        raise HubError(Problem.FILE_TOO_LARGE, "over 8 MB")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise HubError(Problem.FILE_UNREACHABLE, "fileBase64 is not base64") from None
    if len(data) > MAX_FILE_BYTES:
        raise HubError(Problem.FILE_TOO_LARGE, "over 8 MB")
    if not data:
        raise HubError(Problem.FILE_UNREACHABLE, "fileBase64 is empty")
    return data


def require_declared_kind(data: bytes, declared: FileKind) -> None:
    """002: the content at the address must be the declared type (INV30104)."""
    try:
        actual = detect(data)
    except HubError:
        raise HubError(Problem.UNSUPPORTED_FILE_TYPE, "not a JPG, PNG, PDF or OFD file") from None
    if actual is not declared:
        raise HubError(
            Problem.UNSUPPORTED_FILE_TYPE,
            f"fileType says {declared.value}, the content is {actual.value}",
        )


def import_invoice_pic(command: ImportCommand, deps: ImportDeps) -> list[ImportedInvoice]:
    employee = find_employee(command.employee_id, deps.employees)
    expense = (
        find_open_expense(command.expense_code, employee, deps.store)
        if command.expense_code
        else None
    )
    declared = require_file_type(command.file_type)
    data = load_import_file(command, deps.fetch)
    require_declared_kind(data, declared)
    found = [item for item in recognise_and_verify(data, deps.verify) if item.recognised.invoice]
    if not found:
        raise HubError(Problem.UNRECOGNISABLE, "no invoice could be read from the file")

    company = deps.company()
    # 002: expenseCode binds every invoice to it; otherwise one new expense for all
    # (allInvoiceBindToOneExpense) or one each.
    bind_to = None if expense is None else expense.expense_id
    imported: list[ImportedInvoice] = []
    for index, item in enumerate(found):
        invoice_command = create_command(
            item,
            biz_id=f"{command.request_id}-{index}"[:36],
            user_code=employee.user_code,
            attachment_url=command.file_url or "base64",
            bind_to=bind_to,
            employee_id=employee.employee_id,
        )
        outcome = create_invoice(invoice_command, deps.store, company)
        imported.append(ImportedInvoice(item, outcome, employee))
        created_new = bind_to is None and outcome.problem is not Problem.DUPLICATE_INVOICE
        if command.all_to_one_expense and created_new:
            bind_to = outcome.expense_id
    if all(i.duplicate for i in imported):
        # 002: 若导入费用成功...不允许再次导入相同发票 — INV20002 发票无法保存
        raise HubError(Problem.DUPLICATE_INVOICE, "every invoice of the file was imported before")
    return imported
