"""What a file is, from its first bytes (magic numbers), never from its name."""

from __future__ import annotations

from enum import StrEnum

from fapiao.catalogue.errors import HubError, Problem


class FileKind(StrEnum):
    PDF = "pdf"
    OFD = "ofd"  # a zip holding OFD.xml
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    TIFF = "tiff"
    BMP = "bmp"

    @property
    def is_image(self) -> bool:
        return self not in (FileKind.PDF, FileKind.OFD)


_ZIP = b"PK\x03\x04"


def detect(data: bytes) -> FileKind:
    """The kind of ``data``; ``HubError(UNSUPPORTED_FILE_TYPE)`` for anything else.

    A PDF may carry junk before its header (readers accept it within the first KiB).
    A zip is taken for an OFD here; ``fapiao.recognize.ofd`` refuses one without OFD.xml.
    """
    head = data[:16]
    if b"%PDF-" in data[:1024]:
        return FileKind.PDF
    if head.startswith(_ZIP):
        return FileKind.OFD
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileKind.WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return FileKind.TIFF
    if head[:2] == b"BM":
        return FileKind.BMP
    raise HubError(
        Problem.UNSUPPORTED_FILE_TYPE,
        "not a PDF, OFD, JPEG, PNG, WebP, TIFF or BMP file (judged by its first bytes)",
    )
