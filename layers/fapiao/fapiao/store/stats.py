"""Daily counters (``fapiao.ports.DailyStats``): the StatsTable of template.yaml, one item
per counter and Asia/Shanghai day, ``stat`` = ``<name>#<YYYY-MM-DD>``, each count a number
attribute added to atomically (UpdateItem ``ADD``), so every container counts into the
same item and nothing is read to be written.

Counted (names in ``fapiao.ports``): ``outcomes`` (the terminal outcomes of dropped files,
by kind: what the review console's chart draws; ``fapiao.store.outcomes``) and
``paid_checks`` (requests that reached the verification provider;
``fapiao.services.verify``). A counter is a statistic,
not a record: the outcomes and invoices stay the truth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from fapiao import aws

__all__ = ["DynamoStats"]

_BATCH = 100  # BatchGetItem's most keys per call


def _key(name: str, day: dt.date) -> dict[str, Any]:
    return {"stat": {"S": f"{name}#{day.isoformat()}"}}


class DynamoStats:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def add(self, name: str, day: dt.date, counts: Mapping[str, int]) -> None:
        """Add ``counts`` (a negative one subtracts) to the day's counter ``name``."""
        counts = {field: n for field, n in counts.items() if n}
        if not counts:
            return
        names = {f"#c{i}": field for i, field in enumerate(counts)}
        values = {f":c{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
        self.client.update_item(
            TableName=self.table,
            Key=_key(name, day),
            UpdateExpression="ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def days(self, name: str, days: Sequence[dt.date]) -> dict[dt.date, dict[str, int]]:
        """The counter ``name`` on each of ``days`` ({} for a day nothing was counted)."""
        found: dict[dt.date, dict[str, int]] = {day: {} for day in days}
        keys = [_key(name, day) for day in dict.fromkeys(days)]
        for start in range(0, len(keys), _BATCH):
            request: dict[str, Any] = {self.table: {"Keys": keys[start : start + _BATCH]}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table, []):
                    day = dt.date.fromisoformat(item["stat"]["S"].rpartition("#")[2])
                    found[day] = {
                        field: int(value["N"])
                        for field, value in item.items()
                        if field != "stat" and "N" in value
                    }
                request = answer.get("UnprocessedKeys") or {}
        return found
