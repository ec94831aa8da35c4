"""The native libraries recognition calls, and what each allows from several threads.

- PDFium (pypdfium2) is not thread-safe: no two PDFium calls may run at the same time
  in a process, not even on different documents, and pypdfium2's own bookkeeping is
  not locked either. Every use of pypdfium2 in the process (``recognize.pdf``,
  ``providers.uploads``) holds ``PDFIUM_LOCK`` from opening the document to closing
  it, and closes every object it made (document, pages, text pages, bitmaps) before
  letting go: an object left to the garbage collector would be freed by a PDFium call
  outside the lock. Pixels leave the lock as PIL images of their own, never as views of
  a PDFium buffer.
- zxing-cpp: ``read_barcodes`` may run in several threads at once (it releases the GIL);
  each call reads only the image it is given.
- Pillow: separate images in separate threads are safe; an image shared between
  threads must not be modified. Recognition never shares one.

A thread that needs more than one at a time (a crash of a native library must not take
the caller down) uses ``fapiao.recognize.workers``: processes, each with its own lock.
"""

from __future__ import annotations

import atexit
import threading

PDFIUM_LOCK = threading.RLock()

_EXIT_WAIT_SECONDS = 10.0
_guarded = False


def prepare_pdfium() -> None:
    """Once per process, after importing pypdfium2 and before any document is opened:

    - PDFium uses its built-in fonts only. For a font a PDF does not embed (SimSun,
      KaiTi, STSong-Light on many e-invoices) it would otherwise load a system
      substitute, e.g. the 19 MB Noto CJK collection read whole once per font: 10-20 ms
      of a 3 ms recognition. Text and its positions come from the PDF's encodings,
      CMaps and widths, not from a substitute's glyphs; and Lambda has no system CJK
      fonts, so the local hub now reads what Lambda reads.
    - At interpreter exit, ``PDFIUM_LOCK`` is taken for good before pypdfium2 destroys
      the library, so that a daemon thread still reading a PDF does not crash the exit
      (atexit runs the last registered first).
    """
    global _guarded
    with PDFIUM_LOCK:
        if _guarded:
            return
        _guarded = True
        import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

        pdfium_c.FPDF_SetSystemFontInfo(None)
    atexit.register(_hold_at_exit)


def _hold_at_exit() -> None:
    PDFIUM_LOCK.acquire(timeout=_EXIT_WAIT_SECONDS)
