"""GET /health: does each component the hub depends on answer?"""

from typing import Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.logs import hub_logger
from fapiao.services.health import HealthReport, check_health
from fapiao.settings import HubSettings
from fapiao.store.aws_probe import AwsResourceProbe
from fapiao.wire.common import dump_json

logger = hub_logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
settings = HubSettings.from_env()


@app.get(
    "/health",
    responses={
        200: {
            "description": "every component answers",
            "content": {"application/json": {"model": HealthReport}},
        },
        503: {
            "description": "a component does not answer",
            "content": {"application/json": {"model": HealthReport}},
        },
    },
)
@tracer.capture_method
def health() -> Response[Any]:
    report = check_health(settings, AwsResourceProbe())
    return Response(
        status_code=200 if report.status == "ok" else 503,
        content_type=content_types.APPLICATION_JSON,
        body=dump_json(report.model_dump(mode="json")),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
