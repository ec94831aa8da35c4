"""The verifier when no provider is configured (``FAPIAO_VERIFIER=offline``).

It never claims a tax-authority result: it answers status C (awaiting check) with the
findings of the offline checks, so the invoice waits for a provider instead of passing
as verified. No ``retry_at``: nothing will change until a provider is configured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fapiao.catalogue.errors import Problem
from fapiao.dates import now_in_shanghai, today_in_shanghai
from fapiao.model import Invoice, InvoiceStatus
from fapiao.results import Source, Verification
from fapiao.rules.offline_checks import run_offline_checks

REASON = "no verification provider is configured (FAPIAO_VERIFIER=offline): offline checks only"


class OfflineVerifier:
    remote = False

    def __init__(self, clock: Callable[[], dt.datetime] = now_in_shanghai) -> None:
        self._clock = clock

    def verify(self, invoice: Invoice) -> Verification:
        return Verification(
            invoice_key=invoice.invoice_key,
            status=InvoiceStatus.AWAITING_CHECK,
            source=Source.NO_PROVIDER,
            reason=REASON,
            problem=Problem.UPSTREAM_UNAVAILABLE,
            findings=run_offline_checks(invoice, today_in_shanghai(self._clock())),
        )
