"""A page of an invoice file as a picture for the review console (``recognize.pages``):
PDF pages drawn by PDFium, OFD pages by ``ofd_render`` (every document's pages in
order), photos turned upright by their EXIF orientation; at most ``MAX_SIDE`` pixels;
NOT_FOUND for a page the file does not have, and recognition's refusals for bad files.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures.generate import (
    blank_pdf,
    entity_bomb_ofd,
    invoice_ofd,
    invoice_pdf,
    lying_zip_bomb_ofd,
    many_entries_ofd,
    outline_ofd,
    qr_photo,
    vat_spec,
    zip_bomb_ofd,
    zip_files,
)
from PIL import Image, ImageDraw

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.recognize import limits
from fapiao.recognize.pages import MAX_SIDE, PagePicture, page_picture
from support import CORPUS

PDF = "yooongchun__Invoice2Excel__didi.pdf"
OFD = "ofdrw__ofdrw__1.ofd"
OFD_OF_FIVE_PAGES = "ofdrw__ofdrw__999.ofd"
ORIENTATION = 0x0112  # the EXIF tag


def corpus(name: str) -> bytes:
    path = CORPUS / "files" / name
    if not path.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    return path.read_bytes()


def picture(page: PagePicture) -> Image.Image:
    image = Image.open(io.BytesIO(page.content))
    image.load()
    return image


def dark_share(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    """The share of the pixels (of ``box``) darker than mid-grey."""
    grey = image.convert("L")
    if box is not None:
        grey = grey.crop(box)
    histogram = grey.histogram()
    return sum(histogram[:128]) / (grey.size[0] * grey.size[1])


def assert_drawn(page: PagePicture, media_type: str = "image/png") -> Image.Image:
    """A picture of the declared type, within MAX_SIDE, neither blank nor all ink."""
    image = picture(page)
    assert page.media_type == media_type
    assert image.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[media_type]
    assert max(image.size) <= MAX_SIDE
    assert max(image.size) >= MAX_SIDE * 0.9  # drawn to be read, not a thumbnail
    assert 0.005 < dark_share(image) < 0.5
    return image


def refusal(data: bytes, number: int = 1) -> HubError:
    with pytest.raises(HubError) as raised:
        page_picture(data, number)
    assert str(raised.value)
    return raised.value


# --- PDF -----------------------------------------------------------------------------


def test_a_corpus_pdf_is_drawn() -> None:
    page = page_picture(corpus(PDF), 1)

    image = assert_drawn(page)
    assert page.pages == 1
    assert image.size[0] > image.size[1]  # the invoice's landscape page, as it is


def test_page_two_of_a_one_page_pdf_is_not_found() -> None:
    error = refusal(corpus(PDF), 2)

    assert error.problem is Problem.NOT_FOUND
    assert "1 page" in str(error)


def test_each_page_of_a_generated_pdf_is_its_own() -> None:
    data = invoice_pdf(vat_spec(1), vat_spec(2), vat_spec(3))

    pages = [page_picture(data, n) for n in (1, 2, 3)]

    assert [p.pages for p in pages] == [3, 3, 3]
    for page in pages:
        assert_drawn(page)
    assert len({p.content for p in pages}) == 3
    assert page_picture(data, 2).content == pages[1].content  # the same page: the same picture
    assert page_picture(invoice_pdf(vat_spec(2)), 1).content == pages[1].content
    assert refusal(data, 4).problem is Problem.NOT_FOUND


def test_a_small_page_is_drawn_larger_but_not_past_four_times() -> None:
    """blank_pdf's pages are 200 points square: at most 4x, 800 pixels."""
    page = page_picture(blank_pdf(2), 2)

    image = picture(page)
    assert page.pages == 2
    assert image.size == (800, 800)
    assert 0 < dark_share(image) < 0.05  # "第2页": some ink on a white page


# --- OFD -----------------------------------------------------------------------------


def test_a_corpus_ofd_is_drawn() -> None:
    page = page_picture(corpus(OFD), 1)

    assert_drawn(page)
    assert page.pages == 1
    assert refusal(corpus(OFD), 2).problem is Problem.NOT_FOUND


def test_every_page_of_a_corpus_ofd_of_several_pages() -> None:
    data = corpus(OFD_OF_FIVE_PAGES)

    pages = [page_picture(data, n) for n in range(1, 6)]

    assert [p.pages for p in pages] == [5] * 5
    for page in pages:
        assert_drawn(page)
    assert refusal(data, 6).problem is Problem.NOT_FOUND


def test_a_generated_ofd_and_an_outline_only_ofd_are_drawn() -> None:
    for data in (
        invoice_ofd(vat_spec(4), signed=False),
        outline_ofd(vat_spec(5, InvoiceType.DIGITAL_SPECIAL)),
    ):
        page = page_picture(data, 1)
        assert page.pages == 1
        assert_drawn(page)


def _two_documents(first: bytes, second: bytes) -> bytes:
    """One OFD holding two invoices' documents: Doc_0 from ``first``, Doc_1 from
    ``second``, each listed by its own DocBody."""
    files: dict[str, bytes] = {}
    for folder, data in (("Doc_0", first), ("Doc_1", second)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("Doc_0/"):
                    files[folder + name[len("Doc_0") :]] = archive.read(name)
    bodies = "".join(
        f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>{n}</ofd:DocID></ofd:DocInfo>"
        f"<ofd:DocRoot>Doc_{n}/Document.xml</ofd:DocRoot></ofd:DocBody>"
        for n in (0, 1)
    )
    files["OFD.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" DocType="OFD" Version="1.1">'
        f"{bodies}</ofd:OFD>"
    ).encode()
    return zip_files(files)


def test_an_ofd_of_two_documents_shows_both_in_order() -> None:
    first, second = invoice_ofd(vat_spec(6), signed=False), invoice_ofd(vat_spec(7), signed=False)
    data = _two_documents(first, second)

    one, two = page_picture(data, 1), page_picture(data, 2)

    assert (one.pages, two.pages) == (2, 2)
    assert one.content == page_picture(first, 1).content
    assert two.content == page_picture(second, 1).content
    assert one.content != two.content
    assert refusal(data, 3).problem is Problem.NOT_FOUND


def test_an_ofd_without_pages() -> None:
    xml = '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'

    assert refusal(zip_files({"OFD.xml": xml.encode()})).problem is Problem.UNRECOGNISABLE


# --- photos ----------------------------------------------------------------------------


def _sideways_jpeg(size: tuple[int, int], orientation: int = 6) -> bytes:
    """A wide picture whose left third is black, tagged with an EXIF orientation: 6 says
    "turn me 90 degrees clockwise", so upright it is tall, black on top."""
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 3, size[1]), fill="black")
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def test_a_photo_tagged_sideways_comes_back_upright() -> None:
    page = page_picture(_sideways_jpeg((600, 300)), 1)

    image = picture(page)
    assert (page.media_type, page.pages) == ("image/jpeg", 1)
    assert image.size == (300, 600)
    width, height = image.size
    assert dark_share(image, (0, 0, width, height // 3 - 10)) > 0.95  # the black third on top
    assert dark_share(image, (0, height // 3 + 10, width, height)) < 0.05
    assert image.getexif().get(ORIENTATION, 1) == 1  # nobody turns it again


def test_a_large_photo_tagged_sideways_is_upright_and_within_max_side() -> None:
    page = page_picture(_sideways_jpeg((4800, 2400)), 1)

    image = picture(page)
    assert max(image.size) <= MAX_SIDE
    assert image.size[1] > image.size[0]
    assert image.size[1] >= MAX_SIDE * 0.9
    width, height = image.size
    assert dark_share(image, (0, 0, width, height // 3 - 10)) > 0.95


def test_a_photo_without_a_tag_is_left_as_it_is() -> None:
    image = Image.new("RGB", (600, 300), "white")
    ImageDraw.Draw(image).rectangle((0, 0, 200, 300), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")

    got = picture(page_picture(buffer.getvalue(), 1))

    assert got.size == (600, 300)
    assert dark_share(got, (0, 0, 190, 300)) > 0.95


def test_a_png_photo_becomes_a_jpeg_and_has_one_page() -> None:
    data = qr_photo(["01,10,3100231130,12345678,113.00,20240506,,"], fmt="PNG")

    page = page_picture(data, 1)

    assert (page.media_type, page.pages) == ("image/jpeg", 1)
    assert picture(page).format == "JPEG"
    assert refusal(data, 2).problem is Problem.NOT_FOUND


# --- what is refused -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", Problem.UNRECOGNISABLE),
        (b"this is no invoice file at all" * 4, Problem.UNSUPPORTED_FILE_TYPE),
        (b"GIF89a" + bytes(40), Problem.UNSUPPORTED_FILE_TYPE),
        (zip_files({"word/document.xml": b"<w/>"}), Problem.UNSUPPORTED_FILE_TYPE),
        (b"%PDF-1.7\n not really", Problem.UNRECOGNISABLE),
        (invoice_pdf(vat_spec(8), encrypt=True), Problem.UNRECOGNISABLE),
    ],
    ids=["empty", "junk", "gif", "zip-not-ofd", "broken-pdf", "encrypted-pdf"],
)
def test_files_recognition_refuses_are_refused(data: bytes, problem: Problem) -> None:
    assert refusal(data).problem is problem


def test_a_file_past_the_size_limit_is_refused_before_it_is_read() -> None:
    data = corpus(PDF)
    data += bytes(limits.MAX_FILE_BYTES + 1 - len(data))

    assert refusal(data).problem is Problem.FILE_TOO_LARGE


@pytest.mark.parametrize("number", [0, -1])
def test_a_page_number_below_one_is_a_bad_request(number: int) -> None:
    assert refusal(corpus(PDF), number).problem is Problem.INVALID_REQUEST


def _referenced_lying_bomb() -> bytes:
    """A zip bomb that OFD.xml names as its document, its sizes lied about."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "OFD.xml",
            '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody>'
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        with archive.open("Doc_0/Document.xml", "w", force_zip64=True) as entry:
            for _ in range(64):
                entry.write(bytes(1024 * 1024))
    real = (64 * 1024 * 1024).to_bytes(4, "little")
    return buffer.getvalue().replace(real, (1000).to_bytes(4, "little"))


@pytest.mark.parametrize(
    "build",
    [zip_bomb_ofd, lying_zip_bomb_ofd, many_entries_ofd, _referenced_lying_bomb],
    ids=["zip-bomb", "zip-bomb-lying-sizes", "too-many-entries", "lying-bomb-as-document"],
)
def test_zip_bombs_are_refused_quickly(build: Callable[[], bytes]) -> None:
    data = build()
    started = time.perf_counter()

    error = refusal(data)

    assert time.perf_counter() - started < 5
    assert error.problem in (Problem.FILE_TOO_LARGE, Problem.UNRECOGNISABLE)


def test_the_zip_limits_are_recognitions() -> None:
    assert refusal(zip_bomb_ofd()).problem is Problem.FILE_TOO_LARGE
    assert refusal(many_entries_ofd()).problem is Problem.FILE_TOO_LARGE
    assert "entries" in str(refusal(many_entries_ofd()))


def test_an_xml_entity_bomb_is_refused() -> None:
    error = refusal(entity_bomb_ofd())

    assert error.problem is Problem.UNRECOGNISABLE
    assert "DTD" in str(error) or "entit" in str(error)


def test_the_corpus_files_all_draw_or_refuse_cleanly() -> None:
    """Every corpus file: a picture of its first page, or a HubError; never a crash."""
    folder = CORPUS / "files"
    if not folder.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    drawn = 0
    for path in sorted(Path(folder).iterdir()):
        try:
            page = page_picture(path.read_bytes(), 1)
        except HubError:
            continue
        image = picture(page)
        assert max(image.size) <= MAX_SIDE, path.name
        assert page.pages >= 1, path.name
        drawn += 1
    assert drawn >= 30


def test_a_transparent_png_is_shown_on_white() -> None:
    image = Image.new("RGBA", (600, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 200, 300), fill=(0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    got = picture(page_picture(buffer.getvalue(), 1))

    assert dark_share(got, (0, 0, 190, 300)) > 0.95  # the print
    assert dark_share(got, (210, 0, 600, 300)) < 0.05  # the paper
