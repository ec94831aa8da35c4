"""In-memory fakes of the ports (``fapiao.ports``), for unit tests: each keeps the
contract of its AWS adapter in ``fapiao.store`` (the invoice store and the outcome outbox
pass the same contract tests as their DynamoDB adapters, tests/integration).

They live with the tests, not in the Lambda layer: nothing the hub runs uses them.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from fapiao.catalogue.errors import HubError, Problem
from fapiao.clients import ApiClient
from fapiao.model.parties import Employee
from fapiao.model.pipeline import (
    DroppedObject,
    Execution,
    ExecutionStatus,
    Outcome,
    OutcomeKind,
    Publication,
    Recorded,
)
from fapiao.model.stored import (
    DuplicateInvoice,
    Expense,
    ExpenseIdTaken,
    ExpenseLocked,
    ExpenseNotFound,
    ExpenseState,
    StaleInvoice,
    StoredInvoice,
)
from fapiao.results import CachedVerification, Lease

__all__ = [
    "MemoryApiKeyStore",
    "MemoryBus",
    "MemoryEmployeeDirectory",
    "MemoryExecutions",
    "MemoryFileStore",
    "MemoryInvoiceStore",
    "MemoryKnownInvoices",
    "MemoryOutcomes",
    "MemoryVerificationCache",
]


# --- invoices and expenses (InvoiceStore) ---------------------------------------------


class MemoryInvoiceStore:
    """In-memory adapter with the DynamoDB adapter's contract (for unit tests)."""

    def __init__(self) -> None:
        self._invoices: dict[str, StoredInvoice] = {}
        self._expenses: dict[int, Expense] = {}
        self._lock = threading.Lock()

    def create(self, invoice: StoredInvoice, expense: Expense) -> None:
        with self._lock:
            if invoice.invoice_key in self._invoices:
                raise DuplicateInvoice(self._invoices[invoice.invoice_key].model_copy(deep=True))
            if expense.expense_id in self._expenses:
                raise ExpenseIdTaken(expense.expense_id)
            self._invoices[invoice.invoice_key] = invoice.model_copy(deep=True)
            self._expenses[expense.expense_id] = expense.model_copy(deep=True)

    def bind(self, invoice: StoredInvoice) -> None:
        with self._lock:
            if invoice.invoice_key in self._invoices:
                raise DuplicateInvoice(self._invoices[invoice.invoice_key].model_copy(deep=True))
            expense = self._expenses.get(invoice.expense_id)
            if expense is None:
                raise ExpenseNotFound(invoice.expense_id)
            if expense.state is not ExpenseState.OPEN:
                raise ExpenseLocked(invoice.expense_id)
            self._invoices[invoice.invoice_key] = invoice.model_copy(deep=True)
            expense.invoice_keys.append(invoice.invoice_key)

    def set_expense_state(self, expense_id: int, state: ExpenseState) -> None:
        self._expenses[expense_id].state = state

    def get(self, invoice_key: str) -> StoredInvoice | None:
        found = self._invoices.get(invoice_key)
        return None if found is None else found.model_copy(deep=True)

    def get_expense(self, expense_id: int) -> Expense | None:
        found = self._expenses.get(expense_id)
        return None if found is None else found.model_copy(deep=True)

    def replace(self, invoice: StoredInvoice) -> StoredInvoice:
        with self._lock:
            current = self._invoices.get(invoice.invoice_key)
            if current is None:
                raise KeyError(invoice.invoice_key)
            if current.version != invoice.version:
                raise StaleInvoice(invoice.invoice_key)
            written = invoice.model_copy(update={"version": invoice.version + 1}, deep=True)
            self._invoices[invoice.invoice_key] = written
            return written.model_copy(deep=True)

    def all(self) -> list[StoredInvoice]:
        """Every record (the review queue's fake reads them)."""
        with self._lock:
            return [record.model_copy(deep=True) for record in self._invoices.values()]

    def __len__(self) -> int:
        return len(self._invoices)


# --- files (FileStore) ----------------------------------------------------------------


class MemoryFileStore:
    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.files = dict(files or {})

    def get(self, key: str, max_bytes: int) -> bytes:
        if key not in self.files:
            raise HubError(Problem.FILE_UNREACHABLE, "no such file in the drop bucket")
        if len(self.files[key]) > max_bytes:
            raise HubError(Problem.FILE_TOO_LARGE, f"over {max_bytes} bytes")
        return self.files[key]


# --- people (EmployeeDirectory, ApiKeyStore) ------------------------------------------


class MemoryEmployeeDirectory:
    def __init__(self, employees: tuple[Employee, ...] = ()) -> None:
        self._employees = {e.employee_id: e for e in employees}

    def get(self, employee_id: str) -> Employee | None:
        return self._employees.get(employee_id)

    def put(self, employee: Employee) -> None:
        self._employees[employee.employee_id] = employee


class MemoryApiKeyStore:
    def __init__(self) -> None:
        self._clients: dict[str, ApiClient] = {}

    def find(self, key_hash: str) -> ApiClient | None:
        return self._clients.get(key_hash)

    def put(self, client: ApiClient) -> None:
        self._clients[client.key_hash] = client


# --- verification (VerificationCache, KnownInvoices) ----------------------------------


class MemoryVerificationCache:
    """The cache in a dict, for unit tests; counts its calls like DynamoDB requests."""

    def __init__(self) -> None:
        self._records: dict[str, CachedVerification] = {}
        self._leases: dict[str, tuple[str, dt.datetime]] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def get(self, invoice_key: str) -> CachedVerification | None:
        with self._lock:
            self.requests += 1
            return self._records.get(invoice_key)

    def put(self, record: CachedVerification) -> None:
        with self._lock:
            self.requests += 1
            self._records[record.invoice_key] = record

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> Lease | None:
        with self._lock:
            self.requests += 1
            held = self._leases.get(invoice_key)
            if held is not None and held[1] >= now:
                return None
            token = secrets.token_hex(8)
            self._leases[invoice_key] = (token, until)
            return Lease(token, first=held is None)

    def release(self, invoice_key: str, token: str) -> None:
        with self._lock:
            self.requests += 1
            held = self._leases.get(invoice_key)
            if held is not None and held[0] == token:  # kept, free: a lease was held
                self._leases[invoice_key] = (token, dt.datetime.min.replace(tzinfo=dt.UTC))

    def __len__(self) -> int:
        return len(self._records)


class MemoryKnownInvoices:
    def __init__(self, keys: set[str] | None = None) -> None:
        self.keys = set(keys or ())

    def exists(self, invoice_key: str) -> bool:
        return invoice_key in self.keys


# --- the S3 drop pipeline (Executions, OutcomeOutbox, OutcomeBus) ---------------------


class MemoryExecutions:
    """A fake with the adapter's contract: names are unique, an execution runs until the
    test ``finish``es it."""

    def __init__(self) -> None:
        self.started: dict[str, DroppedObject] = {}
        self.executions: dict[str, Execution] = {}

    def start(self, name: str, obj: DroppedObject) -> bool:
        if name in self.started:
            return False
        self.started[name] = obj
        self.executions[name] = Execution(ExecutionStatus.RUNNING)
        return True

    def describe(self, name: str) -> Execution | None:
        return self.executions.get(name)

    def finish(
        self,
        name: str,
        status: ExecutionStatus,
        output: dict[str, Any] | None = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        if name not in self.started:
            raise KeyError(name)
        self.executions[name] = Execution(status, output, error, cause)


class MemoryOutcomes:
    """In-memory outbox with the DynamoDB adapter's contract (for unit tests): the first
    outcome of a key counts, except a failed one, which a later outcome (not a failure)
    replaces."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int], Recorded] = {}
        self._claims: dict[tuple[str, int], float] = {}  # key -> its publisher's lease
        self._lock = threading.Lock()

    def record(self, outcome: Outcome, claim_until: float | None = None) -> Recorded:
        with self._lock:
            key = (outcome.object.object_id, outcome.index)
            kept = self._kept.get(key)
            if kept is None or (
                kept.outcome.outcome is OutcomeKind.FAILED
                and outcome.outcome is not OutcomeKind.FAILED
            ):
                kept = self._kept[key] = Recorded(outcome.model_copy(deep=True), False)
                if claim_until is not None:
                    self._claims[key] = claim_until
                return Recorded(kept.outcome.model_copy(deep=True), False, claim_until is not None)
            return Recorded(kept.outcome.model_copy(deep=True), kept.published)

    def mark_published(self, outcome: Outcome) -> None:
        with self._lock:
            key = (outcome.object.object_id, outcome.index)
            kept = self._kept[key]
            if kept.outcome.outcome is outcome.outcome:
                self._kept[key] = Recorded(kept.outcome, published=True)

    def claim_publication(self, outcome: Outcome, until: float, now: float) -> Publication:
        with self._lock:
            key = (outcome.object.object_id, outcome.index)
            kept = self._kept[key]
            if kept.published or kept.outcome.outcome is not outcome.outcome:
                return Publication.DONE
            if self._claims.get(key, float("-inf")) >= now:
                return Publication.HELD
            self._claims[key] = until
            return Publication.CLAIMED

    def release_publication(self, outcome: Outcome) -> None:
        with self._lock:
            self._claims.pop((outcome.object.object_id, outcome.index), None)

    def of_object(self, object_id: str) -> Sequence[Outcome]:
        with self._lock:
            kept = sorted(self._kept.items())
        return [r.outcome.model_copy(deep=True) for (oid, _), r in kept if oid == object_id]


class MemoryBus:
    """A fake event bus: what was published, in order (for unit tests)."""

    def __init__(self) -> None:
        self.published: list[Outcome] = []

    def publish(self, outcome: Outcome) -> None:
        self.published.append(outcome.model_copy(deep=True))
