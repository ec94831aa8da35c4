"""poll_identify: ask the recognition provider once about each invoice still pending;
the state machine waits (growing waits) and calls again until none is."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.logs import hub_logger, hub_tracer
from fapiao.model.pipeline import Recognized
from fapiao.providers.factory import build_identifier
from fapiao.providers.identifier import Identifier
from fapiao.services.pipeline import poll_pending
from fapiao.settings import IdentifierSettings

logger = hub_logger()
tracer = hub_tracer()


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    identifier: Identifier | None  # None: no provider to ask (the embedded engine only)
    settings: IdentifierSettings


@cache
def deps() -> Deps:
    settings = IdentifierSettings.from_env()
    return Deps(identifier=build_identifier(settings), settings=settings)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = poll_pending(Recognized.model_validate(event), deps().identifier, deps().settings)
    return state.model_dump(mode="json")
