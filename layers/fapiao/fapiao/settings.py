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

from pydantic import BaseModel, ConfigDict, Field, ValidationError


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
    template: Path = Field(
        Path("template.yaml"),
        alias="FAPIAO_TEMPLATE",
        description="the SAM template the local hub reads its tables, bucket, bus and routes from",
    )
    region: str = Field(
        "cn-north-1",
        alias="FAPIAO_REGION",
        description="AWS region name the local AWS reports",
    )


ALL_SETTINGS: tuple[type[_EnvSettings], ...] = (HubSettings, LocalHubSettings)


def markdown_table() -> str:
    """The README's settings table."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for model in ALL_SETTINGS:
        for field in model.model_fields.values():
            lines.append(f"| `{field.alias}` | `{field.default}` | {field.description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
