"""The invoice store: one record per invoice key, written with its expense or not at all.

Port ``InvoiceStore`` and two adapters with one contract: ``DynamoInvoiceStore`` (AWS and
the local hub; only the endpoint differs) and ``MemoryInvoiceStore`` (unit tests).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from fapiao import aws
from fapiao.model import CheckResult, Invoice, InvoiceStatus


class Transition(BaseModel):
    """A status an invoice entered, when and why."""

    model_config = ConfigDict(frozen=True)

    status: InvoiceStatus
    at: dt.datetime
    reason: str | None = None


class StoredInvoice(BaseModel):
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
    created_at: dt.datetime
    transitions: list[Transition] = Field(default_factory=list)


class ExpenseState(StrEnum):
    OPEN = "open"  # invoices may be added
    IN_APPROVAL = "in_approval"  # bound to a reimbursement in its approval flow
    COMPLETED = "completed"  # reimbursed


EXPENSE_CODE_PREFIX = "FD"  # Maycur's expense codes read FD123293507650590747


class Expense(BaseModel):
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


class ExpenseNotFound(Exception):
    pass


class ExpenseLocked(Exception):
    """The expense is in an approval flow or reimbursed: nothing may be added."""


class DuplicateInvoice(Exception):
    """The invoice key is taken: the invoice was imported before."""

    def __init__(self, existing: StoredInvoice | None) -> None:
        super().__init__("invoice already imported")
        self.existing = existing


class InvoiceStore(Protocol):
    def create(self, invoice: StoredInvoice, expense: Expense) -> None:
        """Write both or neither; ``DuplicateInvoice`` when the key is taken."""

    def bind(self, invoice: StoredInvoice) -> None:
        """Write the invoice and add it to its existing, open expense (both or neither):
        ``DuplicateInvoice``, ``ExpenseNotFound`` or ``ExpenseLocked`` otherwise."""

    def get(self, invoice_key: str) -> StoredInvoice | None: ...

    def get_expense(self, expense_id: int) -> Expense | None: ...

    def record_transition(self, invoice_key: str, transition: Transition) -> None:
        """Set the status and append it to the history; ``KeyError`` if no such invoice."""


# A 64-bit expense id without a counter item: milliseconds since 2024 in the high bits,
# 22 random bits below. Positive in a signed long (Java's Long) until 2093.
_ID_EPOCH_MS = 1_704_067_200_000
_RANDOM_BITS = 22


def new_expense_id(now_ms: int | None = None) -> int:
    millis = (time.time_ns() // 1_000_000 if now_ms is None else now_ms) - _ID_EPOCH_MS
    return (millis << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)


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

    def record_transition(self, invoice_key: str, transition: Transition) -> None:
        with self._lock:
            stored = self._invoices[invoice_key]
            stored.status = transition.status
            stored.transitions.append(transition)

    def __len__(self) -> int:
        return len(self._invoices)


class ExpenseIdTaken(Exception):
    """Two expense ids collided (22 random bits in one millisecond); draw again."""


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    """Python values for DynamoDB: money and dates as text, no None, no floats.

    DynamoDB trims trailing zeros from numbers (996.00 comes back 996), so a Decimal is
    kept as its text, with its scale; pydantic reads it back as the same Decimal.
    """
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):  # never expected: money is Decimal
        return str(value)
    return value


def to_item(model: BaseModel) -> dict[str, Any]:
    plain = _plain(model.model_dump(mode="python"))
    return {k: _serializer.serialize(v) for k, v in plain.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


class DynamoInvoiceStore:
    """Invoices keyed by ``invoice_key``, expenses by ``expense_id`` (see template.yaml)."""

    def __init__(self, invoices_table: str, expenses_table: str, client: Any = None) -> None:
        self.invoices_table = invoices_table
        self.expenses_table = expenses_table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def create(self, invoice: StoredInvoice, expense: Expense) -> None:
        try:
            self.client.transact_write_items(
                TransactItems=[
                    self._put_invoice(invoice),
                    {
                        "Put": {
                            "TableName": self.expenses_table,
                            "Item": to_item(expense),
                            "ConditionExpression": "attribute_not_exists(expense_id)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            cancellations = error.response.get("CancellationReasons", [])
            self._raise_duplicate(invoice, cancellations)
            reasons = [r.get("Code") for r in cancellations]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise ExpenseIdTaken(expense.expense_id) from None
            raise

    def bind(self, invoice: StoredInvoice) -> None:
        try:
            self.client.transact_write_items(
                TransactItems=[
                    self._put_invoice(invoice),
                    {
                        "Update": {
                            "TableName": self.expenses_table,
                            "Key": {"expense_id": {"N": str(invoice.expense_id)}},
                            "UpdateExpression": "SET invoice_keys = list_append(invoice_keys, :k)",
                            "ConditionExpression": "attribute_exists(expense_id) AND #s = :open",
                            "ExpressionAttributeNames": {"#s": "state"},
                            "ExpressionAttributeValues": {
                                ":k": {"L": [{"S": invoice.invoice_key}]},
                                ":open": {"S": ExpenseState.OPEN.value},
                            },
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            cancellations = error.response.get("CancellationReasons", [])
            self._raise_duplicate(invoice, cancellations)
            if len(cancellations) > 1 and cancellations[1].get("Code") == "ConditionalCheckFailed":
                if cancellations[1].get("Item"):
                    raise ExpenseLocked(invoice.expense_id) from None
                raise ExpenseNotFound(invoice.expense_id) from None
            raise

    def set_expense_state(self, expense_id: int, state: ExpenseState) -> None:
        self.client.update_item(
            TableName=self.expenses_table,
            Key={"expense_id": {"N": str(expense_id)}},
            UpdateExpression="SET #s = :s",
            ConditionExpression="attribute_exists(expense_id)",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":s": {"S": state.value}},
        )

    def _put_invoice(self, invoice: StoredInvoice) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.invoices_table,
                "Item": to_item(invoice),
                "ConditionExpression": "attribute_not_exists(invoice_key)",
                # a duplicate's answer needs the stored record: no second read
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _raise_duplicate(self, invoice: StoredInvoice, cancellations: list[Any]) -> None:
        if cancellations and cancellations[0].get("Code") == "ConditionalCheckFailed":
            old = cancellations[0].get("Item")
            existing = (
                StoredInvoice.model_validate(from_item(dict(old)))
                if old
                else self.get(invoice.invoice_key)
            )
            raise DuplicateInvoice(existing) from None

    def get(self, invoice_key: str) -> StoredInvoice | None:
        item = self.client.get_item(
            TableName=self.invoices_table,
            Key={"invoice_key": {"S": invoice_key}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else StoredInvoice.model_validate(from_item(item))

    def get_expense(self, expense_id: int) -> Expense | None:
        item = self.client.get_item(
            TableName=self.expenses_table,
            Key={"expense_id": {"N": str(expense_id)}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else Expense.model_validate(from_item(item))

    def record_transition(self, invoice_key: str, transition: Transition) -> None:
        try:
            self.client.update_item(
                TableName=self.invoices_table,
                Key={"invoice_key": {"S": invoice_key}},
                UpdateExpression="SET #status = :status, "
                "transitions = list_append(if_not_exists(transitions, :empty), :entry)",
                ConditionExpression="attribute_exists(invoice_key)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": {"S": transition.status.value},
                    ":entry": {"L": [_serializer.serialize(_plain(transition.model_dump()))]},
                    ":empty": {"L": []},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise KeyError(invoice_key) from None
            raise
