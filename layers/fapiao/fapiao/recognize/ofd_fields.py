"""The invoice data an OFD file carries as XML, as canonical readings.

Three vocabularies: the e-invoice XML (``original_invoice.xml``, ``fp:`` names) and the
CustomTag files share element names (the tags point at text objects on the page instead
of holding values); the XBRL attachment of some writers has its own long names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from xml.etree.ElementTree import Element

from fapiao.catalogue.types import InvoiceType
from fapiao.model import LineItem
from fapiao.recognize import values, xml
from fapiao.recognize.result import Reading

Convert = Callable[[str | None], object]


def _code(text: str | None) -> object:
    return values.digits(text, 10, 12)


def _number(text: str | None) -> object:
    return values.digits(text, 8, 20)


def _check(text: str | None) -> object:
    return values.digits(text, 20)


def _machine(text: str | None) -> object:
    return values.name(text)


# e-invoice XML and CustomTag element -> (canonical field, parser)
EINVOICE: dict[str, tuple[str, Convert]] = {
    "InvoiceCode": ("invoice_code", _code),
    "InvoiceNo": ("invoice_number", _number),
    "IssueDate": ("receipt_date", values.date),
    "InvoiceCheckCode": ("check_code", _check),
    "MachineNo": ("machine_number", _machine),
    "BuyerName": ("buyer_name", values.name),
    "BuyerTaxID": ("buyer_tax_code", values.tax_id),
    "BuyerAddrTel": ("buyer_address_phone", values.name),
    "BuyerFinancialAccount": ("buyer_account", values.name),
    "SellerName": ("seller_name", values.name),
    "SellerTaxID": ("seller_tax_code", values.tax_id),
    "SellerAddrTel": ("seller_address_phone", values.name),
    "SellerFinancialAccount": ("seller_account", values.name),
    "TaxInclusiveTotalAmount": ("total_amount", values.money),
    "TaxExclusiveTotalAmount": ("amount", values.money),
    "TaxTotalAmount": ("tax_amount", values.money),
    "Note": ("remark", values.name),
}
EINVOICE_ITEM: dict[str, tuple[str, Convert]] = {
    "Item": ("name", values.name),
    "Specification": ("specification", values.name),
    "MeasurementDimension": ("unit", values.name),
    "Price": ("unit_price", values.money),
    "Quantity": ("quantity", values.money),
    "Amount": ("amount", values.money),
    "TaxScheme": ("tax_rate", values.tax_rate),
    "TaxAmount": ("tax_amount", values.money),
}

XBRL: dict[str, tuple[str, Convert]] = {
    "CodeOfInvoice": ("invoice_code", _code),
    "NumberOfInvoice": ("invoice_number", _number),
    "DateOfIssue": ("receipt_date", values.date),
    "IdentifyingCode": ("check_code", _check),
    "NumberOfInvoiceMachine": ("machine_number", _machine),
    "NameOfPurchaser": ("buyer_name", values.name),
    "TaxpayerIdentificationNumberUnifiedSocialCreditCodeOfPurchaser": (
        "buyer_tax_code",
        values.tax_id,
    ),
    "AddressPhoneNumberOfPurchaser": ("buyer_address_phone", values.name),
    "DepositBankAndAccountNumberOfPurchaser": ("buyer_account", values.name),
    "NameOfSeller": ("seller_name", values.name),
    "TaxpayerIdentificationNumberUnifiedSocialCreditCodeOfSeller": (
        "seller_tax_code",
        values.tax_id,
    ),
    "AddressPhoneNumberOfSeller": ("seller_address_phone", values.name),
    "DepositBankAndAccountNumberOfSeller": ("seller_account", values.name),
    "TotalAmountExcludingTax": ("amount", values.money),
    "TotalTaxAmount": ("tax_amount", values.money),
    "TaxIncludedAmountInFigures": ("total_amount", values.money),
    "Remarks": ("remark", values.name),
}
XBRL_ITEM: dict[str, tuple[str, Convert]] = {
    "NameOfTaxableGoodsOrServices": ("name", values.name),
    "Specification": ("specification", values.name),
    "UnitOfGoodsOrServices": ("unit", values.name),
    "QuantityOfGoodsOrServices": ("quantity", values.money),
    "UnitPriceOfGoodsOrServices": ("unit_price", values.money),
    "AmountExcludingTax": ("amount", values.money),
    "TaxRate": ("tax_rate", values.tax_rate),
    "TaxAmount": ("tax_amount", values.money),
}
_XBRL_ITEM_GROUP = "InformationOfTaxableGoodsOrServicesDetailItemsTuple"


def read(
    root: Element,
    fields: Mapping[str, tuple[str, Convert]],
    item_fields: Mapping[str, tuple[str, Convert]],
    item_group: str,
    value_of: Callable[[Element], str | None] = xml.text,
) -> Reading:
    """A reading of ``root``: each element named in ``fields`` (outside item groups)
    through its parser; each ``item_group`` element as a line item. ``value_of`` gives an
    element's value (its text, or the text of the page objects a CustomTag points at)."""
    reading: Reading = {}
    items: list[LineItem] = []
    loose: dict[str, object] = {}  # item fields outside any group (数电 CustomTags)
    _walk(root, fields, item_fields, item_group, value_of, reading, items, loose)
    if items:
        reading["items"] = items
    elif loose:
        reading["items"] = [LineItem.model_validate(loose)]
    return reading


def _walk(
    element: Element,
    fields: Mapping[str, tuple[str, Convert]],
    item_fields: Mapping[str, tuple[str, Convert]],
    item_group: str,
    value_of: Callable[[Element], str | None],
    reading: Reading,
    items: list[LineItem],
    loose: dict[str, object],
) -> None:
    for node in element:
        name = xml.local(node)
        if name == item_group:
            item = _fields(node, item_fields, value_of)
            if item:
                items.append(LineItem.model_validate(item))
            continue
        if name in fields:
            field, convert = fields[name]
            value = convert(value_of(node))
            if value is not None and field not in reading:
                reading[field] = value
        elif name in item_fields and name not in fields:
            field, convert = item_fields[name]
            value = convert(value_of(node))
            if value is not None:
                loose.setdefault(field, value)
        _walk(node, fields, item_fields, item_group, value_of, reading, items, loose)


def _fields(
    group: Element,
    item_fields: Mapping[str, tuple[str, Convert]],
    value_of: Callable[[Element], str | None],
) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in group.iter():
        name = xml.local(node)
        if name in item_fields:
            field, convert = item_fields[name]
            value = convert(value_of(node))
            if value is not None:
                found.setdefault(field, value)
    return found


def read_einvoice(root: Element) -> Reading:
    return read(root, EINVOICE, EINVOICE_ITEM, "GoodsInfo")


def read_xbrl(root: Element, title_type: Callable[[str], InvoiceType | None]) -> Reading:
    reading = read(root, XBRL, XBRL_ITEM, _XBRL_ITEM_GROUP)
    kind = xml.text(next(xml.descendants(root, "TypeOfInvoice"), None))
    if kind:
        reading["invoice_type"] = title_type(kind)
    return reading
