"""What the hub keeps of an invoice: the record, its history, the expense it is bound to.

The invoice store (``fapiao.ports.InvoiceStore``) takes and answers these, and refuses
with the exceptions below; every adapter raises the same ones.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict, Field

from fapiao.basemodel import HubModel
from fapiao.catalogue.errors import Family, Problem, by_code, lookup
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.signature import SignatureCheck

__all__ = [
    "EXPENSE_CODE_PREFIX",
    "ROLE_BEFORE_ROLES",
    "CheckRecord",
    "Correction",
    "DuplicateInvoice",
    "Expense",
    "ExpenseIdTaken",
    "ExpenseLocked",
    "ExpenseNotFound",
    "ExpenseState",
    "Provenance",
    "ReadingDisagreement",
    "RecheckAsked",
    "StaleInvoice",
    "StoredInvoice",
    "Transition",
    "awaits_completion",
    "expense_code",
    "expense_id_of",
    "new_expense_id",
]


class Transition(HubModel):
    """A status an invoice entered, when and why (the catalogue's code and message).

    The first is the create's, told to the ERP by the create's own answer or outcome
    event; a later one (a re-check, a correction) is an "Invoice status changed" event,
    ``published`` once it is on the bus: the record is the outbox of its own changes.
    """

    model_config = ConfigDict(frozen=True)

    status: InvoiceStatus
    at: dt.datetime
    reason: str | None = None  # the message, as answered
    message_code: str | None = None
    published: bool = True


# The role of a key stored without one (fapiao.clients.Role.ADMIN): what a correction
# or a re-check asked before keys had roles was asked with.
ROLE_BEFORE_ROLES = "admin"


class Correction(HubModel):
    """One field corrected or completed by hand (``fapiao review fix``), kept for good."""

    model_config = ConfigDict(frozen=True)

    field: str  # 001's receipt_ocr.invoices[] name
    old: str | None = None  # absent: the field was completed
    new: str | None = None  # absent: the field was cleared
    at: dt.datetime
    by: str  # the client name of the API key that asked
    role: str = ROLE_BEFORE_ROLES  # that key's role (fapiao.clients.Role's value)


class RecheckAsked(HubModel):
    """A re-check asked by hand through the review API, and checked: when, by which API
    client, in which role. (``check_attempts`` counts every check, the hub's own too.)"""

    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    by: str  # the client name of the API key that asked
    role: str = ROLE_BEFORE_ROLES


class ReadingDisagreement(HubModel):
    """Two sources of one reading that said different things of a field (the first
    source's value stands): what each said."""

    model_config = ConfigDict(frozen=True)

    field: str  # the canonical field name
    readings: dict[str, str]  # source -> what it read


class Provenance(HubModel):
    """Where each field of the stored invoice came from, as it was read: the sources
    (``qr``, ``text_layer``, ``ocr``, ``ofd_xml``, ``ofd_text``: the hub's own reading;
    ``provider``: a remote recognition provider's) by canonical field name, and where
    they disagreed. Corrections by hand are the record's ``corrections``."""

    model_config = ConfigDict(frozen=True)

    sources: dict[str, list[str]] = Field(default_factory=dict)
    disagreements: list[ReadingDisagreement] = Field(default_factory=list)


class CheckRecord(HubModel):
    """One verification of the invoice, as it was answered: when, the status and the
    catalogue's code and message it gave, who decided (``fapiao.results.Source``: the
    provider, the cache, the offline checks, the file's signature ...) and whether a
    request reached the provider (paid)."""

    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    status: InvoiceStatus
    message_code: str | None = None
    message: str | None = None
    source: str | None = None
    paid: bool = False


class StoredInvoice(HubModel):
    """The invoice record: what the invoice says, its check, its status and history."""

    invoice_key: str
    expense_id: int
    user_code: str
    biz_id: str
    status: InvoiceStatus
    message: str | None = None
    message_code: str | None = None
    currency: str
    title_conflict: bool = False
    invoice: Invoice
    check: CheckResult | None = None
    signature: SignatureCheck | None = None  # of the file it was read from (issue 15)
    created_at: dt.datetime
    transitions: list[Transition] = Field(default_factory=list)
    # Written by ``InvoiceStore.replace`` (a re-check, a correction, a completion):
    version: int = 0  # a replace succeeds only over the version it read
    updated_at: dt.datetime | None = None
    corrections: list[Correction] = Field(default_factory=list)
    check_attempts: list[dt.datetime] = Field(default_factory=list)  # re-checks asked
    rechecks_asked: list[RecheckAsked] = Field(default_factory=list)  # by hand, by whom
    provenance: Provenance | None = None  # how it was read (None: told by a client, 001)
    checks: list[CheckRecord] = Field(default_factory=list)  # every verification, in order
    retry_at: dt.datetime | None = None  # C: when the hub checks it again by itself

    @property
    def cause(self) -> Problem | None:
        """The catalogue problem the record's message_code names (None without one)."""
        if self.message_code is None:
            return None
        try:
            return by_code(Family.PLATFORM_INVOICE, self.message_code).problem
        except LookupError:
            return None

    @property
    def changed_at(self) -> dt.datetime:
        """When the record last changed: its review queue order (newest first)."""
        return self.updated_at or self.created_at


_AWAITING_COMPLETION_CODE = lookup(Family.PLATFORM_INVOICE, Problem.AWAITING_COMPLETION).code


def awaits_completion(message_code: str | None) -> bool:
    """Was the record read too incompletely to check (C 907010)? A fuller reading of the
    same invoice by its owner then completes it instead of being a duplicate."""
    return message_code == _AWAITING_COMPLETION_CODE


class ExpenseState(StrEnum):
    OPEN = "open"  # invoices may be added
    IN_APPROVAL = "in_approval"  # bound to a reimbursement in its approval flow
    COMPLETED = "completed"  # reimbursed


EXPENSE_CODE_PREFIX = "FD"  # Maycur's expense codes read FD123293507650590747


class Expense(HubModel):
    """The expense (消费记录) invoices are bound to."""

    expense_id: int
    user_code: str
    invoice_keys: list[str]
    currency: str
    total_amount: Decimal | None = None
    created_at: dt.datetime
    employee_id: str | None = None
    state: ExpenseState = ExpenseState.OPEN

    @property
    def code(self) -> str:
        return expense_code(self.expense_id)


def expense_code(expense_id: int) -> str:
    return f"{EXPENSE_CODE_PREFIX}{expense_id}"


def expense_id_of(code: str) -> int | None:
    """The expense id an expense code names, or None for a code the hub never issued."""
    digits = code.strip().upper().removeprefix(EXPENSE_CODE_PREFIX)
    return int(digits) if digits.isdigit() and len(digits) <= 19 else None


# A 64-bit expense id without a counter item: milliseconds since 2024 in the high bits,
# 22 random bits below. Positive in a signed long (Java's Long) until 2093.
_ID_EPOCH_MS = 1_704_067_200_000
_RANDOM_BITS = 22


def new_expense_id(now_ms: int | None = None) -> int:
    millis = (time.time_ns() // 1_000_000 if now_ms is None else now_ms) - _ID_EPOCH_MS
    return (millis << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)


class ExpenseNotFound(Exception):
    pass


class ExpenseLocked(Exception):
    """The expense is in an approval flow or reimbursed: nothing may be added."""


class ExpenseIdTaken(Exception):
    """Two expense ids collided (22 random bits in one millisecond); draw again."""


class StaleInvoice(Exception):
    """The record changed since it was read (another re-check or correction won)."""


class DuplicateInvoice(Exception):
    """The invoice key is taken: the invoice was imported before."""

    def __init__(self, existing: StoredInvoice | None) -> None:
        super().__init__("invoice already imported")
        self.existing = existing
