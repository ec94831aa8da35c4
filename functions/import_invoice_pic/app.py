"""POST /api/openapi/invoice/import-invoice-pic (spec 002, Maycur 发票文件导入): a file
by URL or base64, recognized, verified and bound to a new or given expense of an
employee; errors in 002's envelope. API Gateway's usage plan holds each client to
2 requests a second (template.yaml).

The cold start loads the route and its wire models; what serves it (the use case, the
mapper, the adapters) is loaded by the first request (issue 13)."""

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
from fapiao.dates import now_in_shanghai
from fapiao.logs import hub_logger, hub_tracer
from fapiao.settings import HubSettings, VerifierSettings
from fapiao.wire.maycur import ImportInvoicePicRequest, ImportInvoicePicResponse

if TYPE_CHECKING:
    from fapiao.services.import_pic import ImportDeps

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
install_envelope(app, Family.MAYCUR)


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    import_pic: "ImportDeps"


@cache
def deps() -> Deps:
    from fapiao.providers.factory import build_verify_deps
    from fapiao.providers.wiring import fetch_bytes
    from fapiao.services.import_pic import ImportDeps
    from fapiao.store.company import load_company_settings
    from fapiao.store.employees import DynamoEmployeeDirectory
    from fapiao.store.invoices import DynamoInvoiceStore
    from fapiao.store.rechecks import StepFunctionsRecheckScheduler

    settings = HubSettings.from_env()
    return Deps(
        import_pic=ImportDeps(
            fetch=fetch_bytes,
            verify=build_verify_deps(settings, VerifierSettings.from_env(), duplicates=True),
            store=DynamoInvoiceStore(settings.invoices_table, settings.expenses_table),
            employees=DynamoEmployeeDirectory(settings.employees_table),
            company=partial(load_company_settings, settings),
            scheduler=StepFunctionsRecheckScheduler(settings.recheck_state_machine),
        )
    )


@app.post(
    "/api/openapi/invoice/import-invoice-pic",
    summary="Import an invoice file and bind its invoices to an expense (spec 002)",
    responses={
        200: {
            "description": 'code "ACK", data the invoices imported',
            "content": {"application/json": {"model": ImportInvoicePicResponse}},
        }
    },
)
@tracer.capture_method
def import_pic(request: Annotated[ImportInvoicePicRequest, Body()]) -> Response[Any]:
    from fapiao.mapping.maycur import to_import_answer
    from fapiao.services.import_pic import ImportCommand, import_invoice_pic

    command = ImportCommand(
        employee_id=request.employee_id,
        file_type=request.file_type,
        file_url=request.file_url,
        file_base64=request.file_base64,
        expense_code=request.expense_code,
        all_to_one_expense=bool(request.all_invoice_bind_to_one_expense),
        request_id=app.current_event.request_context.request_id,
    )
    imported = import_invoice_pic(command, deps().import_pic)
    answer = to_import_answer(imported, now_in_shanghai())
    metrics.add_metric(name="InvoicesImported", unit=MetricUnit.Count, value=len(answer.data or []))
    return json_response(200, answer.to_wire())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_outside_role(event) or app.resolve(event, context)  # 403 before validation
