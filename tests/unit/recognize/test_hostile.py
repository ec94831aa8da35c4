"""Hostile files end in a clear error (HubError) within bounded time, never a crash or
a hang. Memory is bounded by the limits the engine checks before it decodes: page
count, pixel count (from the header), zip entry sizes (see test_ofd)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fixtures.generate import big_image, blank_pdf, invoice_pdf, qr_photo, random_bytes, vat_spec

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model import InvoiceStatus
from fapiao.recognize import limits, recognize

SECONDS = 5  # generous: each of these answers in well under a second


def _refused(data: bytes) -> HubError:
    started = time.perf_counter()
    with pytest.raises(HubError) as raised:
        recognize(data)
    assert time.perf_counter() - started < SECONDS
    assert str(raised.value)
    return raised.value


@pytest.mark.parametrize("keep", [1 / 3, 2 / 3, 0.98])
def test_truncated_pdf(keep: float) -> None:
    data = invoice_pdf(vat_spec(41))
    error = _refused(data[: int(len(data) * keep)])
    assert error.problem is Problem.UNRECOGNISABLE
    assert "not a readable PDF" in str(error)


def test_pdf_cut_before_its_first_object() -> None:
    assert _refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<").problem is Problem.UNRECOGNISABLE


def test_encrypted_pdf() -> None:
    error = _refused(invoice_pdf(vat_spec(42), encrypt=True))
    assert error.problem is Problem.UNRECOGNISABLE
    assert "encrypted" in str(error)


def test_pdf_of_500_pages() -> None:
    error = _refused(blank_pdf(500))
    assert error.problem is Problem.FILE_TOO_LARGE
    assert "500 pages" in str(error)


def test_pdf_at_the_page_limit_is_read() -> None:
    results = recognize(blank_pdf(limits.MAX_PDF_PAGES))
    assert [r.status for r in results] == [InvoiceStatus.UNRECOGNISABLE]


def test_random_bytes() -> None:
    assert _refused(random_bytes()).problem is Problem.UNSUPPORTED_FILE_TYPE


def test_empty_file() -> None:
    assert _refused(b"").problem is Problem.UNRECOGNISABLE


def test_file_over_the_size_limit() -> None:
    data = b"%PDF-1.7\n" + bytes(limits.MAX_FILE_BYTES)
    assert _refused(data).problem is Problem.FILE_TOO_LARGE


def test_image_of_120_megapixels() -> None:
    error = _refused(big_image(12000, 10000))
    assert error.problem is Problem.FILE_TOO_LARGE
    assert "12000x10000" in str(error)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image(fmt: str) -> None:
    data = qr_photo([vat_spec(43).qr_payload()], fmt=fmt, size=(800, 600))
    error = _refused(data[: len(data) // 2])
    assert error.problem is Problem.UNRECOGNISABLE


def test_image_header_with_garbage_after_it() -> None:
    error = _refused(b"\x89PNG\r\n\x1a\n" + random_bytes(4096))
    assert error.problem is Problem.UNRECOGNISABLE


@pytest.mark.parametrize(
    "head", [b"%PDF-1.4\n", b"PK\x03\x04", b"\xff\xd8\xff\xe0", b"BM"], ids=str
)
def test_random_bytes_behind_a_magic_number(head: bytes) -> None:
    build: Callable[[], bytes] = lambda: head + random_bytes(32 * 1024)  # noqa: E731
    _refused(build())
