"""The recognition settings: which remote identifier, where yipiaoyun is, how to poll it.

The embedded engine always runs first; ``FAPIAO_IDENTIFIER=yipiaoyun`` sends only what
it answered U for (nothing machine-readable) to yipiaoyun (spec 004), and the pipeline
polls the identify id with waits that grow from ``FAPIAO_IDENTIFY_FIRST_WAIT_SECONDS``,
doubling up to ``FAPIAO_IDENTIFY_MAX_WAIT_SECONDS``, ``FAPIAO_IDENTIFY_POLL_ATTEMPTS``
times (``poll_waits``).
"""

from __future__ import annotations

from enum import StrEnum

from fapiao.settings.base import EnvSettings, setting

__all__ = ["IdentifierKind", "IdentifierSettings"]


class IdentifierKind(StrEnum):
    EMBEDDED = "embedded"  # the embedded engine only: what it cannot read stays U
    YIPIAOYUN = "yipiaoyun"  # the embedded engine, then yipiaoyun (spec 004) for its U


class IdentifierSettings(EnvSettings):
    """What the pipeline's recognition steps need, beyond ``HubSettings``."""

    identifier: IdentifierKind = setting(
        default=IdentifierKind.EMBEDDED,
        env="FAPIAO_IDENTIFIER",
        description="`embedded` recognizes with the embedded engine only; `yipiaoyun` "
        "still tries it first, then sends what it answered U for to yipiaoyun (spec 004)",
    )
    yipiaoyun_url: str | None = setting(
        default=None,
        env="FAPIAO_YIPIAOYUN_URL",
        description="base URL of yipiaoyun; the hub posts to `{url}/openapi/identify/…`. "
        "Required when FAPIAO_IDENTIFIER=yipiaoyun",
    )
    yipiaoyun_connect_timeout: float = setting(
        default=3.0,
        env="FAPIAO_YIPIAOYUN_CONNECT_TIMEOUT",
        gt=0,
        description="seconds to connect to yipiaoyun",
    )
    yipiaoyun_read_timeout: float = setting(
        default=10.0,
        env="FAPIAO_YIPIAOYUN_READ_TIMEOUT",
        gt=0,
        description="seconds to wait for one yipiaoyun answer (an upload of up to 1 MB included)",
    )
    yipiaoyun_attempts: int = setting(
        default=3,
        env="FAPIAO_YIPIAOYUN_ATTEMPTS",
        ge=1,
        le=10,
        description="calls per submission or poll when yipiaoyun times out, answers 429/5xx "
        "or says it is busy",
    )
    yipiaoyun_budget_seconds: float = setting(
        default=25.0,
        env="FAPIAO_YIPIAOYUN_BUDGET_SECONDS",
        gt=0,
        description="time one submission (all pages of a file) or one poll may spend on "
        "yipiaoyun, retries included",
    )
    yipiaoyun_max_rps: float = setting(
        default=0.0,
        env="FAPIAO_YIPIAOYUN_MAX_RPS",
        ge=0,
        le=10_000,
        description="calls per second yipiaoyun receives at most from the whole hub (its "
        "account's cap); 429 or 请求过于频繁 halves it for a while; 0: no limit",
    )
    yipiaoyun_turn_wait_seconds: float = setting(
        default=1.5,
        env="FAPIAO_YIPIAOYUN_TURN_WAIT_SECONDS",
        ge=0,
        le=10,
        description="how long a pipeline task waits for yipiaoyun's turn; past it the "
        "submission or poll is tried again after a Step Functions wait",
    )
    yipiaoyun_max_pages: int = setting(
        default=10,
        env="FAPIAO_YIPIAOYUN_MAX_PAGES",
        ge=1,
        le=50,
        description="PDF pages of one file sent to yipiaoyun, one request each (004 reads "
        "only the first page of a PDF)",
    )
    identify_poll_attempts: int = setting(
        default=6,
        env="FAPIAO_IDENTIFY_POLL_ATTEMPTS",
        ge=1,
        le=50,
        description="polls of one identify id before the pipeline gives up (the invoice stays U)",
    )
    identify_first_wait_seconds: int = setting(
        default=2,
        env="FAPIAO_IDENTIFY_FIRST_WAIT_SECONDS",
        ge=1,
        description="wait before the first poll; each later wait doubles",
    )
    identify_max_wait_seconds: int = setting(
        default=60,
        env="FAPIAO_IDENTIFY_MAX_WAIT_SECONDS",
        ge=1,
        description="longest wait between two polls",
    )

    def _check(self) -> None:
        if self.identifier is IdentifierKind.YIPIAOYUN and not self.yipiaoyun_url:
            raise ValueError("FAPIAO_IDENTIFIER=yipiaoyun needs FAPIAO_YIPIAOYUN_URL")
        if self.identify_max_wait_seconds < self.identify_first_wait_seconds:
            raise ValueError(
                "FAPIAO_IDENTIFY_MAX_WAIT_SECONDS is shorter than "
                "FAPIAO_IDENTIFY_FIRST_WAIT_SECONDS"
            )

    def wait_seconds(self, poll: int) -> int:
        """The wait before poll number ``poll`` (1-based): first, doubled, capped."""
        if poll < 1:
            raise ValueError(f"polls are counted from 1, not {poll}")
        doubled = self.identify_first_wait_seconds * (1 << min(poll - 1, 32))
        return min(self.identify_max_wait_seconds, doubled)

    @property
    def poll_waits(self) -> list[int]:
        """Every wait, in order: 2, 4, 8, 16, 32, 60 with the defaults (122 s in all)."""
        return [self.wait_seconds(poll) for poll in range(1, self.identify_poll_attempts + 1)]
