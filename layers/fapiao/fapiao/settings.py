"""Every FAPIAO_* setting, one pydantic model each for the functions and the local hub.

Lambda functions read ``HubSettings`` from the environment that template.yaml gives
them; the local hub sets the same variables for the handlers it runs in process, and
reads ``LocalHubSettings`` for itself. The README's settings table is generated from
these models (a test keeps them equal).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class SettingsError(ValueError):
    """A FAPIAO_* variable that is missing or malformed; says which and why."""


class _EnvSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        source = os.environ if env is None else env
        values = {
            field.alias: source[field.alias]
            for field in cls.model_fields.values()
            if field.alias and field.alias in source and source[field.alias] != ""
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise SettingsError(f"invalid settings: {problems}") from None


class HubSettings(_EnvSettings):
    """What every function needs: the names of the resources template.yaml creates."""

    invoices_table: str = Field(
        "fapiao-invoices",
        alias="FAPIAO_INVOICES_TABLE",
        description="DynamoDB table of invoices, unique on the invoice key",
    )
    idempotency_table: str = Field(
        "fapiao-idempotency",
        alias="FAPIAO_IDEMPOTENCY_TABLE",
        description="DynamoDB table of Powertools Idempotency records (TTL on `expiration`)",
    )
    drop_bucket: str = Field(
        "fapiao-drop",
        alias="FAPIAO_DROP_BUCKET",
        description="S3 bucket that invoice files are dropped into",
    )
    event_bus: str = Field(
        "fapiao-events",
        alias="FAPIAO_EVENT_BUS",
        description="EventBridge bus that outcomes are published on for the ERP",
    )
    expenses_table: str = Field(
        "fapiao-expenses",
        alias="FAPIAO_EXPENSES_TABLE",
        description="DynamoDB table of expenses (消费记录), keyed by expense_id",
    )
    api_keys_table: str = Field(
        "fapiao-api-keys",
        alias="FAPIAO_API_KEYS_TABLE",
        description="DynamoDB table of client API keys, stored as SHA-256 hashes",
    )
    employees_table: str = Field(
        "fapiao-employees",
        alias="FAPIAO_EMPLOYEES_TABLE",
        description="DynamoDB table of employees (Maycur employeeId -> user code)",
    )
    outcomes_table: str = Field(
        "fapiao-outcomes",
        alias="FAPIAO_OUTCOMES_TABLE",
        description="DynamoDB table of each dropped object's terminal outcomes (reconciliation)",
    )
    ingest_state_machine: str | None = Field(
        None,
        alias="FAPIAO_INGEST_STATE_MACHINE",
        description="ARN of the ingest state machine that each dropped object starts",
    )
    company_parameter: str | None = Field(
        None,
        alias="FAPIAO_COMPANY_PARAMETER",
        description="SSM parameter holding the company settings as JSON (titles, currencies)",
    )
    company_file: Path | None = Field(
        None,
        alias="FAPIAO_COMPANY_FILE",
        description="JSON file of company settings; wins over the SSM parameter (local use)",
    )
    idempotency_seconds: int = Field(
        86400,
        alias="FAPIAO_IDEMPOTENCY_SECONDS",
        ge=60,
        description="how long a bizId replay returns the first answer",
    )


class CompanyTitle(BaseModel):
    """A buyer title (发票抬头) the company accepts: its name and tax code."""

    model_config = ConfigDict(frozen=True)

    name: str
    tax_code: str


class CompanySettings(BaseModel):
    """What spec 001's rules read (抬头校验, 币种, 验签), one validated model.

    In AWS it is the JSON value of the SSM parameter ``FAPIAO_COMPANY_PARAMETER``
    (read through Powertools Parameters); locally ``FAPIAO_COMPANY_FILE`` may name a file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    titles: tuple[CompanyTitle, ...] = ()  # empty: the buyer-title check is not configured
    currencies: frozenset[str] = frozenset(
        {"CNY", "HKD", "MOP", "TWD", "USD", "EUR", "GBP", "JPY", "KRW", "SGD", "AUD", "CAD", "CHF"}
    )
    default_currency: str | None = None  # the company's currency; CNY when unset
    verify_file_signatures: bool = False  # refuse files whose signature is not intact

    @model_validator(mode="after")
    def _default_currency_is_supported(self) -> Self:
        if self.default_currency is not None and self.default_currency not in self.currencies:
            raise ValueError(f"default_currency {self.default_currency} is not in currencies")
        return self


class LocalHubSettings(_EnvSettings):
    """The local hub's own settings; each has a command-line flag that wins over it."""

    host: str = Field("127.0.0.1", alias="FAPIAO_HOST", description="address the hub listens on")
    port: int = Field(3000, alias="FAPIAO_PORT", ge=0, le=65535, description="port of the HTTP API")
    aws_port: int = Field(
        4566,
        alias="FAPIAO_AWS_PORT",
        ge=0,
        le=65535,
        description="port of the local AWS endpoint (moto behind a serialising gateway); "
        "0 picks a free one",
    )
    data_dir: Path = Field(
        Path(".fapiao"),
        alias="FAPIAO_DATA_DIR",
        description="folder where the local hub keeps its state across restarts",
    )
    inbox: Path = Field(
        Path("inbox"), alias="FAPIAO_INBOX", description="folder the local hub watches for files"
    )
    inbox_owner: str = Field(
        "local.user",
        alias="FAPIAO_INBOX_OWNER",
        description="user code the invoices of inbox files belong to (the key's first segment)",
    )
    template: Path = Field(
        Path("template.yaml"),
        alias="FAPIAO_TEMPLATE",
        description="the SAM template the local hub reads its tables, bucket, bus and routes from",
    )
    dev_api_key: str | None = Field(
        None,
        alias="FAPIAO_DEV_API_KEY",
        min_length=16,
        description="the local hub's development API key; unset: one is made and kept in "
        "the data folder",
    )
    employees_file: Path | None = Field(
        None,
        alias="FAPIAO_EMPLOYEES_FILE",
        description="JSON list of employees [{employee_id, name, user_code}] the local hub "
        "loads at start; unset: the development employee MK00001 of spec 002's example",
    )
    region: str = Field(
        "cn-north-1",
        alias="FAPIAO_REGION",
        description="AWS region name the local AWS reports",
    )
    concurrency: int = Field(
        4,
        alias="FAPIAO_CONCURRENCY",
        ge=1,
        le=64,
        description="containers the local hub runs at most per function at once, as Lambda's "
        "reserved concurrency would",
    )
    queue_depth: int = Field(
        32,
        alias="FAPIAO_QUEUE_DEPTH",
        ge=0,
        le=10_000,
        description="API requests that may wait per function while every container is busy; "
        "past that the route family's 503 envelope answers",
    )
    recognition_workers: int = Field(
        2,
        alias="FAPIAO_RECOGNITION_WORKERS",
        ge=1,
        le=32,
        description="processes the local hub recognises files in (native code is isolated "
        "there: a crash fails one file, never the hub)",
    )
    recognition_timeout: float = Field(
        60.0,
        alias="FAPIAO_RECOGNITION_TIMEOUT",
        gt=0,
        le=900,
        description="seconds one file may take in a recognition worker before it is stopped",
    )
    recognition_memory_mb: int = Field(
        1536,
        alias="FAPIAO_RECOGNITION_MEMORY_MB",
        ge=256,
        le=65_536,
        description="address space one recognition worker may use, in MiB",
    )
    snapshot_every: int = Field(
        500,
        alias="FAPIAO_SNAPSHOT_EVERY",
        ge=1,
        description="write-ahead log entries after which the local AWS takes a new snapshot "
        "of its state (and starts a new, empty log)",
    )


ALL_SETTINGS: tuple[type[_EnvSettings], ...] = (HubSettings, LocalHubSettings)


def markdown_table() -> str:
    """The README's settings table."""
    # Provider settings live beside their adapters, which import this module.
    from fapiao.providers.fetch import FetchSettings
    from fapiao.providers.identifier_settings import IdentifierSettings
    from fapiao.providers.settings import VerifierSettings

    lines = ["| variable | default | meaning |", "|---|---|---|"]
    models: tuple[type[_EnvSettings], ...] = (
        *ALL_SETTINGS,
        VerifierSettings,
        IdentifierSettings,
        FetchSettings,
    )
    for model in models:
        for field in model.model_fields.values():
            lines.append(f"| `{field.alias}` | `{field.default}` | {field.description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
