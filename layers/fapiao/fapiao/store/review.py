"""The review queue's DynamoDB adapter (``fapiao.ports.ReviewQueue``): the sparse
``Attention`` index of each table (template.yaml), read newest first and merged.

- InvoicesTable ``Attention``: ``attention`` = the record's status (F or C), range key
  ``changed_at``; written by ``fapiao.store.invoices.invoice_item``.
- OutcomesTable ``Attention``: ``attention`` = "U" for an unrecognisable or failed
  outcome not resolved yet, range key ``changed_at``; a fix that creates the invoice
  removes ``attention`` and sets ``resolved_by`` (``resolve``, here).

``changed_at`` is ISO 8601 text in Asia/Shanghai as both stores write it, so one
partition's order is the order of time. A page is read lazily: each partition is queried
``ScanIndexForward=False`` from the cursor's time down (``changed_at <= :cursor``), the
owner filtered by a ``FilterExpression`` (invoices) or on the decoded outcome (whose
owner is inside its JSON), entries of one time put in id order, the partitions merged
(heapq), and the first ``limit`` taken; one more tells whether a next page exists.
Entries at the cursor's own time are kept only when their id sorts after the cursor's,
so no entry is given twice or skipped, whatever filters apply.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.dates import SHANGHAI
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import Outcome
from fapiao.model.review import (
    OpenOutcome,
    OutcomeRef,
    ReviewCursor,
    ReviewEntry,
    ReviewPage,
    ReviewQuery,
    is_after,
    order_key,
    review_id,
)
from fapiao.store.invoices import invoice_of

__all__ = ["ATTENTION_INDEX", "DynamoReviewQueue"]

ATTENTION_INDEX = "Attention"


def _outcome_key(ref: OutcomeRef) -> dict[str, Any]:
    return {"object_id": {"S": ref.object_id}, "index": {"N": str(ref.index)}}


def _open_outcome(item: dict[str, Any]) -> OpenOutcome:
    outcome = Outcome.model_validate_json(item["detail"]["S"])
    changed = item.get("changed_at", {}).get("S")
    return OpenOutcome(
        outcome=outcome,
        changed_at=outcome.at if changed is None else dt.datetime.fromisoformat(changed),
        resolved_by=item.get("resolved_by", {}).get("S"),
    )


def _bound(cursor: ReviewCursor) -> str:
    """The cursor's time as the upper bound of a key condition: Shanghai time with every
    digit of the microseconds, which sorts at or after each way one instant is written
    there ("...:15+08:00" and "...:15.000000+08:00" alike)."""
    return cursor.changed_at.astimezone(SHANGHAI).isoformat(timespec="microseconds")


def _text(at: dt.datetime) -> str:
    """An instant as the index's text sorts it: Shanghai time, microseconds written."""
    return at.astimezone(SHANGHAI).isoformat(timespec="microseconds")


def _lower(at: dt.datetime) -> str:
    """A lower bound that sorts before every way the index may write ``at`` (with or
    without microseconds): its Shanghai time to the second, without the zone."""
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")[:19]


def _upper(query: ReviewQuery) -> str | None:
    """The key condition's upper bound: the cursor's time, or just before ``until``
    (``until`` is excluded; the entries are then filtered exactly by ``query.within``)."""
    bounds = []
    if query.after is not None:
        bounds.append(_bound(query.after))
    if query.until is not None:
        bounds.append(_text(query.until))
    return min(bounds) if bounds else None


def _in_order(entries: Iterator[ReviewEntry]) -> Iterator[ReviewEntry]:
    """One partition in the queue's order: DynamoDB orders it by ``changed_at`` alone,
    so the entries of one time are put in id order (descending)."""
    for _, same_time in itertools.groupby(entries, key=lambda entry: entry.changed_at):
        yield from sorted(same_time, key=review_id, reverse=True)


class DynamoReviewQueue:
    """The two tables' ``Attention`` indexes as one queue (see the module docstring)."""

    def __init__(self, invoices_table: str, outcomes_table: str, client: Any = None) -> None:
        self.invoices_table = invoices_table
        self.outcomes_table = outcomes_table
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def page(self, query: ReviewQuery) -> ReviewPage:
        sources = [self._partition(status, query) for status in sorted(query.statuses)]
        merged = heapq.merge(*sources, key=order_key, reverse=True)
        taken = list(itertools.islice(merged, query.limit + 1))
        entries = taken[: query.limit]
        more = len(taken) > query.limit
        return ReviewPage(entries, ReviewCursor.after(entries[-1]) if more else None)

    def _partition(self, status: InvoiceStatus, query: ReviewQuery) -> Iterator[ReviewEntry]:
        """One partition of an index, newest first, owner filtered, after the cursor."""
        entries = (
            self._outcomes(query)
            if status is InvoiceStatus.UNRECOGNISABLE
            else self._invoices(status, query)
        )
        return (
            entry
            for entry in _in_order(entries)
            if is_after(entry, query.after) and query.within(entry.changed_at)
        )

    def _invoices(self, status: InvoiceStatus, query: ReviewQuery) -> Iterator[ReviewEntry]:
        extra: dict[str, Any] = {}
        if query.owner is not None:
            extra = {
                "FilterExpression": "user_code = :owner",
                "ExpressionAttributeValues": {":owner": {"S": query.owner}},
            }
        for item in self._query(self.invoices_table, status.value, query, extra):
            yield invoice_of(item)

    def _outcomes(self, query: ReviewQuery) -> Iterator[ReviewEntry]:
        for item in self._query(self.outcomes_table, InvoiceStatus.UNRECOGNISABLE.value, query):
            entry = _open_outcome(item)
            if query.owner is None or entry.outcome.owner == query.owner:
                yield entry

    def _query(
        self,
        table: str,
        attention: str,
        query: ReviewQuery,
        extra: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of one partition from the cursor's time down, page by page."""
        extra = dict(extra or {})
        values = {":attention": {"S": attention}, **extra.pop("ExpressionAttributeValues", {})}
        condition = "attention = :attention"
        upper = _upper(query)
        if upper is not None and query.since is not None and _lower(query.since) > upper:
            return  # an empty range (DynamoDB refuses a BETWEEN that runs backwards)
        if upper is not None and query.since is not None:
            condition += " AND changed_at BETWEEN :since AND :bound"
            values[":bound"] = {"S": upper}
            values[":since"] = {"S": _lower(query.since)}
        elif upper is not None:
            condition += " AND changed_at <= :bound"
            values[":bound"] = {"S": upper}
        elif query.since is not None:
            condition += " AND changed_at >= :since"
            values[":since"] = {"S": _lower(query.since)}
        arguments: dict[str, Any] = {
            "TableName": table,
            "IndexName": ATTENTION_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": query.limit + 1,
            **extra,
        }
        for answer in self._answers(arguments):
            yield from answer.get("Items", [])

    def _answers(self, arguments: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Each page of a query's answer, read on from where the last one ended."""
        while True:
            answer: dict[str, Any] = self.client.query(**arguments)
            yield answer
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            arguments = {**arguments, "ExclusiveStartKey": last}

    def count(self, status: InvoiceStatus) -> int:
        """The entries of one partition, counted by the index (``Select=COUNT``: no item
        is read out), page by page."""
        table = (
            self.outcomes_table if status is InvoiceStatus.UNRECOGNISABLE else self.invoices_table
        )
        arguments: dict[str, Any] = {
            "TableName": table,
            "IndexName": ATTENTION_INDEX,
            "KeyConditionExpression": "attention = :attention",
            "ExpressionAttributeValues": {":attention": {"S": status.value}},
            "Select": "COUNT",
        }
        return sum(int(answer.get("Count", 0)) for answer in self._answers(arguments))

    def open_outcome(self, ref: OutcomeRef) -> OpenOutcome | None:
        item = self.client.get_item(
            TableName=self.outcomes_table, Key=_outcome_key(ref), ConsistentRead=True
        ).get("Item")
        return None if item is None else _open_outcome(item)

    def resolve(self, ref: OutcomeRef, invoice_key: str) -> None:
        try:
            self.client.update_item(
                TableName=self.outcomes_table,
                Key=_outcome_key(ref),
                UpdateExpression="REMOVE attention SET resolved_by = :key",
                ConditionExpression="attribute_exists(object_id)",
                ExpressionAttributeValues={":key": {"S": invoice_key}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise KeyError((ref.object_id, ref.index)) from None
            raise
