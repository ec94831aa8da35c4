"""The ERP's API (issue 19): the pull feed of events and their JSON Schema, for an ERP
that cannot be called; webhook subscriptions, their delivery log and redeliveries, for
the hub's administrator. Answers are bare JSON; refusals are the platform envelope
(``{"resCode", "resMsg", "data"}``) with the catalogue's HTTP status.

- ``GET /erp/events?after=CURSOR&limit=N`` (N 1..500, default 100):
  ``{"events": [...], "next": CURSOR}``, the stored events as they are (not parsed again:
  a page of 500 is one Query and one join); ``next`` is never null.
- ``GET /erp/schema.json``: the events' JSON Schema.
- ``GET|POST /erp/webhooks``, ``DELETE /erp/webhooks/{webhook_id}``,
  ``POST /erp/webhooks/{webhook_id}/rotate-secret``, ``GET /erp/deliveries``,
  ``POST /erp/redeliveries``: ``fapiao.services.webhooks``.

Who may call what is ``fapiao.api.roles`` (the feed and the schema: erp and admin keys;
the rest: admin), checked before anything of the request is read. The cold start loads
the routes and their request models; the feed, the use cases and their adapters are
built by the first request that needs them.
"""

import json
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.access import refuse_outside_role
from fapiao.api.json_body import load_json_body
from fapiao.api.responses import install_envelope, json_response
from fapiao.catalogue.errors import Family
from fapiao.logs import hub_logger, hub_tracer
from fapiao.wire.erp import (
    EVENT_SCHEMA_PATH,
    EVENTS_PAGE_SCHEMA,
    MAX_FEED_LIMIT,
    RedeliveryRequest,
    WebhookRequest,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

    from fapiao.services.webhooks import WebhookDeps
    from fapiao.store.events import DynamoEventFeed

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
install_envelope(app, Family.PLATFORM)

WebhookId = Annotated[str, Path(min_length=1, max_length=64)]
DEFAULT_FEED_LIMIT = 100


@cache
def feed() -> "DynamoEventFeed":
    from fapiao.store.events import erp_feed

    return erp_feed()


@cache
def webhooks() -> "WebhookDeps":
    from fapiao.services.webhooks import webhook_deps

    return webhook_deps()


@cache
def _schema_text() -> str:
    from fapiao.jsontext import dump_json
    from fapiao.model.erp import erp_event_schema

    return dump_json(erp_event_schema())


def _described(description: str) -> "dict[int, OpenAPIResponse]":
    return {200: {"description": description}}


# --- the pull feed (erp and admin keys) ------------------------------------------------------


@app.get(
    "/erp/events",
    summary="The ERP's events after a cursor, in one order (from the oldest kept without one)",
    responses={
        200: {
            "description": "events: each as /erp/schema.json describes it; next: the cursor "
            "to pass back as `after` (never null)",
            "content": {"application/json": {"schema": EVENTS_PAGE_SCHEMA}},
        }
    },
)
@tracer.capture_method
def events(
    after: Annotated[
        str | None,
        Query(min_length=1, max_length=256, description="the `next` of the previous page"),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_FEED_LIMIT, description="events at most (1..500)")
    ] = DEFAULT_FEED_LIMIT,
) -> Response[Any]:
    page = feed().page(after, limit)  # a cursor not made here: INVALID_REQUEST
    # The stored bodies are the events' JSON as they were validated when stored: joined,
    # not parsed and written again (a page of 500 in a few milliseconds).
    body = '{"events":[' + ",".join(page.bodies) + '],"next":' + json.dumps(page.next) + "}"
    return Response(200, content_types.APPLICATION_JSON, body)


@app.get(
    EVENT_SCHEMA_PATH,
    summary="The JSON Schema (draft 2020-12) of an event: a webhook's body, a feed item",
    responses=_described("the schema; each event of /erp/events and each webhook body"),
)
@tracer.capture_method
def schema() -> Response[Any]:
    return Response(200, content_types.APPLICATION_JSON, _schema_text())


# --- webhook subscriptions, deliveries, redeliveries (admin keys) ----------------------------


@app.get(
    "/erp/webhooks",
    summary="The webhook subscriptions (without their secrets)",
    responses=_described('{"webhooks": [{"id", "url", "enabled", "events", "owner", ...}]}'),
)
@tracer.capture_method
def list_webhooks() -> Response[Any]:
    from fapiao.services.webhooks import list_subscriptions

    found = list_subscriptions(webhooks())
    return json_response(200, {"webhooks": [subscription.public() for subscription in found]})


@app.post(
    "/erp/webhooks",
    summary="Subscribe a URL to events; the answer shows the signing secret, once",
    responses={
        201: {
            "description": '{"id", "url", "secret", "enabled", "events", "owner", ...}; 422001 '
            "for a URL the hub will not call"
        }
    },
)
@tracer.capture_method
def add_webhook(request: Annotated[WebhookRequest, Body()]) -> Response[Any]:
    from fapiao.services.webhooks import add_subscription

    added = add_subscription(request.url, request.events, request.owner, webhooks())
    return json_response(201, added.public(with_secret=True))


@app.delete(
    "/erp/webhooks/<webhook_id>",
    summary="Remove a subscription: nothing more is sent to it",
    responses=_described('{"id", "removed": true}; 404000 for an unknown id'),
)
@tracer.capture_method
def remove_webhook(webhook_id: WebhookId) -> Response[Any]:
    from fapiao.services.webhooks import remove_subscription

    remove_subscription(webhook_id, webhooks())
    return json_response(200, {"id": webhook_id, "removed": True})


@app.post(
    "/erp/webhooks/<webhook_id>/rotate-secret",
    summary="A new signing secret, shown once; the previous one signs too for 24 hours",
    responses=_described(
        '{"id", "url", "secret", "enabled", "events", ..., "previous_secret_valid_until"}'
    ),
)
@tracer.capture_method
def rotate_webhook_secret(webhook_id: WebhookId) -> Response[Any]:
    from fapiao.services.webhooks import rotate_secret

    rotated = rotate_secret(webhook_id, webhooks())
    until = rotated.previous_secret_until
    answer = rotated.public(with_secret=True)
    answer["previous_secret_valid_until"] = None if until is None else until.isoformat()
    return json_response(200, answer)


@app.get(
    "/erp/deliveries",
    summary="Every delivery attempt, newest first: time, event, HTTP status or error, latency",
    responses=_described(
        '{"attempts": [{"subscription_id", "event_id", "event_type", "attempt", "at", '
        '"status", "error", "latency_ms", "state", "redelivery"}]}'
    ),
)
@tracer.capture_method
def deliveries(
    webhook_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="one subscription's")
    ] = None,
    failed: Annotated[bool, Query(description="only attempts without a 2xx answer")] = False,
) -> Response[Any]:
    from fapiao.services.webhooks import delivery_log

    rows = delivery_log(webhooks(), subscription_id=webhook_id, failed_only=failed)
    return json_response(200, {"attempts": rows})


@app.post(
    "/erp/redeliveries",
    summary="Send an event again (or every event since a time), with the same webhook-id",
    responses=_described(
        '{"scheduled": n, "deliveries": [{"subscription_id", "event_id"}]}; 404000 for an '
        "unknown event"
    ),
)
@tracer.capture_method
def redeliveries(request: Annotated[RedeliveryRequest, Body()]) -> Response[Any]:
    from fapiao.services.webhooks import redeliver

    scheduled = redeliver(webhooks(), event_id=request.event_id, since=request.since)
    shown = [
        {"subscription_id": delivery.subscription_id, "event_id": delivery.event_id}
        for delivery in scheduled
    ]
    return json_response(200, {"scheduled": len(shown), "deliveries": shown})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_outside_role(event) or app.resolve(event, context)  # 403 before validation
