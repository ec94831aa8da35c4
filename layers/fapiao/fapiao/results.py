"""What a verifier answers, and what the use cases that read a file answer: per invoice,
what was read in it and what the verifier said, and what became of it.

A ``Verification`` is the outcome of verifying one invoice: the invoice's status (Y
verified, F check failed, C awaiting check, I recognized but not a type the tax
authority verifies), the tax authority's check result when there is one, why, and when
to try again. A verifier (the ``Verifier`` port, ``fapiao.ports``) never raises for a
provider's failure: a timeout, a 5xx storm or a busy provider end in status C with
``retry_at``, so no request is lost.

``code`` is the spec-003 code that decided (an exocr ``error_code`` or ``result_code``,
rows of the error catalogue); ``problem`` is the hub's own word when no 003 code
decided, or when the provider's code is about the hub rather than the invoice (exocr's
4002 means the hub's credentials are wrong). The hub's verify endpoint answers with
``problem`` looked up in the catalogue when it is set, else with ``code``.

The mappers (``fapiao.mapping``) turn these into 000's and 002's responses. They sit
above the model because they carry a recognition's reading (``fapiao.recognize``) and
the offline checks' findings (``fapiao.rules``); the ports sit above them because a
port's records carry a ``Verification``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ConfigDict, Field, field_serializer

from fapiao.basemodel import HubModel
from fapiao.catalogue.errors import HubError, Problem
from fapiao.dates import to_iso_utc
from fapiao.model import CheckResult, InvoiceState, InvoiceStatus
from fapiao.model.create import CreateOutcome
from fapiao.model.parties import Employee
from fapiao.recognize.result import RecognizedInvoice
from fapiao.rules.offline_checks import Finding, Outcome

__all__ = [
    "CachedVerification",
    "FileInvoice",
    "ImportedInvoice",
    "OcrSyncResult",
    "Source",
    "Verification",
]


# 003 codes the cause of a status is read from (rows of the error catalogue).
_TOO_OLD = "3207"  # 5年以前开具的发票无法查询
_DAILY_CAP = "2"  # 超过该张票当天查验次数
_MISMATCH = "6"  # 查验成功发票不一致


class Source(StrEnum):
    """Who decided the outcome."""

    OFFLINE_CHECKS = "offline_checks"  # the offline checks, before anything was paid
    PROVIDER = "provider"  # the provider, in this verification
    CACHE = "cache"  # the provider, in an earlier verification
    STORE = "store"  # the invoice store: the invoice is imported already
    NO_PROVIDER = "no_provider"  # no provider is configured (OfflineVerifier)
    HUB = "hub"  # the hub itself (another verification holds the invoice, a store error)
    FILE_SIGNATURE = "file_signature"  # the file's signature, before anything was paid


class Verification(HubModel):
    """The outcome of verifying one invoice; JSON-serialisable for Step Functions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_key: str | None
    status: InvoiceStatus
    source: Source
    check: CheckResult | None = None  # the tax authority's answer, when there is one
    reason: str | None = None
    code: str | None = None  # the 003 error_code or result_code that decided
    problem: Problem | None = None  # the hub's own problem (see the module's docstring)
    retry_at: dt.datetime | None = None  # for C: not before (aware)
    findings: list[Finding] = Field(default_factory=list)
    provider_calls: int = 0  # paid or not, how many requests reached the provider

    @field_serializer("retry_at", when_used="json")
    def _retry_at_utc(self, value: dt.datetime | None) -> str | None:
        # RFC 3339 in UTC ("...Z"): what a Step Functions Wait state's TimestampPath takes.
        return None if value is None else to_iso_utc(value)

    @property
    def final(self) -> bool:
        """Y or F: asking again would not change the answer."""
        return self.status in (InvoiceStatus.VERIFIED, InvoiceStatus.CHECK_FAILED)

    @property
    def cause(self) -> Problem | None:
        """Why the invoice has its status, in the catalogue's words (None for Y): what
        every answer, remark and event says, where ``reason`` (for logs) may name rules."""
        if self.status is InvoiceStatus.VERIFIED:
            return None
        if self.status is InvoiceStatus.RECOGNIZED:
            return Problem.NOT_CHECKED_TYPE
        if self.status is InvoiceStatus.CHECK_FAILED:
            return self._failure_cause()
        if any(f.outcome is Outcome.INCOMPLETE for f in self.findings):
            return Problem.AWAITING_COMPLETION
        if self.source is Source.NO_PROVIDER:
            return Problem.NO_VERIFIER
        if self.code == _DAILY_CAP:
            return Problem.DAILY_CHECK_LIMIT
        if self.source is Source.OFFLINE_CHECKS:
            return Problem.CHECK_TOMORROW
        return Problem.CHECK_DEFERRED

    def _failure_cause(self) -> Problem:
        if self.problem is Problem.DUPLICATE_INVOICE or self.source is Source.FILE_SIGNATURE:
            return self.problem or Problem.CHECK_FAILED
        if self.code == _TOO_OLD:
            return Problem.TOO_OLD_TO_CHECK
        if self.source is Source.OFFLINE_CHECKS:
            return Problem.INVOICE_IRREGULAR
        if self.code == _MISMATCH:
            return Problem.CHECK_MISMATCH
        if self.check is not None and self.check.success:
            if self.check.cancelled or self.check.state is InvoiceState.VOID:
                return Problem.INVOICE_VOID
            if self.check.state is not InvoiceState.NORMAL:
                return Problem.INVOICE_RED_LETTER
        return Problem.CHECK_FAILED

    @property
    def detail(self) -> str | None:
        """What the cause's message is followed by: the fields a completion needs, the
        offline checks' findings, or the checker's own words. Never a rule's name."""
        missing = [
            name for f in self.findings if f.outcome is Outcome.INCOMPLETE for name in f.fields
        ]
        if self.status is InvoiceStatus.AWAITING_CHECK and missing:
            return ", ".join(missing)
        if self.source is Source.FILE_SIGNATURE:
            return self.reason
        if self.status is InvoiceStatus.CHECK_FAILED and self.source is Source.OFFLINE_CHECKS:
            return "; ".join(f.reason or "" for f in self.findings if f.outcome is Outcome.FAILED)
        check = self.check
        if check is not None and not check.success and check.message:
            return check.message
        return None


@dataclass(frozen=True)
class FileInvoice:
    """One invoice of a file: what was read, and what the verifier said (None for U)."""

    recognized: RecognizedInvoice
    verification: Verification | None

    @property
    def status(self) -> InvoiceStatus:
        if self.verification is None:
            return self.recognized.status
        return self.verification.status


@dataclass(frozen=True)
class OcrSyncResult:
    """One element of 000's ``data``: the invoice, and its expense when one was asked."""

    item: FileInvoice
    created: CreateOutcome | None = None


@dataclass(frozen=True)
class ImportedInvoice:
    """One invoice of a Maycur import (002): stored (``outcome`` without a problem), a
    duplicate (``outcome.problem`` DUPLICATE_INVOICE, nothing written), or ``refused`` by
    a rule (its ``HubError``; nothing written, ``outcome`` None)."""

    item: FileInvoice
    outcome: CreateOutcome | None
    employee: Employee
    refused: HubError | None = None

    @property
    def duplicate(self) -> bool:
        return self.outcome is not None and self.outcome.problem is Problem.DUPLICATE_INVOICE

    @property
    def stored(self) -> bool:
        return self.outcome is not None and not self.duplicate


class Lease(str):
    """A verification's hold on an invoice (``VerificationCache.claim``): its token, as
    ``release`` takes it, and ``first``: no lease was ever held on the invoice before, so
    nobody can have written an answer since the caller last looked (answers are written
    under a lease, and a released lease is kept, marked free, until it expires)."""

    first: bool

    def __new__(cls, token: str, first: bool = False) -> Lease:
        lease = super().__new__(cls, token)
        lease.first = first
        return lease


class CachedVerification(HubModel):
    """A provider's outcome for one invoice, and the question it answered.

    ``question`` is the verify form without credentials (type, code, number, date,
    amount, check-code tail): an answer without the tax authority's data (9 does not
    exist, 105, 3204 ...) is only reused for the same question.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_key: str
    verification: Verification
    question: str
    stored_at: dt.datetime
