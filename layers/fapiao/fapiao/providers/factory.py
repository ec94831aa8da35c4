"""The verifier and its dependencies, built from settings: one place for every entry point
(the verify endpoint and task, ocrSync, the Maycur import).

A provider's adapter is imported when it is built, not with this module: a function
imports httpx and the provider's wire models only when its settings name that provider
(issue 13: each adapter costs a cold start ~40 ms, httpx ~50 ms more).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from fapiao.dates import now_in_shanghai
from fapiao.ports import Verifier, VerifyDeps
from fapiao.settings import (
    HubSettings,
    IdentifierKind,
    IdentifierSettings,
    VerifierKind,
    VerifierSettings,
)
from fapiao.store.stats import DynamoStats
from fapiao.store.verifications import DynamoKnownInvoices, DynamoVerificationCache

if TYPE_CHECKING:
    from fapiao.providers.identifier import Identifier


def build_verifier(settings: VerifierSettings) -> Verifier:
    if settings.verifier is VerifierKind.EXOCR:
        from fapiao.providers.exocr import ExocrVerifier

        return ExocrVerifier.from_settings(settings)
    from fapiao.providers.offline import OfflineVerifier

    return OfflineVerifier()


def build_identifier(settings: IdentifierSettings) -> Identifier | None:
    """The remote recognition provider, or None when only the embedded engine reads."""
    if settings.identifier is IdentifierKind.YIPIAOYUN:
        from fapiao.providers.yipiaoyun import YipiaoyunIdentifier

        return YipiaoyunIdentifier.from_settings(settings)
    return None


def build_verify_deps(
    hub: HubSettings, settings: VerifierSettings, *, duplicates: bool
) -> VerifyDeps:
    """``duplicates``: look the invoice up in the store first and never pay for one that
    is imported already (the pipeline and the importing endpoints); the exocr-shaped
    endpoint verifies without importing, so it does not."""
    return VerifyDeps(
        verifier=build_verifier(settings),
        cache=DynamoVerificationCache(settings.verification_table),
        known=DynamoKnownInvoices(hub.invoices_table) if duplicates else None,
        clock=now_in_shanghai,
        lease=dt.timedelta(seconds=settings.verify_lease_seconds),
        retry_after=dt.timedelta(seconds=settings.verify_retry_after_seconds),
        stats=DynamoStats(hub.stats_table),
    )
