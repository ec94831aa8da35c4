"""The review queue's domain: what needs someone's attention, in what order, and how each
entry is named.

Two kinds of entry, newest change first (``changed_at``), one order for both:

- an invoice record stored F (refused by the tax authority or a rule) or C (not checked
  yet: waiting for completion, for the provider, for tomorrow ...): ``StoredInvoice``,
  named by its invoice key;
- an invoice of a dropped file that was never stored (unrecognisable, or the pipeline
  failed on it) and is not resolved yet: ``OpenOutcome``, status U, named ``U-`` + the
  object id in URL-safe base64 (no padding) + ``.`` + its index in the file.

Why a reversible name for a U entry rather than a short hash: the OutcomesTable is keyed
by (object_id, index), so the name leads straight to its item (a key read), with no
index of names to keep; the price is a longer name (an S3 key is at most 1024 bytes).
An invoice key is letters and digits only, so it never starts with ``U-``.

Pages end with a ``ReviewCursor``: the (changed_at, id) of the last entry given, so the
next page starts strictly after it whatever filters apply and however many entries
share a time.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field

from pydantic import ConfigDict

from fapiao.basemodel import HubModel
from fapiao.dates import SHANGHAI
from fapiao.model import InvoiceStatus
from fapiao.model.paging import DEFAULT_LIMIT, MAX_LIMIT
from fapiao.model.pipeline import Outcome
from fapiao.model.stored import StoredInvoice

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "REVIEW_STATUSES",
    "OpenOutcome",
    "OutcomeRef",
    "ReviewCursor",
    "ReviewEntry",
    "ReviewOutcome",
    "ReviewPage",
    "ReviewQuery",
    "changed_at_of",
    "day_bounds",
    "is_after",
    "order_key",
    "outcome_ref",
    "parse_review_id",
    "review_id",
]

# What the queue holds: unresolved files (U), refused invoices (F), unchecked ones (C).
REVIEW_STATUSES: frozenset[InvoiceStatus] = frozenset(
    {InvoiceStatus.UNRECOGNISABLE, InvoiceStatus.CHECK_FAILED, InvoiceStatus.AWAITING_CHECK}
)
_OUTCOME_PREFIX = "U-"


class OpenOutcome(HubModel):
    """An invoice of a file that needs attention: the pipeline's terminal outcome (U or
    failed) as the OutcomesTable keeps it; ``resolved_by`` names the invoice a fix
    created (then it is out of the queue)."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    changed_at: dt.datetime
    resolved_by: str | None = None


ReviewEntry = StoredInvoice | OpenOutcome


@dataclass(frozen=True)
class OutcomeRef:
    """The OutcomesTable key a ``U-`` name stands for."""

    object_id: str
    index: int


def outcome_ref(outcome: Outcome) -> OutcomeRef:
    return OutcomeRef(outcome.object.object_id, outcome.index)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _unb64(text: str) -> str:
    """``binascii.Error`` for anything but URL-safe base64."""
    padded = (text + "=" * (-len(text) % 4)).encode("ascii")
    return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")


def review_id(entry: ReviewEntry | OutcomeRef) -> str:
    """The entry's name in the API: its invoice key, or ``U-<object id>.<index>``."""
    if isinstance(entry, StoredInvoice):
        return entry.invoice_key
    ref = outcome_ref(entry.outcome) if isinstance(entry, OpenOutcome) else entry
    return f"{_OUTCOME_PREFIX}{_b64(ref.object_id)}.{ref.index}"


def parse_review_id(text: str) -> str | OutcomeRef:
    """The invoice key or the outcome a name stands for; ``ValueError`` for a name the
    hub never gave."""
    if not text.startswith(_OUTCOME_PREFIX):
        if not text.isalnum() or not text.isascii() or len(text) > 64:
            raise ValueError(f"not a review id: {text[:80]!r}")
        return text.upper()
    encoded, dot, index = text[len(_OUTCOME_PREFIX) :].rpartition(".")
    if not dot or not encoded or not index.isdigit() or len(index) > 6:
        raise ValueError(f"not a review id: {text[:80]!r}")
    try:
        object_id = _unb64(encoded)
    except (binascii.Error, UnicodeError, ValueError):
        object_id = ""
    if not object_id:
        raise ValueError(f"not a review id: {text[:80]!r}")
    return OutcomeRef(object_id, int(index))


def changed_at_of(entry: ReviewEntry) -> dt.datetime:
    return entry.changed_at


def order_key(entry: ReviewEntry) -> tuple[dt.datetime, str]:
    """The queue's order, newest first: by this key, descending."""
    return changed_at_of(entry), review_id(entry)


@dataclass(frozen=True)
class ReviewCursor:
    """Where a page ended: the last entry's (changed_at, id)."""

    changed_at: dt.datetime
    id: str

    def encode(self) -> str:
        return _b64(json.dumps([self.changed_at.isoformat(), self.id], separators=(",", ":")))

    @classmethod
    def decode(cls, text: str) -> ReviewCursor:
        """``ValueError`` for a cursor the hub never gave."""
        try:
            changed_at, id_ = json.loads(_unb64(text))
            at = dt.datetime.fromisoformat(changed_at)
        except (binascii.Error, UnicodeError, TypeError, ValueError):
            raise ValueError("not a cursor of this API") from None
        if at.tzinfo is None or not isinstance(id_, str):
            raise ValueError("not a cursor of this API")
        return cls(at, id_)

    @classmethod
    def after(cls, entry: ReviewEntry) -> ReviewCursor:
        at, id_ = order_key(entry)
        return cls(at, id_)


def is_after(entry: ReviewEntry, cursor: ReviewCursor | None) -> bool:
    """Does ``entry`` come after the cursor in the queue's order (newest first)?"""
    return cursor is None or order_key(entry) < (cursor.changed_at, cursor.id)


@dataclass(frozen=True)
class ReviewQuery:
    """One page of the queue: which statuses, whose, how many, after which entry."""

    statuses: frozenset[InvoiceStatus] = REVIEW_STATUSES
    owner: str | None = None
    limit: int = DEFAULT_LIMIT
    after: ReviewCursor | None = None
    # Entries changed in [since, until) only (aware times; None: no bound). The console
    # asks for days of Asia/Shanghai: ``day_bounds``.
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}")
        if not self.statuses or not self.statuses <= REVIEW_STATUSES:
            raise ValueError("statuses: U, F or C")
        for bound in (self.since, self.until):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("since and until must be aware times")

    def within(self, changed_at: dt.datetime) -> bool:
        return (self.since is None or changed_at >= self.since) and (
            self.until is None or changed_at < self.until
        )


def day_bounds(first: dt.date | None, last: dt.date | None) -> tuple[dt.datetime | None, ...]:
    """``since`` and ``until`` for the Asia/Shanghai days ``first`` to ``last``, both
    included (None: open on that side)."""
    since = None if first is None else dt.datetime.combine(first, dt.time(), SHANGHAI)
    until = (
        None
        if last is None
        else dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI)
    )
    return since, until


@dataclass(frozen=True)
class ReviewPage:
    """Entries newest first, and the cursor of the next page (None: this was the last)."""

    entries: list[ReviewEntry] = field(default_factory=list)
    next: ReviewCursor | None = None


@dataclass(frozen=True)
class ReviewOutcome:
    """What a fix or a re-check ended in: the invoice's status and why."""

    status: InvoiceStatus
    message_code: str | None
    message: str | None
    invoice_key: str | None
    expense_id: int | None = None

    @classmethod
    def of(cls, record: StoredInvoice) -> ReviewOutcome:
        return cls(
            record.status,
            record.message_code,
            record.message,
            record.invoice_key,
            record.expense_id,
        )
