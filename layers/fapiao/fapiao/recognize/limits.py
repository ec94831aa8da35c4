"""Bounds on what the engine reads: every hostile file ends in a clear error in bounded
time and memory, never a crash or a hang.

The numbers are generous for real invoices (a one-page e-invoice PDF is ~50 KB, an OFD
~50 KB unpacked, a phone photo ~12 megapixels) and small enough for a Lambda of 512 MB.
"""

from __future__ import annotations

from fapiao.settings.limits import MAX_FILE_BYTES as MAX_FILE_BYTES  # the file as received

MAX_PDF_PAGES = 50  # a PDF may hold several invoices, not a book
MAX_PAGE_CHARS = 20_000  # text characters read from one PDF page
MAX_IMAGE_PIXELS = 100_000_000  # an 85-megapixel photo passes (read scaled down), 120 does not
MAX_QR_IMAGE_PIXELS = 4_000_000  # an image object inside a PDF/OFD tried as a QR code
MAX_SCAN_PIXELS = 4_000_000  # a scanned PDF page rendered for OCR: A4 at 200 dpi
MAX_QR_CANDIDATES = 8  # detected-but-unreadable QR codes retried with enhancement

# OFD is a zip: treat it as hostile.
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_ENTRY_BYTES = 16 * 1024 * 1024  # uncompressed, one entry
MAX_ZIP_TOTAL_BYTES = 64 * 1024 * 1024  # uncompressed, entries actually read
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for entries over RATIO_FLOOR
ZIP_RATIO_FLOOR = 1024 * 1024  # small XML compresses well and is harmless
MAX_OFD_PAGES = 50
