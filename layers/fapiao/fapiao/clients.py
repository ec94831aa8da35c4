"""A client of the hub's API, as its key identifies it (the key itself is never kept).

A plain frozen dataclass, not a pydantic model: the authorizer reads one per request
and imports no pydantic (its cold start; issue 13). The store builds it from a DynamoDB
item it wrote itself, so there is nothing to validate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["ApiClient"]


@dataclass(frozen=True, kw_only=True)
class ApiClient:
    key_hash: str
    client_id: str
    name: str
    created_at: dt.datetime
    disabled: bool = False
    usage_key: str | None = None  # API Gateway key of the client's usage plan (throttling)
