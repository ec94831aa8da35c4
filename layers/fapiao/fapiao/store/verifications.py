"""The verification cache: what the provider said about an invoice, by invoice key.

A verified invoice is never bought twice, and a deferred one says when to try again.
The cache also holds a short lease per invoice, so that two verifications of the same
invoice running at once (a file dropped twice, a client retrying) pay once: the one
that claims the lease asks the provider, the other answers C for a few seconds.

``DynamoVerificationCache`` is the adapter of the port ``fapiao.ports.VerificationCache``
(AWS and the local hub; only the endpoint differs; the unit tests' in-memory fake passes
the same contract). ``fapiao.ports.KnownInvoices`` is the port the verify use case asks
whether an invoice is imported already; ``DynamoKnownInvoices`` reads the invoices
table's key (the invoice store may serve it instead: ``get(key) is not None``).

Items of the table (``VerificationsTable``, HASH key ``invoice_key``):
- ``<invoice key>``: ``record`` (the JSON of ``CachedVerification``), ``status``,
  ``retry_at`` (epoch seconds, deferred records only), ``stored_at``;
- ``<invoice key>#lease``: ``token``, ``lease_until`` (epoch seconds) and ``expires_at``
  (DynamoDB's TTL attribute, so a lease left by a crashed function disappears).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.model.stored import awaits_completion
from fapiao.results import CachedVerification, Lease

__all__ = ["DynamoKnownInvoices", "DynamoVerificationCache"]


LEASE_SUFFIX = "#lease"
LEASE_TTL = dt.timedelta(days=1)  # how long DynamoDB keeps an expired lease item


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

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> Lease | None:
        token = secrets.token_hex(8)
        try:
            answer = self.client.put_item(
                TableName=self.table,
                Item={
                    "invoice_key": {"S": invoice_key + LEASE_SUFFIX},
                    "token": {"S": token},
                    "lease_until": {"N": _epoch(until)},
                    "expires_at": {"N": _epoch(until + LEASE_TTL)},
                },
                ConditionExpression="attribute_not_exists(invoice_key) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": _epoch(now)}},
                ReturnValues="ALL_OLD",  # a lease before this one, held or given back
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return Lease(token, first="Attributes" not in answer)

    def release(self, invoice_key: str, token: str) -> None:
        """The lease marked free (its time set to 0), not deleted: the next claim knows a
        verification held it, and may have answered meanwhile."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"invoice_key": {"S": invoice_key + LEASE_SUFFIX}},
                UpdateExpression="SET lease_until = :free",
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": token}, ":free": {"N": "0"}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise  # a lease taken over after it expired is the new holder's


class DynamoKnownInvoices:
    """Reads only the key and outcome code of the invoices table's item (one small read)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    def exists(self, invoice_key: str) -> bool:
        client = self._client or aws.client("dynamodb")
        reply = client.get_item(
            TableName=self.table,
            Key={"invoice_key": {"S": invoice_key}},
            ProjectionExpression="invoice_key, message_code",
            ConsistentRead=True,
        )
        item = reply.get("Item")
        if item is None:
            return False
        # A record read too incompletely to verify is completed by a later reading of
        # the same invoice, which must therefore be verified (create decides the owner).
        return not awaits_completion(item.get("message_code", {}).get("S"))
