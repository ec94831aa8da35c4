"""Spec 004: yipiaoyun asynchronous recognition (发票识别): submit, get an id, poll.

``POST /openapi/identify/sendByImageUrl`` (or ``sendByImageFile``, multipart) answers an
identify id in ``data``; ``POST /openapi/identify/result`` with that id answers the
recognized invoice. The hub calls yipiaoyun with these shapes and serves the same shapes
on its own identify endpoints.

Attribute names are the wire's camelCase names, unaliased, so the code reads like the
spec and a grep for a wire name finds its field.

The result's ``data`` does not name its schema except through ``invoiceType``, and the
spec's examples contradict its tables. Each type's table is one model holding the
table's fields plus the names its example uses instead (input tolerance; a round trip
reproduces the example), and ``result_data_kind`` picks the model:

- VAT example: ``amountWithTax`` where the table says ``totalAmount``, type "10102"
  (decoded by the catalogue as an alias of 1002).
- Motor-vehicle example: ``sellerTaxNo``/``machineNumber`` where the table says
  ``sellerNumber``/``machineNo``.
- Machine-printed example typed 6001, which the type table gives to 完税证明: a 6001
  payload with any field that only the machine-printed table has (``invoiceCode``,
  ``sellerName``, ``checkCode`` …) is the machine-printed shape; otherwise it is a tax
  certificate.
- DiDi example typed 2002, a code the type table lacks (the catalogue holds it).

The hub writes only the table's names (``totalAmount``, ``sellerNumber``, ``machineNo``)
and the table's codes (4000 for machine-printed).
"""

# ruff: noqa: N815  (camelCase is the wire's spelling)

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Discriminator, SerializerFunctionWrapHandler, Tag, model_serializer

from fapiao.catalogue.types import InvoiceType, UnknownTypeCode, from_yipiaoyun_code
from fapiao.wire.common import StrictWireModel, WireModel


class SendByImageUrlRequest(WireModel):
    """004 发送识别请求(URL): ``imageUrl`` of the invoice (PDF first page only)."""

    imageUrl: str


class SendResponse(StrictWireModel):
    """004 sendByImageUrl / sendByImageFile 返回: ``data`` is the identify id.

    ``code`` 0 is success; -1 is an error explained by ``message``.
    """

    code: int
    message: str | None = None
    data: str | None = None


class ResultRequest(WireModel):
    """004 获取识别结果 请求: the identify id that a send call returned."""

    identifyId: str


class _ResultData(StrictWireModel):
    """A per-type ``data`` schema of 004 获取识别结果.

    Strict like every response model, but numbers are accepted as JSON numbers too and
    kept as their text: yipiaoyun documents strings and the hub must not lose a digit.
    """

    model_config = ConfigDict(coerce_numbers_to_str=True)

    kind: ClassVar[str]
    # Names that only the spec's examples use: read when they come, never written empty.
    input_only: ClassVar[frozenset[str]] = frozenset()

    invoiceType: str

    @model_serializer(mode="wrap")
    def _drop_empty_input_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for name in self.input_only:
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


class VatResult(_ResultData):
    """004 电票、纸票、专票 (1000, 1001, 1002; the example says 10102)."""

    kind: ClassVar[str] = "vat"
    input_only: ClassVar[frozenset[str]] = frozenset({"amountWithTax"})

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    date: str | None = None  # "2019年07月06日"
    amountWithoutTax: str | None = None
    taxAmount: str | None = None
    totalAmount: str | None = None
    amountWithTax: str | None = None  # the example's name for totalAmount (input only)
    checkCode: str | None = None
    purchaserTaxNo: str | None = None
    purchaserName: str | None = None
    sellerTaxNo: str | None = None
    sellerName: str | None = None
    companySeal: str | None = None  # "1" has a seal, "0" has none
    formType: str | None = None  # 第几联
    formName: str | None = None  # 联次
    ciphertext: str | None = None
    payee: str | None = None
    reviewer: str | None = None
    ticketHolder: str | None = None  # 开票人
    province: str | None = None
    city: str | None = None
    remark: str | None = None
    itemNames: str | None = None  # comma-separated


class TaxiResult(_ResultData):
    """004 出租车发票 (5000)."""

    kind: ClassVar[str] = "taxi"

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    date: str | None = None
    timeGetOn: str | None = None  # HH:mm
    timeGetOff: str | None = None
    mileage: str | None = None
    totalAmount: str | None = None
    place: str | None = None
    province: str | None = None
    city: str | None = None


class TrainResult(_ResultData):
    """004 火车票 (5001)."""

    kind: ClassVar[str] = "train"

    invoiceNo: str | None = None
    date: str | None = None
    time: str | None = None
    stationGetOn: str | None = None
    stationGetOff: str | None = None
    trainNumber: str | None = None
    seat: str | None = None  # 二等座 …
    totalAmount: str | None = None
    serialNumber: str | None = None
    idNumber: str | None = None


class MachinePrintedResult(_ResultData):
    """004 机打发票 (4000; the example is typed 6001)."""

    kind: ClassVar[str] = "machine_printed"

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    date: str | None = None
    time: str | None = None
    checkCode: str | None = None
    category: str | None = None
    totalAmount: str | None = None
    purchaserTaxNo: str | None = None
    purchaserName: str | None = None
    sellerTaxNo: str | None = None
    sellerName: str | None = None
    province: str | None = None
    city: str | None = None
    companySeal: str | None = None


class RollResult(_ResultData):
    """004 增值税普通发票(卷票) (1003)."""

    kind: ClassVar[str] = "roll"

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    date: str | None = None
    checkCode: str | None = None
    purchaserTaxNo: str | None = None
    purchaserName: str | None = None
    sellerTaxNo: str | None = None
    sellerName: str | None = None
    category: str | None = None
    totalAmount: str | None = None
    province: str | None = None
    city: str | None = None
    companySeal: str | None = None
    serviceName: str | None = None
    itemNames: str | None = None


class QuotaResult(_ResultData):
    """004 定额发票 (2000)."""

    kind: ClassVar[str] = "quota"

    invoiceCode: str | None = None
    totalAmount: str | None = None
    province: str | None = None
    city: str | None = None
    companySeal: str | None = None


class TollResult(_ResultData):
    """004 过路费发票 (5004)."""

    kind: ClassVar[str] = "toll"

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    date: str | None = None
    time: str | None = None
    entrance: str | None = None
    exit: str | None = None
    totalAmount: str | None = None


class BusResult(_ResultData):
    """004 客运汽车 (5002)."""

    kind: ClassVar[str] = "bus"

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    date: str | None = None
    time: str | None = None
    stationGetOn: str | None = None
    stationGetOff: str | None = None
    totalAmount: str | None = None
    name: str | None = None


class FlightInfo(StrictWireModel):
    """004 航空运输电子客票行程单 ``flightInfos[#]``."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    startPoint: str | None = None
    endPoint: str | None = None
    flightNumber: str | None = None
    date: str | None = None
    time: str | None = None
    seat: str | None = None
    carrier: str | None = None


class FlightItineraryResult(_ResultData):
    """004 航空运输电子客票行程单 (5003)."""

    kind: ClassVar[str] = "flight"

    invoiceNo: str | None = None  # 电子客票号码
    checkCode: str | None = None
    name: str | None = None
    idNumber: str | None = None
    date: str | None = None
    agentCode: str | None = None  # 销售单位代号
    issueUnit: str | None = None  # 填开单位
    fareAmount: str | None = None
    taxAmount: str | None = None  # 税费
    fuelSurcharge: str | None = None
    caacDevelopmentFund: str | None = None
    insuranceAmount: str | None = None
    totalAmount: str | None = None
    internationalFlag: str | None = None  # "国内(D)"
    flightInfos: list[FlightInfo] | None = None


class UsedCarResult(_ResultData):
    """004 二手车销售统一发票 (1005)."""

    kind: ClassVar[str] = "used_car"

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    date: str | None = None
    totalAmount: str | None = None
    sellerName: str | None = None
    sellerNumber: str | None = None
    purchaserName: str | None = None
    purchaserNumber: str | None = None
    companyName: str | None = None  # 二手车市场
    companyTaxNo: str | None = None
    licensePlate: str | None = None
    registrationNumber: str | None = None
    carCode: str | None = None
    carModel: str | None = None
    province: str | None = None
    city: str | None = None


class MotorVehicleResult(_ResultData):
    """004 机动车销售统一发票 (1004)."""

    kind: ClassVar[str] = "motor_vehicle"
    input_only: ClassVar[frozenset[str]] = frozenset({"machineNumber", "sellerTaxNo"})

    invoiceCode: str | None = None
    invoiceNo: str | None = None
    machineCode: str | None = None  # 机打代码
    machineNo: str | None = None  # 机打号码
    machineNumber: str | None = None  # the example's name for machineNo (input only)
    date: str | None = None
    amountWithoutTax: str | None = None
    totalAmount: str | None = None
    sellerName: str | None = None
    sellerNumber: str | None = None  # 销售单位纳税人识别号
    sellerTaxNo: str | None = None  # the example's name for sellerNumber (input only)
    purchaserName: str | None = None
    purchaserNumber: str | None = None
    taxAuthoritiesName: str | None = None
    taxAuthoritiesCode: str | None = None
    carCode: str | None = None
    carEngineCode: str | None = None
    carModel: str | None = None
    certificateNumber: str | None = None
    taxAmount: str | None = None
    taxRate: str | None = None  # "17%"
    province: str | None = None
    city: str | None = None


class ReceiptResult(_ResultData):
    """004 小票 (2001 国际小票)."""

    kind: ClassVar[str] = "receipt"

    date: str | None = None
    time: str | None = None
    amountWithoutTax: str | None = None
    taxAmount: str | None = None
    totalAmount: str | None = None
    storeName: str | None = None
    discountAmount: str | None = None
    tipAmount: str | None = None
    currencyCode: str | None = None  # ISO 4217


class TaxCertificateResult(_ResultData):
    """004 完税证明 (6001)."""

    kind: ClassVar[str] = "tax_certificate"

    invoiceNo: str | None = None
    date: str | None = None
    totalAmount: str | None = None
    purchaserTaxNo: str | None = None
    purchaserName: str | None = None


class TripInfo(StrictWireModel):
    """004 滴滴出行行程单 ``tripInfos[#]``."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    carType: str | None = None
    timeGetOn: str | None = None  # "01-19 08:32 周五"
    city: str | None = None
    stationGetOn: str | None = None
    stationGetOff: str | None = None
    mileage: str | None = None  # km
    amount: str | None = None


class RideHailingResult(_ResultData):
    """004 滴滴出行行程单 (the example's 2002; PDF only)."""

    kind: ClassVar[str] = "ride_hailing"

    date: str | None = None  # 申请日期
    startDate: str | None = None
    endDate: str | None = None
    phone: str | None = None
    totalAmount: str | None = None
    tripInfos: list[TripInfo] | None = None


class OtherResult(_ResultData):
    """004 可报销其他发票 (6000), 其他 (0000) and codes the catalogue does not know.

    The spec gives these no table, so the fields are whatever arrives; the mapper
    decides what an unknown code means (it raises).
    """

    model_config = ConfigDict(extra="allow")

    kind: ClassVar[str] = "other"


_KIND_BY_TYPE: dict[InvoiceType, str] = {
    InvoiceType.VAT_SPECIAL: VatResult.kind,
    InvoiceType.VAT_NORMAL: VatResult.kind,
    InvoiceType.VAT_ELECTRONIC_NORMAL: VatResult.kind,
    InvoiceType.VAT_ROLL: RollResult.kind,
    InvoiceType.MOTOR_VEHICLE: MotorVehicleResult.kind,
    InvoiceType.USED_CAR: UsedCarResult.kind,
    InvoiceType.QUOTA: QuotaResult.kind,
    InvoiceType.RECEIPT: ReceiptResult.kind,
    InvoiceType.RIDE_HAILING_ITINERARY: RideHailingResult.kind,
    InvoiceType.MACHINE_PRINTED: MachinePrintedResult.kind,
    InvoiceType.TAXI: TaxiResult.kind,
    InvoiceType.TRAIN: TrainResult.kind,
    InvoiceType.BUS: BusResult.kind,
    InvoiceType.FLIGHT_ITINERARY: FlightItineraryResult.kind,
    InvoiceType.TOLL: TollResult.kind,
    InvoiceType.TAX_CERTIFICATE: TaxCertificateResult.kind,
}

# Fields of the machine-printed table that the tax-certificate table lacks.
MACHINE_PRINTED_MARKS = frozenset(
    set(MachinePrintedResult.model_fields) - set(TaxCertificateResult.model_fields)
)


def result_data_kind(data: Any) -> str:
    """Which 004 result schema ``data`` is, from ``invoiceType`` (and, for 6001, its fields)."""
    if isinstance(data, _ResultData):
        return data.kind
    if not isinstance(data, Mapping):
        return OtherResult.kind  # let the model report what is wrong with it
    try:
        invoice_type = from_yipiaoyun_code(str(data.get("invoiceType") or ""))
    except UnknownTypeCode:
        return OtherResult.kind
    if invoice_type is InvoiceType.TAX_CERTIFICATE:
        present = {key for key, value in data.items() if value is not None}
        if present & MACHINE_PRINTED_MARKS:
            return MachinePrintedResult.kind
    return _KIND_BY_TYPE.get(invoice_type, OtherResult.kind)


IdentifyResultData = Annotated[
    Annotated[VatResult, Tag(VatResult.kind)]
    | Annotated[TaxiResult, Tag(TaxiResult.kind)]
    | Annotated[TrainResult, Tag(TrainResult.kind)]
    | Annotated[MachinePrintedResult, Tag(MachinePrintedResult.kind)]
    | Annotated[RollResult, Tag(RollResult.kind)]
    | Annotated[QuotaResult, Tag(QuotaResult.kind)]
    | Annotated[TollResult, Tag(TollResult.kind)]
    | Annotated[BusResult, Tag(BusResult.kind)]
    | Annotated[FlightItineraryResult, Tag(FlightItineraryResult.kind)]
    | Annotated[UsedCarResult, Tag(UsedCarResult.kind)]
    | Annotated[MotorVehicleResult, Tag(MotorVehicleResult.kind)]
    | Annotated[ReceiptResult, Tag(ReceiptResult.kind)]
    | Annotated[TaxCertificateResult, Tag(TaxCertificateResult.kind)]
    | Annotated[RideHailingResult, Tag(RideHailingResult.kind)]
    | Annotated[OtherResult, Tag(OtherResult.kind)],
    Discriminator(result_data_kind),
]
"""004 ``IdentifyResultDto``: one of the per-type schemas, picked by ``result_data_kind``."""


class ResultResponse(StrictWireModel):
    """004 获取识别结果 返回: ``code`` 0 with ``data``, or -1 with ``message``."""

    code: int
    message: str | None = None
    data: IdentifyResultData | None = None
