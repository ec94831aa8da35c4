"""poll_identify: ask the recognition provider once about each invoice still pending;
the state machine waits (growing waits) and calls again until none is."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.logs import hub_logger
from fapiao.providers.factory import build_identifier
from fapiao.providers.identifier import Identifier
from fapiao.providers.identifier_settings import IdentifierSettings
from fapiao.services.pipeline import Recognised, poll_pending

logger = hub_logger()
tracer = Tracer()
settings = IdentifierSettings.from_env()


@cache
def identifier() -> Identifier | None:
    return build_identifier(settings)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = poll_pending(Recognised.model_validate(event), identifier(), settings)
    return state.model_dump(mode="json")
