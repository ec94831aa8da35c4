"""Recognition accuracy per key field on the shared corpus and the generated set.

Run with ``.venv/bin/pytest tests/integration/test_recognize_corpus.py -q`` (the tables
print as the tests run). Every value that is machine-readable must be exact: all
printed fields of text-layer PDFs and OFD files. Photos and scans are read by OCR
(``recognize.ocr``): per kind, a share of their printed fields must be exact, the bars
of issue 12 (train tickets 90%, taxi receipts 75%, VAT invoices 85%).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.accuracy import Tally, expected_of, same, wire_value
from fixtures.generate import generated_ofd, generated_pdf, generated_specs
from unit.recognize.signatures.test_ofd_signatures import SIGNED_CORPUS  # issuer kinds

from fapiao.catalogue.types import InvoiceType
from fapiao.model import Invoice
from fapiao.model.signature import CheckState
from fapiao.recognize import (
    KEY_FIELDS,
    RecognizedInvoice,
    Source,
    recognize,
    recognize_with_signatures,
)
from support import CORPUS

# expected.json names no type: the corpus README's descriptions do, first match wins.
_TYPES_BY_DESCRIPTION = (
    ("通行费", "14"),
    ("电子发票(铁路电子客票)", "67"),
    ("电子发票(增值税专用发票)", "20"),
    ("电子发票(普通发票)", "21"),
    ("增值税电子普通发票", "10"),
    ("增值税专用发票", "01"),
    ("增值税普通发票", "04"),
)
_QR_FIELDS = ("invoice_type", "invoice_code", "invoice_number", "receipt_date", "check_code")


def _corpus() -> dict[str, Any]:
    expected = CORPUS / "expected.json"
    if not expected.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    loaded: dict[str, Any] = json.loads(expected.read_text(encoding="utf-8"))
    return loaded


# Per kind of photo (a word of its description), the share of printed fields that OCR
# must read exactly.
_OCR_BARS = {"出租": 0.75, "火车票": 0.90, "增值税": 0.85, "电子发票": 0.85}
_WIRE_TO_CANONICAL = {"name": "passenger_name"}


def _expected_type(description: str) -> str | None:
    return next((code for word, code in _TYPES_BY_DESCRIPTION if word in description), None)


def _readable(entry: dict[str, Any], invoice: dict[str, str]) -> dict[str, str]:
    """The expected values that are machine-readable in this file."""
    expected = dict(invoice)
    kind = _expected_type(entry["description"])
    if kind is not None:
        expected["invoice_type"] = kind
    if entry["kind"] != "image":
        return expected
    qr_amount = "total_amount" if kind in ("20", "21", "67") else "amount"
    return {k: v for k, v in expected.items() if k in (*_QR_FIELDS, qr_amount)}


def test_corpus_accuracy_per_field(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus()
    tally = Tally()
    for name, entry in corpus.items():
        if entry["kind"] == "image":
            continue
        results = recognize((CORPUS / "files" / name).read_bytes())
        by_number = {r.invoice.invoice_number: r for r in results if r.invoice is not None}
        for invoice in entry["invoices"]:
            result = by_number.get(invoice["invoice_number"])
            tally.add(name, _readable(entry, invoice), None if result is None else result.invoice)
    with capsys.disabled():
        print()
        print(tally.table(f"corpus: {len(corpus)} files, PDF and OFD"))
    assert tally.misses == []
    assert sum(tally.total.values()) > 200


def _photo_kind(description: str) -> str:
    return next(word for word in _OCR_BARS if word in description)


def _read_value(invoice: Invoice | None, wire_name: str) -> str | None:
    if invoice is None:
        return None
    name = _WIRE_TO_CANONICAL.get(wire_name, wire_name)
    if name in KEY_FIELDS:
        return wire_value(invoice, name)
    value = getattr(invoice, name)
    return None if value is None else str(value)


def test_corpus_photos_are_read_by_ocr(capsys: pytest.CaptureFixture[str]) -> None:
    """Every printed field expected.json lists for a photo, per kind of photo."""
    corpus = _corpus()
    right: dict[str, int] = {}
    total: dict[str, int] = {}
    misses: list[str] = []
    for name, entry in corpus.items():
        if entry["kind"] != "image":
            continue
        kind = _photo_kind(entry["description"])
        results = recognize((CORPUS / "files" / name).read_bytes())
        by_number = {r.invoice.invoice_number: r for r in results if r.invoice is not None}
        for index, invoice in enumerate(entry["invoices"]):
            result = by_number.get(invoice["invoice_number"])
            if result is None and len(entry["invoices"]) == 1 and results:
                result = results[0]
            assert result is None or result.reason is not None or result.invoice is not None
            for field, expected in _readable_by_ocr(entry, invoice).items():
                read = _read_value(None if result is None else result.invoice, field)
                total[kind] = total.get(kind, 0) + 1
                if read is not None and same(expected, read):
                    right[kind] = right.get(kind, 0) + 1
                else:
                    misses.append(f"{name}[{index}] {field}: {expected!r} read {read!r}")
    with capsys.disabled():
        print()
        for kind, count in total.items():
            print(f"photos {kind}: {right.get(kind, 0)}/{count} printed fields exact")
        print("\n".join(f"  miss {miss}" for miss in misses))
    for kind, bar in _OCR_BARS.items():
        if kind in total:
            assert right.get(kind, 0) / total[kind] >= bar, (kind, misses)


def _readable_by_ocr(entry: dict[str, Any], invoice: dict[str, str]) -> dict[str, str]:
    expected = dict(invoice)
    kind = _expected_type(entry["description"])
    if kind is not None and "invoice_type" not in expected:
        expected["invoice_type"] = kind
    return expected


def test_corpus_pdfs_are_cross_checked_with_their_qr_codes() -> None:
    corpus = _corpus()
    for name, entry in corpus.items():
        if entry["kind"] != "pdf-text":
            continue
        (result,) = recognize((CORPUS / "files" / name).read_bytes())
        assert result.sources["invoice_number"] == [Source.TEXT_LAYER, Source.QR], name
        assert result.disagreements == [], name


def test_corpus_ofd_signatures() -> None:
    corpus = _corpus()
    for name, entry in corpus.items():
        if entry["kind"] != "ofd":
            continue
        data = (CORPUS / "files" / name).read_bytes()
        (result,) = recognize_with_signatures(data)
        assert result.signature is not None, name
        if b"Signatures" in data:
            assert result.signature.state is CheckState.VALID, (name, result.signature.reason)
            assert result.signature.issuer_kind is SIGNED_CORPUS[name], name
        else:
            assert result.signature.state is CheckState.ABSENT, name


def _generated() -> list[tuple[str, bytes, dict[str, str]]]:
    cases = []
    for index, spec in enumerate(generated_specs()):
        expected = expected_of(spec.key_fields().items())
        expected["invoice_type"] = _platform(spec.invoice_type)
        expected["receipt_date"] = spec.receipt_date.strftime("%Y%m%d")
        cases.append((f"pdf {index}", generated_pdf(index), expected))
        if spec.invoice_type in (InvoiceType.VAT_ELECTRONIC_NORMAL, InvoiceType.DIGITAL_SPECIAL):
            route = "tags" if spec.invoice_type.is_digital else "original"
            cases.append((f"ofd {index}", generated_ofd(index, route), expected))
    return cases


def _platform(invoice_type: InvoiceType) -> str:
    from fapiao.catalogue.types import to_platform_code

    return to_platform_code(invoice_type)


def test_generated_accuracy_per_field(capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()
    cases = _generated()
    for label, data, expected in cases:
        results: list[RecognizedInvoice] = recognize(data)
        assert len(results) == 1, label
        tally.add(label, expected, results[0].invoice)
    with capsys.disabled():
        print()
        print(tally.table(f"generated: {len(cases)} files (PDF and OFD), printed fields"))
    assert tally.misses == []
    assert all(tally.total[name] > 0 for name in KEY_FIELDS)


def test_generated_set_covers_the_issue_families() -> None:
    kinds = {spec.invoice_type for spec in generated_specs()}
    assert {
        InvoiceType.VAT_ELECTRONIC_NORMAL,
        InvoiceType.VAT_ELECTRONIC_SPECIAL,
        InvoiceType.VAT_ELECTRONIC_TOLL,
        InvoiceType.DIGITAL_SPECIAL,
        InvoiceType.DIGITAL_NORMAL,
        InvoiceType.DIGITAL_RAIL,
        InvoiceType.DIGITAL_FLIGHT,
    } <= kinds
    assert Path(__file__).name.startswith("test_recognize")
