"""Spec 002 Maycur ``POST /api/openapi/invoice/import-invoice-pic``, names as on the wire.

Maycur writes camelCase: Python names are snake_case and the wire names come from an
alias generator, with an explicit alias where the generator cannot guess the wire
(``invoicePDFUrl``). Misspellings are Maycur's and stay (``taxDedectCode``,
``verificaitonChannel``).

Where the field table and the response example disagree on a type, the models follow
the example, which is what Maycur sends: ``issueDate``/``importedAt`` are epoch
milliseconds, amounts and ``taxRate`` are numbers (``Decimal``), ``companySeal`` is a
boolean and ``ticketData`` an object, although the table calls them all String.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from fapiao.wire.common import StrictWireModel, WireModel

# --- request -------------------------------------------------------------------------


class ImportInvoicePicRequest(WireModel):
    """002 request body (参数说明). Which of fileUrl/fileBase64 wins, the 100-character
    limit of fileUrl and the accepted fileType values are rules, not schema."""

    model_config = ConfigDict(alias_generator=to_camel)

    file_url: str | None = None  # http/https, wins over fileBase64
    file_base64: str | None = None
    file_type: str  # JPG, PNG, PDF or OFD
    employee_id: str
    expense_code: str | None = None
    # boolean in the table, "true" in the example: both are read as a bool.
    all_invoice_bind_to_one_expense: bool | None = None


# --- response ------------------------------------------------------------------------


class _Camel(StrictWireModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel)


class ValidateStatus(StrEnum):
    """002 validateStatus (验真状态); ``desc`` is its validateStatusDesc."""

    NOT_VALIDATION = "NOT_VALIDATION"
    VALIDATED = "VALIDATED"
    VALIDATION_FAILED = "VALIDATION_FAILED"

    @property
    def desc(self) -> str:
        return _VALIDATE_STATUS_DESC[self]


_VALIDATE_STATUS_DESC = {
    ValidateStatus.NOT_VALIDATION: "未验真",
    ValidateStatus.VALIDATED: "已验真",
    ValidateStatus.VALIDATION_FAILED: "验真失败",
}


class AmountInput(_Camel):
    """002 AmountInput: an amount with its currency."""

    currency: str | None = None  # ISO 4217, 3 letters
    amount: Decimal | None = None
    custom_exchange_rate: Decimal | None = None
    amount_str: str | None = None  # with the currency: "¥0.00"


class FileInfo(_Camel):
    """002 FileInfo (附件信息), the fields of its table."""

    code: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    type: str | None = None
    download_url: str | None = None  # valid 7 days
    original_url: str | None = None  # preview, valid 7 days
    thum_url: str | None = None  # thumbnail, valid 7 days
    image_url: str | None = None  # "images/pdf.png" for a PDF


class Attachment(FileInfo):
    """One element of InvoiceDto ``attachments``: FileInfo plus the example's fields."""

    ent_code: str | None = None
    resource_key: str | None = None
    associated_with: str | None = None  # "invoice"
    associated_code: str | None = None
    created_by: str | None = None
    created_at: int | None = None  # epoch milliseconds
    is_qr_code_pic: bool | None = None
    coordinates: str | None = None  # "x1,y1,x2,y2"
    orientation: Decimal | None = None
    ratio_fixed_thumb_url: str | None = None
    size: int | None = None
    page_number: int | None = None
    is_original_file: bool | None = None
    pdf_down_load_url: str | None = None
    original_file: bool | None = None
    qr_code_pic: bool | None = None
    valid_file_name: str | None = None


class TicketData(_Camel):
    """InvoiceDto ``ticketData`` ("发票一些相关信息"): the example's fields."""

    consume_time: int | None = None  # epoch milliseconds
    machine_code: str | None = None  # 机器编号
    city: str | None = None
    drawer: str | None = None  # 开票人
    reviewer: str | None = None  # 复核
    consume_start_date: int | None = None
    payee: str | None = None  # 收款人
    number: str | None = None
    province: str | None = None
    code_confirm: str | None = None
    consume_end_date: int | None = None
    location: str | None = None
    number_confirm: str | None = None
    invoice_sheet_type: str | None = None


class LineItemDto(_Camel):
    """002 lineItemsDto (货物明细)."""

    code: str | None = None
    invoice_data_code: str | None = None
    name: str | None = None
    price_amount: Decimal | None = None  # 金额
    tax_rate: Decimal | None = None  # a fraction: 0.090000
    tax_amount: Decimal | None = None
    num: Decimal | None = None  # 数量
    specification_model: str | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    tax_rate_mark: str | None = None
    tax_rate_mark_desc: str | None = None
    expense_code: str | None = None
    invoice_type: str | None = None


class InvoiceTaxDto(_Camel):
    """002 InvoiceTaxDto (发票抵扣); no example, the table's fields."""

    taxable_details: str | None = None
    tax_rate: Decimal | None = None  # String(25) in the table; a number like InvoiceDto's
    approved_deduction_amount: AmountInput | None = None
    approved_tax_amount: AmountInput | None = None
    transfer_out: str | None = None


class InvoiceDto(_Camel):
    """002 InvoiceDto: every field of the response example, plus ``reimburseCode`` of
    the table. Fields whose shape neither table nor example shows are ``Any``."""

    invoice_data_code: str | None = None
    reimburse_code: str | None = None  # table only
    user_code: str | None = None
    expense_code: str | None = None
    qr_code: str | None = None
    buyer_name: str | None = None
    buyer_tax_number: str | None = None
    invoice_code: str | None = None
    invoice_number: str | None = None
    issue_date: int | None = None  # epoch milliseconds (table: String)
    total_price_amount: Decimal | None = None  # 不含税金额
    total_tax_amount: Decimal | None = None
    total_price_and_tax: Decimal | None = None  # 价税合计
    supplier_name: str | None = None
    supplier_address: str | None = None  # 销方地址和电话
    invoice_type_desc: str | None = None
    invoice_type_enum: str | None = None
    attachments: list[Attachment] | None = None
    attachment_files: list[FileInfo] | None = None
    validate_status: ValidateStatus | None = None
    validate_status_desc: str | None = None
    remark: str | None = None
    imported_at: int | None = None  # epoch milliseconds
    imported_at_year_month: str | None = None  # "202411"
    has_qr_code_pic: bool | None = None
    processing: bool | None = None
    audit_logs: list[Any] | None = None
    invoice_pdf_url: str | None = Field(default=None, alias="invoicePDFUrl")
    invoice_img_url: str | None = None
    invoice_date_str: str | None = None
    invoice_status: str | None = None
    invoice_title_conflict: bool | None = None
    invoice_title_conflict_with_fee: bool | None = None
    main_attachment: Attachment | None = None
    correlated_reimburse_data_code: str | None = None
    correlated_reimburse_code: str | None = None
    ticket_data: TicketData | None = None  # table: String; example: an object
    tax_dedect_code: str | None = None  # sic
    approved_tax_amount: AmountInput | None = None
    approved_deduction_amount: AmountInput | None = None
    audit_detail_json: str | None = None
    custom_tax_flag: bool | None = None
    identity_flag: bool | None = None
    error_message: str | None = None
    error_code: str | None = None
    tax_rate: Decimal | None = None  # table: String; example: 0
    value_added_tax_rate: Decimal | None = None
    supplier_tax_number: str | None = None
    modify: bool | None = None
    modify_switch: bool | None = None
    vouchers: list[Any] | None = None
    wx_card_id: str | None = None
    wx_encrypt_code: str | None = None
    wx_open_id: str | None = None
    bill_num: str | None = None
    expense_type_list: list[Any] | None = None
    expense_type: Any = None
    employee_id: str | None = None
    employee_name: str | None = None
    buyer_address_phone: str | None = None
    buyer_account: str | None = None  # "" for non-VAT and unverified invoices
    supplier_account: str | None = None  # "" for non-VAT and unverified invoices
    reimburse_status: str | None = None
    reimburse_status_desc: str | None = None
    issue_date_desc: str | None = None
    source: str | None = None  # OPENAPI_IMPORT
    source_desc: str | None = None
    company_seal: bool | None = None  # table: String; example: true
    invoice_tax_dto_list: list[InvoiceTaxDto] | None = None
    update_record: list[Any] | None = None
    invoice_remark: str | None = None
    invoice_sheet: int | None = None
    agent_mark: str | None = None
    cancellation_mark: str | None = None  # NOT_INVALID
    cancellation_mark_desc: str | None = None
    source_code: str | None = None
    invoice_state_code: str | None = None
    invoice_state_remark: str | None = None
    validation_result: Any = None
    complete: bool | None = None
    third_invoice_data_code: str | None = None
    invoice_deduction_status: str | None = None
    electronic_voucher: Any = None
    electronic_voucher_files: list[Any] | None = None
    verificaiton_channel: str | None = None  # sic
    title: str | None = None
    dyna_form_code: str | None = None
    electronic: bool | None = None
    custom_object: Any = None
    cancellation_mark_update_time: str | None = None
    supplier_unusual: str | None = None
    supplier_unusual_update_time: str | None = None
    source_scanner: str | None = None
    invoice_code_number: str | None = None  # code + number
    not_can_verify: bool | None = None
    checksum: str | None = None
    type: str | None = None
    line_items: list[LineItemDto] | None = None
    splitted: bool | None = None


class ImportInvoicePicResponse(_Camel):
    """002 response envelope: ``code`` "ACK" and ``success`` true on success, ``errorCode``
    (AUTH0007, INV20006, ...) and ``message`` on failure."""

    code: str
    message: str | None = None
    data: list[InvoiceDto] | None = None
    error_code: str | None = None
    success: bool
