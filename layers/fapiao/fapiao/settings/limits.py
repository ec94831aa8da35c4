"""How large a file may be, at each door it comes in by: every file-size limit, once.

They are several limits, not one, because each bounds a different door and takes its
value from a different authority: AWS's quota, a spec's words, or the hub's own choice.
Two that are both 10 MiB are still two facts: raising API Gateway's quota would not make
the hub download larger files, nor the reverse.
"""

from __future__ import annotations

__all__ = [
    "API_GATEWAY_MAX_BODY_BYTES",
    "IDENTIFY_MAX_UPLOAD_BYTES",
    "MAX_DOWNLOAD_BYTES",
    "MAX_FILE_BYTES",
    "MAYCUR_MAX_FILE_BYTES",
    "MIB",
    "YIPIAOYUN_MAX_UPLOAD_BYTES",
]

MIB = 1024 * 1024

# AWS: the largest request API Gateway (REST) passes to a function; over it API Gateway
# answers 413 itself (template.yaml's REQUEST_TOO_LARGE), and the local hub does the same.
API_GATEWAY_MAX_BODY_BYTES = 10 * MIB

# The hub: the largest file the recognition engine reads (a 12-megapixel photo, a PDF of
# several invoices), and so the largest dropped object the pipeline reads from S3.
MAX_FILE_BYTES = 20 * MIB

# The hub: the largest file it loads for ocrSync (000's attachment_url, by URL or
# drop-bucket key) and downloads for identify (004's imageUrl).
MAX_DOWNLOAD_BYTES = 10 * MIB

# 002: 发票文件超过 8M is INV30109, by URL or base64. The safe fetcher's default cap too
# (FAPIAO_FETCH_MAX_BYTES): the smallest of the caps its callers pass.
MAYCUR_MAX_FILE_BYTES = 8 * MIB

# 004: 图片最大支持1M, read two ways on purpose: generously for uploads to the hub's own
# identify API (1 MiB), strictly for what the hub sends yipiaoyun (10^6 bytes; a larger
# image is re-encoded smaller first).
IDENTIFY_MAX_UPLOAD_BYTES = MIB
YIPIAOYUN_MAX_UPLOAD_BYTES = 1_000_000
