"""POST /common/invoice/create (spec 001): one invoice and its expense, once per bizId.

The cold start loads the route and its wire models; what serves it (Idempotency, the
use case, the mapper, the adapters) is loaded by the first request (issue 13)."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.access import refuse_outside_role
from fapiao.api.json_body import load_json_body
from fapiao.api.responses import install_envelope, json_response
from fapiao.catalogue.errors import Family
from fapiao.logs import hub_logger, hub_tracer
from fapiao.ports import InvoiceStore
from fapiao.settings import CompanySettings, HubSettings
from fapiao.wire.invoice_create import CreateRequest, CreateResponse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
install_envelope(app, Family.PLATFORM)


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    store: InvoiceStore
    company: Callable[[], CompanySettings]
    idempotency: "IdempotencyConfig"
    create: Callable[..., dict[str, Any]]  # create_once, run once per bizId


@cache
def deps() -> Deps:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from fapiao.store.company import load_company_settings
    from fapiao.store.invoices import DynamoInvoiceStore

    settings = HubSettings.from_env()
    idempotency = IdempotencyConfig(
        event_key_jmespath="bizId",
        # A replay may carry a new timestamp; any other change is a different request.
        payload_validation_jmespath="[user_code, receipt_ocr, receipt_check]",
        expires_after_seconds=settings.idempotency_seconds,
    )
    return Deps(
        store=DynamoInvoiceStore(settings.invoices_table, settings.expenses_table),
        company=partial(load_company_settings, settings),
        idempotency=idempotency,
        create=idempotent_function(
            create_once,
            data_keyword_argument="request",
            persistence_store=DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
            config=idempotency,
        ),
    )


@app.post(
    "/common/invoice/create",
    summary="Create one invoice and its expense (spec 001)",
    responses={
        200: {
            "description": "resCode 200000",
            "content": {"application/json": {"model": CreateResponse}},
        }
    },
)
@tracer.capture_method
def create(request: Annotated[CreateRequest, Body()]) -> Response[Any]:
    answer = deps().create(request=app.current_event.json_body)
    # A replay comes back from the idempotency table with its keys sorted: re-emit it.
    return json_response(200, CreateResponse.model_validate(answer).to_wire())


def create_once(request: dict[str, Any]) -> dict[str, Any]:
    """The use case for one request body, answered as the wire dict the idempotency
    table keeps; ``Deps.create`` runs it (a replay of a bizId answers what it did)."""
    from fapiao.mapping.invoice_create import create_command_from_request, to_create_response
    from fapiao.services.create_invoice import create_invoice

    command = create_command_from_request(CreateRequest.model_validate(request))
    outcome = create_invoice(command, deps().store, deps().company())
    metrics.add_metric(name=f"Invoice{outcome.status.name.title()}", unit=MetricUnit.Count, value=1)
    return to_create_response(command.biz_id, outcome).to_wire()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if refused := refuse_outside_role(event):  # 403, before anything reads the request
        return refused
    deps().idempotency.register_lambda_context(context)
    return app.resolve(event, context)
