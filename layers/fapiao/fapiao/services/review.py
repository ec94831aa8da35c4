"""Use case: the review queue — what needs attention, corrected or completed by hand, and
checked again.

- ``review_page``: unrecognisable or failed files (U), refused invoices (F) and invoices
  not checked yet (C, waiting for completion among them), newest change first, a page at
  a time (``fapiao.ports.ReviewQueue``).
- ``find_entry``: one entry by its name (an invoice key, or ``U-...``).
- ``fix_entry``: fields set by 001's names. An invoice's record is corrected (each field
  kept as a ``Correction``: time, API client and its role, old and new value) and checked again by
  hand (``services.recheck.check_again``: stored, and a status change published). A
  file's invoice that was never stored is created from the fields as the pipeline
  creates one (verified, then ``create_invoice`` under the file's owner), and its outcome
  leaves the queue (``resolved_by`` the invoice key).
- ``recheck_entry``: an invoice checked again now, within the day's checks; the record
  keeps who asked (``RecheckAsked``: time, API client and its role).

A correction never changes which invoice a record is: invoice_code and invoice_number
make the invoice key (the record's key, its expense's list, the duplicate check), so a
fix that would change the key is refused (INVALID_REQUEST) rather than moving the record;
a misread number is corrected by dropping the file again, or by 001 with the right one.
A verified invoice (Y) is not corrected: the tax authority's data stands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fapiao.catalogue.errors import HubError, Problem, invoice_message
from fapiao.dates import today_in_shanghai
from fapiao.mapping.review import FieldChange, apply_fields
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.create import CreateOutcome
from fapiao.model.review import (
    OpenOutcome,
    OutcomeRef,
    ReviewEntry,
    ReviewOutcome,
    ReviewPage,
    ReviewQuery,
    parse_review_id,
)
from fapiao.model.stored import (
    ROLE_BEFORE_ROLES,
    Correction,
    RecheckAsked,
    StaleInvoice,
    StoredInvoice,
    Transition,
)
from fapiao.ports import ReviewQueue, VerifyDeps
from fapiao.rules import create as rules
from fapiao.services.create_invoice import create_invoice
from fapiao.services.process_file import create_command
from fapiao.services.recheck import (
    RecheckDeps,
    check_again,
    publish_pending,
    recheck_allowed,
    schedule_recheck,
)
from fapiao.services.verify import verify_invoice
from fapiao.settings import CompanySettings

__all__ = [
    "ReviewDeps",
    "find_entry",
    "fix_entry",
    "recheck_entry",
    "review_page",
]

_ATTEMPTS = 5  # a re-check or another correction won the race: read the record again
# What a file's invoice is created from, at least (the key, the date, an amount).
_NEEDED_FOR_A_FILE = ("invoice_type", "invoice_number", "receipt_date")


@dataclass(frozen=True)
class ReviewDeps:
    """What the review queue runs on."""

    queue: ReviewQueue
    recheck: RecheckDeps  # its ``verify.known`` is None: the record is in the store
    verify_new: VerifyDeps  # a file's invoice not stored yet: duplicates looked up first


def review_page(queue: ReviewQueue, query: ReviewQuery) -> ReviewPage:
    return queue.page(query)


def _target(review_id: str) -> str | OutcomeRef:
    try:
        return parse_review_id(review_id)
    except ValueError as error:
        raise HubError(Problem.INVALID_REQUEST, str(error)) from None


def _record(invoice_key: str, deps: ReviewDeps) -> StoredInvoice:
    record = deps.recheck.store.get(invoice_key)
    if record is None:
        raise HubError(Problem.NOT_FOUND, f"no invoice {invoice_key}")
    return record


def _open_outcome(ref: OutcomeRef, deps: ReviewDeps) -> OpenOutcome:
    found = deps.queue.open_outcome(ref)
    if found is None:
        raise HubError(Problem.NOT_FOUND, "no such file invoice in the review queue")
    return found


def find_entry(review_id: str, deps: ReviewDeps) -> ReviewEntry:
    """The entry ``review_id`` names (an invoice in any status, or a file's outcome,
    resolved or not); NOT_FOUND when there is none."""
    target = _target(review_id)
    if isinstance(target, OutcomeRef):
        return _open_outcome(target, deps)
    return _record(target, deps)


# A file's invoice that was never stored has nothing to check yet.
_NOT_STORED = "文件中的发票尚未入库: 请先补全字段并保存"


def recheck_state(entry: ReviewEntry, deps: ReviewDeps) -> tuple[bool, str | None]:
    """Whether the entry can be checked again by hand now, and why not (Chinese)."""
    if not isinstance(entry, StoredInvoice):
        return False, _NOT_STORED
    return recheck_allowed(entry, deps.recheck.verify.clock())


def recheck_entry(
    review_id: str, deps: ReviewDeps, *, by: str | None = None, role: str = ROLE_BEFORE_ROLES
) -> ReviewOutcome:
    """Check the invoice again now (``check_again`` by hand: within the day's checks,
    else RATE_LIMITED), store and publish what is true now. ``by``: the API client that
    asked (with its ``role``), kept on the record once the check is stored; None: no
    client asked (nothing kept)."""
    target = _target(review_id)
    if isinstance(target, OutcomeRef):
        raise HubError(
            Problem.INVALID_REQUEST,
            "this file's invoice was never stored, so there is nothing to check: "
            "fix it with its fields (fapiao review fix)",
        )
    asked_at = deps.recheck.verify.clock()
    checked = check_again(_record(target, deps), deps.recheck, by_hand=True)
    if by is not None:
        checked = _keep_asked(checked, RecheckAsked(at=asked_at, by=by, role=role), deps)
    return ReviewOutcome.of(checked)


def _keep_asked(record: StoredInvoice, asked: RecheckAsked, deps: ReviewDeps) -> StoredInvoice:
    """The record with ``asked`` added to its re-checks asked by hand: a write of its
    own after the check's (``check_again`` is the automatic re-checks' too, which nobody
    asks). Not a change of the invoice: its place in the queue (``updated_at``) stays."""
    store = deps.recheck.store
    for _ in range(_ATTEMPTS):
        try:
            return store.replace(
                record.model_copy(update={"rechecks_asked": [*record.rechecks_asked, asked]})
            )
        except StaleInvoice:
            record = _record(record.invoice_key, deps)
    raise HubError(Problem.BUSY, f"invoice {record.invoice_key} keeps changing; try again")


def fix_entry(
    review_id: str,
    values: Mapping[str, Any],
    *,
    by: str,
    role: str = ROLE_BEFORE_ROLES,
    deps: ReviewDeps,
) -> tuple[str, ReviewOutcome]:
    """Set ``values`` (001 names, parsed by ``mapping.review.parse_fields``) on the
    entry, then verify and store as the pipeline does; the entry's name now (the
    invoice key once it is stored) and what it ended in. ``by``: the API client, and
    ``role`` its key's role (each correction keeps both)."""
    target = _target(review_id)
    who = _Who(by, role)
    if isinstance(target, OutcomeRef):
        return _fix_file(target, values, who, deps)
    return target, _fix_invoice(target, values, who, deps)


def _accepted(
    invoice: Invoice, check: CheckResult | None, company: CompanySettings, today: dt.date
) -> Invoice:
    """001's rules for what a person says an invoice holds (as for a client's create):
    its date, its type's fields, its remark, amounts no invoice could hold; then the
    missing tax piece computed and the currency chosen."""
    rules.require_receipt_date(invoice)
    rules.require_receipt_date_not_in_the_future(invoice, today)
    rules.require_type_fields(invoice)
    rules.limit_remark(invoice)
    rules.require_amounts_in_range(invoice, None)
    rules.require_blue_total_not_negative(invoice, check)
    invoice = rules.complete_tax(invoice)
    return invoice.model_copy(update={"currency": rules.choose_currency(invoice, company)})


@dataclass(frozen=True)
class _Who:
    """Who asks for a correction: the API client's name and its key's role."""

    by: str
    role: str


def _corrections(changes: list[FieldChange], at: dt.datetime, who: _Who) -> list[Correction]:
    return [
        Correction(field=c.field, old=c.old, new=c.new, at=at, by=who.by, role=who.role)
        for c in changes
    ]


# --- an invoice record ----------------------------------------------------------------------


def _fix_invoice(
    invoice_key: str, values: Mapping[str, Any], who: _Who, deps: ReviewDeps
) -> ReviewOutcome:
    store = deps.recheck.store
    for _ in range(_ATTEMPTS):
        record = _record(invoice_key, deps)
        if record.status is InvoiceStatus.VERIFIED:
            raise HubError(
                Problem.INVALID_REQUEST,
                f"invoice {invoice_key} is verified: the tax authority's data is not corrected",
            )
        invoice, changes = apply_fields(record.invoice, values)
        if invoice.invoice_key != record.invoice_key:
            raise HubError(
                Problem.INVALID_REQUEST,
                "invoice_code and invoice_number name the invoice (its key "
                f"{record.invoice_key}): they are not corrected; drop the file again",
            )
        if not changes:  # the values it holds already (a fix sent twice): as it is
            return ReviewOutcome.of(record)
        now = deps.recheck.verify.clock()
        invoice = _accepted(invoice, record.check, deps.recheck.company, today_in_shanghai(now))
        corrected = record.model_copy(
            update={
                "invoice": invoice,
                "corrections": [*record.corrections, *_corrections(changes, now, who)],
                "updated_at": now,
            }
        )
        try:
            written = store.replace(corrected)
        except StaleInvoice:
            continue
        return ReviewOutcome.of(check_again(written, deps.recheck, by_hand=True))
    raise HubError(Problem.BUSY, f"invoice {invoice_key} keeps changing; try again")


# --- a file's invoice that was never stored --------------------------------------------------


def _file_biz_id(ref: OutcomeRef) -> str:
    """The pipeline's bizId for the invoice ``index`` of the object: a fix creates it
    under the same one, so a fix run twice finds its own record."""
    digest = hashlib.sha256(f"{ref.object_id}#{ref.index}".encode()).hexdigest()[:32]
    return f"s3-{digest}"


def _require_what_a_file_needs(invoice: Invoice, values: Mapping[str, Any]) -> None:
    given = {name for name, value in values.items() if value is not None}
    missing = [name for name in _NEEDED_FOR_A_FILE if name not in given]
    if invoice.amount is None and invoice.total_amount is None:
        missing.append("amount or total_amount")
    if missing:
        raise HubError(
            Problem.INVALID_REQUEST,
            f"a file's invoice is created from its fields: set {', '.join(missing)}",
        )


def _fix_file(
    ref: OutcomeRef, values: Mapping[str, Any], who: _Who, deps: ReviewDeps
) -> tuple[str, ReviewOutcome]:
    opened = _open_outcome(ref, deps)
    if opened.resolved_by is not None:
        raise HubError(
            Problem.INVALID_REQUEST,
            f"resolved already: invoice {opened.resolved_by} (fix that one)",
        )
    obj = opened.outcome.object
    owner = obj.owner  # INVALID_REQUEST for a key that names no owner
    invoice, changes = apply_fields(None, values)
    _require_what_a_file_needs(invoice, values)
    clock = deps.recheck.verify.clock
    now = clock()
    invoice = _accepted(invoice, None, deps.recheck.company, today_in_shanghai(now))
    verification = verify_invoice(invoice, deps.verify_new)
    biz_id = _file_biz_id(ref)
    command = create_command(
        invoice,
        verification,
        biz_id=biz_id,
        user_code=owner,
        attachment_url=f"s3://{obj.bucket}/{obj.key}",
    )
    created = create_invoice(command, deps.recheck.store, deps.recheck.company, clock)
    record = deps.recheck.store.get(created.invoice_key)
    if record is None or record.biz_id != biz_id:
        # Imported already (907002), or it completed its owner's record waiting for
        # completion: that record stands for this file's invoice now.
        deps.queue.resolve(ref, created.invoice_key)
        return created.invoice_key, _created(created, record)
    record = _with_history(record, opened, _corrections(changes, now, who), deps)
    record = publish_pending(record, deps.recheck)
    record = schedule_recheck(
        record,
        deps.recheck.store,
        deps.recheck.scheduler,
        now=now,
        first_wait=deps.recheck.verify.retry_after,
        verification=verification,
    )
    deps.queue.resolve(ref, record.invoice_key)
    return record.invoice_key, ReviewOutcome.of(record)


def _created(created: CreateOutcome, record: StoredInvoice | None) -> ReviewOutcome:
    if created.problem is not Problem.DUPLICATE_INVOICE and record is not None:
        return ReviewOutcome.of(record)
    return ReviewOutcome(
        created.status,
        created.message_code,
        created.message,
        created.invoice_key,
        created.expense_id,
    )


def _with_history(
    record: StoredInvoice, opened: OpenOutcome, corrections: list[Correction], deps: ReviewDeps
) -> StoredInvoice:
    """The record created from a file's fields begins with the file's U, and its own
    status is a change from U, published as one ("Invoice status changed"): the ERP heard
    "unrecognisable" of the file. Its fields are corrections (nothing was read). A fix
    run again finds them written already."""
    for _ in range(_ATTEMPTS):
        if record.transitions and record.transitions[0].status is InvoiceStatus.UNRECOGNISABLE:
            return record
        code, message = invoice_message(Problem.UNRECOGNISABLE)
        unread = Transition(
            status=InvoiceStatus.UNRECOGNISABLE,
            at=opened.outcome.at,
            reason=message,
            message_code=str(code),
        )
        created = [t.model_copy(update={"published": False}) for t in record.transitions]
        try:
            return deps.recheck.store.replace(
                record.model_copy(
                    update={
                        "transitions": [unread, *created],
                        "corrections": [*record.corrections, *corrections],
                    }
                )
            )
        except StaleInvoice:
            fresh = deps.recheck.store.get(record.invoice_key)
            if fresh is None:
                raise
            record = fresh
    raise HubError(Problem.BUSY, f"invoice {record.invoice_key} keeps changing; try again")
