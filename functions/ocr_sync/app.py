"""POST /common/InvoiceOCR/ocrSync (spec 000): recognize and verify a file in one call,
and create the expense when asked (create_expense Y).

The cold start loads the route and its wire models; what serves it (the use case, the
mapper, the adapters) is loaded by the first request (issue 13)."""

from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.access import refuse_outside_role
from fapiao.api.json_body import load_json_body
from fapiao.api.responses import install_envelope, json_response
from fapiao.catalogue.errors import Family
from fapiao.logs import hub_logger, hub_tracer
from fapiao.settings import HubSettings, VerifierSettings
from fapiao.wire.ocr_sync import OcrSyncRequest, OcrSyncResponse

if TYPE_CHECKING:
    from fapiao.services.ocr_sync import OcrSyncDeps

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
install_envelope(app, Family.PLATFORM)


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    ocr_sync: "OcrSyncDeps"


@cache
def deps() -> Deps:
    from fapiao.providers.factory import build_verify_deps
    from fapiao.providers.wiring import fetch_bytes
    from fapiao.services.ocr_sync import OcrSyncDeps
    from fapiao.store.company import load_company_settings
    from fapiao.store.files import S3FileStore
    from fapiao.store.invoices import DynamoInvoiceStore
    from fapiao.store.rechecks import StepFunctionsRecheckScheduler

    settings = HubSettings.from_env()
    return Deps(
        ocr_sync=OcrSyncDeps(
            fetch=fetch_bytes,
            files=S3FileStore(settings.drop_bucket),
            verify=build_verify_deps(settings, VerifierSettings.from_env(), duplicates=True),
            store=DynamoInvoiceStore(settings.invoices_table, settings.expenses_table),
            company=partial(load_company_settings, settings),
            scheduler=StepFunctionsRecheckScheduler(settings.recheck_state_machine),
        )
    )


@app.post(
    "/common/InvoiceOCR/ocrSync",
    summary="Recognize and verify a file; create the expense when asked (spec 000)",
    responses={
        200: {
            "description": "resCode 200000, data an array",
            "content": {"application/json": {"model": OcrSyncResponse}},
        }
    },
)
@tracer.capture_method
def recognize(request: Annotated[OcrSyncRequest, Body()]) -> Response[Any]:
    from fapiao.mapping.ocr_sync import to_ocr_sync_response
    from fapiao.services.ocr_sync import OcrSyncCommand, ocr_sync

    options = request.options
    command = OcrSyncCommand(
        biz_id=request.biz_id,
        attachment_url=options.attachment_url,
        create_expense=options.create_expense,
        user_code=options.user_code,
        purchase_invoice=options.purchase_invoice,
    )
    results = ocr_sync(command, deps().ocr_sync)
    answer = to_ocr_sync_response(request.biz_id, results, options.create_expense)
    return json_response(200, answer.to_wire())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_outside_role(event) or app.resolve(event, context)  # 403 before validation
