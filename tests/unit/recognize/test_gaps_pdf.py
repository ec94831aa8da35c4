"""PDF invoices whose fields do not fit one line or one page: a wrapped address or name,
the 备注 box, a list of goods (销货清单) after the invoice, a 数电 invoice whose goods go
on over several pages."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from fixtures.generate import (
    T,
    continued_pdf,
    generated_pdf,
    generated_specs,
    invoice_pdf,
    list_pdf,
    many_items_spec,
    vat_spec,
)

from fapiao.model import InvoiceStatus
from fapiao.recognize import RecognizedInvoice, Source, recognize


def _one(data: bytes) -> RecognizedInvoice:
    (result,) = recognize(data)
    assert result.status is InvoiceStatus.RECOGNIZED, result.reason
    assert result.invoice is not None
    return result


def test_a_seller_address_wrapped_onto_a_second_line_is_read_whole() -> None:
    lines = ("天津经济技术开发区南港工业区综合服务区", "办公楼C座103室 022-59002850")
    result = _one(invoice_pdf(replace(vat_spec(3), seller_address=lines)))
    assert result.invoice is not None
    assert result.invoice.seller_address_phone == "".join(lines)
    # the fields around it keep their own values
    assert result.invoice.seller_account == "招商银行天津分行122905939910401"
    assert result.invoice.seller_tax_code == vat_spec(3).seller_tax_code
    assert result.invoice.buyer_address_phone == "杭州市滨江区滨安路760号 0571-85012188"


def test_names_wrapped_in_their_cells_on_a_digital_invoice_are_read_whole() -> None:
    spec = replace(
        vat_spec(104, T.DIGITAL_NORMAL),
        buyer_name="中国石油天然气股份有限公司北京销售分公司",
        seller_name="上海赫程国际旅行社有限公司第一分公司",
        wrap_names=12,
    )
    result = _one(invoice_pdf(spec))
    assert result.invoice is not None
    assert result.invoice.buyer_name == spec.buyer_name
    assert result.invoice.seller_name == spec.seller_name
    assert result.invoice.seller_tax_code == spec.seller_tax_code
    assert not result.disagreements


@pytest.mark.parametrize("invoice_type", [T.VAT_ELECTRONIC_NORMAL, T.DIGITAL_SPECIAL])
def test_the_remark_box_is_read_line_by_line(invoice_type: T) -> None:
    remark = ("订单号:100068586537", "收款人:积塔; 复核人:司璐;")
    result = _one(invoice_pdf(replace(vat_spec(11, invoice_type), remark=remark)))
    assert result.invoice is not None
    assert result.invoice.remark == " ".join(remark)
    assert result.sources["remark"] == [Source.TEXT_LAYER]


def test_an_invoice_without_a_remark_reads_none() -> None:
    for index in range(3):  # an old invoice, a 数电 special and a 数电 normal one
        assert _one(generated_pdf(index)).invoice.remark is None  # type: ignore[union-attr]


def test_the_list_of_goods_gives_the_invoice_its_line_items() -> None:
    spec = many_items_spec(7, 9)
    result = _one(list_pdf(spec, per_page=4))  # the invoice, then 3 pages of list
    assert result.invoice is not None
    assert result.page == 1
    assert [(i.name, i.amount, i.tax_amount) for i in result.invoice.items] == [
        (i.name, i.amount, i.tax_amount) for i in spec.items
    ]
    assert not any("详见" in (i.name or "") for i in result.invoice.items)
    assert sum((i.amount or Decimal(0) for i in result.invoice.items), Decimal(0)) == spec.amount
    assert not any("line items" in w for w in result.warnings)


def test_each_list_of_goods_joins_the_invoice_whose_number_it_names() -> None:
    first, second = many_items_spec(21, 3), many_items_spec(22, 5)
    # two files' pages, the second invoice's list printed first: the number decides
    data = _pages(list_pdf(first, per_page=3), [0]) + _pages(list_pdf(second, per_page=5), [0])
    data += _pages(list_pdf(second, per_page=5), [1]) + _pages(list_pdf(first, per_page=3), [1])
    results = recognize(_joined(data))
    assert [r.invoice.invoice_number for r in results if r.invoice] == [
        first.invoice_number,
        second.invoice_number,
    ]
    for result, spec in zip(results, (first, second), strict=True):
        assert result.invoice is not None
        assert [i.amount for i in result.invoice.items] == [i.amount for i in spec.items]


def test_a_list_of_goods_alone_is_unrecognisable_with_its_reason() -> None:
    (result,) = recognize(_joined(_pages(list_pdf(many_items_spec(5, 2)), [1])))
    assert result.status is InvoiceStatus.UNRECOGNISABLE
    assert result.reason == "a list of goods (清单) whose invoice is not in the file"


def test_a_digital_invoice_over_several_pages_is_one_invoice() -> None:
    spec = many_items_spec(8, 5, T.DIGITAL_SPECIAL)
    result = _one(continued_pdf(spec, per_page=2))
    assert result.invoice is not None
    assert [i.amount for i in result.invoice.items] == [i.amount for i in spec.items]
    assert result.invoice.total_amount == spec.total_amount
    assert not any("line items" in w for w in result.warnings)


def test_the_same_invoice_printed_twice_stays_two_results() -> None:
    spec = generated_specs()[1]
    results = recognize(invoice_pdf(spec, spec))
    assert [r.page for r in results] == [1, 2]
    assert all(r.status is InvoiceStatus.RECOGNIZED for r in results)


# --- PDF pages picked from generated files --------------------------------------------


def _pages(data: bytes, indexes: list[int]) -> list[tuple[bytes, int]]:
    return [(data, index) for index in indexes]


def _joined(pages: list[tuple[bytes, int]]) -> bytes:
    """One PDF of the given pages of other PDFs, in that order."""
    target = pdfium.PdfDocument.new()
    for data, index in pages:
        target.import_pages(pdfium.PdfDocument(data), [index])
    out = io.BytesIO()
    target.save(out)
    return out.getvalue()
