"""What the engine answers: one recognized invoice, where each field came from, and
where the sources disagree.

Each source of an invoice yields a reading: canonical field names to values. ``merge``
puts the readings of one invoice together, first source first: the value of a field is
the first source's that has it; every other source that has it either agrees (its name
is added to the field's sources) or disagrees (a ``Disagreement`` and a warning; the
first source's value stands).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from pydantic import ValidationError

from fapiao.catalogue.types import InvoiceType
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.signature import SignatureCheck
from fapiao.model.stored import Provenance, ReadingDisagreement
from fapiao.recognize import values
from fapiao.recognize.detect import FileKind

Reading = dict[str, object]


class Source(StrEnum):
    TEXT_LAYER = "text_layer"  # the PDF's text layer
    OFD_XML = "ofd_xml"  # the OFD's invoice XML (original_invoice.xml, XBRL)
    OFD_TEXT = "ofd_text"  # the OFD's page text: through its CustomTags, or laid out in lines
    QR = "qr"  # the QR code's payload
    OCR = "ocr"  # text read from the pixels of a photo, scan or rendered page


KEY_FIELDS = (
    "invoice_type",
    "invoice_code",
    "invoice_number",
    "receipt_date",
    "amount",
    "tax_amount",
    "total_amount",
    "check_code",
    "buyer_name",
    "buyer_tax_code",
    "seller_name",
    "seller_tax_code",
)


@dataclass(frozen=True)
class Disagreement:
    field: str
    readings: dict[Source, str]

    def __str__(self) -> str:
        said = ", ".join(
            f"{source.value} says {value!r}" for source, value in self.readings.items()
        )
        return f"{self.field}: {said}"


@dataclass
class RecognizedInvoice:
    """One invoice found in a file. ``invoice`` is None when status is U (nothing
    machine-readable: ``reason`` says why, and a remote OCR provider may read it)."""

    status: InvoiceStatus
    kind: FileKind
    invoice: Invoice | None = None
    sources: dict[str, list[Source]] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str | None = None
    page: int | None = None  # 1-based page (PDF, OFD) the invoice was read on
    # The check of the file's signatures (every invoice of a file shares it); None until
    # ``recognize`` has checked them.
    signature: SignatureCheck | None = None
    # The OCR model's confidence (0..1) in each field it read: only where OCR is a source.
    confidence: dict[str, float] = field(default_factory=dict)

    def provenance(self) -> Provenance:
        """Where each field came from and where the sources disagreed, as stored."""
        return Provenance(
            sources={name: [s.value for s in sources] for name, sources in self.sources.items()},
            disagreements=[
                ReadingDisagreement(
                    field=d.field, readings={s.value: value for s, value in d.readings.items()}
                )
                for d in self.disagreements
            ],
        )

    @classmethod
    def unrecognisable(
        cls,
        kind: FileKind,
        reason: str,
        *,
        page: int | None = None,
        warnings: list[str] | None = None,
    ) -> RecognizedInvoice:
        return cls(
            status=InvoiceStatus.UNRECOGNISABLE,
            kind=kind,
            reason=reason,
            page=page,
            warnings=list(warnings or ()),
        )


def merge(
    readings: list[tuple[Source, Reading]],
    *,
    kind: FileKind,
    page: int | None = None,
    warnings: list[str] | None = None,
    confidence: dict[str, float] | None = None,
) -> RecognizedInvoice:
    """One invoice from the readings of its sources (see the module's docstring).
    ``confidence``: the OCR source's per field, kept for the fields it gave."""
    merged, sources, disagreements = _combine(readings)
    notes = list(warnings or ())
    notes.extend(f"sources disagree on {d}" for d in disagreements)
    missing = _missing_identity(merged)
    if missing is not None:
        return RecognizedInvoice.unrecognisable(
            kind, f"no invoice {missing} could be read", page=page, warnings=notes
        )
    try:
        invoice = Invoice.model_validate(merged)
    except ValidationError as error:  # a reader produced a value of the wrong shape
        return RecognizedInvoice.unrecognisable(
            kind, f"readings do not form an invoice: {error.error_count()} errors", page=page
        )
    notes.extend(_consistency(invoice))
    return RecognizedInvoice(
        status=InvoiceStatus.RECOGNIZED,
        kind=kind,
        invoice=invoice,
        sources=sources,
        disagreements=disagreements,
        warnings=notes,
        page=page,
        confidence={
            name: score
            for name, score in (confidence or {}).items()
            if Source.OCR in sources.get(name, [])
        },
    )


def _combine(
    readings: list[tuple[Source, Reading]],
) -> tuple[Reading, dict[str, list[Source]], list[Disagreement]]:
    """The readings put together, first source first: the merged fields, the sources
    of each, and the fields on which sources disagree."""
    merged: Reading = {}
    sources: dict[str, list[Source]] = {}
    disagreements: list[Disagreement] = []
    for source, reading in readings:
        for name, value in reading.items():
            if value is None or value == [] or value == "":
                continue
            if name not in merged:
                merged[name] = value
                sources[name] = [source]
            elif isinstance(value, list):
                continue  # line items and legs: the first source's list stands
            elif values.same(merged[name], value):
                sources[name].append(source)
            else:
                first = (sources[name][0], merged[name])
                _note_disagreement(disagreements, name, first, (source, value))
    return merged, sources, disagreements


def _note_disagreement(
    disagreements: list[Disagreement],
    name: str,
    first: tuple[Source, object],
    other: tuple[Source, object],
) -> None:
    """Record that ``other`` source reads field ``name`` otherwise than the first."""
    existing = next((d for d in disagreements if d.field == name), None)
    if existing is None:
        existing = Disagreement(name, {first[0]: values.show(first[1])})
        disagreements.append(existing)
    existing.readings[other[0]] = values.show(other[1])


def _missing_identity(merged: Reading) -> str | None:
    """What of the invoice's identity (its type, its number) no source could read."""
    if not isinstance(merged.get("invoice_type"), InvoiceType):
        return "invoice type"
    if not merged.get("invoice_number"):
        return "number"
    return None


def _consistency(invoice: Invoice) -> list[str]:
    notes: list[str] = []
    amount, tax, total = invoice.amount, invoice.tax_amount, invoice.total_amount
    if amount is not None and tax is not None and total is not None and amount + tax != total:
        notes.append(f"amount {amount} + tax {tax} != total {total}")
    if invoice.items:
        item_sum = sum(
            (item.amount for item in invoice.items if item.amount is not None), Decimal(0)
        )
        if (
            amount is not None
            and all(i.amount is not None for i in invoice.items)
            and item_sum != amount
        ):
            notes.append(f"line items add up to {item_sum}, the invoice says {amount}")
    return notes
