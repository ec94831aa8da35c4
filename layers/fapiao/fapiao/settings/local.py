"""The local hub's own settings (``fapiao serve`` and the command line); Lambda never
reads them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from fapiao.settings.base import EnvSettings

__all__ = ["LocalHubSettings"]


class LocalHubSettings(EnvSettings):
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
        description="processes the local hub recognizes files in (native code is isolated "
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
        3072,
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
