"""The re-check tasks: ``recheck_handler`` is the re-check state machine's task
(statemachines/recheck.asl.json: check a C invoice again when its wait is over);
``schedule_handler`` is the ingest state machine's ScheduleRecheck task (start the
re-check of an invoice the pipeline stored C)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.dates import now_in_shanghai, to_iso_utc
from fapiao.logs import hub_logger, hub_tracer
from fapiao.ports import InvoiceStore, RecheckScheduler, StatusBus, VerifyDeps
from fapiao.providers.factory import build_verify_deps
from fapiao.services.recheck import (
    RecheckDeps,
    RecheckRun,
    run_scheduled,
    schedule_stored,
    wait_seconds,
)
from fapiao.settings import CompanySettings, HubSettings, VerifierSettings
from fapiao.store.company import load_company_settings
from fapiao.store.events import erp_feed
from fapiao.store.invoices import DynamoInvoiceStore
from fapiao.store.rechecks import EventBridgeStatusBus, StepFunctionsRecheckScheduler

logger = hub_logger()
tracer = hub_tracer()


@dataclass(frozen=True)
class Deps:
    """What these functions talk to, built at their first call."""

    store: InvoiceStore
    scheduler: RecheckScheduler
    bus: StatusBus
    verify: Callable[[], VerifyDeps]  # the verifier: built when a re-check first needs it
    company: Callable[[], CompanySettings]
    first_wait: dt.timedelta  # FAPIAO_VERIFY_RETRY_AFTER_SECONDS
    clock: Callable[[], dt.datetime]

    def recheck(self) -> RecheckDeps:
        return RecheckDeps(
            store=self.store,
            verify=self.verify(),
            bus=self.bus,
            scheduler=self.scheduler,
            company=self.company(),
        )


@cache
def deps() -> Deps:
    settings, verifier = HubSettings.from_env(), VerifierSettings.from_env()
    return Deps(
        store=DynamoInvoiceStore(settings.invoices_table, settings.expenses_table),
        scheduler=StepFunctionsRecheckScheduler(settings.recheck_state_machine),
        bus=EventBridgeStatusBus(settings.event_bus, feed=erp_feed()),
        # no duplicate look-up: the invoice re-checked is in the store; a Step Functions
        # task: a short wait for the provider's turn, then C again (and a wait in the machine)
        verify=cache(
            partial(build_verify_deps, settings, verifier, duplicates=False, pipeline=True)
        ),
        company=partial(load_company_settings, settings),
        first_wait=dt.timedelta(seconds=verifier.verify_retry_after_seconds),
        clock=now_in_shanghai,
    )


def _answer(run: RecheckRun, now: dt.datetime) -> dict[str, Any]:
    return {
        "invoice_key": run.invoice_key,
        "final": run.final,
        "retry_at": None if run.retry_at is None else to_iso_utc(run.retry_at),
        "wait_seconds": 0 if run.retry_at is None else wait_seconds(run.retry_at, now),
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def recheck_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """``{"invoice_key", "retry_at"}`` -> ``{"invoice_key", "final", "retry_at",
    "wait_seconds"}``: final, or the time to wait for before the next check."""
    scheduled_at = dt.datetime.fromisoformat(str(event["retry_at"]))  # RFC 3339, "...Z"
    run = run_scheduled(str(event["invoice_key"]), scheduled_at, deps().recheck())
    return _answer(run, deps().clock())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def schedule_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """An ingest outcome (``invoice_key``) -> ``{"invoice_key", "retry_at"}``, the
    re-check started (``retry_at`` None: none is needed)."""
    invoice_key = str(event["invoice_key"])
    record = schedule_stored(
        invoice_key,
        deps().store,
        deps().scheduler,
        now=deps().clock(),
        first_wait=deps().first_wait,
    )
    retry_at = None if record is None else record.retry_at
    return {
        "invoice_key": invoice_key,
        "retry_at": None if retry_at is None else to_iso_utc(retry_at),
    }
