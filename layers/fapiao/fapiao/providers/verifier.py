"""The verifier port and what a verification ends in.

A ``Verifier`` asks someone about one invoice and answers a ``Verification``: the
invoice's status (Y verified, F check failed, C awaiting check, I recognised but not a
type the tax authority verifies), the tax authority's check result when there is one,
why, and when to try again. It never raises for a provider's failure: a timeout, a 5xx
storm or a busy provider end in status C with ``retry_at``, so no request is lost.

``code`` is the spec-003 code that decided (an exocr ``error_code`` or ``result_code``,
rows of the error catalogue); ``problem`` is the hub's own word when no 003 code
decided, or when the provider's code is about the hub rather than the invoice (exocr's
4002 means the hub's credentials are wrong). The hub's verify endpoint answers with
``problem`` looked up in the catalogue when it is set, else with ``code``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from fapiao.catalogue.errors import Problem
from fapiao.dates import SHANGHAI, to_iso_utc
from fapiao.model import CheckResult, Invoice, InvoiceState, InvoiceStatus
from fapiao.rules.offline_checks import Finding

__all__ = [
    "DAILY_CAP",
    "MISMATCH",
    "VERIFIED",
    "Source",
    "Verification",
    "Verifier",
    "next_shanghai_day",
    "status_of_check",
]

# 003 result codes the hub treats by their meaning (the catalogue has their rows).
VERIFIED = "1"  # 查验成功
DAILY_CAP = "2"  # 超过该张票当天查验次数: not again today
MISMATCH = "6"  # 查验成功发票不一致: the tax authority's data comes back with it

# Why an invoice in a state other than normal is not good for reimbursement.
_STATE_REASONS: dict[InvoiceState, str] = {
    InvoiceState.VOID: "发票已作废 (void)",
    InvoiceState.RED_LETTER: "发票为红字发票 (a red-letter invoice)",
    InvoiceState.RED_REVERSED: "发票已红冲 (reversed by a red-letter invoice)",
    InvoiceState.PARTLY_RED_REVERSED: "发票已部分红冲 (partly reversed by a red-letter invoice)",
    InvoiceState.FULLY_RED_REVERSED: "发票已全额红冲 (fully reversed by a red-letter invoice)",
}


class Source(StrEnum):
    """Who decided the outcome."""

    OFFLINE_CHECKS = "offline_checks"  # the offline checks, before anything was paid
    PROVIDER = "provider"  # the provider, in this verification
    CACHE = "cache"  # the provider, in an earlier verification
    STORE = "store"  # the invoice store: the invoice is imported already
    NO_PROVIDER = "no_provider"  # no provider is configured (OfflineVerifier)
    HUB = "hub"  # the hub itself (another verification holds the invoice, a store error)


class Verification(BaseModel):
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


class Verifier(Protocol):
    """Port: verifies one invoice. Never raises for the provider's failures."""

    @property
    def remote(self) -> bool:
        """True when answers come from the tax authority (paid; worth caching)."""

    def verify(self, invoice: Invoice) -> Verification: ...


def status_of_check(check: CheckResult) -> tuple[InvoiceStatus, str | None]:
    """The status a tax-authority answer gives the invoice, and why when it is not Y.

    Verified and in the normal state is Y. Verified but void (作废, by ``cancel_flag``
    or ``inv_status`` 10), red-letter or (partly) reversed by one is F: the invoice
    exists, and is not good for reimbursement.
    """
    if not check.success:
        return InvoiceStatus.CHECK_FAILED, check.message
    if check.cancelled:
        return InvoiceStatus.CHECK_FAILED, _STATE_REASONS[InvoiceState.VOID]
    if check.state is not InvoiceState.NORMAL:
        return InvoiceStatus.CHECK_FAILED, _STATE_REASONS[check.state]
    return InvoiceStatus.VERIFIED, None


def next_shanghai_day(now: dt.datetime) -> dt.datetime:
    """Midnight Asia/Shanghai after ``now``: when a daily cap resets and a same-day
    invoice reaches the tax authority's query service."""
    local = now.astimezone(SHANGHAI)
    return dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), SHANGHAI)
