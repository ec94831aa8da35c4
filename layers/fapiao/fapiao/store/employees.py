"""The employee directory that Maycur's employeeId is looked up in (002: AUTH0007): the
DynamoDB adapter of ``fapiao.ports.EmployeeDirectory``."""

from __future__ import annotations

from typing import Any

from fapiao import aws
from fapiao.model.parties import Employee

# 002's example employee, so its request example works against a fresh local hub.
DEVELOPMENT_EMPLOYEES = (
    Employee(employee_id="MK00001", name="开发员工", user_code="UI2012221C97WQDC"),
)


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
