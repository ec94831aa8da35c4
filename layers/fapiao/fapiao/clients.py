"""A client of the hub's API, as its key identifies it (the key itself is never kept),
and the role the key was given.

A plain frozen dataclass, not a pydantic model: the authorizer reads one per request
and imports no pydantic (its cold start; issue 13). The store builds it from a DynamoDB
item it wrote itself, so there is nothing to validate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ApiClient", "Role"]


class Role(StrEnum):
    """What a key may call (the routes of each: ``fapiao.api.roles``)."""

    SUBMIT = "submit"  # the five wire APIs and the detail query: an expense platform, a scanner
    REVIEW = "review"  # the review API, the detail query, the console's data: finance staff
    ERP = "erp"  # the ERP event feed
    ADMIN = "admin"  # everything; a key stored without a role (made before roles) is one


@dataclass(frozen=True, kw_only=True)
class ApiClient:
    key_hash: str
    client_id: str
    name: str
    created_at: dt.datetime
    disabled: bool = False
    usage_key: str | None = None  # API Gateway key of the client's usage plan (throttling)
    role: Role = Role.ADMIN  # as an item without one reads (every key made before roles)
