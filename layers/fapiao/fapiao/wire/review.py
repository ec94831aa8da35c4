"""The review queue's API (``/common/review``), the hub's own, in the platform envelope of
specs 000/001: ``{"resCode": 200000, "resMsg": "success", "data": ...}``, refusals as
``{"resCode": 400000, "resMsg": "请求参数错误: ...", "data": null}``.

An entry's invoice fields carry 001's ``receipt_ocr.invoices[]`` names (``fields``), and
a fix sets fields by those names. Also here: the stored invoice's corrections as the
detail query (发票明细查询, 000's element shape) adds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from fapiao.model import InvoiceStatus
from fapiao.model.signature import SignatureCheck
from fapiao.wire.common import StrictWireModel, WireModel
from fapiao.wire.invoice_create import ReceiptCheck
from fapiao.wire.ocr_sync import OcrSyncItem

__all__ = [
    "FixRequest",
    "InvoiceDetailItem",
    "InvoiceDetailResponse",
    "ReviewCheck",
    "ReviewCorrection",
    "ReviewDetail",
    "ReviewDetailResponse",
    "ReviewDisagreement",
    "ReviewItem",
    "ReviewList",
    "ReviewListResponse",
    "ReviewOutcomeData",
    "ReviewOutcomeResponse",
    "ReviewRecheck",
    "ReviewRecheckState",
    "ReviewTransition",
]


class FixRequest(WireModel):
    """``POST /common/review/{review_id}/fix``: fields to correct or complete, by 001's
    ``receipt_ocr.invoices[]`` names (``{"set": {"total_amount": "113.00"}}``); null
    clears a field."""

    set_: dict[str, Any] = Field(alias="set", min_length=1, max_length=64)


class ReviewCorrection(StrictWireModel):
    """One field corrected or completed by hand: when, by which API client (and its key's
    role: submit, review, erp or admin), old and new."""

    field: str
    old: str | None = None
    new: str | None = None
    at: dt.datetime
    by: str
    role: str


class ReviewRecheck(StrictWireModel):
    """A re-check asked through the review API: when, by which API client, in which role."""

    at: dt.datetime
    by: str
    role: str


class ReviewTransition(StrictWireModel):
    """One status the invoice entered, when and why."""

    status: InvoiceStatus
    at: dt.datetime
    message_code: int | None = None
    message: str | None = None


class ReviewItem(StrictWireModel):
    """One entry of the queue.

    ``id`` names it in the API (an invoice key, or ``U-...`` for a file's invoice that was
    never stored); ``key``/``index`` the dropped object and the invoice's place in it
    (null when unknown); ``fields`` what was read, by 001's names.
    """

    id: str
    status: InvoiceStatus
    message_code: int | None = None
    message: str | None = None
    key: str | None = None
    index: int | None = None
    invoice_key: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    owner: str | None = None
    changed_at: dt.datetime
    type_name: str | None = None  # the invoice type's Chinese name
    file_name: str | None = None  # the last part of ``key``


class ReviewList(StrictWireModel):
    items: list[ReviewItem]
    cursor: str | None = None  # pass it back as ?cursor= for the next page; null: the last


class ReviewListResponse(StrictWireModel):
    res_code: int = Field(alias="resCode")
    res_msg: str | None = Field(default=None, alias="resMsg")
    data: ReviewList


class ReviewCheck(StrictWireModel):
    """One verification of the invoice: when, what it answered (status, the catalogue's
    code and message), who decided (provider, cache, offline_checks, file_signature,
    client ...) and whether a request reached the provider."""

    at: dt.datetime
    status: InvoiceStatus
    message_code: int | None = None
    message: str | None = None
    source: str | None = None
    paid: bool = False


class ReviewDisagreement(StrictWireModel):
    """Sources of the reading that said different things of a field (001's name)."""

    field: str
    readings: dict[str, str]


class ReviewRecheckState(StrictWireModel):
    """Whether a re-check by hand can be asked now, and why not."""

    allowed: bool
    reason: str | None = None


class ReviewDetail(ReviewItem):
    """An entry and its history: for an invoice, the tax authority's answer (001's
    ``receipt_check``), every status it entered, every correction and every re-check
    asked by hand; for a file's invoice, the invoice that resolved it."""

    expense_id: int | None = None
    check: ReceiptCheck | None = None
    transitions: list[ReviewTransition] = Field(default_factory=list)
    corrections: list[ReviewCorrection] = Field(default_factory=list)
    rechecks: list[ReviewRecheck] = Field(default_factory=list)
    resolved_by: str | None = None
    # Where each field came from, by 001's names: qr, text_layer, ocr, ofd_xml, ofd_text,
    # provider, and correction first for a field corrected by hand.
    sources: dict[str, list[str]] = Field(default_factory=dict)
    disagreements: list[ReviewDisagreement] = Field(default_factory=list)
    checks: list[ReviewCheck] = Field(default_factory=list)
    signature: SignatureCheck | None = None  # the file's signature check, when known
    recheck: ReviewRecheckState | None = None


class ReviewDetailResponse(StrictWireModel):
    res_code: int = Field(alias="resCode")
    res_msg: str | None = Field(default=None, alias="resMsg")
    data: ReviewDetail


class ReviewOutcomeData(StrictWireModel):
    """What a fix or a re-check ended in."""

    id: str  # the entry's name now: the invoice key once the invoice is stored
    status: InvoiceStatus
    message_code: int | None = None
    message: str | None = None
    invoice_key: str | None = None
    expense_id: int | None = None


class ReviewOutcomeResponse(StrictWireModel):
    res_code: int = Field(alias="resCode")
    res_msg: str | None = Field(default=None, alias="resMsg")
    data: ReviewOutcomeData


# --- 发票明细查询 with corrections ------------------------------------------------------


class InvoiceDetailItem(OcrSyncItem):
    """000's element (``ocrResult``, ``checkResult``) plus the fields corrected by hand."""

    corrections: list[ReviewCorrection] = Field(default_factory=list)
    # The check of the file the invoice was read from (issue 15); null when it came
    # without its file (001's own request) or was stored before files were checked.
    signature: SignatureCheck | None = None


class InvoiceDetailResponse(StrictWireModel):
    """发票明细查询's answer: 000's envelope, an element per stored invoice."""

    model_config = ConfigDict(alias_generator=to_camel)

    res_code: int
    res_msg: str | None = None
    biz_id: str | None = None
    data: list[InvoiceDetailItem] | None = None
