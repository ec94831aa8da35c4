"""The canonical invoice: one model that every wire format maps into and out of.

Field names follow ``receipt_ocr.invoices[]`` and ``receipt_check`` of spec 001, which
cover the fields of the other four specs. Money is ``Decimal`` throughout; dates are
calendar dates of Asia/Shanghai (see ``fapiao.dates``).

The other domain types live beside it, one module per subject, and import nothing of
the hub but the catalogue, ``fapiao.dates`` and this module:

- ``fapiao.model.stored``: an invoice as stored, its transitions, the expense it is
  bound to, and the store's refusals (``DuplicateInvoice`` ...);
- ``fapiao.model.parties``: who the hub serves (an API client, an employee);
- ``fapiao.model.create``: an invoice to create and what creating it answered (001);
- ``fapiao.model.pipeline``: the S3 drop pipeline's objects, readings and outcomes.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict, Field

from fapiao.basemodel import HubModel
from fapiao.catalogue.types import InvoiceType


class InvoiceStatus(StrEnum):
    """Status letters of spec 000/001 (``invoice_status``)."""

    VERIFIED = "Y"  # 已验真
    CHECK_FAILED = "F"  # 查验失败
    AWAITING_CHECK = "C"  # 待查验
    RECOGNIZING = "R"  # 识别中
    UNRECOGNISABLE = "U"  # 无法识别
    RECOGNIZED = "I"  # 已识别


class InvoiceState(StrEnum):
    """State of an invoice at the tax authority (exocr ``inv_status``)."""

    NORMAL = "normal"  # 0
    VOID = "void"  # 10 作废
    RED_LETTER = "red_letter"  # 20 红票
    RED_REVERSED = "red_reversed"  # 30 红冲
    PARTLY_RED_REVERSED = "partly_red_reversed"  # 40 部分红冲
    FULLY_RED_REVERSED = "fully_red_reversed"  # 50 全额红冲


class _Canonical(HubModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LineItem(_Canonical):
    """One line of goods or services (001 ``detail_list[]``)."""

    name: str | None = None
    specification: str | None = None
    unit: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None  # 不含税单价
    amount: Decimal | None = None  # 金额 (pre-tax)
    tax_rate: Decimal | None = None  # a fraction: 0.13, not 13
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None


class FlightSegment(_Canonical):
    """One leg of a flight itinerary (001 ``flight_detail[]``)."""

    departure: str | None = None  # from
    arrival: str | None = None  # to
    date: str | None = None
    time: str | None = None  # HH:mm
    seat: str | None = None
    flight_class: str | None = None
    class_name: str | None = None
    flight_number: str | None = None
    carrier: str | None = None


class Invoice(_Canonical):
    """What is printed on one invoice, whichever format it came from."""

    invoice_type: InvoiceType
    invoice_code: str | None = None
    invoice_number: str | None = None
    receipt_date: dt.date | None = None  # 开票日期, Asia/Shanghai calendar date
    check_code: str | None = None
    title: str | None = None

    amount: Decimal | None = None  # 不含税金额
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None  # 价税合计
    subtotal_amount: Decimal | None = None
    tax_rate: Decimal | None = None
    currency: str | None = None

    buyer_name: str | None = None
    buyer_tax_code: str | None = None
    buyer_address_phone: str | None = None
    buyer_account: str | None = None  # 开户行及账号
    seller_name: str | None = None
    seller_tax_code: str | None = None
    seller_address_phone: str | None = None
    seller_account: str | None = None

    remark: str | None = None
    agent_mark: str | None = None
    machine_number: str | None = None
    company_seal: bool | None = None
    purchase_invoice: bool | None = None
    highway_flag: bool | None = None
    other_info: str | None = None
    error_num_flag: bool | None = None

    # Transport fields (train, taxi, toll, bus, flight).
    start_time: str | None = None  # HH:mm
    end_time: str | None = None  # HH:mm
    start_datetime: str | None = None  # HH:mm (train)
    mileage: Decimal | None = None
    destination_city: str | None = None  # 起点
    destination_city_to: str | None = None  # 终点
    train_number: str | None = None
    train_class: str | None = None
    seat: str | None = None  # 02车03D号 (train); no 001 field: canonical and events only
    plate_number: str | None = None  # 车号 (taxi); no 001 field: canonical and events only
    passenger_name: str | None = None  # 001 ``name``
    id_card: str | None = None
    fare: Decimal | None = None
    fuel_surcharge: Decimal | None = None
    civil_avn_dev_fund: Decimal | None = None
    other_taxes: Decimal | None = None
    insurance: Decimal | None = None
    international_flag: str | None = None  # D domestic, I international
    flight_detail: list[FlightSegment] = Field(default_factory=list)

    items: list[LineItem] = Field(default_factory=list)

    # Where the file lies and how the invoice sits on it.
    attachment_url: str | None = None
    image_size: list[int] | None = None
    direction: int | None = None
    region: list[int] | None = None

    @property
    def invoice_key(self) -> str | None:
        return invoice_key(self.invoice_code, self.invoice_number)


class CheckResult(_Canonical):
    """The tax authority's answer for one invoice (001 ``receipt_check``)."""

    success: bool  # 001 result == 1
    error: str | None = None
    message: str | None = None
    checked_at: dt.datetime | None = None  # aware datetime
    invoice: Invoice  # the invoice as the tax authority knows it
    cancelled: bool = False  # 作废标识
    state: InvoiceState = InvoiceState.NORMAL
    repeat_flag: str | None = None
    verify_count: int | None = None


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def invoice_key(code: str | None, number: str | None) -> str | None:
    """The key that makes an invoice unique: code + number, letters and digits only.

    数电 invoices have a 20-digit number and no code; a 20-digit number that arrives
    split into a 12-digit "code" and an 8-digit "number" joins back into the same key.
    Letters count (train ticket numbers such as 80K015233), upper-cased.
    """
    number_part = _NOT_ALNUM.sub("", number or "").upper()
    if not number_part:
        return None
    return _NOT_ALNUM.sub("", code or "").upper() + number_part
