"""Use cases of the S3 drop pipeline (statemachines/ingest.asl.json), one per task.

Each task takes and returns the models of ``fapiao.model.pipeline`` (the object dropped,
what was read in it, the outcome of each invoice), which the state machine carries as
JSON; the outbox and the bus they record outcomes in are ports (``fapiao.ports``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fapiao.catalogue.errors import Family, HubError, Problem, invoice_message, lookup
from fapiao.dates import now_in_shanghai
from fapiao.mapping.messages import refusal_message
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.create import CreateOutcome
from fapiao.model.pipeline import (
    DroppedObject,
    Found,
    Outcome,
    OutcomeKind,
    Publication,
    Recognized,
)
from fapiao.model.status import InvoiceTypeName
from fapiao.model.stored import Provenance, StoredInvoice
from fapiao.ports import FileStore, InvoiceStore, OutcomeBus, OutcomeOutbox
from fapiao.providers.identifier import Identifier, PollState
from fapiao.recognize import recognize_with_signatures
from fapiao.results import Verification
from fapiao.rules.file_signatures import signature_refusal
from fapiao.services.create_invoice import create_invoice
from fapiao.services.drops import IDENTIFY_PREFIX
from fapiao.services.process_file import create_command
from fapiao.settings import CompanySettings, IdentifierSettings
from fapiao.settings.limits import MAX_FILE_BYTES

logger = logging.getLogger(__name__)


def recognize_object(
    obj: DroppedObject,
    files: FileStore,
    identifier: Identifier | None,
    settings: IdentifierSettings,
    company: Callable[[], CompanySettings] | None = None,
) -> Recognized:
    """Embedded engine first; what it answers U for goes to the provider if there is one.
    With the company's ``verify_file_signatures``, an invoice its file's signature refuses
    is F now (``rules.file_signatures``): the state machine creates it unpaid."""
    mode = "identify" if obj.key.startswith(IDENTIFY_PREFIX) else "import"
    if mode == "import":
        obj.owner  # noqa: B018 - refuse a key without an owner before reading the file
    try:
        data = files.get(obj.key, MAX_FILE_BYTES)
        found = [
            Found(
                status=r.status,
                invoice=r.invoice,
                reason=r.reason,
                page=r.page,
                signature=r.signature,
                provenance=None if r.invoice is None else r.provenance(),
            )
            for r in recognize_with_signatures(data)
        ]
    except HubError as refused:
        if refused.problem is Problem.FILE_UNREACHABLE:
            raise
        return Recognized(
            object=obj,
            mode=mode,
            invoices=[Found(status=InvoiceStatus.UNRECOGNISABLE, reason=refused.detail)],
        )
    if mode == "import":
        _refuse_by_signature(found, company)
    unread = [f for f in found if f.invoice is None]
    if identifier is not None and unread:
        pages = [f.page for f in unread if f.page is not None]
        submissions = identifier.submit_file(data, pages=pages or None)
        for item, submission in zip(unread, submissions, strict=False):
            if submission.accepted:
                item.status, item.identify_id = InvoiceStatus.RECOGNIZING, submission.identify_id
            else:
                item.reason = submission.reason or item.reason
    pending = sum(1 for f in found if f.identify_id)
    return Recognized(
        object=obj,
        mode=mode,
        invoices=found,
        pending_count=pending,
        wait_seconds=settings.wait_seconds(1) if pending else 0,
    )


def _refuse_by_signature(found: list[Found], company: Callable[[], CompanySettings] | None) -> None:
    """Mark F the invoices their file's signature refuses, when the company says so. The
    settings are read only for such a file; unusable settings refuse nothing here (the
    create step applies the rule again, and fails the invoice with the settings' error)."""
    refusable = [f for f in found if f.invoice and signature_refusal(f.signature, True)]
    if not refusable or company is None:
        return
    try:
        enforced = company().verify_file_signatures
    except HubError as error:
        logger.warning("company settings unusable", extra={"problem": error.problem.value})
        return
    for item in refusable:
        refusal = signature_refusal(item.signature, enforced)
        if refusal is not None:
            item.status, item.reason = InvoiceStatus.CHECK_FAILED, refusal.detail


def provided(invoice: Invoice) -> Provenance:
    """The provenance of an invoice a remote recognition provider read: every field it
    gave is the provider's."""
    given = invoice.model_dump(
        exclude_none=True, exclude={"items", "flight_detail", "attachment_url"}
    )
    return Provenance(sources={name: ["provider"] for name in given})


def poll_pending(
    state: Recognized, identifier: Identifier | None, settings: IdentifierSettings
) -> Recognized:
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
                InvoiceStatus.RECOGNIZED,
                answer.invoice,
                None,
            )
            item.provenance = provided(answer.invoice)
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
        signature=found.signature,
        provenance=found.provenance,
    )
    invoice_type = InvoiceTypeName.of(found.invoice.invoice_type)
    try:
        created: CreateOutcome = create_invoice(command, store, company, now)
    except HubError as refused:
        logger.info(
            "create refused an invoice of a dropped object",
            extra={"object_id": obj.object_id, "index": index, "problem": refused.problem.value},
        )
        code, message = refusal_message(refused)
        return Outcome(
            outcome=OutcomeKind.REJECTED,
            object=obj,
            index=index,
            owner=obj.owner,
            invoice_key=found.invoice.invoice_key,
            invoice_type=invoice_type,
            status=InvoiceStatus.CHECK_FAILED,
            message=message,
            message_code=code,
            signature=found.signature,
            at=now(),
        )
    kind, stored = _settle(created, store, biz_id)
    return Outcome(
        outcome=kind,
        object=obj,
        index=index,
        owner=obj.owner,
        invoice_key=created.invoice_key,
        invoice_type=invoice_type,
        expense_id=stored.expense_id,
        status=stored.status,
        message=stored.message,
        message_code=None if stored.message_code is None else int(stored.message_code),
        signature=found.signature,
        at=now(),
    )


def _settle(
    created: CreateOutcome, store: InvoiceStore, biz_id: str
) -> tuple[OutcomeKind, CreateOutcome | StoredInvoice]:
    """Which outcome a create is, and the record whose expense, status and message it names."""
    if created.problem is Problem.DUPLICATE_INVOICE:
        mine = store.get(created.invoice_key)
        if mine is not None and mine.biz_id == biz_id:
            # This task stored it and is retried (its answer was lost): answer as it did.
            return _created_or_rejected(mine.status), mine
        return OutcomeKind.DUPLICATE, created
    return _created_or_rejected(created.status), created


def _created_or_rejected(status: InvoiceStatus) -> OutcomeKind:
    return OutcomeKind.REJECTED if status is InvoiceStatus.CHECK_FAILED else OutcomeKind.CREATED


def failure_outcome(
    obj: DroppedObject,
    *,
    kind: OutcomeKind = OutcomeKind.FAILED,
    index: int = 0,
    found: Found | None = None,
    error: dict[str, Any] | None = None,
    now: Callable[[], dt.datetime] = now_in_shanghai,
) -> Outcome:
    """The outcome of an invoice that was not created: unread (``kind`` UNRECOGNISABLE,
    with the recognition's ``found``: 907006 and its reason), recognized only
    (IDENTIFIED), or failed (``error``, the state machine's caught error ``{"Error": ...,
    "Cause": ...}``: 500000 系统内部错误, or 400000 for a key that names no owner). The
    error's name and cause go to the log; the event says only a hub error's own words.
    A key that names no owner is recorded too, without one."""
    try:
        owner: str | None = obj.owner
        ownerless: HubError | None = None
    except HubError as refused:
        owner, ownerless = None, refused
    invoice = None if found is None else found.invoice
    status = None if found is None else found.status
    code: int | None = None
    message: str | None = None
    if kind is OutcomeKind.UNRECOGNISABLE:
        status = InvoiceStatus.UNRECOGNISABLE
        code, message = invoice_message(Problem.UNRECOGNISABLE, found.reason if found else None)
    elif kind is OutcomeKind.FAILED:
        failure = error or {}
        logger.error(
            "the pipeline failed an invoice of a dropped object",
            extra={
                "object_id": obj.object_id,
                "index": index,
                "error": failure.get("Error"),
                "cause": str(failure.get("Cause") or "")[:2000],
            },
        )
        code, message = _failure_message(failure, ownerless)
    return Outcome(
        outcome=kind,
        object=obj,
        index=index,
        owner=owner,
        invoice_key=None if invoice is None else invoice.invoice_key,
        invoice_type=None if invoice is None else InvoiceTypeName.of(invoice.invoice_type),
        status=status,
        message=message,
        message_code=code,
        signature=None if found is None else found.signature,
        at=now(),
    )


# What a task raises for a failure the hub words itself (its message is written for callers).
_HUB_ERRORS = frozenset({"HubError", "RuleViolation"})
_PROBLEM_NAMES = frozenset(problem.value for problem in Problem)


def _failure_message(error: dict[str, Any], ownerless: HubError | None) -> tuple[int, str]:
    """A failed invoice in the catalogue's words: a key without an owner is the drop's
    own mistake (400000 and why); anything else is 500000 系统内部错误, followed by the
    hub's words when a task raised a ``HubError`` (never a bug's words, nor a name)."""
    if ownerless is not None:
        return refusal_message(ownerless)
    entry = lookup(Family.PLATFORM, Problem.INTERNAL)
    detail = _hub_error_words(error)
    return int(entry.code), entry.message if not detail else f"{entry.message}: {detail}"


def _hub_error_words(error: dict[str, Any]) -> str | None:
    """The message of a ``HubError`` that a task raised (Step Functions' ``Cause`` holds
    Lambda's ``{"errorMessage", "errorType", ...}``); None for any other error, or when
    the message is only the problem's name."""
    if error.get("Error") not in _HUB_ERRORS:
        return None
    try:
        cause = json.loads(str(error.get("Cause") or ""))
    except ValueError:
        return None
    words = cause.get("errorMessage") if isinstance(cause, dict) else None
    if not isinstance(words, str) or not words.strip() or words.strip() in _PROBLEM_NAMES:
        return None
    return words.strip()[:500]


PUBLICATION_LEASE_SECONDS = 10.0  # a run's claim to publish an outcome (a PutEvents)
CLAIM_RETRY_SECONDS = 0.2


def record_outcome(
    outcome: Outcome,
    outbox: OutcomeOutbox,
    bus: OutcomeBus,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Keep the outcome, publish it, mark it published; answer the outcome that counts.

    A record task run again for the same invoice of an object (a retry, an execution
    re-run from the start after the hub died, an Express execution run twice) finds the
    first outcome kept: it is not rewritten, and it is published only if it never was,
    so the ERP hears of each outcome once in normal operation and at least once always
    (a crash between the publication and its marker publishes it again on the next run).
    Two runs at once (Express executions are not deduplicated by name) publish once: one
    claims the publication for a lease; the other waits for its marker, and takes the
    claim over if the lease runs out first (its holder died).
    """
    recorded = outbox.record(outcome, claim_until=clock() + PUBLICATION_LEASE_SECONDS)
    if recorded.published:
        return recorded.outcome
    # kept by this run: claimed in the same write; else wait for the run that kept it
    if not recorded.claimed and not _claim(recorded.outcome, outbox, clock, sleep):
        return recorded.outcome  # published by another run meanwhile, or replaced
    try:
        bus.publish(recorded.outcome)
        outbox.mark_published(recorded.outcome)
    except Exception:
        with contextlib.suppress(Exception):  # a retry need not wait for the lease
            outbox.release_publication(recorded.outcome)
        raise
    return recorded.outcome


def _claim(
    outcome: Outcome,
    outbox: OutcomeOutbox,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> bool:
    """True once this run holds the claim to publish ``outcome``; False when there is
    nothing left to publish. Waits while another run holds it (bounded by its lease)."""
    while True:
        now = clock()
        claim = outbox.claim_publication(outcome, until=now + PUBLICATION_LEASE_SECONDS, now=now)
        if claim is not Publication.HELD:
            return claim is Publication.CLAIMED
        sleep(CLAIM_RETRY_SECONDS)
