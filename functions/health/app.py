"""GET /health: does each component the hub depends on answer?

It belongs to no API family (no key, no envelope): 200 or 503 with the report."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.responses import json_response
from fapiao.logs import hub_logger
from fapiao.ports import ResourceProbe
from fapiao.services.health import HealthReport, check_health
from fapiao.settings import HubSettings
from fapiao.store.aws_probe import AwsResourceProbe

logger = hub_logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    settings: HubSettings  # the resources to look for
    probe: ResourceProbe


@cache
def deps() -> Deps:
    return Deps(settings=HubSettings.from_env(), probe=AwsResourceProbe())


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
    report = check_health(deps().settings, deps().probe)
    return json_response(200 if report.status == "ok" else 503, report.model_dump(mode="json"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
