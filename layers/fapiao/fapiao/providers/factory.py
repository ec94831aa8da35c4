"""The verifier and its dependencies, built from settings: one place for every entry point
(the verify endpoint and task, ocrSync, the Maycur import).

A provider's adapter is imported when it is built, not with this module: a function
imports httpx and the provider's wire models only when its settings name that provider
(issue 13: each adapter costs a cold start ~40 ms, httpx ~50 ms more).

A provider with a rate limit (``FAPIAO_EXOCR_MAX_RPS``, ``FAPIAO_YIPIAOYUN_MAX_RPS``)
is called in turns kept in the ProviderTurnsTable (``fapiao.providers.turns``). How long
a caller waits for a turn, or for a concurrent verification's answer, depends on who
waits: a synchronous API ``FAPIAO_VERIFY_WAIT_SECONDS`` (then its busy answer), a
pipeline task ``FAPIAO_PIPELINE_WAIT_SECONDS`` (then C, and a Step Functions wait).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

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
    from fapiao.providers.turns import ProviderTurns


def provider_turns(provider: str, limit: float, table: str | None = None) -> ProviderTurns | None:
    """The turns of ``provider`` at ``limit`` calls a second (0: no limit, None)."""
    if limit <= 0:
        return None
    from fapiao.providers.turns import ProviderTurns
    from fapiao.store.provider_turns import DynamoProviderTurns

    table = table or HubSettings.current().provider_turns_table
    return ProviderTurns(provider, limit, DynamoProviderTurns(table))


def build_verifier(settings: VerifierSettings) -> Verifier:
    """The verifier of a synchronous API (it waits ``verify_wait_seconds`` for a turn)."""
    if settings.verifier is VerifierKind.EXOCR:
        from fapiao.providers.exocr import ExocrVerifier

        return ExocrVerifier.from_settings(
            settings,
            turns=provider_turns("exocr", settings.exocr_max_rps),
            turn_wait=settings.verify_wait_seconds,
        )
    from fapiao.providers.offline import OfflineVerifier

    return OfflineVerifier()


def build_identifier(settings: IdentifierSettings) -> Identifier | None:
    """The remote recognition provider, or None when only the embedded engine reads
    (only the pipeline calls it: it waits ``yipiaoyun_turn_wait_seconds`` for a turn)."""
    if settings.identifier is IdentifierKind.YIPIAOYUN:
        from fapiao.providers.yipiaoyun import YipiaoyunIdentifier

        return YipiaoyunIdentifier.from_settings(
            settings,
            turns=provider_turns("yipiaoyun", settings.yipiaoyun_max_rps),
            turn_wait=settings.yipiaoyun_turn_wait_seconds,
        )
    return None


def build_verify_deps(
    hub: HubSettings, settings: VerifierSettings, *, duplicates: bool, pipeline: bool = False
) -> VerifyDeps:
    """``duplicates``: look the invoice up in the store first and never pay for one that
    is imported already (the pipeline and the importing endpoints); the exocr-shaped
    endpoint verifies without importing, so it does not. ``pipeline``: a Step Functions
    task, which waits ``pipeline_wait_seconds`` at most and then answers C; else a
    synchronous API, which waits ``verify_wait_seconds`` and then answers busy."""
    wait = settings.pipeline_wait_seconds if pipeline else settings.verify_wait_seconds
    verifier: Any = build_verifier(settings)
    if hasattr(verifier, "turn_wait"):  # a remote verifier waits for its turn as long
        verifier.turn_wait = wait
    return VerifyDeps(
        verifier=verifier,
        cache=DynamoVerificationCache(settings.verification_table),
        known=DynamoKnownInvoices(hub.invoices_table) if duplicates else None,
        clock=now_in_shanghai,
        lease=dt.timedelta(seconds=settings.verify_lease_seconds),
        retry_after=dt.timedelta(seconds=settings.verify_retry_after_seconds),
        stats=DynamoStats(hub.stats_table),
        wait=dt.timedelta(seconds=wait),
        busy_raises=not pipeline,
    )
