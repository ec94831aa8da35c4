"""Use case: check a stored invoice again, and store and publish what is true now.

A C invoice whose check can succeed later (the provider was busy or unreachable,
907011; it was issued today, 907012; its checks of the day are used up, 907013) is
checked again by the hub itself: the re-check state machine (statemachines/recheck.asl.json)
waits until ``retry_at`` (a Step Functions wait costs nothing), runs ``run_scheduled``,
and waits again until it answers ``final``. An invoice waiting for completion (907010)
or for a verifier to be configured (907014) is not: asking again cannot help.

When (``next_check_at``): the first wait is ``FAPIAO_VERIFY_RETRY_AFTER_SECONDS``, each
later one twice the one before, at most ``MAX_WAIT``; never before the provider's own
``retry_at`` (the next Shanghai day for a same-day invoice or a daily cap); at most
``DAILY_CHECKS`` checks of an invoice per Asia/Shanghai day (``check_attempts``), the
next one waits for the next day.

What (``check_again``): the invoice is verified as it is stored (the verification
cache and lease as for any verification; never answered "duplicate" for its own
record: ``VerifyDeps.known`` must be None or the store itself, whose record is this
invoice), and its status and message follow from the same rules as create's
(``rules.status_of``, ``status_of_cause``, ``invoice_message``, the title check). A new
status is stored with a ``Transition(published=False)``, published on the bus as an
"Invoice status changed" event, then marked published: the record is the outbox of its
own changes, so a crash between the store and the bus is published by the next run
(``publish_pending``; at least once).

A record that changed meanwhile (``StaleInvoice``) is read again. When it still holds
the invoice that was verified, the verification (paid once) is applied to the fresh
record; when its invoice was corrected meanwhile, or (automatic re-checks) it is no
longer C, the other writer's record stands: a correction verifies on its own.

One schedule per record (``retry_at``): an execution whose wait no longer matches the
record's ``retry_at`` (a re-check by hand scheduled another) ends without checking.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, replace

from fapiao.catalogue.errors import HubError, Problem, invoice_message
from fapiao.dates import SHANGHAI
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.create import CreateOutcome
from fapiao.model.status import InvoiceTypeName, StatusChange
from fapiao.model.stored import CheckRecord, StaleInvoice, StoredInvoice, Transition
from fapiao.ports import (
    InvoiceStore,
    RecheckScheduler,
    StatusBus,
    VerificationCache,
    VerifyDeps,
)
from fapiao.providers.verifier import next_shanghai_day
from fapiao.results import CachedVerification, Lease, Verification
from fapiao.rules import create as rules
from fapiao.rules.file_signatures import signature_refusal
from fapiao.services.create_invoice import status_of_cause
from fapiao.services.process_file import refused_file
from fapiao.services.verify import verify_invoice
from fapiao.settings import CompanySettings

__all__ = [
    "DAILY_CHECKS",
    "MAX_WAIT",
    "RECHECKABLE",
    "RecheckDeps",
    "RecheckRun",
    "check_again",
    "checked_record",
    "next_check_at",
    "outcome_of",
    "publish_pending",
    "run_scheduled",
    "schedule_created",
    "schedule_recheck",
    "schedule_stored",
    "status_change",
    "wait_seconds",
]

logger = logging.getLogger(__name__)

DAILY_CHECKS = 5  # the tax authority's limit per invoice and day
MAX_WAIT = dt.timedelta(hours=6)
# The causes of C that a later check can cure.
RECHECKABLE: frozenset[Problem] = frozenset(
    {Problem.CHECK_DEFERRED, Problem.CHECK_TOMORROW, Problem.DAILY_CHECK_LIMIT}
)
_STALE_ATTEMPTS = 5
_TOLERANCE = dt.timedelta(seconds=1)  # a schedule's time, after a trip through JSON


@dataclass(frozen=True)
class RecheckDeps:
    store: InvoiceStore
    verify: VerifyDeps  # ``known`` None (or the store): the record is in the store
    bus: StatusBus
    scheduler: RecheckScheduler
    company: CompanySettings


# --- when ------------------------------------------------------------------------------


def _whole_second(at: dt.datetime) -> dt.datetime:
    """``at`` rounded up to a whole second: a schedule's time survives RFC 3339."""
    if at.microsecond == 0:
        return at
    return at.replace(microsecond=0) + dt.timedelta(seconds=1)


def _checks_on(record: StoredInvoice, day: dt.date) -> int:
    return sum(1 for at in record.check_attempts if at.astimezone(SHANGHAI).date() == day)


def recheck_allowed(record: StoredInvoice, now: dt.datetime) -> tuple[bool, str | None]:
    """Can a re-check by hand be asked now? Not past the day's ``DAILY_CHECKS`` (the
    catalogue's message says so)."""
    if _checks_on(record, now.astimezone(SHANGHAI).date()) >= DAILY_CHECKS:
        return False, invoice_message(Problem.DAILY_CHECK_LIMIT)[1]
    return True, None


def _backoff(checks: int, first_wait: dt.timedelta) -> dt.timedelta:
    doublings = min(checks, 32)  # 2**32 first waits is far over MAX_WAIT already
    return min(first_wait * (1 << doublings), MAX_WAIT)


def next_check_at(
    record: StoredInvoice,
    verification: Verification,
    now: dt.datetime,
    first_wait: dt.timedelta,
) -> dt.datetime | None:
    """When the hub checks the invoice again by itself; None when it does not (a final
    answer, a cause a later check cannot cure).

    ``record.check_attempts`` holds the checks made so far (the one just made too):
    after n of them the wait is ``first_wait`` * 2**n, at most ``MAX_WAIT``, never before
    the provider's ``retry_at``, and a day that has had ``DAILY_CHECKS`` checks already
    moves the check to the next Asia/Shanghai day.
    """
    if verification.status is not InvoiceStatus.AWAITING_CHECK:
        return None
    if verification.cause not in RECHECKABLE:
        return None
    at = now + _backoff(len(record.check_attempts), first_wait)
    if verification.retry_at is not None and verification.retry_at > at:
        at = verification.retry_at
    return _within_daily_limit(record, at)


def _within_daily_limit(record: StoredInvoice, at: dt.datetime) -> dt.datetime:
    if _checks_on(record, at.astimezone(SHANGHAI).date()) >= DAILY_CHECKS:
        at = next_shanghai_day(at)
    return _whole_second(at)


def _first_check_at(
    record: StoredInvoice, now: dt.datetime, first_wait: dt.timedelta
) -> dt.datetime | None:
    """The first re-check of a record created C, from its cause alone."""
    cause = record.cause
    if record.status is not InvoiceStatus.AWAITING_CHECK or cause not in RECHECKABLE:
        return None
    if cause is Problem.CHECK_DEFERRED:
        at = now + _backoff(len(record.check_attempts), first_wait)
    else:  # issued today, or the day's checks used up: the next Shanghai day
        at = next_shanghai_day(now)
    return _within_daily_limit(record, at)


# --- after create: the first schedule ------------------------------------------------------


def schedule_recheck(
    record: StoredInvoice,
    store: InvoiceStore,
    scheduler: RecheckScheduler,
    *,
    now: dt.datetime,
    first_wait: dt.timedelta,
    verification: Verification | None = None,
) -> StoredInvoice:
    """Schedule the first re-check of an invoice stored C with a cause a later check can
    cure, and store its ``retry_at`` when the record lacks it; any other record is
    answered as it is. ``verification`` (what create stored the record from) gives the
    provider's own retry time; without it the record's cause decides."""
    for _ in range(_STALE_ATTEMPTS):
        if record.status is not InvoiceStatus.AWAITING_CHECK or record.cause not in RECHECKABLE:
            return record
        at = record.retry_at
        if at is None:
            at = (
                next_check_at(record, verification, now, first_wait)
                if verification is not None and verification.cause is record.cause
                else _first_check_at(record, now, first_wait)
            )
            if at is None:
                return record
            try:
                record = store.replace(record.model_copy(update={"retry_at": at}))
            except StaleInvoice:
                fresh = store.get(record.invoice_key)
                if fresh is None:
                    return record
                record = fresh
                continue
        scheduler.schedule(record.invoice_key, at)
        logger.info(
            "re-check scheduled",
            extra={"invoice_key": record.invoice_key, "retry_at": at.isoformat()},
        )
        return record
    raise StaleInvoice(record.invoice_key)


# --- checking again ------------------------------------------------------------------------


def check_again(
    record: StoredInvoice, deps: RecheckDeps, *, by_hand: bool = False
) -> StoredInvoice:
    """Verify the stored invoice again and store what is true now; answers the record
    as stored (and published).

    Automatic (``by_hand`` False): only a C record whose cause a later check can cure is
    checked; any other is answered as it is (after publishing what is pending). Within
    ``DAILY_CHECKS`` a day, else no check: the record waits for the next Shanghai day
    (907013). By hand (``fapiao review recheck``, after ``fapiao review fix``): any
    record is checked, now; beyond the day's checks ``HubError(RATE_LIMITED)``. A re-check
    by hand that leaves the record C with a retry time schedules it (``deps.scheduler``).
    """
    record = publish_pending(record, deps)
    verification: Verification | None = None
    verified: Invoice | None = None
    for _ in range(_STALE_ATTEMPTS):
        now = deps.verify.clock()
        if not by_hand and not _recheckable(record):
            return record
        if verification is None or verified != record.invoice:
            if _checks_on(record, now.astimezone(SHANGHAI).date()) >= DAILY_CHECKS:
                return _over_daily_limit(record, deps, now, by_hand=by_hand)
            verified = record.invoice
            refusal = signature_refusal(record.signature, deps.company.verify_file_signatures)
            verification = (
                verify_invoice(record.invoice, _verify_deps(deps.verify, by_hand))
                if refusal is None
                else refused_file(record.invoice, refusal)  # nothing to pay for
            )
        updated = checked_record(record, verification, deps, now)
        try:
            stored = deps.store.replace(updated)
        except StaleInvoice:
            fresh = deps.store.get(record.invoice_key)
            if fresh is None:
                raise
            logger.info(
                "re-check found the record changed", extra={"invoice_key": fresh.invoice_key}
            )
            if fresh.invoice != verified and not by_hand:
                return fresh  # corrected meanwhile: its own check decides
            record = fresh
            continue
        _log_outcome(record, stored, verification)
        if by_hand and stored.retry_at is not None and stored.retry_at != record.retry_at:
            deps.scheduler.schedule(stored.invoice_key, stored.retry_at)
        return publish_pending(stored, deps)
    raise StaleInvoice(record.invoice_key)


class _DeferralsAskAgain:
    """The verification cache, but a deferral it remembers (C until its retry time) is
    no answer: a re-check by hand asks the provider now. Final answers are still served
    (paid once), and the lease still keeps two verifications from paying twice."""

    def __init__(self, cache: VerificationCache) -> None:
        self._cache = cache

    def get(self, invoice_key: str) -> CachedVerification | None:
        cached = self._cache.get(invoice_key)
        return cached if cached is None or cached.verification.final else None

    def put(self, record: CachedVerification) -> None:
        self._cache.put(record)

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> Lease | None:
        return self._cache.claim(invoice_key, now, until)

    def release(self, invoice_key: str, token: str) -> None:
        self._cache.release(invoice_key, token)


def _verify_deps(deps: VerifyDeps, by_hand: bool) -> VerifyDeps:
    return replace(deps, cache=_DeferralsAskAgain(deps.cache)) if by_hand else deps


def _recheckable(record: StoredInvoice) -> bool:
    return record.status is InvoiceStatus.AWAITING_CHECK and record.cause in RECHECKABLE


def _over_daily_limit(
    record: StoredInvoice, deps: RecheckDeps, now: dt.datetime, *, by_hand: bool
) -> StoredInvoice:
    """No check beyond the day's: by hand it is refused; automatically the record says
    so (907013) and waits for the next Shanghai day."""
    tomorrow = next_shanghai_day(now)
    if by_hand:
        raise HubError(
            Problem.RATE_LIMITED,
            f"{DAILY_CHECKS} checks of this invoice today; check it again after "
            f"{tomorrow.isoformat()}",
        )
    code, message = invoice_message(Problem.DAILY_CHECK_LIMIT)
    updated = record.model_copy(
        update={
            "message": message,
            "message_code": str(code),
            "retry_at": tomorrow,
            "updated_at": now,
        }
    )
    logger.info("re-check waits for tomorrow", extra={"invoice_key": record.invoice_key})
    return deps.store.replace(updated)


def outcome_of(
    record: StoredInvoice, verification: Verification, company: CompanySettings
) -> tuple[InvoiceStatus, Problem | None, str | None, bool]:
    """Status, problem, detail and title conflict, by create's rules (services.create_invoice):
    a file its signature refuses stays F, whatever the check says."""
    invoice = record.invoice
    check = verification.check
    status, problem = rules.status_of(invoice, check)
    detail = None
    if problem is Problem.CHECK_FAILED and check is not None:
        detail = check.message
    if verification.status in (InvoiceStatus.CHECK_FAILED, InvoiceStatus.AWAITING_CHECK):
        cause = verification.cause
        assert cause is not None  # only Y has no cause
        problem, detail = cause, verification.detail
        status = status_of_cause(cause)
    refusal = signature_refusal(record.signature, company.verify_file_signatures)
    if refusal is not None:
        status, problem, detail = InvoiceStatus.CHECK_FAILED, refusal.problem, refusal.detail
    title = rules.check_buyer_title(invoice, company)
    if problem is None and title is not None:
        problem, detail = Problem.TITLE_MISMATCH, title
    return status, problem, detail, title is not None


def checked_record(
    record: StoredInvoice, verification: Verification, deps: RecheckDeps, now: dt.datetime
) -> StoredInvoice:
    """The record as the verification leaves it: status, message, check, the attempt,
    the next retry time, and a transition (unpublished) when the status changed."""
    status, problem, detail, title_conflict = outcome_of(record, verification, deps.company)
    code, message = (None, None) if problem is None else invoice_message(problem, detail)
    attempted = record.model_copy(update={"check_attempts": [*record.check_attempts, now]})
    retry_at = next_check_at(attempted, verification, now, deps.verify.retry_after)
    transitions = list(record.transitions)
    message_code = None if code is None else str(code)
    if status is not record.status:
        transitions.append(
            Transition(
                status=status,
                at=now,
                reason=message,
                message_code=message_code,
                published=False,
            )
        )
    return attempted.model_copy(
        update={
            "status": status,
            "message": message,
            "message_code": message_code,
            "title_conflict": title_conflict,
            "check": verification.check if verification.check is not None else record.check,
            "retry_at": retry_at,
            "transitions": transitions,
            "checks": [
                *record.checks,
                CheckRecord(
                    at=now,
                    status=status,
                    message_code=message_code,
                    message=message,
                    source=verification.source.value,
                    paid=verification.provider_calls > 0,
                ),
            ],
            "updated_at": now,
        }
    )


def _log_outcome(before: StoredInvoice, after: StoredInvoice, verification: Verification) -> None:
    logger.info(
        "invoice checked again",
        extra={
            "invoice_key": after.invoice_key,
            "previous_status": before.status.value,
            "status": after.status.value,
            "message_code": after.message_code,
            "reason": verification.reason,  # may name a rule: logs only
            "retry_at": None if after.retry_at is None else after.retry_at.isoformat(),
        },
    )


# --- publishing ---------------------------------------------------------------------------


def status_change(record: StoredInvoice, index: int) -> StatusChange:
    """The event of ``record.transitions[index]``."""
    transition = record.transitions[index]
    previous = record.transitions[index - 1].status if index > 0 else transition.status
    return StatusChange(
        invoice_key=record.invoice_key,
        owner=record.user_code,
        expense_id=record.expense_id,
        previous_status=previous,
        status=transition.status,
        message_code=None if transition.message_code is None else int(transition.message_code),
        message=transition.reason,
        invoice_type=InvoiceTypeName.of(record.invoice.invoice_type),
        at=transition.at,
    )


def publish_pending(record: StoredInvoice, deps: RecheckDeps) -> StoredInvoice:
    """Publish the record's unpublished transitions, oldest first, then mark them
    published; answers the record as stored. A publish that fails raises (the record
    keeps them unpublished: the next run publishes them)."""
    for _ in range(_STALE_ATTEMPTS):
        pending = [i for i, t in enumerate(record.transitions) if not t.published]
        if not pending:
            return record
        for index in pending:
            deps.bus.publish(status_change(record, index))
        published = {(t.status, t.at) for t in record.transitions if not t.published}
        marked = [
            t.model_copy(update={"published": True}) if (t.status, t.at) in published else t
            for t in record.transitions
        ]
        try:
            return deps.store.replace(record.model_copy(update={"transitions": marked}))
        except StaleInvoice:
            fresh = deps.store.get(record.invoice_key)
            if fresh is None:
                raise
            # What this run published is published: mark it in the fresh record.
            record = fresh.model_copy(
                update={
                    "transitions": [
                        t.model_copy(update={"published": True})
                        if (t.status, t.at) in published
                        else t
                        for t in fresh.transitions
                    ]
                }
            )
    raise StaleInvoice(record.invoice_key)


# --- the re-check state machine's task -------------------------------------------------------


@dataclass(frozen=True)
class RecheckRun:
    """What the re-check task answers the state machine: stop, or wait until ``retry_at``."""

    invoice_key: str
    final: bool
    retry_at: dt.datetime | None = None


def run_scheduled(invoice_key: str, scheduled_at: dt.datetime, deps: RecheckDeps) -> RecheckRun:
    """The re-check scheduled for ``scheduled_at``: nothing when the record is gone, no
    longer waits for a re-check, or is scheduled at another time now (that schedule's
    execution checks it); the wait goes on when it is early; else ``check_again``."""
    record = deps.store.get(invoice_key)
    if record is None:
        logger.warning("re-check of an invoice not stored", extra={"invoice_key": invoice_key})
        return RecheckRun(invoice_key, final=True)
    record = publish_pending(record, deps)
    if not _recheckable(record) or record.retry_at is None:
        return RecheckRun(invoice_key, final=True)
    if abs(record.retry_at - scheduled_at) > _TOLERANCE:
        logger.info("re-check superseded by another schedule", extra={"invoice_key": invoice_key})
        return RecheckRun(invoice_key, final=True)
    if deps.verify.clock() + _TOLERANCE < record.retry_at:
        return RecheckRun(invoice_key, final=False, retry_at=record.retry_at)
    stored = check_again(record, deps)
    final = not _recheckable(stored) or stored.retry_at is None
    return replace(RecheckRun(invoice_key, final), retry_at=None if final else stored.retry_at)


def wait_seconds(until: dt.datetime, now: dt.datetime) -> int:
    """Whole seconds from ``now`` until ``until`` (0 when it is past)."""
    return max(0, math.ceil((until - now).total_seconds()))


def schedule_stored(
    invoice_key: str,
    store: InvoiceStore,
    scheduler: RecheckScheduler,
    *,
    now: dt.datetime,
    first_wait: dt.timedelta,
) -> StoredInvoice | None:
    """The ingest state machine's ScheduleRecheck task: the stored record of an outcome C
    is scheduled (``schedule_recheck``) when a later check can help; None when the
    invoice is not stored."""
    record = store.get(invoice_key)
    if record is None:
        logger.warning("nothing stored to re-check", extra={"invoice_key": invoice_key})
        return None
    return schedule_recheck(record, store, scheduler, now=now, first_wait=first_wait)


def schedule_created(
    outcome: CreateOutcome,
    verification: Verification | None,
    store: InvoiceStore,
    scheduler: RecheckScheduler | None,
    *,
    now: dt.datetime,
    first_wait: dt.timedelta,
) -> None:
    """After a one-call create (000 ocrSync, 002 import) stored an invoice C that a later
    check can cure: its first re-check. The answer is the client's already: a failure to
    schedule is logged (to alarm on), never raised; the invoice stays C in the review
    queue, where a re-check by hand schedules it again."""
    if scheduler is None or outcome.status is not InvoiceStatus.AWAITING_CHECK:
        return
    if outcome.expense_id is None or outcome.problem not in RECHECKABLE:
        return
    try:
        record = store.get(outcome.invoice_key)
        if record is not None:
            schedule_recheck(
                record, store, scheduler, now=now, first_wait=first_wait, verification=verification
            )
    except Exception:
        logger.exception(
            "re-check not scheduled",
            extra={"invoice_key": outcome.invoice_key, "alarm": "recheck_schedule"},
        )
