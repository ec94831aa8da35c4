"""Who the hub serves: a client of its API, and an employee whose invoices it imports."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

__all__ = ["ApiClient", "Employee"]


class ApiClient(BaseModel):
    """A client of the hub, as its key identifies it (the key itself is never kept)."""

    key_hash: str
    client_id: str
    name: str
    created_at: dt.datetime
    disabled: bool = False
    usage_key: str | None = None  # API Gateway key of the client's usage plan (throttling)


class Employee(BaseModel):
    """An employee of Maycur's (002 employeeId), and whose invoices they are."""

    employee_id: str  # 002 employeeId, e.g. MK00001
    name: str
    user_code: str  # the platform's 用户内码 the expense is written under
