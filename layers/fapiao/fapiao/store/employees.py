"""The employee directory that Maycur's employeeId is looked up in (002: AUTH0007)."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from fapiao import aws


class Employee(BaseModel):
    employee_id: str  # 002 employeeId, e.g. MK00001
    name: str
    user_code: str  # the platform's 用户内码 the expense is written under


# 002's example employee, so its request example works against a fresh local hub.
DEVELOPMENT_EMPLOYEES = (
    Employee(employee_id="MK00001", name="开发员工", user_code="UI2012221C97WQDC"),
)


class EmployeeDirectory(Protocol):
    def get(self, employee_id: str) -> Employee | None: ...

    def put(self, employee: Employee) -> None: ...


class MemoryEmployeeDirectory:
    def __init__(self, employees: tuple[Employee, ...] = ()) -> None:
        self._employees = {e.employee_id: e for e in employees}

    def get(self, employee_id: str) -> Employee | None:
        return self._employees.get(employee_id)

    def put(self, employee: Employee) -> None:
        self._employees[employee.employee_id] = employee


class DynamoEmployeeDirectory:
    """Items keyed by ``employee_id`` (template.yaml's EmployeesTable)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def get(self, employee_id: str) -> Employee | None:
        item = self.client.get_item(
            TableName=self.table, Key={"employee_id": {"S": employee_id}}
        ).get("Item")
        if item is None:
            return None
        return Employee(
            employee_id=item["employee_id"]["S"],
            name=item["name"]["S"],
            user_code=item["user_code"]["S"],
        )

    def put(self, employee: Employee) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "employee_id": {"S": employee.employee_id},
                "name": {"S": employee.name},
                "user_code": {"S": employee.user_code},
            },
        )
