"""Webhook subscriptions and their deliveries (issue 19): what ``/erp/webhooks``, the
``fapiao webhooks`` command and the delivery function share.

A subscription's secret is ``whsec_`` + standard base64 of 32 random bytes (the Standard
Webhooks form); it is shown once, when the subscription is added or its secret rotated.
After a rotation the previous secret signs too, for 24 hours (``previous_secret_until``).

One delivery per event and matching subscription, each with its own schedule: its
``due_at`` is stored, so a restart attempts every pending delivery at its due time.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from fapiao.basemodel import HubModel

__all__ = [
    "Delivery",
    "DeliveryAttempt",
    "DeliveryState",
    "WebhookSubscription",
]


class WebhookSubscription(HubModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="`wh_` and 26 characters")
    url: str
    secret: str = Field(description="`whsec_` + base64; shown once")
    previous_secret: str | None = None
    previous_secret_until: dt.datetime | None = None
    enabled: bool = True
    events: list[str] = Field(
        default_factory=list, description="event types (`invoice.created`, …); empty: all"
    )
    owner: str | None = Field(None, description="only events of this user code; null: all")
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None
    disabled_reason: str | None = None  # e.g. "the receiver answered 410 Gone"

    def public(self, *, with_secret: bool = False) -> dict[str, Any]:
        """The subscription as the API and the CLI show it: ``{"id", "url", "enabled",
        "events", "owner", "created_at", ...}``, the secret only when it is just made."""
        shown: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "enabled": self.enabled,
            "events": list(self.events),
            "owner": self.owner,
            "created_at": self.created_at.isoformat(),
        }
        if with_secret:
            shown["secret"] = self.secret
        if self.disabled_at is not None:
            shown["disabled_at"] = self.disabled_at.isoformat()
            shown["disabled_reason"] = self.disabled_reason
        return shown


class DeliveryState(StrEnum):
    PENDING = "pending"  # an attempt is due at ``due_at``
    DELIVERED = "delivered"  # a 2xx answer was recorded
    FAILED = "failed"  # dead-lettered: 24 h of attempts, or the subscription is gone (410)


class Delivery(HubModel):
    """One event to one subscription, and where its schedule stands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subscription_id: str
    event_id: str
    event_type: str
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0  # attempts made (a redelivery goes on counting)
    first_at: dt.datetime  # the schedule's start: 24 h from here, then dead
    due_at: dt.datetime  # the next attempt (pending)
    last_status: int | None = None
    last_error: str | None = None
    finished_at: dt.datetime | None = None
    redelivery: bool = False  # scheduled again by hand (``redeliver``)
    schedule_start: int = 0  # attempts made before this schedule began (a redelivery)
    body: str = Field(
        "",
        repr=False,
        description="the event's JSON, exactly the bytes every attempt sends (stored with "
        "the delivery, so an attempt never reads the feed)",
    )
    expires_at: dt.datetime | None = Field(
        None, description="when the delivery and its attempts leave the log (TTL)"
    )


class DeliveryAttempt(HubModel):
    """One POST: when, to which event, what came back and how long it took."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subscription_id: str
    event_id: str
    attempt: int  # 1, 2, …
    event_type: str | None = None
    at: dt.datetime
    status: int | None = None  # the HTTP status; None when none came back
    error: str | None = None  # a timeout, a refused connection, a refused address
    latency_ms: int = 0
    redelivery: bool = False
