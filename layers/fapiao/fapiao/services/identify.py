"""Use case: the hub's own asynchronous identify API in yipiaoyun's shape (spec 004).

A submission (a file, or a URL the hub downloads) is stored in the drop bucket under
``identify/<identify id>/<file name>`` and the ingest state machine is started for that
object under an execution NAMED by the identify id. The recognize task runs such keys
in identify mode: the invoices are recognized and an "identified" outcome recorded,
nothing is verified or created. The S3 drop function skips the prefix, so the object's
own S3 notification starts no second execution. The result is read back from the
execution of that name, so there is no table of requests: an id is known exactly as
long as Step Functions keeps the execution (90 days after it ends).

Decisions where 004 is silent:

- The identify id is 32 lowercase hex characters, like 004's example
  ("3c35fc8eb3b2466397c5d3abd580730c"): a random UUID4. An id that is not of that form
  (after trimming and lower-casing) is not found, as is one no execution has.
- 004 takes jpg, jpeg, png and pdf, judged here by the file's bytes, never its name. An
  upload over 1 MB ("图片最大支持1M", read as 1 MiB: what fits yipiaoyun fits the hub) is
  refused; a file the hub downloads from ``imageUrl`` may be up to 10 MB.
- A recognition in progress answers ``code`` 0 with ``data`` null: 004 does not document
  it, and the hub's own yipiaoyun adapter reads it as pending.
- A finished recognition answers the FIRST invoice of the file (004 reads only a PDF's
  first page). One that could not be read, or an execution that failed, timed out or
  was aborted, answers ``code`` -1 with "识别失败" and the reason (HTTP 200: the result
  call itself worked; a retry will not change it).
- 004 has no type code for the 数电 types, blockchain invoices or the electronic special,
  freight and toll VAT invoices: each is answered as the 004 type closest to it
  (``CLOSEST_004_TYPE``: the same table of fields), anything else as 0000 其他.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from fapiao.catalogue.errors import Family, HubError, Problem, lookup
from fapiao.catalogue.types import InvoiceType, TypeNotInVocabulary, to_yipiaoyun_code
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.pipeline import Execution, ExecutionStatus, Found
from fapiao.ports import Executions, FileLoader, Uploads
from fapiao.recognize import FileKind
from fapiao.recognize.detect import detect
from fapiao.services.drops import IDENTIFY_PREFIX
from fapiao.settings.limits import IDENTIFY_MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
from fapiao.settings.limits import MAX_DOWNLOAD_BYTES

ACCEPTED_KINDS = frozenset({FileKind.JPEG, FileKind.PNG, FileKind.PDF})  # 004: jpg, jpeg, png, pdf
# The catalogue's row for a recognition that gave up (004 answers it as code -1).
IDENTIFY_FAILED = lookup(Family.YIPIAOYUN, Problem.UNRECOGNISABLE).message
_EXTENSIONS = {FileKind.JPEG: "jpg", FileKind.PNG: "png", FileKind.PDF: "pdf"}
_IDENTIFY_ID = re.compile(r"[0-9a-f]{32}")
_UNSAFE = re.compile(r"[^\w.\-]+")
_MAX_NAME = 100

# Types 004 has no code for -> the 004 type whose table of fields fits them best.
CLOSEST_004_TYPE: dict[InvoiceType, InvoiceType] = {
    InvoiceType.VAT_FREIGHT_SPECIAL: InvoiceType.VAT_SPECIAL,  # 1000
    InvoiceType.VAT_ELECTRONIC_SPECIAL: InvoiceType.VAT_SPECIAL,  # 1000
    InvoiceType.DIGITAL_SPECIAL: InvoiceType.VAT_SPECIAL,  # 1000
    InvoiceType.DIGITAL_PAPER_SPECIAL: InvoiceType.VAT_SPECIAL,  # 1000
    InvoiceType.DIGITAL_PAPER_NORMAL: InvoiceType.VAT_NORMAL,  # 1001
    InvoiceType.DIGITAL_NORMAL: InvoiceType.VAT_ELECTRONIC_NORMAL,  # 1002
    InvoiceType.VAT_ELECTRONIC_TOLL: InvoiceType.VAT_ELECTRONIC_NORMAL,  # 1002
    InvoiceType.BLOCKCHAIN: InvoiceType.VAT_ELECTRONIC_NORMAL,  # 1002
    InvoiceType.DIGITAL_RAIL: InvoiceType.TRAIN,  # 5001
    InvoiceType.DIGITAL_FLIGHT: InvoiceType.FLIGHT_ITINERARY,  # 5003
}


@dataclass(frozen=True)
class IdentifyDeps:
    uploads: Uploads
    executions: Executions
    fetch: FileLoader  # (url, max_bytes) -> bytes: the safe fetcher
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex


class IdentifyState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class IdentifyAnswer:
    """What ``result`` says about an identify id: pending, done with the invoice (its
    type one that 004 has a code for), or failed with the reason."""

    state: IdentifyState
    invoice: Invoice | None = None
    reason: str | None = None

    @property
    def message(self) -> str:
        """004's ``message`` for a failure."""
        return f"{IDENTIFY_FAILED}: {self.reason}" if self.reason else IDENTIFY_FAILED


def submit_file(file_name: str | None, data: bytes, deps: IdentifyDeps) -> str:
    """004 sendByImageFile: the identify id of the file's recognition."""
    if not data:
        raise HubError(Problem.INVALID_REQUEST, "图片文件不能为空 (imageFile)")
    if len(data) > MAX_UPLOAD_BYTES:
        raise HubError(Problem.FILE_TOO_LARGE)  # 004's message says it all: 图片最大支持1M
    return _submit(file_name, data, deps)


def submit_url(image_url: str, deps: IdentifyDeps) -> str:
    """004 sendByImageUrl: the hub downloads the file (safe fetcher, 10 MB at most)."""
    url = image_url.strip()
    if not url:
        raise HubError(Problem.INVALID_REQUEST, "图片URL不能为空 (imageUrl)")
    data = deps.fetch(url, MAX_DOWNLOAD_BYTES)
    if not data:
        raise HubError(Problem.FILE_UNREACHABLE, "the file at imageUrl is empty")
    return _submit(_url_file_name(url), data, deps)


def _submit(file_name: str | None, data: bytes, deps: IdentifyDeps) -> str:
    kind = _accepted_kind(data)
    identify_id = deps.new_id()
    key = f"{IDENTIFY_PREFIX}{identify_id}/{safe_file_name(file_name, kind)}"
    obj = deps.uploads.put(key, data)
    if not deps.executions.start(identify_id, obj):
        raise RuntimeError(f"identify id {identify_id} names an execution already")
    return identify_id


def _accepted_kind(data: bytes) -> FileKind:
    """004: jpg, jpeg, png or pdf, by the bytes; 图片文件类型不支持 otherwise."""
    try:
        kind = detect(data)
    except HubError:
        raise HubError(Problem.UNSUPPORTED_FILE_TYPE) from None  # 004: 图片文件类型不支持
    if kind not in ACCEPTED_KINDS:
        raise HubError(Problem.UNSUPPORTED_FILE_TYPE)
    return kind


def safe_file_name(name: str | None, kind: FileKind) -> str:
    """The last segment of ``name`` as an S3 key segment: word characters, dots and
    dashes only, at most 100 characters; ``image.<ext>`` when nothing usable is left."""
    base = re.split(r"[/\\]", name or "")[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._")[-_MAX_NAME:]
    return cleaned or f"image.{_EXTENSIONS[kind]}"


def _url_file_name(url: str) -> str:
    """The file name a URL's path ends with (never its query: it may hold a signature)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return unquote(path.rsplit("/", 1)[-1])


def normalise_identify_id(identify_id: str) -> str | None:
    """The id as the hub issues it, or None when it cannot be one of the hub's."""
    candidate = identify_id.strip().lower()
    return candidate if _IDENTIFY_ID.fullmatch(candidate) else None


def identify_result(identify_id: str, deps: IdentifyDeps) -> IdentifyAnswer:
    """004 result: NOT_FOUND (未查询到对应识别请求) for an id without an execution."""
    name = normalise_identify_id(identify_id)
    execution = None if name is None else deps.executions.describe(name)
    if execution is None:
        raise HubError(Problem.NOT_FOUND)  # 004's message: 未查询到对应识别请求
    return answer_of(execution)


def answer_of(execution: Execution) -> IdentifyAnswer:
    match execution.status:
        case ExecutionStatus.RUNNING | ExecutionStatus.PENDING_REDRIVE:
            return IdentifyAnswer(IdentifyState.PENDING)
        case ExecutionStatus.SUCCEEDED:
            return _answer_of_output(execution.output)
        case ExecutionStatus.TIMED_OUT:
            return IdentifyAnswer(IdentifyState.FAILED, reason="the recognition timed out")
        case ExecutionStatus.ABORTED:
            return IdentifyAnswer(IdentifyState.FAILED, reason="the recognition was stopped")
        case _:
            return IdentifyAnswer(IdentifyState.FAILED, reason="the recognition failed")


def _answer_of_output(output: dict[str, Any] | None) -> IdentifyAnswer:
    """The ingest output's first invoice (``invoices[0]``, a ``Found``)."""
    invoices = (output or {}).get("invoices")
    if not isinstance(invoices, list) or not invoices:
        return IdentifyAnswer(IdentifyState.FAILED, reason="no invoice was found in the file")
    try:
        found = Found.model_validate(invoices[0])
    except ValidationError:
        return IdentifyAnswer(IdentifyState.FAILED, reason="the recognition's output is unreadable")
    if found.invoice is None or found.status is InvoiceStatus.UNRECOGNISABLE:
        return IdentifyAnswer(
            IdentifyState.FAILED, reason=found.reason or "the invoice could not be read"
        )
    return IdentifyAnswer(IdentifyState.DONE, invoice=in_004_vocabulary(found.invoice))


def in_004_vocabulary(invoice: Invoice) -> Invoice:
    """``invoice`` with a type 004 has a code for: its own, else the closest, else 其他."""
    try:
        to_yipiaoyun_code(invoice.invoice_type)
    except TypeNotInVocabulary:
        closest = CLOSEST_004_TYPE.get(invoice.invoice_type, InvoiceType.OTHER)
        return invoice.model_copy(update={"invoice_type": closest})
    return invoice
