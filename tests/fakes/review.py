"""An in-memory review queue (``fapiao.ports.ReviewQueue``) for unit tests, with the
DynamoDB adapter's contract (``fapiao.store.review``; tests/integration runs the same
tests on both): the invoice records F and C of a ``MemoryInvoiceStore``, and the
outcomes handed to ``attend`` (what the outcome store writes with ``attention`` "U"),
newest change first, a page at a time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading

from fakes.memory import MemoryInvoiceStore
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
    outcome_ref,
)

__all__ = ["MemoryReviewQueue"]

_INVOICE_STATUSES = (InvoiceStatus.CHECK_FAILED, InvoiceStatus.AWAITING_CHECK)


class MemoryReviewQueue:
    def __init__(self, invoices: MemoryInvoiceStore) -> None:
        self.invoices = invoices
        self._outcomes: dict[OutcomeRef, OpenOutcome] = {}
        self._lock = threading.Lock()

    def attend(self, outcome: Outcome, changed_at: dt.datetime | None = None) -> OpenOutcome:
        """Keep an unrecognisable or failed outcome for review (the outcome store's
        ``attention`` "U" and ``changed_at``, the outcome's time unless told)."""
        entry = OpenOutcome(outcome=outcome, changed_at=changed_at or outcome.at)
        with self._lock:
            self._outcomes[outcome_ref(outcome)] = entry
        return entry

    def _entries(self, query: ReviewQuery) -> list[ReviewEntry]:
        entries: list[ReviewEntry] = [
            record
            for record in self.invoices.all()
            if record.status in _INVOICE_STATUSES and record.status in query.statuses
        ]
        if InvoiceStatus.UNRECOGNISABLE in query.statuses:
            with self._lock:
                entries += [e for e in self._outcomes.values() if e.resolved_by is None]
        return [
            e
            for e in entries
            if (query.owner is None or _owner(e) == query.owner) and query.within(e.changed_at)
        ]

    def count(self, status: InvoiceStatus) -> int:
        return len(self._entries(ReviewQuery(statuses=frozenset({status}))))

    def page(self, query: ReviewQuery) -> ReviewPage:
        ordered = sorted(self._entries(query), key=order_key, reverse=True)
        after = (e for e in ordered if is_after(e, query.after))
        taken = list(itertools.islice(after, query.limit + 1))
        entries = taken[: query.limit]
        more = len(taken) > query.limit
        return ReviewPage(entries, ReviewCursor.after(entries[-1]) if more else None)

    def open_outcome(self, ref: OutcomeRef) -> OpenOutcome | None:
        with self._lock:
            return self._outcomes.get(ref)

    def resolve(self, ref: OutcomeRef, invoice_key: str) -> None:
        with self._lock:
            if ref not in self._outcomes:
                raise KeyError((ref.object_id, ref.index))
            kept = self._outcomes[ref]
            self._outcomes[ref] = kept.model_copy(update={"resolved_by": invoice_key})


def _owner(entry: ReviewEntry) -> str | None:
    return entry.outcome.owner if isinstance(entry, OpenOutcome) else entry.user_code
