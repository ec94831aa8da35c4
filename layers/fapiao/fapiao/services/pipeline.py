"""Use cases of the S3 drop pipeline (statemachines/ingest.asl.json), one per task.

An object dropped into the bucket is named by its key, ``<user_code>/<any path>/<file>``:
the first segment says whose invoices they are. Each task takes and returns JSON (the
state machine carries it), so every model here round-trips through JSON exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field

from fapiao.catalogue.errors import Family, HubError, Problem, lookup
from fapiao.dates import now_in_shanghai
from fapiao.model import Invoice, InvoiceStatus
from fapiao.providers.identifier import Identifier, PollState
from fapiao.providers.identifier_settings import IdentifierSettings
from fapiao.providers.verifier import Verification
from fapiao.recognize import recognize
from fapiao.services.create_invoice import CreateOutcome, create_invoice
from fapiao.services.process_file import create_command
from fapiao.settings import CompanySettings
from fapiao.store.files import FileStore
from fapiao.store.invoices import InvoiceStore

MAX_FILE_BYTES = 20 * 1024 * 1024
IDENTIFY_PREFIX = "identify/"  # objects of the async identify API: recognised, not imported


class _Json(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DroppedObject(_Json):
    """One S3 object, as a version: the same object dropped twice is one object."""

    bucket: str
    key: str
    etag: str = ""
    version_id: str | None = None

    @property
    def object_id(self) -> str:
        return f"{self.bucket}/{self.key}#{self.version_id or self.etag}"

    @property
    def owner(self) -> str:
        """The user code the key names (its first segment)."""
        head, _, rest = self.key.partition("/")
        if not head or not rest:
            raise HubError(Problem.INVALID_REQUEST, "the key names no owner: <user_code>/...")
        return head

    @property
    def execution_name(self) -> str:
        """Step Functions names are unique per state machine: a repeated event (S3 may
        deliver one twice) starts nothing new."""
        return "obj-" + hashlib.sha256(self.object_id.encode()).hexdigest()[:60]


def objects_of_s3_event(event: dict[str, Any]) -> list[DroppedObject]:
    """The objects an S3 event notification names (keys arrive URL-encoded)."""
    objects = []
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        objects.append(
            DroppedObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                etag=str(s3["object"].get("eTag") or s3["object"].get("etag") or ""),
                version_id=s3["object"].get("versionId"),
            )
        )
    return objects


class Found(_Json):
    """One invoice of the object, as far as it has been read."""

    status: InvoiceStatus
    invoice: Invoice | None = None
    reason: str | None = None
    page: int | None = None
    identify_id: str | None = None  # the provider is still reading it


class Recognised(_Json):
    """The recognise task's answer, and the poll task's, for the state machine."""

    object: DroppedObject
    mode: str = "import"  # or "identify": recognise only
    invoices: list[Found] = Field(default_factory=list)
    pending_count: int = 0
    polls: int = 0
    wait_seconds: int = 0


def recognise_object(
    obj: DroppedObject,
    files: FileStore,
    identifier: Identifier | None,
    settings: IdentifierSettings,
) -> Recognised:
    """Embedded engine first; what it answers U for goes to the provider if there is one."""
    mode = "identify" if obj.key.startswith(IDENTIFY_PREFIX) else "import"
    if mode == "import":
        obj.owner  # noqa: B018 - refuse a key without an owner before reading the file
    try:
        data = files.get(obj.key, MAX_FILE_BYTES)
        found = [
            Found(status=r.status, invoice=r.invoice, reason=r.reason, page=r.page)
            for r in recognize(data)
        ]
    except HubError as refused:
        if refused.problem is Problem.FILE_UNREACHABLE:
            raise
        return Recognised(
            object=obj,
            mode=mode,
            invoices=[Found(status=InvoiceStatus.UNRECOGNISABLE, reason=refused.detail)],
        )
    unread = [f for f in found if f.invoice is None]
    if identifier is not None and unread:
        pages = [f.page for f in unread if f.page is not None]
        submissions = identifier.submit_file(data, pages=pages or None)
        for item, submission in zip(unread, submissions, strict=False):
            if submission.accepted:
                item.status, item.identify_id = InvoiceStatus.RECOGNISING, submission.identify_id
            else:
                item.reason = submission.reason or item.reason
    pending = sum(1 for f in found if f.identify_id)
    return Recognised(
        object=obj,
        mode=mode,
        invoices=found,
        pending_count=pending,
        wait_seconds=settings.wait_seconds(1) if pending else 0,
    )


def poll_pending(
    state: Recognised, identifier: Identifier | None, settings: IdentifierSettings
) -> Recognised:
    """Ask the provider once about each pending invoice; after the last allowed poll an
    invoice still pending is U, so the loop always ends."""
    polls = state.polls + 1
    last = polls >= settings.identify_poll_attempts
    for item in state.invoices:
        if not item.identify_id:
            continue
        if identifier is None:
            item.status, item.identify_id = InvoiceStatus.UNRECOGNISABLE, None
            item.reason = "no recognition provider is configured"
            continue
        answer = identifier.poll(item.identify_id)
        if answer.state is PollState.DONE and answer.invoice is not None:
            item.status, item.invoice, item.identify_id = (
                InvoiceStatus.RECOGNISED,
                answer.invoice,
                None,
            )
        elif answer.state is PollState.FAILED or last:
            item.status, item.identify_id = InvoiceStatus.UNRECOGNISABLE, None
            item.reason = (
                answer.reason
                if answer.state is PollState.FAILED
                else (f"the provider had no answer after {polls} polls")
            )
    pending = sum(1 for f in state.invoices if f.identify_id)
    return state.model_copy(
        update={
            "polls": polls,
            "pending_count": pending,
            "wait_seconds": settings.wait_seconds(polls + 1) if pending else 0,
        }
    )


class OutcomeKind(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"  # a rule refused it, or its check failed (status F)
    UNRECOGNISABLE = "unrecognisable"
    FAILED = "failed"  # the pipeline itself failed; the object is in the dead-letter queue
    IDENTIFIED = "identified"  # identify mode: recognised, not imported


class Outcome(_Json):
    """A terminal outcome of one invoice of an object: the ERP event's ``detail``."""

    outcome: OutcomeKind
    object: DroppedObject
    index: int = 0  # which invoice of the object
    owner: str | None = None
    invoice_key: str | None = None
    invoice_type: str | None = None
    expense_id: int | None = None
    status: InvoiceStatus | None = None
    message: str | None = None
    message_code: str | None = None
    at: dt.datetime


def create_from_object(
    obj: DroppedObject,
    index: int,
    found: Found,
    verification: Verification | None,
    store: InvoiceStore,
    company: CompanySettings,
    now: Callable[[], dt.datetime] = now_in_shanghai,
) -> Outcome:
    """The create step: the invoice stored under the key's owner, its outcome named."""
    assert found.invoice is not None
    biz_id = f"s3-{hashlib.sha256(f'{obj.object_id}#{index}'.encode()).hexdigest()[:32]}"
    command = create_command(
        found.invoice,
        verification,
        biz_id=biz_id,
        user_code=obj.owner,
        attachment_url=f"s3://{obj.bucket}/{obj.key}",
    )
    invoice_type = found.invoice.invoice_type.value
    try:
        created: CreateOutcome = create_invoice(command, store, company, now)
    except HubError as refused:
        return Outcome(
            outcome=OutcomeKind.REJECTED,
            object=obj,
            index=index,
            owner=obj.owner,
            invoice_key=found.invoice.invoice_key,
            invoice_type=invoice_type,
            status=InvoiceStatus.CHECK_FAILED,
            message=refused.detail or refused.problem.value,
            message_code=_platform_code(refused.problem),
            at=now(),
        )
    kind = OutcomeKind.CREATED
    expense_id, status = created.expense_id, created.status
    message, message_code = created.message, created.message_code
    if created.problem is Problem.DUPLICATE_INVOICE:
        mine = store.get(created.invoice_key)
        if mine is not None and mine.biz_id == biz_id:
            # This task stored it and is retried (its answer was lost): answer as it did.
            expense_id, status = mine.expense_id, mine.status
            message, message_code = mine.message, mine.message_code
        else:
            kind = OutcomeKind.DUPLICATE
    if kind is OutcomeKind.CREATED and status is InvoiceStatus.CHECK_FAILED:
        kind = OutcomeKind.REJECTED
    return Outcome(
        outcome=kind,
        object=obj,
        index=index,
        owner=obj.owner,
        invoice_key=created.invoice_key,
        invoice_type=invoice_type,
        expense_id=expense_id,
        status=status,
        message=message,
        message_code=message_code,
        at=now(),
    )


def _platform_code(problem: Problem) -> str:
    """The catalogue's code of a refusal (400109 …), as 907002 is for a duplicate."""
    try:
        return lookup(Family.PLATFORM, problem).code
    except LookupError:
        return problem.value


class OutcomeLog(Protocol):
    """Port: the terminal outcomes recorded so far, by object (what reconciliation reads)."""

    def of_object(self, object_id: str) -> Sequence[Outcome]: ...


@dataclass(frozen=True)
class Recorded:
    """The outcome that counts for an invoice of an object (the first one recorded), and
    whether the ERP has been told of it."""

    outcome: Outcome
    published: bool


class OutcomeOutbox(OutcomeLog, Protocol):
    """Port: the outcomes as an outbox of the ERP's events, one per (object_id, index)."""

    def record(self, outcome: Outcome) -> Recorded:
        """Keep ``outcome``, unpublished, unless one is kept for its (object_id, index)
        already: that first one is answered, unchanged, with its ``published`` marker."""

    def mark_published(self, outcome: Outcome) -> None:
        """Mark the outcome kept for ``outcome``'s (object_id, index) as published;
        ``KeyError`` when none is kept (nothing is written then)."""


class OutcomeBus(Protocol):
    """Port: where the ERP hears of outcomes (the event bus)."""

    def publish(self, outcome: Outcome) -> None: ...


def record_outcome(outcome: Outcome, outbox: OutcomeOutbox, bus: OutcomeBus) -> Outcome:
    """Keep the outcome, publish it, mark it published; answer the outcome that counts.

    A record task run again for the same invoice of an object (a retry, an execution
    re-run from the start after the hub died) finds the first outcome kept: it is not
    rewritten, and it is published only if it never was, so the ERP hears of each
    outcome once in normal operation and at least once always (a crash between the
    publication and its marker publishes it again on the next run).
    """
    recorded = outbox.record(outcome)
    if not recorded.published:
        bus.publish(recorded.outcome)
        outbox.mark_published(recorded.outcome)
    return recorded.outcome
