"""The verification settings: which verifier, where exocr is, where its credentials are.

Credentials are never in template.yaml or a log. In AWS the function is told the NAME
of a Secrets Manager secret (or an SSM SecureString parameter) that holds
``{"app_key": "...", "app_secret": "..."}``, read through Powertools Parameters; on a
laptop ``FAPIAO_EXOCR_APP_KEY`` / ``FAPIAO_EXOCR_APP_SECRET`` may hold them directly.
Secrets are ``Secret``: their repr and str are masked.
"""

from __future__ import annotations

from enum import StrEnum

from fapiao.settings.base import EnvSettings, Secret, setting

__all__ = ["VerifierKind", "VerifierSettings"]


class VerifierKind(StrEnum):
    EXOCR = "exocr"  # pay exocr (spec 003) to ask the tax authority
    OFFLINE = "offline"  # no provider: offline checks only, status C


class VerifierSettings(EnvSettings):
    """What the verify function needs, beyond ``HubSettings``."""

    verifier: VerifierKind = setting(
        default=VerifierKind.OFFLINE,
        env="FAPIAO_VERIFIER",
        description="`exocr` verifies through exocr (paid); `offline` runs the offline "
        "checks only and answers status C",
    )
    exocr_url: str = setting(
        default="http://api.exocr.com",
        env="FAPIAO_EXOCR_URL",
        description="base URL of exocr; the hub posts to `{url}/data/v1/verify_invoice`",
    )
    exocr_app_key: Secret | None = setting(
        default=None,
        env="FAPIAO_EXOCR_APP_KEY",
        description="exocr app_key, local use only (in AWS: FAPIAO_EXOCR_SECRET_NAME)",
    )
    exocr_app_secret: Secret | None = setting(
        default=None,
        env="FAPIAO_EXOCR_APP_SECRET",
        description="exocr app_secret, local use only (in AWS: FAPIAO_EXOCR_SECRET_NAME)",
    )
    exocr_secret_name: str | None = setting(
        default=None,
        env="FAPIAO_EXOCR_SECRET_NAME",
        description='Secrets Manager secret holding {"app_key", "app_secret"} for exocr',
    )
    exocr_parameter_name: str | None = setting(
        default=None,
        env="FAPIAO_EXOCR_PARAMETER_NAME",
        description='SSM SecureString parameter holding {"app_key", "app_secret"} '
        "(instead of the secret)",
    )
    exocr_connect_timeout: float = setting(
        default=3.0,
        env="FAPIAO_EXOCR_CONNECT_TIMEOUT",
        gt=0,
        description="seconds to connect to exocr",
    )
    exocr_read_timeout: float = setting(
        default=10.0,
        env="FAPIAO_EXOCR_READ_TIMEOUT",
        gt=0,
        description="seconds to wait for an answer",
    )
    exocr_attempts: int = setting(
        default=3,
        env="FAPIAO_EXOCR_ATTEMPTS",
        ge=1,
        le=10,
        description="calls per verification for the codes a retry can cure (3202, 3213, "
        "4007; result 7, 8; timeouts, 5xx)",
    )
    exocr_budget_seconds: float = setting(
        default=20.0,
        env="FAPIAO_EXOCR_BUDGET_SECONDS",
        gt=0,
        description="time one verification may spend on exocr, retries included (API "
        "Gateway gives up at 29 s)",
    )
    exocr_max_rps: float = setting(
        default=0.0,
        env="FAPIAO_EXOCR_MAX_RPS",
        ge=0,
        le=10_000,
        description="calls per second exocr receives at most from the whole hub, every "
        "container together (its account's cap); 4007 or 429 halves it for a while; 0: no "
        "limit",
    )
    verify_wait_seconds: float = setting(
        default=10.0,
        env="FAPIAO_VERIFY_WAIT_SECONDS",
        ge=0,
        le=20,
        description="how long a synchronous API (003 verify, ocrSync, Maycur import, review "
        "re-check) waits for exocr's turn, or for a concurrent verification of the same "
        "invoice, before its busy answer",
    )
    pipeline_wait_seconds: float = setting(
        default=1.5,
        env="FAPIAO_PIPELINE_WAIT_SECONDS",
        ge=0,
        le=10,
        description="the same wait in the pipeline's verify and re-check tasks; past it the "
        "invoice is C (907011) and its re-check waits in Step Functions, not in Lambda",
    )
    verification_table: str = setting(
        default="fapiao-verifications",
        env="FAPIAO_VERIFICATION_TABLE",
        description="DynamoDB table of verification outcomes by invoice key: nothing is "
        "bought twice",
    )
    verify_retry_after_seconds: int = setting(
        default=300,
        env="FAPIAO_VERIFY_RETRY_AFTER_SECONDS",
        ge=1,
        description="how long an invoice waits after exocr stayed busy or unreachable",
    )
    verify_lease_seconds: int = setting(
        default=60,
        env="FAPIAO_VERIFY_LEASE_SECONDS",
        ge=1,
        description="how long one verification holds an invoice so that a concurrent one "
        "does not pay again",
    )

    def _check(self) -> None:
        if self.verifier is VerifierKind.EXOCR and not self.has_exocr_credentials:
            raise ValueError(
                "FAPIAO_VERIFIER=exocr needs FAPIAO_EXOCR_SECRET_NAME, "
                "FAPIAO_EXOCR_PARAMETER_NAME, or FAPIAO_EXOCR_APP_KEY and FAPIAO_EXOCR_APP_SECRET"
            )

    @property
    def has_exocr_credentials(self) -> bool:
        local = self.exocr_app_key is not None and self.exocr_app_secret is not None
        return local or bool(self.exocr_secret_name) or bool(self.exocr_parameter_name)

    @property
    def verify_url(self) -> str:
        return f"{self.exocr_url.rstrip('/')}/data/v1/verify_invoice"
