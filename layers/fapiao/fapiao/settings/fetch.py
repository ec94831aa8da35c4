"""How the hub downloads the files that clients name by URL (``fapiao.providers.fetch``)."""

from __future__ import annotations

from fapiao.settings.base import EnvSettings, setting
from fapiao.settings.limits import MAYCUR_MAX_FILE_BYTES

__all__ = ["FetchSettings"]


class FetchSettings(EnvSettings):
    """How the hub downloads the files that clients name by URL."""

    allow_loopback: bool = setting(
        default=False,
        env="FAPIAO_ALLOW_LOOPBACK_FETCH",
        description="allow downloads from loopback (127.0.0.0/8, ::1), for the local hub "
        "and tests; never private or link-local addresses. Off in AWS",
    )
    max_bytes: int = setting(
        default=MAYCUR_MAX_FILE_BYTES,
        env="FAPIAO_FETCH_MAX_BYTES",
        ge=1,
        description="largest file the safe fetcher downloads when its caller names no cap, "
        "in bytes (Maycur's 8 MiB, the smallest); the endpoints name their own "
        "(`fapiao/settings/limits.py`)",
    )
    connect_timeout: float = setting(
        default=3.0,
        env="FAPIAO_FETCH_CONNECT_TIMEOUT_SECONDS",
        gt=0,
        description="seconds to open one connection to a file server",
    )
    total_timeout: float = setting(
        default=15.0,
        env="FAPIAO_FETCH_TIMEOUT_SECONDS",
        gt=0,
        description="seconds one download may take in all: resolution, redirects and body",
    )
    max_redirects: int = setting(
        default=3,
        env="FAPIAO_FETCH_MAX_REDIRECTS",
        ge=0,
        le=10,
        description="redirects a download follows, each checked like the first URL",
    )
