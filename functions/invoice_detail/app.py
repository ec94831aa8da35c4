"""GET /common/invoice/detail (发票明细查询 of spec 000): stored invoices in 000's shapes,
each with the fields corrected by hand (``corrections``: field, old, new, at, by).
The cold start loads the route and its wire models; what serves it (the use case, the
mapper, the store) is loaded by the first request (issue 13)."""

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.access import refuse_outside_role
from fapiao.api.json_body import load_json_body
from fapiao.api.responses import install_envelope, json_response
from fapiao.catalogue.errors import Family
from fapiao.logs import hub_logger, hub_tracer
from fapiao.ports import InvoiceStore
from fapiao.settings import HubSettings
from fapiao.wire.review import InvoiceDetailResponse

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
install_envelope(app, Family.PLATFORM)


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    store: InvoiceStore


@cache
def deps() -> Deps:
    from fapiao.store.invoices import DynamoInvoiceStore

    settings = HubSettings.from_env()
    return Deps(store=DynamoInvoiceStore(settings.invoices_table, settings.expenses_table))


@app.get(
    "/common/invoice/detail",
    summary="Stored invoices by invoice code + number, or by expense_id",
    responses={
        200: {
            "description": "data: [{ocrResult, checkResult, corrections}]",
            "content": {"application/json": {"model": InvoiceDetailResponse}},
        }
    },
)
@tracer.capture_method
def detail(
    invoice_code: Annotated[str | None, Query(max_length=20)] = None,
    invoice_number: Annotated[str | None, Query(max_length=20)] = None,
    expense_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response[Any]:
    from fapiao.mapping.review import invoice_detail_item
    from fapiao.services.invoice_detail import find_invoices

    found = find_invoices(
        deps().store,
        invoice_code=invoice_code,
        invoice_number=invoice_number,
        expense_id=expense_id,
    )
    response = InvoiceDetailResponse(
        res_code=200000, res_msg="success", data=[invoice_detail_item(s) for s in found]
    )
    return json_response(200, response.to_wire())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_outside_role(event) or app.resolve(event, context)  # 403 before validation
