"""Embedded recognition: the machine-readable forms every Chinese e-invoice carries.

``recognize(data)`` reads a file's bytes (PDF, OFD, JPEG, PNG, WebP, TIFF, BMP, told
apart by their first bytes) and answers one ``RecognizedInvoice`` per invoice found:
the canonical invoice, where each field came from (PDF text layer, OFD XML, OFD page
text, QR code) and where those sources disagree. What is only printed (a photo without
a readable QR code) comes back with status U and a reason, for a remote OCR provider.

A file that cannot be read at all raises ``HubError``: UNSUPPORTED_FILE_TYPE (not one
of the formats), FILE_TOO_LARGE (past a bound in ``limits``), UNRECOGNISABLE (damaged,
encrypted, hostile).

``recognize_with_signatures`` adds the check of the file's signatures to each invoice
(``signatures``, issue 15).

Where it runs: ``recognize_here`` reads the file in the calling process, safe from any
number of threads (PDFium, which is not thread-safe, is behind one lock: ``native``).
``use_workers(pool)`` makes ``recognize`` hand every file to a pool of worker processes
instead (``workers.RecognitionWorkers``), so that a crash, a hang or a memory blow-up in
a native library costs one file, not the process: the local hub installs one. Lambda
reads files in process.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import limits
from fapiao.recognize.detect import FileKind, detect
from fapiao.recognize.result import (
    KEY_FIELDS,
    Disagreement,
    RecognizedInvoice,
    Source,
)

if TYPE_CHECKING:  # the pool is imported by whoever starts one: import stays cheap
    from fapiao.recognize.workers import RecognitionWorkers

__all__ = [
    "KEY_FIELDS",
    "Disagreement",
    "FileKind",
    "RecognizedInvoice",
    "Source",
    "detect",
    "recognize",
    "recognize_here",
    "recognize_with_signatures",
    "use_workers",
]

logger = logging.getLogger(__name__)


_workers: RecognitionWorkers | None = None


def use_workers(workers: RecognitionWorkers | None) -> None:
    """From now on ``recognize`` hands files to ``workers`` (None: reads them in this
    process again). Process-wide; the caller still owns the pool and closes it."""
    global _workers
    _workers = workers


def recognize(data: bytes) -> list[RecognizedInvoice]:
    """Every invoice in the file ``data`` (see the module's docstring), read by the
    installed worker pool, or in this process when none is installed."""
    workers = _workers
    if workers is None:
        return recognize_here(data)
    _kind(data)  # a file refused at sight costs no worker
    return workers.recognize(data)


def _kind(data: bytes) -> FileKind:
    if not data:
        raise HubError(Problem.UNRECOGNISABLE, "the file is empty")
    if len(data) > limits.MAX_FILE_BYTES:
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"the file has {len(data)} bytes; at most {limits.MAX_FILE_BYTES} are read",
        )
    return detect(data)


def recognize_with_signatures(data: bytes) -> list[RecognizedInvoice]:
    """``recognize``, then the file's signatures checked (``signatures.verify_file``) and
    the check set on each invoice: what the services and ``fapiao recognize`` answer.

    The check runs in this process, whether or not a worker pool reads the file: it is
    pure Python over bounded parsers, with nothing native to crash. It is a step of its
    own, timed apart from the reading (bench/signatures.py, bench/recognize_pdf.py)."""
    found = recognize(data)
    from fapiao.recognize.signatures import verify_file

    check = verify_file(data, detect(data))
    for recognized in found:
        recognized.signature = check
    return found


def recognize_here(data: bytes) -> list[RecognizedInvoice]:
    """``recognize`` in the calling thread and process (what a worker runs)."""
    kind = _kind(data)
    try:
        if kind is FileKind.PDF:
            from fapiao.recognize.pdf import recognize_pdf

            return recognize_pdf(data)
        if kind is FileKind.OFD:
            from fapiao.recognize.ofd import recognize_ofd

            return recognize_ofd(data)
        from fapiao.recognize.image import recognize_image

        return recognize_image(data, kind)
    except HubError:
        raise
    except RecursionError as error:
        raise HubError(Problem.UNRECOGNISABLE, "the file nests too deeply to read") from error
    except MemoryError as error:
        raise HubError(
            Problem.UNRECOGNISABLE,
            f"the {kind.value} file could not be read: it needs more memory than is available",
        ) from error
    except Exception as error:
        # A library met input it could not handle: the caller hears a clear error, and
        # the log keeps the trace to fix the engine.
        logger.exception("recognition of a %s file failed", kind.value)
        raise HubError(
            Problem.UNRECOGNISABLE, f"the {kind.value} file could not be read ({error})"
        ) from error
