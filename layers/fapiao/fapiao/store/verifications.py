"""The verification cache: what the provider said about an invoice, by invoice key.

A verified invoice is never bought twice, and a deferred one says when to try again.
The cache also holds a short lease per invoice, so that two verifications of the same
invoice running at once (a file dropped twice, a client retrying) pay once: the one
that claims the lease asks the provider, the other answers C for a few seconds.

Port ``VerificationCache`` with two adapters under one contract test:
``DynamoVerificationCache`` (AWS and the local hub; only the endpoint differs) and
``MemoryVerificationCache`` (unit tests). ``KnownInvoices`` is the port the verify use
case asks whether an invoice is imported already; ``DynamoKnownInvoices`` reads the
invoices table's key (the invoice store may serve it instead: ``get(key) is not None``).

Items of the table (``VerificationsTable``, HASH key ``invoice_key``):
- ``<invoice key>``: ``record`` (the JSON of ``CachedVerification``), ``status``,
  ``retry_at`` (epoch seconds, deferred records only), ``stored_at``;
- ``<invoice key>#lease``: ``token``, ``lease_until`` (epoch seconds) and ``expires_at``
  (DynamoDB's TTL attribute, so a lease left by a crashed function disappears).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from fapiao import aws
from fapiao.providers.verifier import Verification

__all__ = [
    "CachedVerification",
    "DynamoKnownInvoices",
    "DynamoVerificationCache",
    "KnownInvoices",
    "MemoryKnownInvoices",
    "MemoryVerificationCache",
    "VerificationCache",
]

LEASE_SUFFIX = "#lease"
LEASE_TTL = dt.timedelta(days=1)  # how long DynamoDB keeps an expired lease item


class CachedVerification(BaseModel):
    """A provider's outcome for one invoice, and the question it answered.

    ``question`` is the verify form without credentials (type, code, number, date,
    amount, check-code tail): an answer without the tax authority's data (9 does not
    exist, 105, 3204 ...) is only reused for the same question.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_key: str
    verification: Verification
    question: str
    stored_at: dt.datetime


class VerificationCache(Protocol):
    def get(self, invoice_key: str) -> CachedVerification | None: ...

    def put(self, record: CachedVerification) -> None:
        """Write or replace the record of ``record.invoice_key``."""

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> str | None:
        """Hold the invoice until ``until``; a token, or None when another holds it."""

    def release(self, invoice_key: str, token: str) -> None:
        """Give the invoice back (only the holder of ``token`` can)."""


class KnownInvoices(Protocol):
    """Port: is the invoice imported already? (A duplicate is never verified.)"""

    def exists(self, invoice_key: str) -> bool: ...


# --- in memory -----------------------------------------------------------------------


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

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> str | None:
        with self._lock:
            self.requests += 1
            held = self._leases.get(invoice_key)
            if held is not None and held[1] >= now:
                return None
            token = secrets.token_hex(8)
            self._leases[invoice_key] = (token, until)
            return token

    def release(self, invoice_key: str, token: str) -> None:
        with self._lock:
            self.requests += 1
            held = self._leases.get(invoice_key)
            if held is not None and held[0] == token:
                del self._leases[invoice_key]

    def __len__(self) -> int:
        return len(self._records)


class MemoryKnownInvoices:
    def __init__(self, keys: set[str] | None = None) -> None:
        self.keys = set(keys or ())

    def exists(self, invoice_key: str) -> bool:
        return invoice_key in self.keys


# --- DynamoDB ------------------------------------------------------------------------


def _epoch(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


class DynamoVerificationCache:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("dynamodb")

    def get(self, invoice_key: str) -> CachedVerification | None:
        reply = self.client.get_item(
            TableName=self.table, Key={"invoice_key": {"S": invoice_key}}, ConsistentRead=True
        )
        item = reply.get("Item")
        if item is None:
            return None
        return CachedVerification.model_validate_json(item["record"]["S"])

    def put(self, record: CachedVerification) -> None:
        item: dict[str, Any] = {
            "invoice_key": {"S": record.invoice_key},
            "record": {"S": record.model_dump_json()},
            "status": {"S": record.verification.status.value},
            "stored_at": {"S": record.stored_at.isoformat()},
        }
        if record.verification.retry_at is not None:
            item["retry_at"] = {"N": _epoch(record.verification.retry_at)}
        self.client.put_item(TableName=self.table, Item=item)

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> str | None:
        token = secrets.token_hex(8)
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "invoice_key": {"S": invoice_key + LEASE_SUFFIX},
                    "token": {"S": token},
                    "lease_until": {"N": _epoch(until)},
                    "expires_at": {"N": _epoch(until + LEASE_TTL)},
                },
                ConditionExpression="attribute_not_exists(invoice_key) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": _epoch(now)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return token

    def release(self, invoice_key: str, token: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"invoice_key": {"S": invoice_key + LEASE_SUFFIX}},
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise  # a lease taken over after it expired is the new holder's


class DynamoKnownInvoices:
    """Reads only the key of the invoices table's item (one small read)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    def exists(self, invoice_key: str) -> bool:
        client = self._client or aws.client("dynamodb")
        reply = client.get_item(
            TableName=self.table,
            Key={"invoice_key": {"S": invoice_key}},
            ProjectionExpression="invoice_key",
            ConsistentRead=True,
        )
        return "Item" in reply
