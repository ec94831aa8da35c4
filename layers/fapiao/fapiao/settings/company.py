"""The company's settings that spec 001's rules read. Not environment variables: a JSON
document in SSM (``FAPIAO_COMPANY_PARAMETER``) or a file (``FAPIAO_COMPANY_FILE``), loaded
by ``fapiao.store.company``."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["CompanySettings", "CompanyTitle"]


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
    # Refuse (F) files whose signature is tampered, modified after signing or a tax test
    # CA's (rules/file_signatures.py, issue 15); unsigned files pass.
    verify_file_signatures: bool = False

    @model_validator(mode="after")
    def _default_currency_is_supported(self) -> Self:
        if self.default_currency is not None and self.default_currency not in self.currencies:
            raise ValueError(f"default_currency {self.default_currency} is not in currencies")
        return self
