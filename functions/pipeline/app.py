"""The ingest state machine's tasks (statemachines/ingest.asl.json): recognize an object,
create one of its invoices, record a terminal outcome."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.dates import now_in_shanghai
from fapiao.logs import hub_logger, hub_tracer
from fapiao.model.pipeline import DroppedObject, Found, Outcome, OutcomeKind
from fapiao.ports import FileStore, InvoiceStore, OutcomeBus, OutcomeOutbox
from fapiao.providers.factory import build_identifier
from fapiao.providers.identifier import Identifier
from fapiao.results import Verification
from fapiao.services.pipeline import (
    create_from_object,
    failure_outcome,
    recognize_object,
    record_outcome,
)
from fapiao.settings import CompanySettings, HubSettings, IdentifierSettings
from fapiao.store.company import load_company_settings
from fapiao.store.events import erp_feed
from fapiao.store.files import S3FileStore
from fapiao.store.invoices import DynamoInvoiceStore
from fapiao.store.outcomes import DynamoOutcomes, EventBridgeOutcomes
from fapiao.store.stats import DynamoStats

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    files: FileStore
    identifier: Identifier | None  # None: the embedded engine reads alone
    identifier_settings: IdentifierSettings
    store: InvoiceStore
    company: Callable[[], CompanySettings]
    outbox: OutcomeOutbox
    bus: OutcomeBus
    clock: Callable[[], dt.datetime]


@cache
def deps() -> Deps:
    settings, identifier_settings = HubSettings.from_env(), IdentifierSettings.from_env()
    return Deps(
        files=S3FileStore(settings.drop_bucket),
        identifier=build_identifier(identifier_settings),
        identifier_settings=identifier_settings,
        store=DynamoInvoiceStore(settings.invoices_table, settings.expenses_table),
        company=partial(load_company_settings, settings),
        outbox=DynamoOutcomes(settings.outcomes_table, stats=DynamoStats(settings.stats_table)),
        bus=EventBridgeOutcomes(settings.event_bus, feed=erp_feed()),
        clock=now_in_shanghai,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def recognize_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    found = recognize_object(
        DroppedObject.model_validate(event["object"]),
        deps().files,
        deps().identifier,
        deps().identifier_settings,
        company=deps().company,
    )
    return found.model_dump(mode="json")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def create_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    verification = event.get("verification")
    outcome = create_from_object(
        DroppedObject.model_validate(event["object"]),
        int(event["index"]),
        Found.model_validate(event["found"]),
        None if verification is None else Verification.model_validate(verification),
        deps().store,
        deps().company(),
        deps().clock,
    )
    return outcome.model_dump(mode="json")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def record_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Records ``{"outcome": ...}`` as it is; builds the outcome of an unread invoice
    (``{"object", "index", "found", "kind"}``) or of a failure (``{"object", "error"}``).
    Answers the outcome that counts: the first one recorded for that invoice of the object,
    published once (a retry or a re-run of the execution sends nothing again)."""
    if "outcome" in event:
        outcome = Outcome.model_validate(event["outcome"])
    else:
        outcome = failure_outcome(
            DroppedObject.model_validate(event["object"]),
            kind=OutcomeKind(event.get("kind") or OutcomeKind.FAILED.value),
            index=int(event.get("index", 0)),
            found=Found.model_validate(event["found"]) if event.get("found") else None,
            error=event.get("error"),
            now=deps().clock,
        )
    outcome = record_outcome(outcome, deps().outbox, deps().bus)
    metrics.add_metric(
        name=f"Outcome{outcome.outcome.name.title()}", unit=MetricUnit.Count, value=1
    )
    return outcome.model_dump(mode="json")
