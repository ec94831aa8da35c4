"""The invoice store's DynamoDB adapter: one record per invoice key, written with its
expense or not at all.

``DynamoInvoiceStore`` serves the port ``fapiao.ports.InvoiceStore`` in AWS and in the
local hub (only the endpoint differs); the unit tests' in-memory fake
(``tests/fakes/memory.py``) passes the same contract test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from fapiao import aws
from fapiao.model import InvoiceStatus
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
    return {k: _attribute(v) for k, v in plain.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in item.items()}


# DynamoDB's attribute values for what ``_plain`` leaves (text, whole numbers, booleans,
# lists, maps): boto3's TypeSerializer and TypeDeserializer for these five would import
# all of boto3 into every storing function's cold start, ~15 ms (issue 13). A test holds
# them equal to boto3's.
def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):  # before int: a bool is an int
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): _attribute(v) for k, v in value.items()}}
    raise TypeError(f"{type(value).__name__} is not stored")


def _value(attribute: dict[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    if kind in ("S", "BOOL"):
        return value
    if kind == "N":
        return Decimal(value)
    if kind == "L":
        return [_value(v) for v in value]
    if kind == "M":
        return {k: _value(v) for k, v in value.items()}
    raise TypeError(f"attribute type {kind} is not stored")


# Statuses that need someone's attention: the InvoicesTable's sparse ``Attention`` index
# (template.yaml) holds just these records, newest change first.
ATTENTION_STATUSES = frozenset({InvoiceStatus.CHECK_FAILED, InvoiceStatus.AWAITING_CHECK})
_INDEX_ONLY = ("attention", "changed_at")  # attributes of the index, not of the record


def invoice_item(invoice: StoredInvoice) -> dict[str, Any]:
    """The record's item, with the ``Attention`` index's keys when it needs attention."""
    item = to_item(invoice)
    item["changed_at"] = {"S": invoice.changed_at.isoformat()}
    if invoice.status in ATTENTION_STATUSES:
        item["attention"] = {"S": invoice.status.value}
    return item


def invoice_of(item: dict[str, Any]) -> StoredInvoice:
    plain = from_item(item)
    for name in _INDEX_ONLY:
        plain.pop(name, None)
    return StoredInvoice.model_validate(plain)


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
                "Item": invoice_item(invoice),
                "ConditionExpression": "attribute_not_exists(invoice_key)",
                # a duplicate's answer needs the stored record: no second read
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _raise_duplicate(self, invoice: StoredInvoice, cancellations: list[Any]) -> None:
        if cancellations and cancellations[0].get("Code") == "ConditionalCheckFailed":
            old = cancellations[0].get("Item")
            existing = invoice_of(dict(old)) if old else self.get(invoice.invoice_key)
            raise DuplicateInvoice(existing) from None

    def get(self, invoice_key: str) -> StoredInvoice | None:
        item = self.client.get_item(
            TableName=self.invoices_table,
            Key={"invoice_key": {"S": invoice_key}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else invoice_of(item)

    def get_expense(self, expense_id: int) -> Expense | None:
        item = self.client.get_item(
            TableName=self.expenses_table,
            Key={"expense_id": {"N": str(expense_id)}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else Expense.model_validate(from_item(item))

    def replace(self, invoice: StoredInvoice) -> StoredInvoice:
        written = invoice.model_copy(update={"version": invoice.version + 1})
        try:
            self.client.put_item(
                TableName=self.invoices_table,
                Item=invoice_item(written),
                # records written before versions existed count as version 0
                ConditionExpression="attribute_exists(invoice_key) AND "
                "(version = :read OR (attribute_not_exists(version) AND :read = :zero))",
                ExpressionAttributeValues={
                    ":read": {"N": str(invoice.version)},
                    ":zero": {"N": "0"},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            if not error.response.get("Item"):
                raise KeyError(invoice.invoice_key) from None
            raise StaleInvoice(invoice.invoice_key) from None
        return written
