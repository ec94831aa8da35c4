"""YipiaoyunIdentifier: asynchronous recognition by yipiaoyun (spec 004), over httpx.

``POST {url}/openapi/identify/sendByImageUrl`` (JSON ``imageUrl``) or
``sendByImageFile`` (multipart ``imageFile``) answers an identify id;
``POST {url}/openapi/identify/result`` with ``identifyId`` answers the recognised
invoice, mapped into the canonical model by ``fapiao.mapping.yipiaoyun`` (every per-type
schema of 004, dates like "2019年07月06日").

What is sent (004: "jpg, jpeg, png及pdf(pdf只支持识别第一页内容). 图片最大支持1M"):

- Every image is decoded first (a broken one costs no call). A JPEG or PNG of at most
  1 MB and 3000 pixels on its long side goes as it is. A larger one (004: "建议分辨率
  过大的图片进行压缩"), or a WebP, TIFF or BMP (which 004 does not take), is re-encoded
  as JPEG: turned upright by its EXIF orientation, transparency flattened on white,
  metadata dropped, at most 3000 pixels on its long side, at decreasing quality (85,
  72, 60) and then decreasing size until it fits. "1M" is read the strict way:
  1,000,000 bytes.
- A PDF goes one page at a time, since yipiaoyun reads only the first page: each page
  becomes a one-page PDF of its own (the text layer kept: yipiaoyun takes DiDi
  itineraries only as PDF), and a page whose PDF is over 1 MB (a scan) is rendered at
  200 dpi and sent as a JPEG that fits. At most ``max_pages`` pages of a file are sent;
  a one-page PDF of at most 1 MB goes as it came.
- An OFD is refused without a call (004 does not take it).

Pending (004 does not document the answer for a recognition still in progress):
``code`` 0 with an empty ``data``, and a non-zero ``code`` whose message says
"识别中", are a recognition in progress. See ``fapiao.providers.identifier`` for what
a poll that reached no answer means (pending, "poll again later").

Failures: a timeout, a connection error, HTTP 429 or 5xx, a body that is not JSON and a
``code`` -1 whose message is a retryable row of the error catalogue (请求过于频繁,
系统内部错误) are retried with jittered exponential backoff within the attempts and
the time budget. yipiaoyun's only error code is -1, so its message is the one thing
that tells its errors apart: it is matched against the catalogue's yipiaoyun rows, and
a message no row names is a failure in yipiaoyun's own words. A refusal of the hub
itself (未授权) or an answer that is not 004 is logged as an error with
``alarm: yipiaoyun``.

Parsing is tolerant like ``fapiao.providers.exocr``: fields 004 does not name are
dropped before the strict wire models validate (their names logged at debug level,
never their values). Logs carry the endpoint, attempt, HTTP status, code, message and
identify id; never the file, never an image URL (a presigned URL is a credential),
only its host.
"""

from __future__ import annotations

import io
import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PIL import Image, ImageOps
from pydantic import BaseModel, ValidationError

from fapiao.catalogue.errors import CATALOGUE, CatalogueEntry, Family, HubError, Problem
from fapiao.catalogue.types import UnknownTypeCode
from fapiao.dates import InvalidDate
from fapiao.mapping.yipiaoyun import InvalidAmountError, invoice_from_identify_result
from fapiao.providers.identifier import Poll, PollState, Submission
from fapiao.providers.identifier_settings import IdentifierSettings
from fapiao.recognize import limits, native
from fapiao.recognize.detect import FileKind, detect
from fapiao.recognize.image import open_image
from fapiao.wire.common import WireError, load_json
from fapiao.wire.yipiaoyun import (
    BusResult,
    FlightInfo,
    FlightItineraryResult,
    MachinePrintedResult,
    MotorVehicleResult,
    OtherResult,
    QuotaResult,
    ReceiptResult,
    ResultRequest,
    ResultResponse,
    RideHailingResult,
    RollResult,
    SendByImageUrlRequest,
    SendResponse,
    TaxCertificateResult,
    TaxiResult,
    TollResult,
    TrainResult,
    TripInfo,
    UsedCarResult,
    VatResult,
    result_data_kind,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "RECOGNISING",
    "RESULT_PATH",
    "SEND_FILE_PATH",
    "SEND_URL_PATH",
    "Upload",
    "YipiaoyunIdentifier",
    "fit_image",
    "parse_result_response",
    "parse_send_response",
    "pdf_page_upload",
]

logger = logging.getLogger(__name__)
native.guard_pdfium_exit()

SEND_URL_PATH = "/openapi/identify/sendByImageUrl"
SEND_FILE_PATH = "/openapi/identify/sendByImageFile"
RESULT_PATH = "/openapi/identify/result"

MAX_UPLOAD_BYTES = 1_000_000  # 004: 图片最大支持1M (the strict reading of "1M")
RECOGNISING = "识别中"  # in a message: the recognition is still in progress

_MAX_SIDE = 3000  # pixels on the long side of a re-encoded image: ~300 dpi on A4
_MIN_SIDE = 600  # below this an invoice is no longer legible: give up instead
_QUALITIES = (85, 72, 60)
_RENDER_DPI = 200
_MAX_ROUNDS = 8  # downscaling rounds; each aims under the limit from the last size

_T = TypeVar("_T")


# --- what is uploaded ----------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One file as it goes to ``sendByImageFile``: within 1 MB, a kind 004 takes."""

    data: bytes
    kind: FileKind  # JPEG, PNG or PDF
    page: int | None = None  # 1-based page of the PDF it came from

    @property
    def filename(self) -> str:
        extension = {FileKind.JPEG: "jpg", FileKind.PNG: "png", FileKind.PDF: "pdf"}[self.kind]
        return f"invoice-p{self.page}.{extension}" if self.page else f"invoice.{extension}"

    @property
    def content_type(self) -> str:
        return {
            FileKind.JPEG: "image/jpeg",
            FileKind.PNG: "image/png",
            FileKind.PDF: "application/pdf",
        }[self.kind]


def fit_image(data: bytes, kind: FileKind, limit: int = MAX_UPLOAD_BYTES) -> Upload:
    """The image as 004 takes it: as it came when it is a JPEG or PNG within ``limit`` and
    ``_MAX_SIDE`` pixels (004 asks for large resolutions to be compressed), else a JPEG
    re-encoded to fit. Raises ``HubError`` for an unreadable image, one with too many
    pixels (``limits.MAX_IMAGE_PIXELS``) or one that cannot be made to fit."""
    image = open_image(data, kind)  # decoded: a broken file costs no paid call
    try:
        as_it_came = kind in (FileKind.JPEG, FileKind.PNG) and len(data) <= limit
        if as_it_came and max(image.size) <= _MAX_SIDE:
            return Upload(data, kind)
        upright = ImageOps.exif_transpose(image)
        return Upload(_jpeg_within(_flatten(upright), limit), FileKind.JPEG)
    finally:
        image.close()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or grey, transparency on white: what JPEG can hold."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("1", "I", "F") or image.mode.startswith("I;"):
        return image.convert("L")
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _jpeg_within(image: Image.Image, limit: int) -> bytes:
    """The largest-looking JPEG of ``image`` within ``limit`` bytes: quality first, then
    size; at most ``_MAX_SIDE`` pixels on the long side, never under ``_MIN_SIDE``."""
    width, height = image.size
    long_side = max(width, height)
    scale = min(1.0, _MAX_SIDE / long_side)
    floor = min(1.0, _MIN_SIDE / long_side)
    size = image.size
    for _ in range(_MAX_ROUNDS):
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        candidate = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)
        encoded = b""
        for quality in _QUALITIES:
            encoded = _jpeg(candidate, quality)
            if len(encoded) <= limit:
                return encoded
        if scale <= floor:
            break
        # A JPEG's bytes grow about with its pixels: aim under the limit, step 10-50 %.
        step = max(0.5, min(0.9, math.sqrt(limit / len(encoded)) * 0.95))
        scale = max(floor, scale * step)
    raise HubError(
        Problem.FILE_TOO_LARGE,
        f"the image does not fit in {limit} bytes even as a JPEG of {size[0]}x{size[1]} pixels",
    )


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    """The document, for the caller to close; call with ``native.PDFIUM_LOCK`` held."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
            raise HubError(Problem.UNRECOGNISABLE, "the PDF is encrypted with a password") from None
        raise HubError(Problem.UNRECOGNISABLE, f"not a readable PDF ({error})") from None
    if len(document) == 0:
        document.close()
        raise HubError(Problem.UNRECOGNISABLE, "the PDF has no pages")
    return document


def pdf_page_upload(
    document: pdfium.PdfDocument, page: int, limit: int = MAX_UPLOAD_BYTES
) -> Upload:
    """Page ``page`` (1-based) of ``document`` as a one-page PDF; rendered as a JPEG when
    that PDF is over ``limit`` (a scanned page). Raises ``HubError``. PDFium is not
    thread-safe: the caller holds ``native.PDFIUM_LOCK`` (re-entrant) around the whole
    life of ``document``; this takes it too."""
    with native.PDFIUM_LOCK:
        single = pdfium.PdfDocument.new()
        try:
            single.import_pages(document, [page - 1])
            buffer = io.BytesIO()
            single.save(buffer)
        except pdfium.PdfiumError as error:
            raise HubError(
                Problem.UNRECOGNISABLE, f"page {page} cannot be copied ({error})"
            ) from None
        finally:
            single.close()
        if buffer.tell() <= limit:
            return Upload(buffer.getvalue(), FileKind.PDF, page)
        image = _rendered_page(document, page)
    try:
        return Upload(_jpeg_within(_flatten(image), limit), FileKind.JPEG, page)
    finally:
        image.close()


def _rendered_page(document: pdfium.PdfDocument, page: int) -> Image.Image:
    """The page rendered, as a PIL image of its own (no view of a PDFium buffer: it
    outlives the lock); every PDFium object is closed here."""
    pdf_page = document[page - 1]
    try:
        width, height = pdf_page.get_size()
        scale = min(_RENDER_DPI / 72, _MAX_SIDE / max(width, height, 1.0))
        bitmap = pdf_page.render(scale=scale)
        try:
            shared: Image.Image = bitmap.to_pil()
            image = shared.copy()
            shared.close()
        finally:
            bitmap.close()
    except pdfium.PdfiumError as error:
        raise HubError(
            Problem.UNRECOGNISABLE, f"page {page} cannot be rendered ({error})"
        ) from None
    finally:
        pdf_page.close()
    return image


# --- tolerant parsing ----------------------------------------------------------------

_RESULT_MODELS: dict[str, type[BaseModel]] = {
    model.kind: model
    for model in (
        VatResult,
        TaxiResult,
        TrainResult,
        MachinePrintedResult,
        RollResult,
        QuotaResult,
        TollResult,
        BusResult,
        FlightItineraryResult,
        UsedCarResult,
        MotorVehicleResult,
        ReceiptResult,
        TaxCertificateResult,
        RideHailingResult,
        OtherResult,
    )
}
_LIST_MODELS: dict[str, type[BaseModel]] = {"flightInfos": FlightInfo, "tripInfos": TripInfo}


def _wire_names(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(info.alias or name for name, info in model.model_fields.items())


def _prune(
    value: Mapping[str, Any], model: type[BaseModel], dropped: list[str], path: str
) -> dict[str, Any]:
    allowed = _wire_names(model)
    kept: dict[str, Any] = {}
    for name, item in value.items():
        if name in allowed:
            kept[name] = item
        else:
            dropped.append(f"{path}{name}")
    return kept


def _envelope(payload: object, model: type[BaseModel], dropped: list[str]) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise WireError(f"yipiaoyun answered a JSON {type(payload).__name__}, not an object")
    envelope = _prune(payload, model, dropped, "")
    message = envelope.get("message")
    if message is not None and not isinstance(message, str):
        envelope["message"] = str(message)
    return envelope


def _is_empty(data: object) -> bool:
    """004's "nothing yet": no data, an empty string, object or list, or 识别中 as data."""
    if data is None:
        return True
    if isinstance(data, str):
        return not data.strip() or RECOGNISING in data
    return isinstance(data, Mapping | list) and not data


def parse_send_response(payload: object) -> tuple[SendResponse, list[str]]:
    """A sendByImageUrl / sendByImageFile answer, with fields 004 does not name dropped.

    An identify id sent as a JSON number is read as its text. Raises ``WireError`` or
    ``ValidationError`` when what remains is not 004.
    """
    dropped: list[str] = []
    envelope = _envelope(payload, SendResponse, dropped)
    data = envelope.get("data")
    if isinstance(data, int | Decimal) and not isinstance(data, bool):
        envelope["data"] = str(data)
    elif isinstance(data, str) and not data.strip():
        envelope["data"] = None
    return SendResponse.model_validate(envelope), dropped


def parse_result_response(payload: object) -> tuple[ResultResponse, list[str]]:
    """A result answer, with fields 004 does not name dropped (also inside ``data`` and
    its ``flightInfos`` / ``tripInfos``); an empty ``data`` (pending) is None.

    Raises ``WireError`` or ``ValidationError`` when what remains is not 004.
    """
    dropped: list[str] = []
    envelope = _envelope(payload, ResultResponse, dropped)
    data = envelope.get("data")
    if _is_empty(data):
        envelope["data"] = None
    elif isinstance(data, Mapping):
        model = _RESULT_MODELS[result_data_kind(data)]
        kept = dict(data) if model is OtherResult else _prune(data, model, dropped, "data.")
        for name, item_model in _LIST_MODELS.items():
            items = kept.get(name)
            if name in _wire_names(model) and isinstance(items, list):
                kept[name] = [
                    _prune(item, item_model, dropped, f"data.{name}[{index}].")
                    if isinstance(item, Mapping)
                    else item
                    for index, item in enumerate(items)
                ]
        envelope["data"] = kept
    return ResultResponse.model_validate(envelope), dropped


def _row(message: str | None) -> CatalogueEntry | None:
    """The catalogue's yipiaoyun row whose message the provider's message holds."""
    if not message:
        return None
    for entry in CATALOGUE:
        if entry.family is Family.YIPIAOYUN and entry.code != "0" and entry.message in message:
            return entry
    return None


def _is_recognising(code: int, message: str | None) -> bool:
    return code != 0 and message is not None and RECOGNISING in message


# --- the identifier ------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    """One request: the JSON object answered, or why there is none."""

    http_status: int | None = None
    payload: object = None
    failure: str | None = None  # no JSON answer: timeout, unreachable, not JSON
    retryable: bool = False  # for a failure: can the same request succeed later?

    @property
    def busy(self) -> bool:
        return self.http_status is not None and (self.http_status == 429 or self.http_status >= 500)


class YipiaoyunIdentifier:
    """Identifier over yipiaoyun's ``{url}/openapi/identify/*`` (spec 004)."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        attempts: int = 3,
        budget_seconds: float = 25.0,
        max_pages: int = 10,
        upload_limit: int = MAX_UPLOAD_BYTES,
        backoff_base: float = 0.5,
        backoff_cap: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(
            follow_redirects=False, headers={"User-Agent": "fapiao-hub"}
        )
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._attempts = attempts
        self._budget = budget_seconds
        self._max_pages = max_pages
        self._limit = upload_limit
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._monotonic = monotonic
        self._jitter = jitter

    @classmethod
    def from_settings(cls, settings: IdentifierSettings, **options: Any) -> YipiaoyunIdentifier:
        if not settings.yipiaoyun_url:
            raise ValueError("FAPIAO_YIPIAOYUN_URL is not set")
        return cls(
            settings.yipiaoyun_url,
            connect_timeout=settings.yipiaoyun_connect_timeout,
            read_timeout=settings.yipiaoyun_read_timeout,
            attempts=settings.yipiaoyun_attempts,
            budget_seconds=settings.yipiaoyun_budget_seconds,
            max_pages=settings.yipiaoyun_max_pages,
            **options,
        )

    def __repr__(self) -> str:
        return f"YipiaoyunIdentifier(base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    # -- submissions -------------------------------------------------------------------

    def submit_url(self, url: str) -> Submission:
        """004 sendByImageUrl: yipiaoyun downloads the file itself (first PDF page only)."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            return Submission(reason="not an http(s) URL", problem=Problem.INVALID_REQUEST)
        body = SendByImageUrlRequest(imageUrl=url).to_wire()
        started = self._monotonic()
        return self._retrying(
            lambda remaining, attempt: self._request(
                SEND_URL_PATH, remaining, attempt, {"host": parsed.host}, json=body
            ),
            lambda reply: self._submitted(reply, None),
            started,
            Submission(reason="yipiaoyun was not asked: no time left", retryable=True),
        )

    def submit_file(self, data: bytes, *, pages: Sequence[int] | None = None) -> list[Submission]:
        """004 sendByImageFile: an image as one submission (shrunk to 1 MB), a PDF as one
        submission per page (``pages``: only these, 1-based), at most ``max_pages``."""
        started = self._monotonic()
        try:
            kind = detect(data)
            if kind is FileKind.OFD:
                raise HubError(Problem.UNSUPPORTED_FILE_TYPE, "yipiaoyun (004) takes no OFD")
            if kind is FileKind.PDF:
                return self._submit_pdf(data, pages, started)
            upload = fit_image(data, kind, self._limit)
        except HubError as error:
            return [_refused(error)]
        return [self._upload(upload, started)]

    def _submit_pdf(
        self, data: bytes, pages: Sequence[int] | None, started: float
    ) -> list[Submission]:
        submissions: list[Submission] = []
        for page, prepared in self._pdf_pages(data, pages):
            if isinstance(prepared, Submission):
                submissions.append(prepared)
            elif self._monotonic() - started >= self._budget:
                submissions.append(
                    Submission(
                        page=page, reason="yipiaoyun was not asked: no time left", retryable=True
                    )
                )
            elif isinstance(prepared, HubError):
                submissions.append(_refused(prepared, page))
            else:
                submissions.append(self._upload(prepared, started))
        return submissions

    def _pdf_pages(
        self, data: bytes, pages: Sequence[int] | None
    ) -> list[tuple[int, Upload | HubError | Submission]]:
        """Each page asked for: its upload (or why it cannot be made), or the submission
        that says why it is not sent. Every page is made before any is sent: PDFium is
        behind ``native.PDFIUM_LOCK``, which is not held while yipiaoyun is asked."""
        with native.PDFIUM_LOCK:
            document = _open_pdf(data)
            try:
                return self._prepared_pages(document, data, pages)
            finally:
                document.close()

    def _prepared_pages(
        self, document: pdfium.PdfDocument, data: bytes, pages: Sequence[int] | None
    ) -> list[tuple[int, Upload | HubError | Submission]]:
        count = len(document)
        wanted = list(dict.fromkeys(pages if pages is not None else range(1, count + 1)))
        if len(wanted) > limits.MAX_PDF_PAGES:
            raise HubError(
                Problem.FILE_TOO_LARGE,
                f"{len(wanted)} pages asked for; at most {limits.MAX_PDF_PAGES} are read",
            )
        prepared: list[tuple[int, Upload | HubError | Submission]] = []
        sent = 0
        for page in wanted:
            if not 1 <= page <= count:
                prepared.append(
                    (
                        page,
                        Submission(
                            page=page,
                            reason=f"the PDF has no page {page} (it has {count})",
                            problem=Problem.INVALID_REQUEST,
                        ),
                    )
                )
                continue
            if sent == self._max_pages:
                prepared.append(
                    (
                        page,
                        Submission(
                            page=page,
                            reason=f"not sent: at most {self._max_pages} pages of a file go "
                            "to yipiaoyun",
                            problem=Problem.FILE_TOO_LARGE,
                        ),
                    )
                )
                continue
            sent += 1
            try:
                if count == 1 and len(data) <= self._limit:
                    prepared.append((page, Upload(data, FileKind.PDF, page)))  # as it came
                else:
                    prepared.append((page, pdf_page_upload(document, page, self._limit)))
            except HubError as error:
                prepared.append((page, error))
        return prepared

    def _upload(self, upload: Upload, started: float) -> Submission:
        files = {"imageFile": (upload.filename, upload.data, upload.content_type)}
        log = {"page": upload.page, "bytes": len(upload.data), "kind": upload.kind.value}
        return self._retrying(
            lambda remaining, attempt: self._request(
                SEND_FILE_PATH, remaining, attempt, log, files=files
            ),
            lambda reply: self._submitted(reply, upload.page),
            started,
            Submission(
                page=upload.page, reason="yipiaoyun was not asked: no time left", retryable=True
            ),
        )

    def _submitted(self, reply: _Reply, page: int | None) -> tuple[Submission, bool]:
        """The submission a send answer gives, and whether another attempt may change it."""
        if reply.failure is not None:
            failed = Submission(
                page=page,
                reason=reply.failure,
                retryable=reply.retryable,
                problem=Problem.UPSTREAM_UNAVAILABLE if reply.retryable else Problem.INTERNAL,
            )
            return failed, reply.retryable
        try:
            response, dropped = parse_send_response(reply.payload)
        except (WireError, ValidationError) as error:
            return self._not_004(reply, error, page), reply.busy or _ok(reply)
        if dropped:
            logger.debug("yipiaoyun sent fields 004 does not name", extra={"fields": dropped})
        if response.code == 0:
            if response.data:
                return Submission(identify_id=response.data, page=page), False
            reason = "yipiaoyun accepted the request without an identify id"
            logger.warning(reason, extra={"page": page})
            failed = Submission(
                page=page, reason=reason, retryable=True, problem=Problem.UPSTREAM_UNAVAILABLE
            )
            return failed, True
        entry = _row(response.message)
        reason = response.message or f"yipiaoyun answered code {response.code}"
        if entry is not None and entry.problem is Problem.UNAUTHORISED:
            _alarm_refused(reply, response.message)
            return Submission(page=page, reason=reason, problem=Problem.INTERNAL), False
        retryable = reply.busy or (entry is not None and entry.retryable)
        problem: Problem | None = entry.problem if entry is not None else None
        if retryable and problem is None:
            problem = Problem.UPSTREAM_UNAVAILABLE
        failed = Submission(page=page, reason=reason, retryable=retryable, problem=problem)
        return failed, retryable

    def _not_004(self, reply: _Reply, error: Exception, page: int | None) -> Submission:
        retryable = reply.busy or _ok(reply)
        if not retryable:  # a 4xx without 004's envelope: a wrong URL or a proxy in the way
            logger.error(
                "yipiaoyun answered no 004 JSON",
                extra={"http_status": reply.http_status, "alarm": "yipiaoyun"},
            )
        return Submission(
            page=page,
            reason=f"yipiaoyun's answer is not 004 (HTTP {reply.http_status}, "
            f"{type(error).__name__})",
            retryable=retryable,
            problem=Problem.UPSTREAM_UNAVAILABLE if retryable else Problem.INTERNAL,
        )

    # -- polls -------------------------------------------------------------------------

    def poll(self, identify_id: str) -> Poll:
        """004 result, once (retried only when no answer came): pending, done or failed."""
        if not identify_id:
            return Poll(
                state=PollState.FAILED, reason="no identify id", problem=Problem.INVALID_REQUEST
            )
        body = ResultRequest(identifyId=identify_id).to_wire()
        started = self._monotonic()
        return self._retrying(
            lambda remaining, attempt: self._request(
                RESULT_PATH, remaining, attempt, {"identify_id": identify_id}, json=body
            ),
            lambda reply: self._polled(reply, identify_id),
            started,
            Poll(state=PollState.PENDING, reason="yipiaoyun was not asked: no time left"),
        )

    def _polled(self, reply: _Reply, identify_id: str) -> tuple[Poll, bool]:
        """The poll a result answer gives, and whether another attempt may change it."""
        log = {"identify_id": identify_id, "http_status": reply.http_status}
        if reply.failure is not None:
            if reply.retryable:
                return _later(reply.failure), True
            return Poll(
                state=PollState.FAILED, reason=reply.failure, problem=Problem.INTERNAL
            ), False
        try:
            response, dropped = parse_result_response(reply.payload)
        except (WireError, ValidationError) as error:
            reason = f"yipiaoyun's answer is not 004 (HTTP {reply.http_status}, " + (
                f"{type(error).__name__})"
            )
            if reply.busy:
                return _later(reason), True
            logger.error(
                "yipiaoyun answered no 004 result",
                extra={**log, "failure": type(error).__name__, "alarm": "yipiaoyun"},
            )
            return Poll(state=PollState.FAILED, reason=reason, problem=Problem.INTERNAL), False
        if dropped:
            logger.debug(
                "yipiaoyun sent fields 004 does not name", extra={**log, "fields": dropped}
            )
        if response.code == 0:
            if response.data is None:
                return Poll(state=PollState.PENDING, reason="yipiaoyun is still recognising"), False
            try:
                invoice = invoice_from_identify_result(response.data)
            except (UnknownTypeCode, InvalidDate, InvalidAmountError) as error:
                logger.error(
                    "yipiaoyun's result cannot be read",
                    extra={**log, "failure": type(error).__name__, "alarm": "yipiaoyun"},
                )
                return Poll(
                    state=PollState.FAILED,
                    reason=f"yipiaoyun's result cannot be read: {error}",
                    problem=Problem.UNRECOGNISABLE,
                ), False
            return Poll(state=PollState.DONE, invoice=invoice), False
        message = response.message
        if _is_recognising(response.code, message):
            return Poll(state=PollState.PENDING, reason=message), False
        entry = _row(message)
        reason = message or f"yipiaoyun answered code {response.code}"
        if entry is not None and entry.problem is Problem.UNAUTHORISED:
            _alarm_refused(reply, message)
            return Poll(state=PollState.FAILED, reason=reason, problem=Problem.INTERNAL), False
        if reply.busy or (entry is not None and entry.retryable):
            return _later(reason), True
        problem = (entry.problem if entry is not None else None) or Problem.UNRECOGNISABLE
        return Poll(state=PollState.FAILED, reason=reason, problem=problem), False

    # -- requests ----------------------------------------------------------------------

    def _retrying(
        self,
        call: Callable[[float, int], _Reply],
        decide: Callable[[_Reply], tuple[_T, bool]],
        started: float,
        no_time: _T,
    ) -> _T:
        outcome = no_time
        for attempt in range(1, self._attempts + 1):
            remaining = self._budget - (self._monotonic() - started)
            if remaining <= 0:
                break
            outcome, retry = decide(call(remaining, attempt))
            if not retry or attempt == self._attempts:
                break
            delay = self._jitter() * min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
            if self._monotonic() - started + delay >= self._budget:
                break
            self._sleep(delay)
        return outcome

    def _request(
        self,
        path: str,
        remaining: float,
        attempt: int,
        context: Mapping[str, object],
        **content: Any,
    ) -> _Reply:
        timeout = httpx.Timeout(
            connect=min(self._connect_timeout, remaining),
            read=min(self._read_timeout, remaining),
            write=min(self._read_timeout, remaining),
            pool=min(self._connect_timeout, remaining),
        )
        log: dict[str, object] = {"endpoint": path.rsplit("/", 1)[-1], "attempt": attempt}
        log.update(context)
        started = time.monotonic()
        try:
            reply = self._client.post(f"{self.base_url}{path}", timeout=timeout, **content)
        except httpx.TimeoutException as error:
            logger.warning("yipiaoyun timed out", extra={**log, "failure": type(error).__name__})
            return _Reply(failure=f"yipiaoyun timed out ({type(error).__name__})", retryable=True)
        except httpx.HTTPError as error:
            logger.warning("yipiaoyun unreachable", extra={**log, "failure": type(error).__name__})
            return _Reply(failure=f"yipiaoyun unreachable ({type(error).__name__})", retryable=True)
        except Exception as error:  # a malformed base URL and such: the hub's configuration
            logger.error(
                "yipiaoyun cannot be called",
                extra={**log, "failure": type(error).__name__, "alarm": "yipiaoyun"},
            )
            return _Reply(failure=f"yipiaoyun cannot be called ({type(error).__name__})")
        log.update(
            http_status=reply.status_code, elapsed_ms=int((time.monotonic() - started) * 1000)
        )
        try:
            payload = load_json(reply.content)
        except WireError:
            busy = reply.status_code == 429 or reply.status_code >= 500
            if busy or reply.is_success:
                logger.warning("yipiaoyun answered no JSON", extra=log)
                return _Reply(
                    reply.status_code,
                    failure=f"yipiaoyun answered HTTP {reply.status_code} without JSON",
                    retryable=True,
                )
            logger.error("yipiaoyun answered no JSON", extra={**log, "alarm": "yipiaoyun"})
            return _Reply(
                reply.status_code,
                failure=f"yipiaoyun's answer is not 004 (HTTP {reply.status_code})",
            )
        if isinstance(payload, Mapping):
            log.update(code=payload.get("code"), provider_message=payload.get("message"))
        logger.info("yipiaoyun answered", extra=log)
        return _Reply(reply.status_code, payload)


def _ok(reply: _Reply) -> bool:
    return reply.http_status is not None and 200 <= reply.http_status < 300


def _later(reason: str) -> Poll:
    """No answer this time: the identify id stays good, poll again later."""
    return Poll(
        state=PollState.PENDING,
        reason=f"{reason}; poll again later",
        problem=Problem.UPSTREAM_UNAVAILABLE,
    )


def _refused(error: HubError, page: int | None = None) -> Submission:
    """A file the hub does not send: nothing asked, nothing retried."""
    return Submission(page=page, reason=str(error), problem=error.problem)


def _alarm_refused(reply: _Reply, message: str | None) -> None:
    logger.error(
        "yipiaoyun refused the hub itself: check its configuration",
        extra={
            "http_status": reply.http_status,
            "provider_message": message,
            "alarm": "yipiaoyun",
        },
    )
