"""API keys per client, stored only as hashes: the key scheme and the DynamoDB adapter of
``fapiao.ports.ApiKeyStore``.

Keys are 256-bit random tokens, so a plain SHA-256 is enough to make the table useless
to whoever reads it (no salt or slow hash needed: nothing to brute-force).

Each item holds the key's ``role``; an item without one (every key made before roles,
and the local hub's development key) reads as admin, as it could call everything then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

from fapiao import aws
from fapiao.clients import ApiClient, Role

KEY_PREFIX = "fpk_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class DynamoApiKeyStore:
    """Items keyed by ``key_hash`` (template.yaml's ApiKeysTable)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def find(self, key_hash: str) -> ApiClient | None:
        item = self.client.get_item(TableName=self.table, Key={"key_hash": {"S": key_hash}}).get(
            "Item"
        )
        return None if item is None else _client_of(item)

    def clients(self) -> Iterator[ApiClient]:
        """Every client of the table, in the table's order (``fapiao keys list``)."""
        for page in self.client.get_paginator("scan").paginate(TableName=self.table):
            for item in page.get("Items", []):
                yield _client_of(item)

    def put(self, client: ApiClient) -> None:
        item = {
            "key_hash": {"S": client.key_hash},
            "client_id": {"S": client.client_id},
            "name": {"S": client.name},
            "created_at": {"S": client.created_at.isoformat()},
            "disabled": {"BOOL": client.disabled},
            "role": {"S": client.role.value},
        }
        if client.usage_key:
            item["usage_key"] = {"S": client.usage_key}
        self.client.put_item(TableName=self.table, Item=item)


def _client_of(item: dict[str, Any]) -> ApiClient:
    """An item as the store wrote it; without ``role``, admin (a key made before roles).
    A role the hub does not know raises ValueError: such a key opens nothing."""
    return ApiClient(
        key_hash=item["key_hash"]["S"],
        client_id=item["client_id"]["S"],
        name=item["name"]["S"],
        created_at=dt.datetime.fromisoformat(item["created_at"]["S"]),
        disabled=item.get("disabled", {}).get("BOOL", False),
        usage_key=item.get("usage_key", {}).get("S"),
        role=Role(item["role"]["S"]) if "role" in item else Role.ADMIN,
    )
