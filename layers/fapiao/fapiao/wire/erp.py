"""The ERP API's requests (``/erp/...``, issue 19), the hub's own: webhook subscriptions
and redeliveries. Strict about names (a misspelt ``"event"`` would otherwise subscribe to
every event): an unknown field is a 400. Whether a URL is acceptable, and which event
words exist, the hub's use cases judge (``fapiao.services.webhooks``), not these models.

Answers are bare JSON (no envelope); refusals are the platform envelope
``{"resCode", "resMsg", "data"}``. ``EVENTS_PAGE_SCHEMA`` describes ``GET /erp/events``'s
answer for ``/openapi.json``: its items are the events of ``/erp/schema.json``.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, model_validator

from fapiao.wire.common import WireModel

__all__ = [
    "EVENTS_PAGE_SCHEMA",
    "EVENT_SCHEMA_PATH",
    "MAX_FEED_LIMIT",
    "RedeliveryRequest",
    "WebhookRequest",
]

EVENT_SCHEMA_PATH = "/erp/schema.json"
MAX_FEED_LIMIT = 500  # events in one page of the feed

EVENTS_PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["events", "next"],
    "properties": {
        "events": {
            "type": "array",
            "description": "the events after `after`, oldest first (empty: nothing new yet)",
            "items": {"$ref": EVENT_SCHEMA_PATH},
        },
        "next": {
            "type": "string",
            "description": "an opaque URL-safe cursor, never null: pass it as `after` to read "
            "what came after",
        },
    },
}

EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _ErpRequest(WireModel):
    model_config = ConfigDict(extra="forbid")


class WebhookRequest(_ErpRequest):
    """``POST /erp/webhooks``: where to send events, which ones, whose."""

    url: str = Field(min_length=1, max_length=2048, description="where the events are POSTed")
    events: list[EventName] | None = Field(
        None,
        max_length=16,
        description="short words (`created`, `status_changed`) or types (`invoice.created`); "
        "null or empty: every event",
    )
    owner: str | None = Field(
        None, min_length=1, max_length=64, description="only this user code's events"
    )


class RedeliveryRequest(_ErpRequest):
    """``POST /erp/redeliveries``: one event (``event_id``), or every event since a time
    (``since``, RFC 3339 with its offset), to each enabled subscription it matches."""

    event_id: str | None = Field(None, min_length=1, max_length=64)
    since: AwareDatetime | None = Field(None, description="RFC 3339, with its offset")

    @model_validator(mode="after")
    def _one_of_them(self) -> Self:
        if (self.event_id is None) == (self.since is None):
            raise ValueError("give exactly one of event_id and since")
        return self
