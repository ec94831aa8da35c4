"""Whose invoices the hub imports: an employee of Maycur's. (A client of the API is
``fapiao.clients.ApiClient``.)"""

from __future__ import annotations

from fapiao.basemodel import HubModel

__all__ = ["Employee"]


class Employee(HubModel):
    """An employee of Maycur's (002 employeeId), and whose invoices they are."""

    employee_id: str  # 002 employeeId, e.g. MK00001
    name: str
    user_code: str  # the platform's 用户内码 the expense is written under
