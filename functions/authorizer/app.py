"""Lambda authorizer (REQUEST): the caller's x-api-key must name an enabled client.

A refusal carries the route family's own 401 envelope in its context; template.yaml's
ACCESS_DENIED gateway response returns it verbatim, so each API refuses in its envelope.
An allowed call carries the envelopes of the gateway's later refusals the same way:
``throttled`` (429, THROTTLED) and ``busy`` (503, INTEGRATION_FAILURE).
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.envelopes import family_for_path, problem_envelope
from fapiao.catalogue.errors import HubError, Problem
from fapiao.logs import hub_logger
from fapiao.ports import ApiKeyStore
from fapiao.services.auth import API_KEY_HEADER, authenticate
from fapiao.settings import HubSettings
from fapiao.store.api_keys import DynamoApiKeyStore
from fapiao.wire.common import dump_json

logger = hub_logger()
tracer = Tracer()


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    api_keys: ApiKeyStore


@cache
def deps() -> Deps:
    return Deps(api_keys=DynamoApiKeyStore(HubSettings.from_env().api_keys_table))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(
    event: APIGatewayAuthorizerRequestEvent, context: LambdaContext
) -> dict[str, Any]:
    family = family_for_path(event.path)
    key = event.headers.get(API_KEY_HEADER)  # Powertools headers are case-insensitive
    try:
        client = authenticate(key, deps().api_keys)
    except HubError as refusal:
        logger.info("refused", extra={"path": event.path, "reason": refusal.detail})
        _, body = problem_envelope(family, refusal.problem, refusal.detail)
        denied = policy(event, "anonymous", context={"body": dump_json(body)})
        denied.deny_all_routes()
        return denied.asdict()
    # The gateway's refusals after this point answer in the route's envelope: the usage
    # plan's (THROTTLED, 429) and Lambda's when the function is at its concurrency
    # (INTEGRATION_FAILURE, 503).
    _, throttled = problem_envelope(family, Problem.RATE_LIMITED)
    _, busy = problem_envelope(family, Problem.BUSY)
    allowed = policy(
        event,
        client.client_id,
        context={
            "client_id": client.client_id,
            "client_name": client.name,  # who corrected an invoice (the review queue)
            "throttled": dump_json(throttled),
            "busy": dump_json(busy),
        },
        usage_identifier_key=client.usage_key,
    )
    allowed.allow_all_routes()
    return allowed.asdict()


def policy(
    event: APIGatewayAuthorizerRequestEvent, principal: str, **extra: Any
) -> APIGatewayAuthorizerResponse:
    """An IAM policy for ``principal`` on the API the request came to."""
    arn = event.parsed_arn
    return APIGatewayAuthorizerResponse(
        principal_id=principal,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        **extra,
    )
