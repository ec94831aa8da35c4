"""S3 drop: each ObjectCreated notification (through SQS) starts one Express ingest
execution, named from the object's bucket, key and version. Express names are not
deduplicated: a repeated event runs it again, and its idempotent tasks change nothing
(the Standard machine, where a file waits, starts once by that name).
Objects under ``identify/`` are skipped: the identify API started their execution,
named by the identify id, when it stored them."""

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.logs import hub_logger, hub_tracer
from fapiao.services.drops import IDENTIFY_PREFIX, objects_of_s3_event
from fapiao.settings import HubSettings
from fapiao.store.executions import start_ingest

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    settings: HubSettings  # the state machine and the drop bucket start_ingest names


@cache
def deps() -> Deps:
    return Deps(settings=HubSettings.from_env())


@tracer.capture_method
def start(record: SQSRecord) -> None:
    notification = json.loads(record.body)
    for obj in objects_of_s3_event(notification):  # S3's TestEvent names none
        if obj.key.startswith(IDENTIFY_PREFIX):
            logger.info("identify object skipped", extra={"object_id": obj.object_id})
            continue
        started = start_ingest(deps().settings, obj, express=True)
        metrics.add_metric(
            name="ExecutionsStarted" if started else "RepeatedEvents",
            unit=MetricUnit.Count,
            value=1,
        )
        logger.info("dropped", extra={"object_id": obj.object_id, "started": started})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=start, processor=processor, context=context
    )
