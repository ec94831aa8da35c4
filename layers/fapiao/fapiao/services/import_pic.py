"""Use case (spec 002, Maycur 发票文件导入): a file by URL or base64, recognized,
verified, and bound to a new or existing expense of an employee."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model.parties import Employee
from fapiao.model.stored import Expense, ExpenseState, expense_id_of
from fapiao.ports import (
    EmployeeDirectory,
    FileLoader,
    InvoiceStore,
    RecheckScheduler,
    VerifyDeps,
)
from fapiao.recognize import FileKind
from fapiao.recognize.detect import detect
from fapiao.results import ImportedInvoice
from fapiao.rules.create import BIZ_ID_LIMIT, RuleViolation
from fapiao.services.create_invoice import create_invoice
from fapiao.services.process_file import create_command, recognize_and_verify
from fapiao.services.recheck import schedule_created
from fapiao.settings import CompanySettings
from fapiao.settings.limits import MAYCUR_MAX_FILE_BYTES as MAX_FILE_BYTES

MAX_URL_CHARS = 100  # 002: fileUrl String(100)
# 002: fileType 仅支持 JPG、PNG、PDF和OFD 四种格式 — and what the bytes must then be.
FILE_TYPES: dict[str, FileKind] = {
    "JPG": FileKind.JPEG,
    "JPEG": FileKind.JPEG,
    "PNG": FileKind.PNG,
    "PDF": FileKind.PDF,
    "OFD": FileKind.OFD,
}
_BASE64_LENGTH = (MAX_FILE_BYTES + 2) // 3 * 4  # base64 characters of an 8 MB file
_WHITESPACE = re.compile(r"\s+")


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
    scheduler: RecheckScheduler | None = None  # None: an invoice stored C is not re-checked


def find_employee(employee_id: str, employees: EmployeeDirectory) -> Employee:
    """002: AUTH0007 员工不存在."""
    if not employee_id.strip():
        raise HubError(Problem.UNKNOWN_EMPLOYEE, "employeeId is empty")
    employee = employees.get(employee_id.strip())
    if employee is None:
        raise HubError(Problem.UNKNOWN_EMPLOYEE, f"employeeId {employee_id}")
    return employee


def find_open_expense(code: str, employee: Employee, store: InvoiceStore) -> Expense:
    """002: EXPENSE_ERR_13 费用不存在 (or not the employee's); EXPENSE_ERR_58 the expense
    is in an approval flow or done."""
    # Only ASCII digits name an expense: int() refuses "²" although isdigit() takes it.
    expense_id = expense_id_of(code) if code.isascii() else None
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
    url = (command.file_url or "").strip()
    if url:
        if len(url) > MAX_URL_CHARS:
            raise HubError(Problem.INVALID_REQUEST, f"fileUrl: at most {MAX_URL_CHARS} characters")
        if not url.lower().startswith(("http://", "https://")):
            raise HubError(Problem.FILE_UNREACHABLE, "fileUrl must be http or https")
        data = fetch(url, MAX_FILE_BYTES)
        if not data:
            raise HubError(Problem.FILE_UNREACHABLE, "the file at fileUrl is empty")
        return data
    if not (command.file_base64 or "").strip():
        raise HubError(Problem.INVALID_REQUEST, "fileUrl or fileBase64: one is required")
    return decode_base64(command.file_base64 or "")


def decode_base64(text: str) -> bytes:
    """fileBase64's bytes: a data URL's payload too, line breaks ignored (MIME base64
    wraps at 76 characters)."""
    if len(text) > 2 * _BASE64_LENGTH:  # far over: not worth cleaning up
        raise HubError(Problem.FILE_TOO_LARGE, "over 8 MB")
    encoded = text.strip()
    if encoded.startswith("data:") and "," in encoded:  # a data URL's payload
        encoded = encoded.split(",", 1)[1]
    encoded = _WHITESPACE.sub("", encoded)
    if len(encoded) > _BASE64_LENGTH + 4:
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


def biz_id_of(request_id: str, index: int) -> str:
    """The stored records' biz_id: the request id and the invoice's place in the file,
    within 001's 36 characters (an API Gateway request id alone has 36)."""
    suffix = f"-{index}"
    return (request_id.strip() or "import")[: BIZ_ID_LIMIT - len(suffix)] + suffix


def import_invoice_pic(command: ImportCommand, deps: ImportDeps) -> list[ImportedInvoice]:
    employee = find_employee(command.employee_id, deps.employees)
    code = (command.expense_code or "").strip()  # 002: 此值不为空时 — blank is absent
    expense = find_open_expense(code, employee, deps.store) if code else None
    declared = require_file_type(command.file_type)
    data = load_import_file(command, deps.fetch)
    require_declared_kind(data, declared)
    company = deps.company()
    found = [
        item
        for item in recognize_and_verify(
            data, deps.verify, verify_file_signatures=company.verify_file_signatures
        )
        if item.recognized.invoice
    ]
    if not found:
        raise HubError(Problem.UNRECOGNISABLE, "no invoice could be read from the file")

    # 002: expenseCode binds every invoice to it; otherwise one new expense for all
    # (allInvoiceBindToOneExpense) or one each.
    bind_to = None if expense is None else expense.expense_id
    imported: list[ImportedInvoice] = []
    for index, item in enumerate(found):
        assert item.recognized.invoice is not None
        invoice_command = create_command(
            item.recognized.invoice,
            item.verification,
            biz_id=biz_id_of(command.request_id, index),
            user_code=employee.user_code,
            attachment_url=(command.file_url or "").strip() or "base64",
            bind_to=bind_to,
            employee_id=employee.employee_id,
            signature=item.recognized.signature,
            provenance=item.recognized.provenance(),
        )
        try:
            outcome = create_invoice(invoice_command, deps.store, company)
        except RuleViolation as refusal:
            # What was read breaks a rule (no date, amounts that do not add up): this
            # invoice is not saved, and the others of the file still are.
            imported.append(ImportedInvoice(item, None, employee, refusal))
            continue
        schedule_created(
            outcome,
            item.verification,
            deps.store,
            deps.scheduler,
            now=deps.verify.clock(),
            first_wait=deps.verify.retry_after,
        )
        imported.append(ImportedInvoice(item, outcome, employee))
        if command.all_to_one_expense and bind_to is None and not imported[-1].duplicate:
            bind_to = outcome.expense_id
    if not any(i.stored for i in imported):
        raise nothing_saved(imported)
    return imported


def nothing_saved(imported: list[ImportedInvoice]) -> HubError:
    """Why no invoice of the file was saved: INV20002 when some were imported before
    (002: 若导入费用成功...不允许再次导入相同发票), else INV20006 (what was read is not
    a complete invoice)."""
    duplicates = sum(1 for i in imported if i.duplicate)
    refused = [i.refused for i in imported if i.refused is not None]
    incomplete = f"incomplete: {refused[0].detail}" if refused else ""
    if duplicates == len(imported):
        return HubError(Problem.DUPLICATE_INVOICE, "every invoice of the file was imported before")
    if duplicates:
        return HubError(
            Problem.DUPLICATE_INVOICE,
            f"{duplicates} of the file's invoices were imported before, the others are "
            + incomplete,
        )
    return HubError(Problem.UNRECOGNISABLE, "the invoice read is " + incomplete)
