"""The verifier and its dependencies, built from settings: one place for every entry point
(the verify endpoint and task, ocrSync, the Maycur import)."""

from __future__ import annotations

import datetime as dt

from fapiao.dates import now_in_shanghai
from fapiao.ports import Verifier, VerifyDeps
from fapiao.providers.exocr import ExocrVerifier
from fapiao.providers.identifier import Identifier
from fapiao.providers.offline import OfflineVerifier
from fapiao.providers.yipiaoyun import YipiaoyunIdentifier
from fapiao.settings import (
    HubSettings,
    IdentifierKind,
    IdentifierSettings,
    VerifierKind,
    VerifierSettings,
)
from fapiao.store.verifications import DynamoKnownInvoices, DynamoVerificationCache


def build_verifier(settings: VerifierSettings) -> Verifier:
    if settings.verifier is VerifierKind.EXOCR:
        return ExocrVerifier.from_settings(settings)
    return OfflineVerifier()


def build_identifier(settings: IdentifierSettings) -> Identifier | None:
    """The remote recognition provider, or None when only the embedded engine reads."""
    if settings.identifier is IdentifierKind.YIPIAOYUN:
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
    )
