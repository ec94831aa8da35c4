"""The hub's own OCR on real pictures, however they were taken: turned a quarter, upside
down, stored sideways with an EXIF orientation tag, far larger than needed. Each is
read as the same ticket upright is (``recognize.ocr`` normalises the picture first)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fixtures import photos
from fixtures.accuracy import same, wire_value
from PIL import Image

from fapiao.model import Invoice, InvoiceStatus
from fapiao.recognize import Source, recognize, values
from fapiao.recognize.ocr import read_text
from support import CORPUS

TICKET = "SodaShikenn__LSTM_GCN__35731223.jpeg"  # a paper train ticket, no machine-readable field
FIELDS = (
    "invoice_number",
    "train_number",
    "destination_city",
    "destination_city_to",
    "receipt_date",
    "start_datetime",
    "total_amount",
    "train_class",
    "passenger_name",
)


def corpus_file(name: str) -> Path:
    path = CORPUS / "files" / name
    if not path.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    return path


def jpeg(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, **params)
    return out.getvalue()


@pytest.fixture(scope="module")
def upright() -> dict[str, object]:
    (result,) = recognize(corpus_file(TICKET).read_bytes())
    assert result.status is InvoiceStatus.RECOGNIZED and result.invoice is not None
    assert result.sources["invoice_number"] == [Source.OCR]
    fields = {name: getattr(result.invoice, name) for name in FIELDS}
    assert all(value is not None for value in fields.values()), fields
    return fields


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_turned_photo_is_read_as_the_upright_one(
    upright: dict[str, object], degrees: int
) -> None:
    with Image.open(corpus_file(TICKET)) as image:
        turned = image.rotate(degrees, expand=True)  # counter-clockwise
    assert read_text(turned).turned == degrees  # turned back clockwise as much
    (result,) = recognize(jpeg(turned))
    assert result.invoice is not None
    assert {name: getattr(result.invoice, name) for name in FIELDS} == upright


def test_an_exif_orientation_tag_is_obeyed(upright: dict[str, object]) -> None:
    """Pixels stored a quarter turned, with the tag (6: turn 90° clockwise to view) that a
    phone writes instead of turning them."""
    with Image.open(corpus_file(TICKET)) as image:
        stored = image.rotate(90, expand=True)  # counter-clockwise: the camera's view
    exif = Image.Exif()
    exif[0x0112] = 6
    data = jpeg(stored, exif=exif.tobytes())
    page = read_text(Image.open(io.BytesIO(data)))
    assert page.turned == 0  # the tag stood it upright: no guessing needed
    (result,) = recognize(data)
    assert result.invoice is not None
    assert {name: getattr(result.invoice, name) for name in FIELDS} == upright


def test_a_huge_photo_is_read_scaled_down(upright: dict[str, object]) -> None:
    """Nine times the pixels (a 10-megapixel shot of a small ticket) read the same."""
    with Image.open(corpus_file(TICKET)) as image:
        huge = image.resize((image.width * 3, image.height * 3), Image.Resampling.BICUBIC)
    page = read_text(huge)
    assert max(page.size) <= 2000
    (result,) = recognize(jpeg(huge))
    assert result.invoice is not None
    assert {name: getattr(result.invoice, name) for name in FIELDS} == upright


def test_a_scan_saved_as_pdf_is_read_by_ocr(upright: dict[str, object]) -> None:
    """A PDF whose page is one picture and no text (a scanner's output): the page is
    rendered and read like a photo."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(572, 360))
    pdf.drawImage(ImageReader(str(corpus_file(TICKET))), 0, 0, width=572, height=360)
    pdf.showPage()
    pdf.save()
    (result,) = recognize(out.getvalue())
    assert result.page == 1 and result.invoice is not None
    assert result.sources["train_number"] == [Source.OCR]
    assert {name: getattr(result.invoice, name) for name in FIELDS} == upright


# --- generated photos of every kind ---------------------------------------------------

# Per kind, the share of the printed key fields (no line items, legs, addresses,
# accounts, remarks) the plain photo must give exactly; the seal-only names of the taxi
# and quota receipts are not printed anywhere else, so those bars allow for them.
KIND_BARS = {
    "taxi": 0.85,
    "train": 0.9,
    "quota": 0.6,
    "roll": 0.9,
    "vat paper": 0.85,
    "vat e-invoice": 0.95,
    "toll": 0.9,
    "flight": 0.9,
}
SECONDARY = {
    "buyer_address_phone",
    "seller_address_phone",
    "buyer_account",
    "seller_account",
    "remark",
    "machine_number",
}


def wire_text(invoice: Invoice, name: str) -> str | None:
    if name in ("invoice_type", "receipt_date"):
        return wire_value(invoice, name)
    value = getattr(invoice, name)
    return None if value is None else str(value)


@pytest.mark.parametrize("kind", sorted(KIND_BARS))
def test_a_generated_photo_of_each_kind_gives_its_printed_fields(kind: str) -> None:
    image, expected = photos.KINDS[kind](3)
    (result,) = recognize(photos.jpeg_bytes(image))
    assert result.invoice is not None, result.reason
    keys = {k: v for k, v in expected.items() if "." not in k and k not in SECONDARY}
    right = [
        name
        for name, printed in keys.items()
        if (read := wire_text(result.invoice, name)) is not None
        and (same(printed, read) or values.same(printed, read))
    ]
    assert len(right) / len(keys) >= KIND_BARS[kind], sorted(set(keys) - set(right))
    assert all(0 < score <= 1 for score in result.confidence.values())
    if kind == "vat e-invoice":  # the QR's fields stand; OCR agrees and fills the rest
        assert result.sources["invoice_number"] == [Source.QR, Source.OCR]
        assert result.sources["buyer_name"] == [Source.OCR]
        assert result.disagreements == []
