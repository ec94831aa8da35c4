"""The file kind comes from the first bytes, never from the name."""

from __future__ import annotations

import pytest
from fixtures.generate import invoice_ofd, invoice_pdf, qr_photo, random_bytes, vat_spec

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import FileKind, detect


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", FileKind.PDF),
        (b"\xef\xbb\xbf junk %PDF-1.4\n", FileKind.PDF),
        (b"PK\x03\x04rest", FileKind.OFD),
        (b"\xff\xd8\xff\xe0", FileKind.JPEG),
        (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", FileKind.WEBP),
        (b"II*\x00", FileKind.TIFF),
        (b"MM\x00*", FileKind.TIFF),
        (b"BM\x00\x00", FileKind.BMP),
    ],
)
def test_magic_numbers_decide_the_kind(head: bytes, kind: FileKind) -> None:
    assert detect(head + bytes(32)) is kind


def test_generated_files_are_detected_by_content() -> None:
    spec = vat_spec(1)
    assert detect(invoice_pdf(spec)) is FileKind.PDF
    assert detect(invoice_ofd(spec)) is FileKind.OFD
    assert detect(qr_photo([spec.qr_payload()])) is FileKind.JPEG
    assert detect(qr_photo([spec.qr_payload()], fmt="PNG")) is FileKind.PNG


@pytest.mark.parametrize("data", [random_bytes(), b"<html>invoice.pdf</html>", b"GIF89a"])
def test_anything_else_is_an_unsupported_file_type(data: bytes) -> None:
    with pytest.raises(HubError) as raised:
        detect(data)
    assert raised.value.problem is Problem.UNSUPPORTED_FILE_TYPE
