"""Use case: verify one invoice, paying the provider at most once for it.

1. Offline checks (``fapiao.rules.offline_checks``), always, first: a failure is F
   and nothing is paid; an invoice issued today is C until tomorrow.
2. A type the tax authority does not verify (taxi, train, quota ...) is I: recognized.
3. No provider configured: the ``OfflineVerifier`` answers C.
4. The cache: a verified invoice is answered from it (compared with what is asked now:
   a different date or amount is 6, inconsistent, as exocr would say), a final failure
   for the same question likewise, a deferred one until its ``retry_at``.
5. A duplicate (the invoice is imported already) is F, 907002, without asking.
6. A lease on the invoice key, so that a concurrent verification does not pay again;
   then the provider, whose outcome is written to the cache (Y, F, and C with a retry
   time; not the hub's own faults such as refused credentials).
7. Single flight: a verification that finds the lease held waits (``deps.wait``,
   polling the cache every ``POLL_SECONDS``) for the holder's answer and serves it; a
   lease given back without an answer it takes itself. Nothing in time, or no turn to
   call the provider within its wait (its rate limit): with ``deps.busy_raises`` (the
   synchronous APIs) ``HubError(BUSY)``, which each API answers in its own envelope
   (003: 4007), else C with a retry time (the pipeline: 907011, re-checked later).

A cache or store failure before the provider is asked answers C with a retry time:
never an exception, never a payment the cache cannot remember.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from decimal import Decimal

from fapiao.catalogue.errors import Family, HubError, Problem, by_code, lookup
from fapiao.catalogue.types import ExocrTotal
from fapiao.dates import SHANGHAI, today_in_shanghai
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.ports import PAID_CHECKS, VerificationCache, VerifyDeps
from fapiao.providers.verifier import MISMATCH, VERIFIED, next_shanghai_day, status_of_check
from fapiao.results import CachedVerification, Lease, Source, Verification
from fapiao.rules.offline_checks import (
    INVALID_PARAMETER,
    Finding,
    Outcome,
    QrFields,
    failed,
    incomplete,
    run_offline_checks,
)

__all__ = ["answer_check", "question_of", "verify_invoice"]

logger = logging.getLogger(__name__)

BUSY_RETRY = dt.timedelta(seconds=5)  # another verification holds the invoice
POLL_SECONDS = 0.2  # how often a verification waiting for another's answer reads the cache


def verify_invoice(
    invoice: Invoice, deps: VerifyDeps, *, qr: QrFields | None = None
) -> Verification:
    now = deps.clock()
    key = invoice.invoice_key
    findings = run_offline_checks(invoice, today_in_shanghai(now), qr)
    early = _decided_offline(invoice, findings, now)
    if early is not None:
        return early
    if not deps.verifier.remote:
        return deps.verifier.verify(invoice).model_copy(update={"findings": findings})
    assert key is not None  # invoice_number_is_well_formed passed
    try:
        decided = _before_paying(invoice, key, deps, now)
    except HubError:  # busy: the synchronous APIs' answer
        raise
    except Exception:
        logger.exception("verification cache or store unavailable", extra={"invoice_key": key})
        decided = _hub_deferred(key, "the verification cache is unavailable", now, deps)
    if isinstance(decided, Verification):
        return decided.model_copy(update={"findings": findings})
    token = decided
    try:
        outcome = _ask_provider(invoice, key, deps, now)
    finally:
        _release(deps.cache, key, token)
    if outcome.problem is Problem.BUSY and deps.busy_raises:
        raise HubError(Problem.BUSY, outcome.reason or "the provider is busy; try again")
    return outcome.model_copy(update={"findings": findings})


def _decided_offline(
    invoice: Invoice, findings: list[Finding], now: dt.datetime
) -> Verification | None:
    key = invoice.invoice_key
    problems = failed(findings)
    if problems:
        logger.info(
            "offline checks refused the invoice",
            extra={"invoice_key": key, "checks": [f.check for f in problems]},
        )
        return Verification(
            invoice_key=key,
            status=InvoiceStatus.CHECK_FAILED,
            source=Source.OFFLINE_CHECKS,
            reason="; ".join(f.reason or f.check for f in problems),
            code=problems[0].code,
            findings=findings,
        )
    missing = incomplete(findings)
    if missing and invoice.invoice_type.exocr_total is not None:
        # Not F: nothing was refused. It waits for the fields (by hand, or a complete
        # reading of the same invoice), with no retry time: asking again cannot help.
        return Verification(
            invoice_key=key,
            status=InvoiceStatus.AWAITING_CHECK,
            source=Source.OFFLINE_CHECKS,
            reason="; ".join(f.reason or f.check for f in missing),
            code=missing[0].code,
            findings=findings,
        )
    if invoice.invoice_type.exocr_total is None:
        return Verification(
            invoice_key=key,
            status=InvoiceStatus.RECOGNIZED,
            source=Source.OFFLINE_CHECKS,
            reason=f"the tax authority does not verify {invoice.invoice_type.name}",
            findings=findings,
        )
    deferred = [f for f in findings if f.outcome is Outcome.DEFERRED]
    if deferred:
        return Verification(
            invoice_key=key,
            status=InvoiceStatus.AWAITING_CHECK,
            source=Source.OFFLINE_CHECKS,
            reason="; ".join(f.reason or f.check for f in deferred),
            problem=Problem.UPSTREAM_UNAVAILABLE,
            retry_at=next_shanghai_day(now),
            findings=findings,
        )
    return None


def _before_paying(
    invoice: Invoice, key: str, deps: VerifyDeps, now: dt.datetime
) -> Verification | str:
    """The answer without paying, or the lease token under which to pay."""
    served = _serve(deps.cache.get(key), invoice, now)
    if served is not None:
        return served
    if deps.known is not None and deps.known.exists(key):
        entry = lookup(Family.PLATFORM_INVOICE, Problem.DUPLICATE_INVOICE)
        return Verification(
            invoice_key=key,
            status=InvoiceStatus.CHECK_FAILED,
            source=Source.STORE,
            reason=entry.message,
            problem=Problem.DUPLICATE_INVOICE,
        )
    token: str | None = deps.cache.claim(key, now, now + deps.lease)
    if token is None:
        waited = _await_holder(invoice, key, deps)
        if isinstance(waited, Verification):
            return waited
        if waited is None:
            if deps.busy_raises:
                raise HubError(Problem.BUSY, "another verification of this invoice is under way")
            return Verification(
                invoice_key=key,
                status=InvoiceStatus.AWAITING_CHECK,
                source=Source.HUB,
                reason="another verification of this invoice is under way",
                problem=Problem.RATE_LIMITED,
                retry_at=now + BUSY_RETRY,
            )
        token = waited
    if isinstance(token, Lease) and token.first:
        return token  # no lease before this one: nobody answered since the first look
    try:
        # The holder before us may have just written its answer.
        served = _serve(deps.cache.get(key), invoice, now)
    except Exception:
        _release(deps.cache, key, token)
        raise
    if served is not None:
        _release(deps.cache, key, token)
        return served
    return token


def _await_holder(invoice: Invoice, key: str, deps: VerifyDeps) -> Verification | str | None:
    """Single flight: the answer of the verification that holds the lease, served from
    the cache once it is there; the lease token when the holder gave it back without an
    answer (it had no turn, or crashed and its lease expired); None after ``deps.wait``."""
    for _ in range(math.ceil(deps.wait.total_seconds() / POLL_SECONDS)):
        deps.sleep(POLL_SECONDS)
        now = deps.clock()
        served = _serve(deps.cache.get(key), invoice, now)
        if served is not None:
            return served
        token = deps.cache.claim(key, now, now + deps.lease)
        if token is not None:
            return token
    return None


def _ask_provider(invoice: Invoice, key: str, deps: VerifyDeps, now: dt.datetime) -> Verification:
    outcome = deps.verifier.verify(invoice)
    _count_paid(outcome, deps, now)
    if _worth_remembering(outcome):
        record = CachedVerification(
            invoice_key=key, verification=outcome, question=question_of(invoice), stored_at=now
        )
        try:
            deps.cache.put(record)
        except Exception:  # paid and answered: the caller still gets the answer
            logger.exception(
                "verification paid for but not cached",
                extra={"invoice_key": key, "alarm": "verification_cache"},
            )
    return outcome


def _count_paid(outcome: Verification, deps: VerifyDeps, now: dt.datetime) -> None:
    """The day's paid checks (what the review console shows): every request that reached
    the provider. A statistic: failing to count never costs the answer."""
    if deps.stats is None or not outcome.provider_calls:
        return
    try:
        deps.stats.add(
            PAID_CHECKS, now.astimezone(SHANGHAI).date(), {"calls": outcome.provider_calls}
        )
    except Exception as error:  # a statistic: a warning, not a trace (AWS may be stopping)
        logger.warning(
            "paid check not counted",
            extra={"invoice_key": outcome.invoice_key, "error": repr(error)[:300]},
        )


def _worth_remembering(outcome: Verification) -> bool:
    """Y and F, and C with a retry time; not the hub's own faults (refused credentials,
    an unreadable answer), which say nothing about the invoice."""
    if outcome.source is not Source.PROVIDER or outcome.status is InvoiceStatus.RECOGNIZED:
        return False
    if outcome.final:
        return True
    return outcome.retry_at is not None and outcome.problem is not Problem.INTERNAL


def _release(cache: VerificationCache, key: str, token: str) -> None:
    try:
        cache.release(key, token)
    except Exception:  # the lease expires by itself
        logger.exception("lease not released", extra={"invoice_key": key})


def _hub_deferred(key: str, reason: str, now: dt.datetime, deps: VerifyDeps) -> Verification:
    return Verification(
        invoice_key=key,
        status=InvoiceStatus.AWAITING_CHECK,
        source=Source.HUB,
        reason=reason,
        problem=Problem.INTERNAL,
        retry_at=now + deps.retry_after,
    )


# --- answering from the cache --------------------------------------------------------


def _serve(
    record: CachedVerification | None, invoice: Invoice, now: dt.datetime
) -> Verification | None:
    """The cached answer to ``invoice``, or None when the provider must be asked."""
    if record is None:
        return None
    cached = record.verification
    served: Verification | None = None
    if not cached.final:
        if cached.retry_at is not None and now < cached.retry_at:
            served = cached
    elif cached.check is not None and cached.code in (VERIFIED, MISMATCH):
        served = _against_authority(cached, cached.check, invoice)
    elif record.question == question_of(invoice):
        served = cached
    if served is None:
        return None
    return served.model_copy(update={"source": Source.CACHE, "provider_calls": 0})


def _against_authority(cached: Verification, check: CheckResult, asked: Invoice) -> Verification:
    """The tax authority's data is known: compare what is asked now with it, the way
    exocr compares the form (date, the type's amount, the check-code tail)."""
    differences = _differences(asked, check.invoice)
    if differences:
        entry = by_code(Family.EXOCR_RESULT, MISMATCH)
        check = check.model_copy(
            update={"success": False, "error": entry.code, "message": entry.message}
        )
        return cached.model_copy(
            update={
                "status": InvoiceStatus.CHECK_FAILED,
                "check": check,
                "reason": f"{entry.message}: {', '.join(differences)}",
                "code": entry.code,
            }
        )
    entry = by_code(Family.EXOCR_RESULT, VERIFIED)
    check = check.model_copy(update={"success": True, "error": None, "message": entry.message})
    status, why = status_of_check(check)
    return cached.model_copy(
        update={"status": status, "check": check, "reason": why, "code": entry.code}
    )


def _total(invoice: Invoice) -> Decimal | None:
    """The amount 003's ``total`` carries for the type."""
    kind = invoice.invoice_type.exocr_total
    if kind in (ExocrTotal.PRETAX, ExocrTotal.SUM):
        return invoice.amount
    if kind in (ExocrTotal.TOTAL_WITH_TAX, ExocrTotal.CAR_PRICE):
        return invoice.total_amount
    return None


def _tail(invoice: Invoice) -> str:
    return "".join((invoice.check_code or "").split())[-6:]


def _differences(asked: Invoice, known: Invoice) -> list[str]:
    found = []
    if asked.receipt_date is not None and asked.receipt_date != known.receipt_date:
        found.append(f"date {asked.receipt_date} vs {known.receipt_date}")
    asked_total, known_total = _total(asked), _total(known)
    if asked_total is not None and known_total is not None and asked_total != known_total:
        found.append(f"amount {asked_total} vs {known_total}")
    if _tail(asked) and _tail(known) and _tail(asked) != _tail(known):
        found.append("check code")
    return found


def question_of(invoice: Invoice) -> str:
    """What 003's form asks about the invoice, without credentials."""
    total = _total(invoice)
    parts = (
        invoice.invoice_type.name,
        invoice.invoice_key or "",
        "" if invoice.receipt_date is None else invoice.receipt_date.isoformat(),
        "" if total is None else format(total.normalize(), "f"),
        _tail(invoice),
    )
    return "|".join(parts)


# --- answering in exocr's shape ------------------------------------------------------


def answer_check(verification: Verification, asked: Invoice) -> CheckResult:
    """The check result that the hub's exocr-shaped endpoint answers a verification with.

    The provider's check when there is one and nothing about the hub overrides it;
    otherwise a failure whose ``error`` is the 003 code: the hub's ``problem`` looked up
    in the catalogue (timeouts 3202, the hub's misconfiguration 4007, a concurrent
    verification 4290), else the offline finding's code; the reason is the message.
    """
    if verification.check is not None and verification.problem is None:
        return verification.check
    if verification.status is InvoiceStatus.RECOGNIZED:
        code: str | None = INVALID_PARAMETER  # not a type the tax authority verifies
    elif verification.problem is not None:
        code = _exocr_code(verification.problem)
    else:
        code = verification.code
    return CheckResult(
        success=False,
        error=code or _exocr_code(Problem.INTERNAL),
        message=verification.reason,
        invoice=asked,
    )


def _exocr_code(problem: Problem) -> str:
    try:
        return lookup(Family.EXOCR, problem).code
    except LookupError:  # e.g. duplicate_invoice: exocr's family has no word for it
        return lookup(Family.EXOCR, Problem.INTERNAL).code
