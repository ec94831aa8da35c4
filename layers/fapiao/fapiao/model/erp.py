"""What the ERP hears (issue 19): one event ``{"id", "type", "timestamp", "data"}`` for
every terminal outcome of a file and every later change of a stored invoice's status,
and the webhook subscriptions and deliveries that carry them.

The same event, byte for byte, is a webhook's body, a redelivery's and an item of the
pull feed (``GET /erp/events``). Its ``id`` is derived from what it tells (the outcome of
an object's invoice at its time, a transition of an invoice at its time), so a task run
again, a redelivery or a second publication of the same change carries the same id and
never a second one. ``GET /erp/schema.json`` serves ``erp_event_schema()``.

Types: ``invoice.`` + the word of ``data.outcome``:

- one for each terminal outcome of a file: ``invoice.created``, ``invoice.duplicate``,
  ``invoice.rejected`` (stored F), ``invoice.unrecognisable``, ``invoice.failed``,
  ``invoice.identified`` and ``invoice.awaiting_completion`` (stored C 907010: read too
  incompletely to check; a fuller reading completes it);
- ``invoice.status_changed`` for a later change of a stored invoice's status (a re-check
  that turns C into Y, a correction); a review fix that turns an unrecognisable file
  into an invoice is that file's outcome instead (``invoice.created``, ``.rejected`` or
  ``.awaiting_completion``, with ``previous_status`` "U").
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from fapiao.basemodel import HubModel
from fapiao.catalogue.errors import Family, Problem, lookup
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.signature import SignatureCheck
from fapiao.model.status import InvoiceTypeName, StatusChange

__all__ = [
    "EVENT_TYPES",
    "ErpEvent",
    "EventWord",
    "InvoiceEventData",
    "erp_event_schema",
    "event_of_outcome",
    "event_of_status_change",
    "event_type",
]

_AWAITING_COMPLETION = int(lookup(Family.PLATFORM_INVOICE, Problem.AWAITING_COMPLETION).code)


class EventWord(StrEnum):
    """What an event tells: ``data.outcome``, and its type after ``invoice.``."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    UNRECOGNISABLE = "unrecognisable"
    FAILED = "failed"
    IDENTIFIED = "identified"
    AWAITING_COMPLETION = "awaiting_completion"
    STATUS_CHANGED = "status_changed"


def event_type(word: EventWord | str) -> str:
    return f"invoice.{EventWord(word).value}"


EVENT_TYPES: tuple[str, ...] = tuple(event_type(word) for word in EventWord)


class InvoiceEventData(HubModel):
    """An event's ``data``: the outcome detail in its one shape."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: EventWord = Field(description="what happened; the event's type is `invoice.` + it")
    object: DroppedObject | None = Field(
        None,
        description="the S3 object version the invoice was read from; null for a status "
        "change (a re-check, a correction)",
    )
    index: int = Field(0, description="which invoice of the object (0, 1, …)")
    owner: str | None = Field(None, description="the user code of the invoice's owner")
    invoice_key: str | None = Field(None, description="the invoice's code and number")
    invoice_type: InvoiceTypeName | None = Field(
        None, description="the platform's type code (000/001) and the type's Chinese name"
    )
    expense_id: int | None = Field(None, description="the expense the invoice belongs to")
    previous_status: InvoiceStatus | None = Field(
        None,
        description="the status before this change (status_changed, and a review fix of an "
        "unrecognisable file: U); null for a file's first outcome",
    )
    status: InvoiceStatus | None = Field(
        None, description="the invoice's status, as 000/001's `invoice_status`"
    )
    message: str | None = Field(
        None, description="the catalogue's Chinese message, then the detail; null for Y"
    )
    message_code: int | None = Field(
        None,
        description="the catalogue's code (907xxx, 400xxx, 500000), an integer as 000/001's "
        "`invoice_message_code`",
    )
    signature: SignatureCheck | None = Field(
        None, description="the check of the file's signatures; null when the file was not read"
    )
    at: dt.datetime = Field(description="when it happened (Asia/Shanghai)")


class ErpEvent(HubModel):
    """One event: a webhook's body and an item of the pull feed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(
        description="stable: the same in a webhook (its `webhook-id`), a redelivery and the "
        "feed; `evt_` and 26 characters"
    )
    type: str = Field(
        description="`invoice.` + data.outcome", json_schema_extra={"enum": list(EVENT_TYPES)}
    )
    timestamp: dt.datetime = Field(description="when it happened (data.at), RFC 3339")
    data: InvoiceEventData

    def body(self) -> bytes:
        """The bytes sent and served: compact JSON, the same every time."""
        return self.model_dump_json().encode()


def _event_id(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return "evt_" + base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def _word(status: InvoiceStatus | None, message_code: int | None) -> EventWord:
    """The outcome word of an invoice created with ``status``."""
    if status is InvoiceStatus.CHECK_FAILED:
        return EventWord.REJECTED
    if status is InvoiceStatus.AWAITING_CHECK and message_code == _AWAITING_COMPLETION:
        return EventWord.AWAITING_COMPLETION
    return EventWord.CREATED


def event_of_outcome(outcome: Outcome) -> ErpEvent:
    """The event of a file's terminal outcome (the id names the object version, the
    invoice's index, the outcome and its time: a record task run again finds the first
    outcome kept, so it makes the same id)."""
    if outcome.outcome is OutcomeKind.CREATED:
        word = _word(outcome.status, outcome.message_code)
    else:
        word = EventWord(outcome.outcome.value)
    data = InvoiceEventData(
        outcome=word,
        object=outcome.object,
        index=outcome.index,
        owner=outcome.owner,
        invoice_key=outcome.invoice_key,
        invoice_type=outcome.invoice_type,
        expense_id=outcome.expense_id,
        status=outcome.status,
        message=outcome.message,
        message_code=outcome.message_code,
        signature=outcome.signature,
        at=outcome.at,
    )
    at = outcome.at.isoformat()
    event_id = _event_id("outcome", outcome.object.object_id, str(outcome.index), word, at)
    return ErpEvent(id=event_id, type=event_type(word), timestamp=outcome.at, data=data)


def event_of_status_change(change: StatusChange) -> ErpEvent:
    """The event of a stored invoice's later status (the id names the invoice, the status
    and its time: a transition published again makes the same id)."""
    if change.previous_status is InvoiceStatus.UNRECOGNISABLE and (
        change.status is not InvoiceStatus.UNRECOGNISABLE
    ):
        word = _word(change.status, change.message_code)  # a review fix of a file
    else:
        word = EventWord.STATUS_CHANGED
    data = InvoiceEventData(
        outcome=word,
        owner=change.owner,
        invoice_key=change.invoice_key,
        invoice_type=change.invoice_type,
        expense_id=change.expense_id,
        previous_status=change.previous_status,
        status=change.status,
        message=change.message,
        message_code=change.message_code,
        at=change.at,
    )
    at = change.at.isoformat()
    event_id = _event_id("status", change.invoice_key, change.status.value, at)
    return ErpEvent(id=event_id, type=event_type(word), timestamp=change.at, data=data)


def erp_event_schema() -> dict[str, Any]:
    """The events' JSON Schema (draft 2020-12), served at ``/erp/schema.json``."""
    schema = ErpEvent.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "/erp/schema.json",
        **schema,
        "title": "fapiao ERP event",
    }
