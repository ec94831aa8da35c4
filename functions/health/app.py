"""GET /health: does each component the hub depends on answer?

It belongs to no API family (no key, no envelope): 200 or 503 with the report.

One route needs no resolver: Lambda answers without importing Powertools' event
handler (or pydantic), a cold start within 1.3x ``import boto3`` (issue 13). The
route's OpenAPI description is built only when the document is asked for
(``openapi_app``, the local hub's /openapi.json).
"""

from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.jsontext import dump_json
from fapiao.logs import hub_logger, hub_tracer
from fapiao.ports import ResourceProbe
from fapiao.services.health import HealthReport, check_health
from fapiao.settings import HubSettings
from fapiao.store.aws_probe import AwsResourceProbe

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger = hub_logger()
tracer = hub_tracer()


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    settings: HubSettings  # the resources to look for
    probe: ResourceProbe


@cache
def deps() -> Deps:
    return Deps(settings=HubSettings.from_env(), probe=AwsResourceProbe())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = check_health(deps().settings, deps().probe)
    return {
        "statusCode": 200 if report.status == "ok" else 503,
        "headers": {"Content-Type": "application/json"},
        "body": dump_json(asdict(report)),
    }


def openapi_app() -> "APIGatewayRestResolver":
    """GET /health described for the OpenAPI document; never built in Lambda."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()

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
    def health() -> None:  # only described: lambda_handler answers
        raise NotImplementedError

    return app
