"""Spec 001 ``POST /common/invoice/create``: 票据创建, names exactly as on the wire.

The request carries one recognized invoice (``receipt_ocr.invoices[]``) and, for VAT
invoices, the tax authority's answer (``receipt_check``). The models only describe the
shape: the rules of 001 (exactly one invoice, ``receipt_check`` for VAT, per-type
required fields, remark length, currency) live in ``fapiao.rules``.

Values stay as they are on the wire (type codes, "yyyyMMdd", ISO datetimes, Y/N) so that
a request serialises back to its own text; ``fapiao.mapping.invoice_create`` decodes them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from fapiao.model import InvoiceStatus
from fapiao.wire.common import StrictWireModel, WireModel

_YES = frozenset({"Y", "YES", "TRUE", "1"})
_NO = frozenset({"N", "NO", "FALSE", "0"})


def _yes_no(value: object) -> object:
    """Y/N flags arrive as "Y", "y", true, "true" or ""; the wire writes "Y"/"N"."""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, str):
        text = value.strip().upper()
        if not text:
            return None
        if text in _YES:
            return "Y"
        if text in _NO:
            return "N"
    return value  # anything else fails the Literal with a clear message


YesNo = Annotated[Literal["Y", "N"] | None, BeforeValidator(_yes_no)]
"""A Y/N flag of specs 000/001 (tolerant on input, "Y"/"N" on output)."""


# --- request -------------------------------------------------------------------------


class FlightLeg(WireModel):
    """001 ``receipt_ocr.invoices[].flight_detail[]``: one leg of an itinerary (type 65)."""

    from_: str | None = Field(default=None, alias="from")  # 出发站; `from` is a keyword
    to: str | None = None  # 到达站
    time: str | None = None  # 乘机时间 HH:mm
    date: str | None = None  # 乘机日期, as printed
    seat: str | None = None  # 座位等级
    flight_class: str | None = None  # 舱位: 头等舱/公务舱/经济舱/超级经济舱
    class_name: str | None = None  # 舱位等级
    flight_number: str | None = None


class OcrInvoice(WireModel):
    """001 ``receipt_ocr.invoices[]``: one recognized invoice, every field of the table."""

    image_size: list[int] | None = None  # 图片分辨率 [width, height]
    attachment_url: str  # 文件地址 (required)
    invoice_type: str  # platform type code (required); decoded by the catalogue
    direction: int | None = None  # 顺时针旋转方向
    region: list[int] | None = None  # [x1, y1, x2, y2]
    invoice_code: str | None = None  # 发票代码 / 车次 for train tickets
    amount: Decimal | None = None  # 不含税金额
    tax_amount: Decimal | None = None
    total_amount: Decimal  # 价税合计 (required)
    subtotal_amount: Decimal | None = None
    highway_flag: YesNo = None
    tax_rate: Decimal | None = None
    invoice_number: str | None = None
    receipt_date: str | None = None  # yyyyMMdd, kept as text so it round-trips
    remark: str | None = None
    title: str | None = None
    check_code: str | None = None
    agent_mark: str | None = None  # 是否代开
    buyer_name: str | None = None
    buyer_tax_code: str | None = None
    seller_name: str | None = None
    seller_tax_code: str | None = None
    currency: str | None = None
    purchase_invoice: YesNo = None
    buyer_bank: str | None = None  # 开户银行
    other_info: str | None = None
    start_time: str | None = None  # HH:mm (taxi)
    end_time: str | None = None  # HH:mm (taxi)
    mileage: Decimal | None = None
    destination_city: str | None = None  # 起点
    destination_city_to: str | None = None  # 终点
    train_class: str | None = None
    train_number: str | None = None
    start_datetime: str | None = None  # 乘车时间 HH:mm (train)
    name: str | None = None  # 乘车人姓名
    id_card: str | None = None
    fare: Decimal | None = None
    fuel_surcharge: Decimal | None = None
    civil_avn_dev_fund: Decimal | None = None
    other_taxes: Decimal | None = None
    insurance: Decimal | None = None
    international_flag: str | None = None  # D domestic / I international
    error_num_flag: bool | None = None
    flight_detail: list[FlightLeg] | None = None
    company_seal: YesNo = None


class ReceiptOcr(WireModel):
    """001 ``receipt_ocr``: the recognition result."""

    version: str | None = None
    result: int  # 1 success, 0 failure
    error: str | None = None
    message: str | None = None
    time_cost: str | None = None  # milliseconds, as text ("1360")
    # A list of any length: 001's "only one invoice" is a rule, so that a request with
    # two gets the rule's error code rather than a schema error.
    invoices: list[OcrInvoice]


class CheckDetailLine(WireModel):
    """001 ``receipt_check.detail_list[]``: one line of goods or services."""

    name: str | None = None
    specification: str | None = None
    unit: str | None = None
    total_amount: Decimal | None = None
    amount: Decimal | None = None
    tax_amount: Decimal | None = None
    price: Decimal | None = None  # 不含税单价
    quantity: Decimal | None = None
    tax_rate: Decimal | None = None


class ReceiptCheck(WireModel):
    """001 ``receipt_check``: the tax authority's answer (查验), every field of the table."""

    result: int | None = None  # 1 success
    error: str | None = None
    message: str | None = None
    # Java Dates as ISO text ("2022-07-21T17:07:42.000Z"), kept verbatim so they
    # round-trip; the mapper reads them in the Asia/Shanghai calendar.
    check_date: str | None = None
    invoice_type: str | None = None
    invoice_code: str | None = None
    invoice_num: str | None = None
    receipt_date: str | None = None
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
    cancellation_mark: YesNo = None  # 作废标识
    repeat_flag: str | None = None  # in the example, not the table
    detail_list: list[CheckDetailLine] | None = None


class CreateRequest(WireModel):
    """001 request body."""

    biz_id: str = Field(alias="bizId")  # 36 characters at most (a rule)
    timestamp: int  # epoch milliseconds
    user_code: str
    receipt_ocr: ReceiptOcr
    receipt_check: ReceiptCheck | None = None


# --- response ------------------------------------------------------------------------


class ExpenseResult(StrictWireModel):
    """001 response ``data`` (an object), also the elements of 000's ``data`` array
    when an expense is created (000 says "返回字段详情见票据创建")."""

    expense_id: int | None = None
    invoice_message: str | None = None
    # The table says String, both examples write 907002: the hub writes a number and
    # accepts "907002" on input.
    invoice_message_code: int | None = None
    invoice_status: InvoiceStatus | None = None


class CreateResponse(StrictWireModel):
    """001 response envelope; ``data`` is an object here (an array in 000)."""

    res_code: int = Field(alias="resCode")
    res_msg: str | None = Field(default=None, alias="resMsg")
    biz_id: str | None = Field(default=None, alias="bizId")
    data: ExpenseResult | None = None
