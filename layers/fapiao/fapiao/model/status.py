"""An invoice's status changed after it was created (a re-check, a correction): the
"Invoice status changed" event the ERP hears of.

Event schema (EventBridge): ``source`` "fapiao", ``detail-type`` "Invoice status
changed", ``detail`` the ``StatusChange`` model as JSON: invoice_key; owner (the user
code); expense_id; previous_status; status; message_code (an integer, as the API gives
it); message (the catalogue's Chinese message and its detail); invoice_type {code, name}
(the platform's code and the type's Chinese name); at (when the status changed).
"""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from fapiao.basemodel import HubModel
from fapiao.catalogue.types import InvoiceType, TypeNotInVocabulary, to_platform_code
from fapiao.model import InvoiceStatus

__all__ = ["InvoiceTypeName", "StatusChange"]


class InvoiceTypeName(HubModel):
    """An invoice type as the ERP reads it: the platform's code and the Chinese name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str | None = Field(
        description="the platform's type code (000/001 `invoice_type`); null for a type "
        "the platform has no code for"
    )
    name: str = Field(description="the type's Chinese name, as printed on the invoice")

    @classmethod
    def of(cls, invoice_type: InvoiceType) -> InvoiceTypeName:
        try:
            code: str | None = to_platform_code(invoice_type)
        except TypeNotInVocabulary:
            code = None
        return cls(code=code, name=invoice_type.value)


class StatusChange(HubModel):
    """One status an invoice entered after its create: the event's ``detail``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_key: str = Field(description="the invoice's code and number")
    owner: str = Field(description="the user code of the invoice's owner")
    expense_id: int = Field(description="the expense the invoice belongs to")
    previous_status: InvoiceStatus = Field(description="the status it had (000/001 letters)")
    status: InvoiceStatus = Field(description="the status it has now (000/001 letters)")
    message_code: int | None = Field(
        None,
        description="the catalogue's code (907xxx), an integer as 000/001's "
        "`invoice_message_code`; null for Y without a remark",
    )
    message: str | None = Field(
        None, description="the catalogue's Chinese message, then the detail"
    )
    invoice_type: InvoiceTypeName = Field(
        description="the platform's type code and the type's Chinese name"
    )
    at: dt.datetime = Field(description="when the status changed (Asia/Shanghai)")
