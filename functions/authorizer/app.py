"""Lambda authorizer (REQUEST): the caller's x-api-key must name an enabled client.

A refusal carries the route family's own 401 envelope in its context; template.yaml's
ACCESS_DENIED gateway response returns it verbatim, so each API refuses in its envelope.
An allowed call carries the envelopes of the gateway's later refusals the same way:
``throttled`` (429, THROTTLED) and ``busy`` (503, INTEGRATION_FAILURE). Every known key
is allowed: the key's ``role`` goes in the context, and the handler behind the route
answers 403 when the role may not call it (``fapiao.api.access``), since a Deny can
only be ACCESS_DENIED's 401.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.authorizer import AuthorizerRequest, policy
from fapiao.api.envelopes import family_for_path, problem_envelope
from fapiao.catalogue.errors import HubError, Problem
from fapiao.jsontext import dump_json
from fapiao.logs import hub_logger, hub_tracer
from fapiao.ports import ApiKeyStore
from fapiao.services.auth import API_KEY_HEADER, authenticate
from fapiao.settings import HubSettings
from fapiao.store.api_keys import DynamoApiKeyStore

logger = hub_logger()
tracer = hub_tracer()


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    api_keys: ApiKeyStore


@cache
def deps() -> Deps:
    return Deps(api_keys=DynamoApiKeyStore(HubSettings.from_env().api_keys_table))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = AuthorizerRequest.from_event(event)
    family = family_for_path(request.path)
    try:
        client = authenticate(request.header(API_KEY_HEADER), deps().api_keys)
    except HubError as refusal:
        logger.info("refused", extra={"path": request.path, "reason": refusal.detail})
        _, body = problem_envelope(family, refusal.problem, refusal.detail)
        return policy(request, "anonymous", "Deny", {"body": dump_json(body)})
    # The gateway's refusals after this point answer in the route's envelope: the usage
    # plan's (THROTTLED, 429) and Lambda's when the function is at its concurrency
    # (INTEGRATION_FAILURE, 503).
    _, throttled = problem_envelope(family, Problem.RATE_LIMITED)
    _, busy = problem_envelope(family, Problem.BUSY)
    return policy(
        request,
        client.client_id,
        "Allow",
        {
            "client_id": client.client_id,
            "client_name": client.name,  # who corrected an invoice (the review queue)
            "role": client.role.value,  # what it may call (fapiao.api.access checks)
            "throttled": dump_json(throttled),
            "busy": dump_json(busy),
        },
        usage_identifier_key=client.usage_key,
    )
