"""What the verifiers share: the 003 result codes the hub treats by their meaning, the
status a tax-authority answer gives an invoice, and when a deferred check may run again.

The verifiers themselves are the adapters beside this module (``ExocrVerifier`` in
``exocr.py``, ``OfflineVerifier`` in ``offline.py``); the port they satisfy
(``Verifier``) is in ``fapiao.ports`` and what they answer (``Verification``,
``Source``) in ``fapiao.results``.
"""

from __future__ import annotations

import datetime as dt

from fapiao.dates import SHANGHAI
from fapiao.model import CheckResult, InvoiceState, InvoiceStatus

__all__ = [
    "DAILY_CAP",
    "MISMATCH",
    "VERIFIED",
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
