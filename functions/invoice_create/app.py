"""POST /common/invoice/create (spec 001): one invoice and its expense, once per bizId."""

from typing import Annotated, Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.json_body import load_json_body
from fapiao.api.platform import json_response, use_platform_envelope
from fapiao.logs import hub_logger
from fapiao.mapping.invoice_create import create_command_from_request, to_create_response
from fapiao.services.create_invoice import create_invoice
from fapiao.settings import HubSettings
from fapiao.store.company import load_company_settings
from fapiao.store.invoices import DynamoInvoiceStore
from fapiao.wire.invoice_create import CreateRequest, CreateResponse

logger = hub_logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
use_platform_envelope(app)

settings = HubSettings.from_env()
store = DynamoInvoiceStore(settings.invoices_table, settings.expenses_table)
idempotency = IdempotencyConfig(
    event_key_jmespath="bizId",
    # A replay may carry a new timestamp; any other change is a different request.
    payload_validation_jmespath="[user_code, receipt_ocr, receipt_check]",
    expires_after_seconds=settings.idempotency_seconds,
)


@idempotent_function(
    data_keyword_argument="request",
    persistence_store=DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
    config=idempotency,
)
def create_once(request: dict[str, Any]) -> dict[str, Any]:
    command = create_command_from_request(CreateRequest.model_validate(request))
    outcome = create_invoice(command, store, load_company_settings(settings))
    metrics.add_metric(name=f"Invoice{outcome.status.name.title()}", unit=MetricUnit.Count, value=1)
    return to_create_response(command.biz_id, outcome).to_wire()


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
    answer = create_once(request=app.current_event.json_body)
    # A replay comes back from the idempotency table with its keys sorted: re-emit it.
    return json_response(200, CreateResponse.model_validate(answer).to_wire())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
