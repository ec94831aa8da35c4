"""Webhook delivery: each message of the WebhookDeliveryQueue is an ERP event (one
delivery per matching subscription, attempted at once) or a delivery's wake-up (its
attempt, when due). The messages of a batch are handled concurrently, each in a thread
of its own, so a receiver that takes its 10 s holds up no other. A message that came
before its delivery's due time is hidden until then and reported failed, so SQS keeps
it (partial batch response)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.logs import hub_logger, hub_tracer
from fapiao.services.webhooks import WebhookDeps, handle_message, webhook_deps

logger = hub_logger()
tracer = hub_tracer()
# Not due yet is not an error: a batch of only those is answered, not raised.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
threads = ThreadPoolExecutor(max_workers=10, thread_name_prefix="webhook")  # a whole batch


class NotDueYet(Exception):
    """The message's delivery is due later: SQS keeps the message, hidden until then."""


@cache
def deps() -> WebhookDeps:
    return webhook_deps()


async def deliver(record: SQSRecord) -> None:
    loop = asyncio.get_running_loop()
    handled = await loop.run_in_executor(
        threads, handle_message, record.body, record.receipt_handle, deps()
    )
    if handled.kept_until is not None:
        raise NotDueYet(f"due at {handled.kept_until.isoformat()}")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return async_process_partial_response(
        event=event, record_handler=deliver, processor=processor, context=context
    )
