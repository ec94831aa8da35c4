"""The verification settings: which verifier, where exocr is, where its credentials are.

Credentials are never in template.yaml or a log. In AWS the function is told the NAME
of a Secrets Manager secret (or an SSM SecureString parameter) that holds
``{"app_key": "...", "app_secret": "..."}``, read through Powertools Parameters; on a
laptop ``FAPIAO_EXOCR_APP_KEY`` / ``FAPIAO_EXOCR_APP_SECRET`` may hold them directly.
Secrets are ``SecretStr``: their repr and str are masked.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, SecretStr, model_validator

from fapiao.settings.base import EnvSettings

__all__ = ["VerifierKind", "VerifierSettings"]


class VerifierKind(StrEnum):
    EXOCR = "exocr"  # pay exocr (spec 003) to ask the tax authority
    OFFLINE = "offline"  # no provider: offline checks only, status C


class VerifierSettings(EnvSettings):
    """What the verify function needs, beyond ``HubSettings``."""

    verifier: VerifierKind = Field(
        VerifierKind.OFFLINE,
        alias="FAPIAO_VERIFIER",
        description="`exocr` verifies through exocr (paid); `offline` runs the offline "
        "checks only and answers status C",
    )
    exocr_url: str = Field(
        "http://api.exocr.com",
        alias="FAPIAO_EXOCR_URL",
        description="base URL of exocr; the hub posts to `{url}/data/v1/verify_invoice`",
    )
    exocr_app_key: SecretStr | None = Field(
        None,
        alias="FAPIAO_EXOCR_APP_KEY",
        description="exocr app_key, local use only (in AWS: FAPIAO_EXOCR_SECRET_NAME)",
    )
    exocr_app_secret: SecretStr | None = Field(
        None,
        alias="FAPIAO_EXOCR_APP_SECRET",
        description="exocr app_secret, local use only (in AWS: FAPIAO_EXOCR_SECRET_NAME)",
    )
    exocr_secret_name: str | None = Field(
        None,
        alias="FAPIAO_EXOCR_SECRET_NAME",
        description='Secrets Manager secret holding {"app_key", "app_secret"} for exocr',
    )
    exocr_parameter_name: str | None = Field(
        None,
        alias="FAPIAO_EXOCR_PARAMETER_NAME",
        description='SSM SecureString parameter holding {"app_key", "app_secret"} '
        "(instead of the secret)",
    )
    exocr_connect_timeout: float = Field(
        3.0, alias="FAPIAO_EXOCR_CONNECT_TIMEOUT", gt=0, description="seconds to connect to exocr"
    )
    exocr_read_timeout: float = Field(
        10.0, alias="FAPIAO_EXOCR_READ_TIMEOUT", gt=0, description="seconds to wait for an answer"
    )
    exocr_attempts: int = Field(
        3,
        alias="FAPIAO_EXOCR_ATTEMPTS",
        ge=1,
        le=10,
        description="calls per verification for the codes a retry can cure (3202, 3213, "
        "4007; result 7, 8; timeouts, 5xx)",
    )
    exocr_budget_seconds: float = Field(
        20.0,
        alias="FAPIAO_EXOCR_BUDGET_SECONDS",
        gt=0,
        description="time one verification may spend on exocr, retries included (API "
        "Gateway gives up at 29 s)",
    )
    verification_table: str = Field(
        "fapiao-verifications",
        alias="FAPIAO_VERIFICATION_TABLE",
        description="DynamoDB table of verification outcomes by invoice key: nothing is "
        "bought twice",
    )
    verify_retry_after_seconds: int = Field(
        300,
        alias="FAPIAO_VERIFY_RETRY_AFTER_SECONDS",
        ge=1,
        description="how long an invoice waits after exocr stayed busy or unreachable",
    )
    verify_lease_seconds: int = Field(
        60,
        alias="FAPIAO_VERIFY_LEASE_SECONDS",
        ge=1,
        description="how long one verification holds an invoice so that a concurrent one "
        "does not pay again",
    )

    @model_validator(mode="after")
    def _exocr_needs_credentials(self) -> Self:
        if self.verifier is VerifierKind.EXOCR and not self.has_exocr_credentials:
            raise ValueError(
                "FAPIAO_VERIFIER=exocr needs FAPIAO_EXOCR_SECRET_NAME, "
                "FAPIAO_EXOCR_PARAMETER_NAME, or FAPIAO_EXOCR_APP_KEY and FAPIAO_EXOCR_APP_SECRET"
            )
        return self

    @property
    def has_exocr_credentials(self) -> bool:
        local = self.exocr_app_key is not None and self.exocr_app_secret is not None
        return local or bool(self.exocr_secret_name) or bool(self.exocr_parameter_name)

    @property
    def verify_url(self) -> str:
        return f"{self.exocr_url.rstrip('/')}/data/v1/verify_invoice"
