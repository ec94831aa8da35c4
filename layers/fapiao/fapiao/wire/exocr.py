"""Spec 003: exocr ``POST /data/v1/verify_invoice`` (发票查验), request and response.

The hub calls exocr with this shape and serves the same shape on its own verify
endpoint. Field names are exocr's, misspellings included (``productO_oil_flag``,
``selier_name``, ``unit_prcie``, ``Usedcar_matker_phone``, ``equio_no``, ``txr_from``):
they are what travels on the wire.

Every number in ``result.data`` travels as a string ("1300.00") and stays a string
here, so a response round-trips to the exact text exocr sent; the mappers turn them
into ``Decimal``.

``result.data`` does not say which of the spec's seven schemas it is. Each schema is
its own model (so each declares exactly the spec's fields and rejects others), and
``verify_data_kind`` picks one from the fields that only that schema has, then from
``invoice_type``. One model with every field optional would accept anything and say
nothing about which fields belong to which invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import ConfigDict, Discriminator, Field, Tag

from fapiao.wire.common import StrictWireModel, WireModel


class VerifyRequest(WireModel):
    """003 请求参数: the form fields of ``verify_invoice`` (x-www-form-urlencoded).

    ``invoice_type`` is a request code (01 … 17), a different vocabulary from the
    response's ``invoice_type`` (10 … 160).
    """

    app_key: str
    app_secret: str
    invoice_type: str
    invoice_no: str
    invoice_code: str | None = None  # 全电发票可为空
    check_code_last6: str | None = None  # 区块链发票: five digits
    total: str | None = None  # which amount depends on invoice_type; 可不传 for some
    create_date: str | None = None  # yyyyMMdd
    want_image: int | None = None  # 1: return the verified invoice as a base64 image

    def to_form(self) -> dict[str, str]:
        """The form body: absent fields are left out, never sent as empty strings."""
        return {
            name: str(value)
            for name, value in self.model_dump(by_alias=True).items()
            if value is not None
        }

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Self:
        """Parse a form body; an empty value counts as absent (forms cannot send null)."""
        return cls.model_validate({name: value for name, value in form.items() if value != ""})


class _VerifyData(StrictWireModel):
    """A per-type ``result.data`` schema of 003.

    Strict like every response model, but numbers are accepted as JSON numbers too and
    kept as their text: exocr documents strings and the hub must not lose a digit.
    """

    model_config = ConfigDict(coerce_numbers_to_str=True)

    kind: ClassVar[str]

    invoice_code: str | None = None
    invoice_no: str | None = None
    invoice_type: str | None = None  # response code: 10 … 160
    verify_count: str | None = None
    create_date: str | None = None  # yyyyMMdd
    verify_date: str | None = None  # "2023-10-17 21:09:47", Asia/Shanghai


class VatItem(StrictWireModel):
    """003 增值税发票 货物信息: one line of ``detail_list``."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    name: str | None = None
    type: str | None = None  # 规格型号
    unit: str | None = None
    count: str | None = None
    unit_price: str | None = None
    amount: str | None = None  # 金额 (pre-tax)
    tax_rate: str | None = None  # percent: "9" is 9 %
    tax: str | None = None


class VatData(_VerifyData):
    """003 增值税专用/普通/电子发票, 电子发票(数电), 全电纸质发票, 区块链发票 查验响应报文."""

    kind: ClassVar[str] = "vat"

    buyer_name: str | None = None
    buyer_tax_no: str | None = None
    buyer_address: str | None = None  # 地址电话
    buyer_bank_info: str | None = None  # 开户行及账号
    seller_name: str | None = None
    seller_tax_no: str | None = None
    seller_address: str | None = None
    seller_bank_info: str | None = None
    total: str | None = None  # 合计金额: the pre-tax sum
    total_tax: str | None = None
    amount: str | None = None  # 价税合计
    note: str | None = None
    machine_no: str | None = None
    check_code: str | None = None
    cancel_flag: str | None = None  # Y/N
    inv_status: str | None = None  # 0 正常, 10 作废, 20 红票, 30 红冲, 40 部分红冲, 50 全额红冲
    productO_oil_flag: str | None = None  # noqa: N815 (sic, the wire name); 成品油标志 Y/N
    detail_list: list[VatItem] | None = None
    agent_mark: str | None = None  # Y 代开, N 自开, W 委托代开


class RollItem(StrictWireModel):
    """003 卷式发票 货物信息."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    item: str | None = None
    count: str | None = None
    unit_prcie: str | None = None  # sic; 含税单价
    amount: str | None = None  # 含税金额


class RollData(_VerifyData):
    """003 卷式发票查验响应报文."""

    kind: ClassVar[str] = "roll"

    seller_name: str | None = None
    seller_tax_no: str | None = None
    buyer_name: str | None = None
    buyer_tax_no: str | None = None
    machine_no: str | None = None
    total_tax: str | None = None
    amount: str | None = None  # 价税合计
    note: str | None = None
    check_code: str | None = None
    total: str | None = None  # 合计金额
    receiver: str | None = None  # 收款员
    cancel_flag: str | None = None
    productO_oil_flag: str | None = None  # noqa: N815 (sic, the wire name)
    detail_list: list[RollItem] | None = None
    agent_mark: str | None = None


class MotorVehicleData(_VerifyData):
    """003 机动车销售统一发票查验响应报文.

    The descriptions are the spec's and they are odd: ``seller_name`` is 车辆类型 (as in
    the used-car schema) and the seller is ``tounit_name`` 销货单位名称; ``note`` is the
    VIN, not a remark. The mapper follows the descriptions.
    """

    kind: ClassVar[str] = "motor_vehicle"

    chinese_key: str | None = None  # 机器编码
    buyer_tax_name: str | None = None  # 购买方名称
    buyer_id: str | None = None  # 身份证号码/组织机构代码
    buyer_tax_no: str | None = None
    seller_name: str | None = None  # 车辆类型
    vehicle_type: str | None = None  # 厂牌型号
    production_addr: str | None = None  # 产地
    cert_no: str | None = None  # 合格证号
    total: str | None = None  # 金额(不含税)
    test_no: str | None = None  # 商检单号
    engine_no: str | None = None
    note: str | None = None  # 车辆识别代号/车架号码
    import_no: str | None = None  # 进口证明书号
    tounit_name: str | None = None  # 销货单位名称
    phone: str | None = None
    seller_tax_no: str | None = None
    account: str | None = None  # 地址
    receive_bank: str | None = None  # 开户银行
    zztax_rate: str | None = None  # 增值税税率或征收率
    zztax: str | None = None  # 增值税税额
    tax_authority_code: str | None = None
    proof_num: str | None = None  # 完税凭证号码
    tonnage: str | None = None
    limit_num: str | None = None  # 限乘人数
    cancel_flag: str | None = None
    inv_status: str | None = None
    tax_authority_name: str | None = None
    amount: str | None = None  # 价税合计


class UsedCarData(_VerifyData):
    """003 二手车发票查验响应报文.

    The spec lists ``Used_car_market`` twice, once as the market's 纳税人识别号 and once
    as its 名称. A JSON object holds a name once, so there is one field; which of the
    two it carries is exocr's to say, and the mapper does not read it.
    """

    kind: ClassVar[str] = "used_car"

    chinese_key: str | None = None  # 机器编码
    buyer_tax_name: str | None = None  # 购买方名称
    buyer_tax_no: str | None = None  # 买方代码/身份证号
    buyer_tax_address: str | None = None
    buyer_tax_phone: str | None = None
    car_license: str | None = None  # 车牌照号
    register_no: str | None = None  # 登记证号
    seller_name: str | None = None  # 车辆类型 (sic, as the spec describes it)
    total: str | None = None  # 车价合计
    car_no: str | None = None  # 车辆识别代号/车架号码
    vehicle_type: str | None = None  # 厂牌型号
    unit_name: str | None = None  # 转入地车辆车管所名称
    selier_name: str | None = None  # sic; 卖方单位/个人
    selier_id: str | None = None  # sic; 卖方单位代码/身份证号
    selier_tax_address: str | None = None  # sic
    selier_tax_phone: str | None = None  # sic
    jy_unit: str | None = None  # 经营、拍卖单位
    jy_address: str | None = None
    jy_tax_no: str | None = None
    bank_account: str | None = None
    jy_phone: str | None = None
    Used_car_market: str | None = None  # listed twice: 纳税人识别号 and 名称
    Used_car_address: str | None = None
    Used_car_bankno: str | None = None
    Usedcar_matker_phone: str | None = None  # sic; 二手车市场电话
    cancel_flag: str | None = None
    inv_status: str | None = None
    remark: str | None = None


class TollItem(StrictWireModel):
    """003 通行费发票 货物信息."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    name: str | None = None
    license_type: str | None = None  # 车牌号
    type: str | None = None
    txr_from: str | None = None  # sic; 通行日期起
    txr_to: str | None = None  # sic; 通行日期止
    total: str | None = None  # 金额
    tax_rate: str | None = None
    tax: str | None = None


class TollData(_VerifyData):
    """003 通行费发票查验响应报文."""

    kind: ClassVar[str] = "toll"

    seller_name: str | None = None
    seller_tax_no: str | None = None
    seller_address: str | None = None
    seller_bank_info: str | None = None
    buyer_name: str | None = None
    buyer_tax_no: str | None = None
    buyer_address: str | None = None
    buyer_bank_info: str | None = None
    check_code: str | None = None
    total_tax: str | None = None
    amount: str | None = None  # 价税合计
    note: str | None = None
    equio_no: str | None = None  # sic; 设备编号
    total: str | None = None  # 金额
    txf_flag: str | None = None  # 通行费标志
    detail_list: list[TollItem] | None = None
    cancel_flag: str | None = None
    inv_status: str | None = None


class RailTicketData(_VerifyData):
    """003 电子发票(铁路电子客票)查验响应报文.

    The spec describes ``buyer_tax_no`` as 购方名称 and ``buyer_name`` as 购方统一社会
    信用代码; the mapper reads them by what they hold.
    """

    kind: ClassVar[str] = "rail"

    buyer_tax_no: str | None = None
    buyer_name: str | None = None
    business_type: str | None = None
    name: str | None = None  # passenger
    id_no: str | None = None
    total: str | None = None  # 金额
    total_tax: str | None = None
    amount: str | None = None  # 票价
    tax_rate: str | None = None
    station_from: str | None = None
    station_to: str | None = None
    train_no: str | None = None
    departure_date: str | None = None
    departure_time: str | None = None
    seat_class: str | None = None
    carriage_no: str | None = None
    seat: str | None = None
    ticket_type: str | None = None
    e_ticket_no: str | None = None
    air_condition_type: str | None = None
    cancel_flag: str | None = None
    inv_status: str | None = None
    remark: str | None = None


class FlightDetail(StrictWireModel):
    """003 航空运输电子客票行程单 货物信息: one flight segment."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    invoice_detail_number: str | None = None  # 航段
    from_: str | None = Field(default=None, alias="from")  # a Python keyword
    to: str | None = None
    carrier: str | None = None
    flight_no: str | None = None
    seat_class: str | None = None
    date: str | None = None
    time: str | None = None
    fare_basis: str | None = None  # 客票级别


class FlightItineraryData(_VerifyData):
    """003 电子发票(航空运输电子客票行程单)查验响应报文."""

    kind: ClassVar[str] = "flight"

    buyer_name: str | None = None
    buyer_tax_no: str | None = None
    name: str | None = None  # passenger
    id_no: str | None = None
    total_tax: str | None = None
    amount: str | None = None  # 价税合计
    domestic_or_intl: str | None = None
    gp_no: str | None = None
    e_ticket_no: str | None = None
    cancel_flag: str | None = None
    detail_list: list[FlightDetail] | None = None
    inv_status: str | None = None
    remark: str | None = None


_KIND_BY_RESPONSE_CODE = {"50": "motor_vehicle", "60": "roll", "70": "used_car", "80": "toll"}

# Fields that only one schema has. Rail and flight come first: the spec gives them no
# response type code of their own.
_MARKS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "rail",
        frozenset(
            {"station_from", "station_to", "train_no", "departure_date", "departure_time"}
            | {"carriage_no", "seat", "ticket_type", "air_condition_type", "business_type"}
        ),
    ),
    ("flight", frozenset({"domestic_or_intl", "gp_no"})),
    (
        "motor_vehicle",
        frozenset(
            {"tounit_name", "engine_no", "cert_no", "production_addr", "zztax", "zztax_rate"}
            | {"import_no", "test_no", "receive_bank", "tonnage", "limit_num", "proof_num"}
        ),
    ),
    (
        "used_car",
        frozenset(
            {"selier_name", "selier_id", "car_license", "car_no", "register_no", "jy_unit"}
            | {"Used_car_market", "Usedcar_matker_phone", "buyer_tax_address"}
        ),
    ),
    ("toll", frozenset({"equio_no", "txf_flag"})),
    ("roll", frozenset({"receiver"})),
)
_ITEM_MARKS: tuple[tuple[str, frozenset[str]], ...] = (
    ("flight", frozenset({"flight_no", "from", "carrier", "fare_basis"})),
    ("toll", frozenset({"txr_from", "txr_to", "license_type"})),
    ("roll", frozenset({"item", "unit_prcie"})),
)


def verify_data_kind(data: Any) -> str:
    """Which 003 schema ``result.data`` is: by its own fields, then its type code.

    Fields decide first because rail and flight tickets have no response code of their
    own; ``invoice_type`` then separates the schemas that share VAT's field names.
    """
    if isinstance(data, _VerifyData):
        return data.kind
    if not isinstance(data, Mapping):
        return VatData.kind  # let the VAT model report what is wrong with it
    keys = {key for key, value in data.items() if value is not None}
    code = str(data.get("invoice_type") or "").strip()
    for kind, marks in _MARKS[:2]:
        if keys & marks:
            return kind
    if code in _KIND_BY_RESPONSE_CODE:
        return _KIND_BY_RESPONSE_CODE[code]
    for kind, marks in _MARKS[2:]:
        if keys & marks:
            return kind
    details = data.get("detail_list")
    if isinstance(details, list):
        item_keys = {key for item in details if isinstance(item, Mapping) for key in item}
        for kind, marks in _ITEM_MARKS:
            if item_keys & marks:
                return kind
    return VatData.kind


VerifyData = Annotated[
    Annotated[VatData, Tag(VatData.kind)]
    | Annotated[RollData, Tag(RollData.kind)]
    | Annotated[MotorVehicleData, Tag(MotorVehicleData.kind)]
    | Annotated[UsedCarData, Tag(UsedCarData.kind)]
    | Annotated[TollData, Tag(TollData.kind)]
    | Annotated[RailTicketData, Tag(RailTicketData.kind)]
    | Annotated[FlightItineraryData, Tag(FlightItineraryData.kind)],
    Discriminator(verify_data_kind),
]
"""``result.data``: one of the seven per-type schemas of 003, picked by ``verify_data_kind``."""


class VerifyResult(StrictWireModel):
    """003 发票查验特有参数: ``result``. ``result_code`` 1 is 查验成功."""

    desc: str | None = None
    data: VerifyData | None = None
    image_base64: str | None = None  # only when want_image=1
    result_code: int | None = None


class VerifyResponse(StrictWireModel):
    """003 返回说明 通用参数: the envelope. ``error_code`` 0 means the call worked."""

    result: VerifyResult | None = None
    error_code: int
    description: str | None = None
    request_id: str | None = None
    recognize_time: int | None = None  # milliseconds
    available_count: int | None = None
    version: str | None = None
