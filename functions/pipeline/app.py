"""The ingest state machine's tasks (statemachines/ingest.asl.json): recognise an object,
create one of its invoices, record a terminal outcome."""

from functools import cache, partial
from typing import Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.catalogue.errors import HubError
from fapiao.dates import now_in_shanghai
from fapiao.logs import hub_logger
from fapiao.model import InvoiceStatus
from fapiao.providers.factory import build_identifier
from fapiao.providers.identifier_settings import IdentifierSettings
from fapiao.providers.verifier import Verification
from fapiao.services.pipeline import (
    DroppedObject,
    Found,
    Outcome,
    OutcomeKind,
    create_from_object,
    recognise_object,
    record_outcome,
)
from fapiao.settings import HubSettings
from fapiao.store.company import load_company_settings
from fapiao.store.files import S3FileStore
from fapiao.store.invoices import DynamoInvoiceStore
from fapiao.store.outcomes import DynamoOutcomes, EventBridgeOutcomes

logger = hub_logger()
tracer = Tracer()
metrics = Metrics()
settings = HubSettings.from_env()
identifier_settings = IdentifierSettings.from_env()
company = partial(load_company_settings, settings)


@cache
def adapters() -> dict[str, Any]:
    return {
        "files": S3FileStore(settings.drop_bucket),
        "identifier": build_identifier(identifier_settings),
        "store": DynamoInvoiceStore(settings.invoices_table, settings.expenses_table),
        "outbox": DynamoOutcomes(settings.outcomes_table),
        "bus": EventBridgeOutcomes(settings.event_bus),
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def recognise_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    obj = DroppedObject.model_validate(event["object"])
    found = recognise_object(
        obj, adapters()["files"], adapters()["identifier"], identifier_settings
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
        adapters()["store"],
        company(),
    )
    return outcome.model_dump(mode="json")


def owner_of(obj: DroppedObject) -> str | None:
    """The key's owner; None for a key that names none (its failure is recorded too)."""
    try:
        return obj.owner
    except HubError:
        return None


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
        obj = DroppedObject.model_validate(event["object"])
        found = Found.model_validate(event["found"]) if event.get("found") else None
        error = event.get("error") or {}
        kind = OutcomeKind(event.get("kind") or OutcomeKind.FAILED.value)
        outcome = Outcome(
            outcome=kind,
            object=obj,
            index=int(event.get("index", 0)),
            owner=owner_of(obj),
            invoice_key=None
            if found is None or found.invoice is None
            else found.invoice.invoice_key,
            status=None if found is None else found.status,
            message=(found.reason if found else None)
            or str(error.get("Cause") or error.get("Error") or "")[:500]
            or None,
            message_code=error.get("Error"),
            at=now_in_shanghai(),
        )
        if kind is OutcomeKind.UNRECOGNISABLE:
            outcome = outcome.model_copy(update={"status": InvoiceStatus.UNRECOGNISABLE})
    outcome = record_outcome(outcome, adapters()["outbox"], adapters()["bus"])
    metrics.add_metric(
        name=f"Outcome{outcome.outcome.name.title()}", unit=MetricUnit.Count, value=1
    )
    return outcome.model_dump(mode="json")
