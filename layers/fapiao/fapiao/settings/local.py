"""The local hub's own settings (``fapiao serve`` and the command line); Lambda never
reads them."""

from __future__ import annotations

from pathlib import Path

from fapiao.settings.base import EnvSettings, setting

__all__ = ["DEFAULT_QUEUE_DEPTH", "LocalHubSettings"]


DEFAULT_QUEUE_DEPTH = 64  # a month-end burst of API calls waits rather than being refused


class LocalHubSettings(EnvSettings):
    """The local hub's own settings; each has a command-line flag that wins over it."""

    host: str = setting(
        default="127.0.0.1", env="FAPIAO_HOST", description="address the hub listens on"
    )
    port: int = setting(
        default=3000, env="FAPIAO_PORT", ge=0, le=65535, description="port of the HTTP API"
    )
    aws_port: int = setting(
        default=4566,
        env="FAPIAO_AWS_PORT",
        ge=0,
        le=65535,
        description="port of the local AWS endpoint (moto behind a serialising gateway); "
        "0 picks a free one",
    )
    data_dir: Path = setting(
        default=Path(".fapiao"),
        env="FAPIAO_DATA_DIR",
        description="folder where the local hub keeps its state across restarts",
    )
    inbox: Path = setting(
        default=Path("inbox"),
        env="FAPIAO_INBOX",
        description="folder the local hub watches for files",
    )
    inbox_owner: str = setting(
        default="local.user",
        env="FAPIAO_INBOX_OWNER",
        description="user code the invoices of inbox files belong to (the key's first segment)",
    )
    template: Path = setting(
        default=Path("template.yaml"),
        env="FAPIAO_TEMPLATE",
        description="the SAM template the local hub reads its tables, bucket, bus and routes from",
    )
    dev_api_key: str | None = setting(
        default=None,
        env="FAPIAO_DEV_API_KEY",
        min_length=16,
        description="the local hub's development API key; unset: one is made and kept in "
        "the data folder",
    )
    api_url: str | None = setting(
        default=None,
        env="FAPIAO_API_URL",
        description="the hub `fapiao webhooks` and `fapiao events` talk to (local or in AWS); "
        "unset: the running local hub",
    )
    api_key: str | None = setting(
        default=None,
        env="FAPIAO_API_KEY",
        description="the API key `fapiao webhooks` and `fapiao events` send (webhooks: an admin "
        "key; the feed: erp or admin); unset: the local hub's development key",
    )
    employees_file: Path | None = setting(
        default=None,
        env="FAPIAO_EMPLOYEES_FILE",
        description="JSON list of employees [{employee_id, name, user_code}] the local hub "
        "loads at start; unset: the development employee MK00001 of spec 002's example",
    )
    region: str = setting(
        default="cn-north-1",
        env="FAPIAO_REGION",
        description="AWS region name the local AWS reports",
    )
    concurrency: int = setting(
        default=4,
        env="FAPIAO_CONCURRENCY",
        ge=1,
        le=64,
        description="containers the local hub runs at most per function at once, as Lambda's "
        "reserved concurrency would",
    )
    queue_depth: int = setting(
        default=DEFAULT_QUEUE_DEPTH,
        env="FAPIAO_QUEUE_DEPTH",
        ge=0,
        le=10_000,
        description="API requests that may wait per function while every container is busy; "
        "past that the route family's 503 envelope answers",
    )
    recognition_workers: int = setting(
        default=2,
        env="FAPIAO_RECOGNITION_WORKERS",
        ge=1,
        le=32,
        description="processes the local hub recognizes files in (native code is isolated "
        "there: a crash fails one file, never the hub)",
    )
    recognition_timeout: float = setting(
        default=60.0,
        env="FAPIAO_RECOGNITION_TIMEOUT",
        gt=0,
        le=900,
        description="seconds one file may take in a recognition worker before it is stopped",
    )
    recognition_memory_mb: int = setting(
        default=3072,
        env="FAPIAO_RECOGNITION_MEMORY_MB",
        ge=256,
        le=65_536,
        description="address space one recognition worker may use, in MiB",
    )
    snapshot_every: int = setting(
        default=500,
        env="FAPIAO_SNAPSHOT_EVERY",
        ge=1,
        description="write-ahead log entries after which the local AWS takes a new snapshot "
        "of its state (and starts a new, empty log)",
    )
