"""How the hub tells the ERP (issue 19): the event feed, webhook subscriptions and their
deliveries (``fapiao.model.erp``, ``fapiao.services.webhooks``)."""

from __future__ import annotations

from fapiao.settings.base import EnvSettings, setting

__all__ = ["ErpSettings"]


class ErpSettings(EnvSettings):
    """The ERP's events: where they are kept, for how long, and where webhooks queue."""

    events_table: str = setting(
        default="fapiao-events",
        env="FAPIAO_EVENTS_TABLE",
        description="DynamoDB table of the ERP's events in one sequence (the pull feed)",
    )
    events_keep_days: int = setting(
        default=30,
        env="FAPIAO_EVENTS_KEEP_DAYS",
        ge=1,
        le=365,
        description="days an event stays in the feed (and a delivery in the log) after it happened",
    )
    webhooks_table: str = setting(
        default="fapiao-webhooks",
        env="FAPIAO_WEBHOOKS_TABLE",
        description="DynamoDB table of webhook subscriptions, their deliveries and attempts",
    )
    webhook_queue_url: str | None = setting(
        default=None,
        env="FAPIAO_WEBHOOK_QUEUE_URL",
        description="SQS queue of webhook deliveries (WebhookDeliveryQueue); a redelivery "
        "and a retry are put there",
    )
    https_only: bool = setting(
        default=True,
        env="FAPIAO_WEBHOOK_HTTPS_ONLY",
        description="refuse `http` webhook URLs (on in AWS; the local hub turns it off)",
    )
    webhook_dead_letter_queue_url: str | None = setting(
        default=None,
        env="FAPIAO_WEBHOOK_DEAD_LETTER_QUEUE_URL",
        description="SQS queue where a webhook delivery goes when 24 h of attempts failed "
        "(WebhookDeliveryDeadLetterQueue)",
    )
