"""The invoice-type catalogue: one canonical type, its code in every vocabulary.

Five vocabularies meet in this hub and their numbers collide (the platform's 51 is a
quota invoice, the QR code's 51 a 数电 rail ticket), so the hub never passes a bare
code around: every code is decoded here into an ``InvoiceType`` at the edge and
encoded back at the edge. An unknown code raises ``UnknownTypeCode``; a type with no
code in a vocabulary raises ``TypeNotInVocabulary``. Nothing defaults silently.

Vocabularies:
- ``PLATFORM``: ``invoice_type`` of specs 000/001. Codes named by 001 are the
  platform's; the ones marked "hub" are this hub's choice for types 001 never names.
- ``EXOCR_REQUEST``: ``invoice_type`` sent to exocr (spec 003 request, 01..17).
- ``EXOCR_RESPONSE``: ``invoice_type`` in exocr's answer (spec 003, 10..160).
- ``YIPIAOYUN``: ``invoiceType`` of spec 004 (1000..6001).
- ``QR``: the second field of the QR code printed on VAT invoices (the tax
  authority's 发票种类代码; 31/32/51/61 are the 数电 codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum


class Vocabulary(StrEnum):
    PLATFORM = "platform"
    EXOCR_REQUEST = "exocr_request"
    EXOCR_RESPONSE = "exocr_response"
    YIPIAOYUN = "yipiaoyun"
    QR = "qr"


class ExocrTotal(StrEnum):
    """What exocr's ``total`` request field carries for a type (spec 003)."""

    PRETAX = "pretax"  # 开具金额(不含税) / 不含税价 / 不含税金额
    TOTAL_WITH_TAX = "total_with_tax"  # 价税合计
    SUM = "sum"  # 02: 合计金额
    CAR_PRICE = "car_price"  # 15: 车价合计
    NONE = "none"  # 可不传


class InvoiceType(Enum):
    """Canonical invoice types. The value is the Chinese name printed on the invoice."""

    VAT_SPECIAL = "增值税专用发票"
    VAT_FREIGHT_SPECIAL = "货物运输业增值税专用发票"
    MOTOR_VEHICLE = "机动车销售统一发票"
    VAT_NORMAL = "增值税普通发票"
    VAT_ELECTRONIC_SPECIAL = "增值税电子专用发票"
    VAT_ELECTRONIC_NORMAL = "增值税电子普通发票"
    VAT_ROLL = "增值税普通发票(卷式)"
    VAT_ELECTRONIC_TOLL = "增值税电子普通发票(通行费)"
    USED_CAR = "二手车销售统一发票"
    DIGITAL_PAPER_SPECIAL = "全电纸质发票(增值税专用发票)"
    DIGITAL_PAPER_NORMAL = "全电纸质发票(普通发票)"
    DIGITAL_SPECIAL = "电子发票(增值税专用发票)"
    DIGITAL_NORMAL = "电子发票(普通发票)"
    DIGITAL_RAIL = "电子发票(铁路电子客票)"
    DIGITAL_FLIGHT = "电子发票(航空运输电子客票行程单)"
    BLOCKCHAIN = "区块链发票"
    QUOTA = "定额发票"
    TRAIN = "火车票"
    TAXI = "出租车发票"
    BUS = "客运汽车票"
    TOLL = "过路费发票"
    FLIGHT_ITINERARY = "航空运输电子客票行程单"
    MACHINE_PRINTED = "机打发票"
    RECEIPT = "国际小票"
    RIDE_HAILING_ITINERARY = "滴滴出行行程单"
    TAX_CERTIFICATE = "完税证明"
    OTHER_REIMBURSABLE = "可报销其他发票"
    OTHER = "其他"

    @property
    def info(self) -> TypeInfo:
        return _INFO[self]

    @property
    def is_vat(self) -> bool:
        """A VAT invoice: 001 requires ``receipt_check`` for it."""
        return self.info.is_vat

    @property
    def is_digital(self) -> bool:
        """A 数电 (全面数字化) invoice: 20-digit number, no code."""
        return self.info.is_digital

    @property
    def requires_receipt_date(self) -> bool:
        """001 日期必填票据类型."""
        return self.info.requires_receipt_date

    @property
    def exocr_total(self) -> ExocrTotal | None:
        return self.info.exocr_total


class UnknownTypeCode(ValueError):
    """A code that no row of the vocabulary's table holds."""

    def __init__(self, vocabulary: Vocabulary, code: object) -> None:
        super().__init__(f"unknown {vocabulary.value} invoice type code: {code!r}")
        self.vocabulary = vocabulary
        self.code = code


class TypeNotInVocabulary(ValueError):
    """A canonical type that a vocabulary has no code for."""

    def __init__(self, vocabulary: Vocabulary, invoice_type: InvoiceType) -> None:
        super().__init__(f"{invoice_type.name} has no {vocabulary.value} invoice type code")
        self.vocabulary = vocabulary
        self.invoice_type = invoice_type


@dataclass(frozen=True)
class TypeInfo:
    is_vat: bool = False
    is_digital: bool = False
    requires_receipt_date: bool = False
    exocr_total: ExocrTotal | None = None  # None: exocr cannot verify the type


T = InvoiceType

_INFO: dict[InvoiceType, TypeInfo] = {
    T.VAT_SPECIAL: TypeInfo(True, False, True, ExocrTotal.PRETAX),
    T.VAT_FREIGHT_SPECIAL: TypeInfo(True, False, True, ExocrTotal.SUM),
    T.MOTOR_VEHICLE: TypeInfo(True, False, True, ExocrTotal.PRETAX),
    T.VAT_NORMAL: TypeInfo(True, False, True, ExocrTotal.NONE),
    T.VAT_ELECTRONIC_SPECIAL: TypeInfo(True, False, True, ExocrTotal.PRETAX),
    T.VAT_ELECTRONIC_NORMAL: TypeInfo(True, False, True, ExocrTotal.TOTAL_WITH_TAX),
    T.VAT_ROLL: TypeInfo(True, False, True, ExocrTotal.NONE),
    T.VAT_ELECTRONIC_TOLL: TypeInfo(True, False, True, ExocrTotal.NONE),
    T.USED_CAR: TypeInfo(True, False, True, ExocrTotal.CAR_PRICE),
    T.DIGITAL_PAPER_SPECIAL: TypeInfo(True, True, True, ExocrTotal.TOTAL_WITH_TAX),
    T.DIGITAL_PAPER_NORMAL: TypeInfo(True, True, True, ExocrTotal.TOTAL_WITH_TAX),
    T.DIGITAL_SPECIAL: TypeInfo(True, True, True, ExocrTotal.TOTAL_WITH_TAX),
    T.DIGITAL_NORMAL: TypeInfo(True, True, True, ExocrTotal.TOTAL_WITH_TAX),
    T.DIGITAL_RAIL: TypeInfo(True, True, True, ExocrTotal.TOTAL_WITH_TAX),
    T.DIGITAL_FLIGHT: TypeInfo(True, True, True, ExocrTotal.TOTAL_WITH_TAX),
    T.BLOCKCHAIN: TypeInfo(True, False, False, ExocrTotal.PRETAX),
    T.QUOTA: TypeInfo(),
    T.TRAIN: TypeInfo(),
    T.TAXI: TypeInfo(),
    T.BUS: TypeInfo(),
    T.TOLL: TypeInfo(),
    T.FLIGHT_ITINERARY: TypeInfo(),
    T.MACHINE_PRINTED: TypeInfo(),
    T.RECEIPT: TypeInfo(),
    T.RIDE_HAILING_ITINERARY: TypeInfo(),
    T.TAX_CERTIFICATE: TypeInfo(),
    T.OTHER_REIMBURSABLE: TypeInfo(),
    T.OTHER: TypeInfo(),
}

# Each table: code -> canonical type. A code listed once decodes; the first code listed
# for a type is the one it encodes to (later ones are accepted aliases on input).

PLATFORM: dict[str, InvoiceType] = {
    "01": T.VAT_SPECIAL,
    "02": T.VAT_FREIGHT_SPECIAL,
    "03": T.MOTOR_VEHICLE,
    "04": T.VAT_NORMAL,
    "08": T.VAT_ELECTRONIC_SPECIAL,
    "10": T.VAT_ELECTRONIC_NORMAL,
    "11": T.VAT_ROLL,
    "14": T.VAT_ELECTRONIC_TOLL,
    "15": T.USED_CAR,
    "18": T.DIGITAL_PAPER_SPECIAL,
    "19": T.DIGITAL_PAPER_NORMAL,
    "20": T.DIGITAL_SPECIAL,
    "21": T.DIGITAL_NORMAL,
    "67": T.DIGITAL_RAIL,
    "68": T.DIGITAL_FLIGHT,
    "51": T.QUOTA,
    "60": T.TRAIN,
    "61": T.TAXI,
    "63": T.TOLL,
    "65": T.FLIGHT_ITINERARY,
    # hub: types that 001 does not name
    "22": T.BLOCKCHAIN,
    "62": T.BUS,
    "64": T.MACHINE_PRINTED,
    "66": T.RIDE_HAILING_ITINERARY,
    "69": T.TAX_CERTIFICATE,
    "70": T.RECEIPT,
    "98": T.OTHER_REIMBURSABLE,
    "99": T.OTHER,
}

EXOCR_REQUEST: dict[str, InvoiceType] = {
    "01": T.VAT_SPECIAL,
    "02": T.VAT_FREIGHT_SPECIAL,
    "03": T.MOTOR_VEHICLE,
    "04": T.VAT_NORMAL,
    "09": T.VAT_ELECTRONIC_SPECIAL,
    "10": T.VAT_ELECTRONIC_NORMAL,
    "11": T.VAT_ROLL,
    "14": T.VAT_ELECTRONIC_TOLL,
    "15": T.USED_CAR,
    "16": T.DIGITAL_NORMAL,  # 全电发票: every 数电 type is sent as 16
    "17": T.BLOCKCHAIN,
}
# 数电 types other than DIGITAL_NORMAL share request code 16.
_EXOCR_REQUEST_SHARED: dict[InvoiceType, str] = {
    T.DIGITAL_SPECIAL: "16",
    T.DIGITAL_PAPER_SPECIAL: "16",
    T.DIGITAL_PAPER_NORMAL: "16",
    T.DIGITAL_RAIL: "16",
    T.DIGITAL_FLIGHT: "16",
}

EXOCR_RESPONSE: dict[str, InvoiceType] = {
    "10": T.VAT_SPECIAL,
    "20": T.VAT_NORMAL,
    "30": T.VAT_ELECTRONIC_NORMAL,
    "40": T.VAT_FREIGHT_SPECIAL,
    "50": T.MOTOR_VEHICLE,
    "60": T.VAT_ROLL,
    "70": T.USED_CAR,
    "80": T.VAT_ELECTRONIC_TOLL,
    "90": T.VAT_ELECTRONIC_SPECIAL,
    "100": T.DIGITAL_SPECIAL,
    "110": T.DIGITAL_NORMAL,
    "140": T.DIGITAL_PAPER_SPECIAL,
    "150": T.DIGITAL_PAPER_NORMAL,
    "160": T.BLOCKCHAIN,
}

YIPIAOYUN: dict[str, InvoiceType] = {
    "1000": T.VAT_SPECIAL,
    "1001": T.VAT_NORMAL,
    "1002": T.VAT_ELECTRONIC_NORMAL,
    "1003": T.VAT_ROLL,
    "1004": T.MOTOR_VEHICLE,
    "1005": T.USED_CAR,
    "2000": T.QUOTA,
    "2001": T.RECEIPT,
    "2002": T.RIDE_HAILING_ITINERARY,  # only in 004's DiDi example, not its table
    "4000": T.MACHINE_PRINTED,
    "5000": T.TAXI,
    "5001": T.TRAIN,
    "5002": T.BUS,
    "5003": T.FLIGHT_ITINERARY,
    "5004": T.TOLL,
    "6000": T.OTHER_REIMBURSABLE,
    "6001": T.TAX_CERTIFICATE,
    "0000": T.OTHER,
    # alias on input: 004's VAT example is typed "10102" (an electronic ordinary invoice)
    "10102": T.VAT_ELECTRONIC_NORMAL,
}

# The QR code's 发票种类代码 as real codes carry it. An 增值税电子专用发票 says 20 in its
# QR code (08 is its code at the tax authority's verification service, accepted too).
# 31/32 are 数电 special/normal (a 数电 paper invoice also says 31/32, with a code:
# recognize.qr tells them apart), 33/34 数电 motor-vehicle/used-car invoices. The
# authority's 票种 codes are accepted as aliases: 81/82 数电 special/normal, 83/84 数电
# motor-vehicle/used-car, 85/86 数电 paper special/normal, 87/88 数电 paper
# motor-vehicle/used-car. 59 (数电 toll) has no canonical type and stays unknown.
QR: dict[str, InvoiceType] = {
    "01": T.VAT_SPECIAL,
    "02": T.VAT_FREIGHT_SPECIAL,
    "03": T.MOTOR_VEHICLE,
    "04": T.VAT_NORMAL,
    "20": T.VAT_ELECTRONIC_SPECIAL,
    "08": T.VAT_ELECTRONIC_SPECIAL,
    "10": T.VAT_ELECTRONIC_NORMAL,
    "11": T.VAT_ROLL,
    "14": T.VAT_ELECTRONIC_TOLL,
    "15": T.USED_CAR,
    "31": T.DIGITAL_SPECIAL,
    "32": T.DIGITAL_NORMAL,
    "33": T.MOTOR_VEHICLE,
    "34": T.USED_CAR,
    "51": T.DIGITAL_RAIL,
    "61": T.DIGITAL_FLIGHT,
    "81": T.DIGITAL_SPECIAL,
    "82": T.DIGITAL_NORMAL,
    "83": T.MOTOR_VEHICLE,
    "84": T.USED_CAR,
    "85": T.DIGITAL_PAPER_SPECIAL,
    "86": T.DIGITAL_PAPER_NORMAL,
    "87": T.MOTOR_VEHICLE,
    "88": T.USED_CAR,
}

TABLES: dict[Vocabulary, dict[str, InvoiceType]] = {
    Vocabulary.PLATFORM: PLATFORM,
    Vocabulary.EXOCR_REQUEST: EXOCR_REQUEST,
    Vocabulary.EXOCR_RESPONSE: EXOCR_RESPONSE,
    Vocabulary.YIPIAOYUN: YIPIAOYUN,
    Vocabulary.QR: QR,
}


def _first_codes(table: dict[str, InvoiceType]) -> dict[InvoiceType, str]:
    encode: dict[InvoiceType, str] = {}
    for code, invoice_type in table.items():
        encode.setdefault(invoice_type, code)
    return encode


_ENCODE: dict[Vocabulary, dict[InvoiceType, str]] = {
    vocabulary: _first_codes(table) for vocabulary, table in TABLES.items()
}
_ENCODE[Vocabulary.EXOCR_REQUEST].update(_EXOCR_REQUEST_SHARED)


def decode(vocabulary: Vocabulary, code: str | int) -> InvoiceType:
    """The canonical type of ``code`` in ``vocabulary``; ``UnknownTypeCode`` if none."""
    text = str(code).strip()
    table = TABLES[vocabulary]
    if text in table:
        return table[text]
    # Two-digit vocabularies arrive as numbers too (1 for "01").
    two_digit = vocabulary in (Vocabulary.PLATFORM, Vocabulary.EXOCR_REQUEST, Vocabulary.QR)
    if two_digit and text.isdigit() and len(text) == 1 and text.zfill(2) in table:
        return table[text.zfill(2)]
    raise UnknownTypeCode(vocabulary, code)


def encode(vocabulary: Vocabulary, invoice_type: InvoiceType) -> str:
    """The code of ``invoice_type`` in ``vocabulary``; ``TypeNotInVocabulary`` if none."""
    try:
        return _ENCODE[vocabulary][invoice_type]
    except KeyError:
        raise TypeNotInVocabulary(vocabulary, invoice_type) from None


def from_platform_code(code: str | int) -> InvoiceType:
    return decode(Vocabulary.PLATFORM, code)


def to_platform_code(invoice_type: InvoiceType) -> str:
    return encode(Vocabulary.PLATFORM, invoice_type)


def to_exocr_request_code(invoice_type: InvoiceType) -> str:
    return encode(Vocabulary.EXOCR_REQUEST, invoice_type)


def from_exocr_response_code(code: str | int) -> InvoiceType:
    return decode(Vocabulary.EXOCR_RESPONSE, code)


def to_exocr_response_code(invoice_type: InvoiceType) -> str:
    return encode(Vocabulary.EXOCR_RESPONSE, invoice_type)


def from_yipiaoyun_code(code: str | int) -> InvoiceType:
    return decode(Vocabulary.YIPIAOYUN, code)


def to_yipiaoyun_code(invoice_type: InvoiceType) -> str:
    return encode(Vocabulary.YIPIAOYUN, invoice_type)


def from_qr_code(code: str | int) -> InvoiceType:
    return decode(Vocabulary.QR, code)
