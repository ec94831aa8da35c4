"""What every function needs: the names of the resources template.yaml creates, and
where the company settings are."""

from __future__ import annotations

from pathlib import Path

from fapiao.settings.base import EnvSettings, setting

__all__ = ["HubSettings"]


class HubSettings(EnvSettings):
    """What every function needs: the names of the resources template.yaml creates."""

    invoices_table: str = setting(
        default="fapiao-invoices",
        env="FAPIAO_INVOICES_TABLE",
        description="DynamoDB table of invoices, unique on the invoice key",
    )
    idempotency_table: str = setting(
        default="fapiao-idempotency",
        env="FAPIAO_IDEMPOTENCY_TABLE",
        description="DynamoDB table of Powertools Idempotency records (TTL on `expiration`)",
    )
    drop_bucket: str = setting(
        default="fapiao-drop",
        env="FAPIAO_DROP_BUCKET",
        description="S3 bucket that invoice files are dropped into",
    )
    event_bus: str = setting(
        default="fapiao-events",
        env="FAPIAO_EVENT_BUS",
        description="EventBridge bus that outcomes are published on for the ERP",
    )
    expenses_table: str = setting(
        default="fapiao-expenses",
        env="FAPIAO_EXPENSES_TABLE",
        description="DynamoDB table of expenses (消费记录), keyed by expense_id",
    )
    api_keys_table: str = setting(
        default="fapiao-api-keys",
        env="FAPIAO_API_KEYS_TABLE",
        description="DynamoDB table of client API keys, stored as SHA-256 hashes",
    )
    employees_table: str = setting(
        default="fapiao-employees",
        env="FAPIAO_EMPLOYEES_TABLE",
        description="DynamoDB table of employees (Maycur employeeId -> user code)",
    )
    outcomes_table: str = setting(
        default="fapiao-outcomes",
        env="FAPIAO_OUTCOMES_TABLE",
        description="DynamoDB table of each dropped object's terminal outcomes (reconciliation)",
    )
    stats_table: str = setting(
        default="fapiao-stats",
        env="FAPIAO_STATS_TABLE",
        description="DynamoDB table of daily counters: outcomes by kind, paid checks",
    )
    provider_turns_table: str = setting(
        default="fapiao-provider-turns",
        env="FAPIAO_PROVIDER_TURNS_TABLE",
        description="DynamoDB table of each provider's shared turns (its rate limit: "
        "FAPIAO_EXOCR_MAX_RPS, FAPIAO_YIPIAOYUN_MAX_RPS)",
    )
    ingest_state_machine: str | None = setting(
        default=None,
        env="FAPIAO_INGEST_STATE_MACHINE",
        description="ARN of the Standard ingest state machine: the asynchronous "
        "identify API's executions, and a dropped object's when no Express one is set",
    )
    express_ingest_state_machine: str | None = setting(
        default=None,
        env="FAPIAO_EXPRESS_INGEST_STATE_MACHINE",
        description="ARN of the Express ingest state machine that each dropped object "
        "starts (it hands a file over to the Standard one when it must wait)",
    )
    recheck_state_machine: str | None = setting(
        default=None,
        env="FAPIAO_RECHECK_STATE_MACHINE",
        description="ARN of the re-check state machine that checks a C invoice again by "
        "itself (waits, then verifies)",
    )
    company_parameter: str | None = setting(
        default=None,
        env="FAPIAO_COMPANY_PARAMETER",
        description="SSM parameter holding the company settings as JSON (titles, currencies)",
    )
    company_file: Path | None = setting(
        default=None,
        env="FAPIAO_COMPANY_FILE",
        description="JSON file of company settings; wins over the SSM parameter (local use)",
    )
    idempotency_seconds: int = setting(
        default=86400,
        env="FAPIAO_IDEMPOTENCY_SECONDS",
        ge=60,
        description="how long a bizId replay returns the first answer",
    )
