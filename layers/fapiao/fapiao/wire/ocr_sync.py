"""Spec 000 ``POST /common/InvoiceOCR/ocrSync``: 票据识别与查验同步, names as on the wire.

The request's field table puts ``attachment_url``, ``purchase_invoice``,
``create_expense`` and ``user_code`` at the top level, its example nests them under
``data``: both are accepted and ``OcrSyncRequest.options`` is the one view the service
reads. The answer is the envelope ``resCode``/``resMsg``/``bizId``/``data`` with ``data``
an array, one element per invoice in the file: ``{ocrResult, checkResult}`` without an
expense, the fields of 001's answer (``ExpenseResult``) with one.

Dates in ``ocrResult``/``checkResult`` are epoch milliseconds; money is ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Self

from pydantic import ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from fapiao.model import InvoiceStatus
from fapiao.wire.common import StrictWireModel, WireModel
from fapiao.wire.invoice_create import ExpenseResult, YesNo

# --- request -------------------------------------------------------------------------


class OcrSyncFields(WireModel):
    """000 request fields as the example nests them under ``data``."""

    attachment_url: str | None = None
    purchase_invoice: YesNo = None  # default N
    create_expense: YesNo = None  # typed "Object" in the table, holds Y/N; default N
    user_code: str | None = None  # 工号; required when create_expense is Y (a rule)


@dataclass(frozen=True)
class OcrSyncOptions:
    """The request's fields wherever they came from, Y/N decoded with N as default."""

    attachment_url: str
    purchase_invoice: bool
    create_expense: bool
    user_code: str | None


class OcrSyncRequest(OcrSyncFields):
    """000 request body: the fields at the top level (table) or under ``data`` (example)."""

    biz_id: str = Field(alias="bizId")  # 36 characters at most (a rule)
    timestamp: int  # epoch milliseconds
    data: OcrSyncFields | None = None

    @model_validator(mode="after")
    def _fields_agree_and_file_given(self) -> Self:
        # A field given in both places must say the same thing: picking one silently
        # would hide a client bug.
        if self.data is not None:
            for name in OcrSyncFields.model_fields:
                top, nested = getattr(self, name), getattr(self.data, name)
                if top is not None and nested is not None and top != nested:
                    raise ValueError(f"{name} differs at the top level and under data")
        if self._pick("attachment_url") is None:
            raise ValueError("attachment_url is required (at the top level or under data)")
        return self

    def _pick(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        if value is None and self.data is not None:
            value = getattr(self.data, name)
        return value

    @property
    def options(self) -> OcrSyncOptions:
        attachment_url = self._pick("attachment_url")
        if attachment_url is None:  # unreachable: the validator refuses it
            raise ValueError("attachment_url is required")
        return OcrSyncOptions(
            attachment_url=attachment_url,
            purchase_invoice=self._pick("purchase_invoice") == "Y",
            create_expense=self._pick("create_expense") == "Y",
            user_code=self._pick("user_code"),
        )


# --- response ------------------------------------------------------------------------


class OcrLine(StrictWireModel):
    """One line of ``ocrResult.items`` when the hub writes them (snake_case as 001's
    ``detail_list``); the example shows only a placeholder string there."""

    name: str | None = None
    specification: str | None = None
    unit: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None  # 不含税单价
    amount: Decimal | None = None
    tax_rate: Decimal | None = None
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None


class OcrResult(StrictWireModel):
    """000 ``data[].ocrResult``: the recognized invoice, every field of the example.

    ``amount`` is the total with tax (996.00 = 913.76 + 82.24 in the example) and
    ``pretax_amount`` the amount without tax.
    """

    attachment_url: str | None = None
    batch_id: str | None = None
    original_data: str | None = None
    data: str | None = None
    source: str | None = None  # "interface"
    source_file: str | None = None  # "Y"
    invoice_input: str | None = None
    invoice_type: str | None = None  # platform type code
    invoice_status: InvoiceStatus | None = None
    invoice_attachments: str | None = None
    invoice_code: str | None = None
    invoice_num: str | None = None
    invoice_serial: str | None = None
    amount: Decimal | None = None  # 价税合计
    currency: str | None = None
    invoice_detail: str | None = None
    tax_amount: Decimal | None = None
    receipt_date: int | None = None  # epoch milliseconds
    buyer_name: str | None = None
    buyer_tax_code: str | None = None
    buyer_bank_account: str | None = None
    buyer_addr_tel: str | None = None
    seller_name: str | None = None
    seller_tax_code: str | None = None
    seller_bank_account: str | None = None
    seller_addr_tel: str | None = None
    pretax_amount: Decimal | None = None  # 不含税金额
    remark: str | None = None
    name: str | None = None  # passenger
    shop_name: str | None = None
    pay_method_id: int | None = None
    status: int | None = None
    abnormal_status: str | None = None
    valid_amount: Decimal | None = None
    highway_flag: str | None = None  # Y/N from the hub; "xx" in the example
    items: list[OcrLine] | str | None = None  # a placeholder string in the example


class _Camel(StrictWireModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel)


class CheckDetail(_Camel):
    """000 ``checkResult.detailList[]``: the example's fields plus 001's tax columns."""

    name: str | None = None
    specification: str | None = None
    unit: str | None = None
    amount: Decimal | None = None
    price: Decimal | None = None  # 不含税单价
    quantity: Decimal | None = None
    tax_rate: Decimal | None = None
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None


class OcrSyncCheckResult(_Camel):
    """000 ``data[].checkResult``: the tax authority's answer, every field of the example."""

    result: int | None = None  # 1 success
    invoice_type: str | None = None  # platform type code
    invoice_code: str | None = None
    invoice_num: str | None = None
    receipt_date: int | None = None  # epoch milliseconds
    check_code: str | None = None
    total_amount: Decimal | None = None
    amount: Decimal | None = None
    tax_amount: Decimal | None = None
    remark: str | None = None
    buyer_name: str | None = None
    buyer_tax_code: str | None = None
    buyer_address_phone: str | None = None
    buyer_account: str | None = None
    seller_name: str | None = None
    seller_tax_code: str | None = None
    seller_address_phone: str | None = None
    seller_account: str | None = None
    cancellation_mark: str | None = None  # Y/N
    detail_list: list[CheckDetail] | None = None
    log_id: int | None = None


class OcrSyncItem(_Camel):
    """One element of 000's ``data`` when no expense is created. Besides the example's
    ``ocrResult`` and ``checkResult``, the hub says why the invoice has its status (F, C,
    U, I) with the fields and names of the answer with an expense: ``invoice_message_code``
    (the catalogue's code, 907008 …) and ``invoice_message`` (its Chinese message and the
    detail); both are null for Y."""

    ocr_result: OcrResult | None = None
    check_result: OcrSyncCheckResult | None = None
    invoice_message: str | None = Field(default=None, alias="invoice_message")
    invoice_message_code: int | None = Field(default=None, alias="invoice_message_code")


class OcrSyncResponse(_Camel):
    """000 response envelope: ``data`` is an array, one element per invoice in the file.

    Both element shapes forbid extra fields, so each JSON element validates as exactly
    one of them.
    """

    res_code: int
    res_msg: str | None = None
    biz_id: str | None = None
    data: list[OcrSyncItem | ExpenseResult] | None = None
