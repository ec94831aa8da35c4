"""YipiaoyunIdentifier: asynchronous recognition by yipiaoyun (spec 004), over httpx.

``POST {url}/openapi/identify/sendByImageUrl`` (JSON ``imageUrl``) or
``sendByImageFile`` (multipart ``imageFile``) answers an identify id;
``POST {url}/openapi/identify/result`` with ``identifyId`` answers the recognized
invoice, mapped into the canonical model by ``fapiao.mapping.yipiaoyun`` (every per-type
schema of 004, dates like "2019年07月06日").

What is sent (004: "jpg, jpeg, png及pdf(pdf只支持识别第一页内容). 图片最大支持1M") is made
by ``fapiao.providers.uploads``: an image within 1 MB (re-encoded as a JPEG when it is
larger or a kind 004 does not take), a PDF one page at a time, at most ``max_pages``
pages. An OFD is refused without a call (004 does not take it).

Pending (004 does not document the answer for a recognition still in progress):
``code`` 0 with an empty ``data``, and a non-zero ``code`` whose message says
"识别中", are a recognition in progress. See ``fapiao.providers.identifier`` for what
a poll that reached no answer means (pending, "poll again later").

Failures: a timeout, a connection error, HTTP 429 or 5xx, a body that is not JSON and a
``code`` -1 whose message is a retryable row of the error catalogue (请求过于频繁,
系统内部错误) are retried with jittered exponential backoff within the attempts and
the time budget (``fapiao.providers.client.ProviderClient``). yipiaoyun's only error
code is -1, so its message is the one thing that tells its errors apart: it is matched
against the catalogue's yipiaoyun rows, and a message no row names is a failure in
yipiaoyun's own words. A refusal of the hub itself (未授权) or an answer that is not
004 is logged as an error with ``alarm: yipiaoyun``.

Parsing is tolerant (``fapiao.mapping.yipiaoyun.parse_send_response`` and
``parse_result_response``): fields 004 does not name are dropped before the strict wire
models validate (their names logged at debug level, never their values). Logs carry the
endpoint, attempt, HTTP status, code, message and identify id; never the file, never an
image URL (a presigned URL is a credential), only its host.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from fapiao.catalogue.errors import CATALOGUE, CatalogueEntry, Family, HubError, Problem
from fapiao.catalogue.types import UnknownTypeCode
from fapiao.dates import InvalidDate
from fapiao.mapping.yipiaoyun import (
    RECOGNIZING,
    InvalidAmountError,
    invoice_from_identify_result,
    parse_result_response,
    parse_send_response,
)
from fapiao.providers.client import Body, ProviderClient, Reply
from fapiao.providers.identifier import Poll, PollState, Submission
from fapiao.providers.turns import ProviderTurns
from fapiao.providers.uploads import MAX_UPLOAD_BYTES, NotSent, Upload, fit_image, pdf_uploads
from fapiao.recognize.detect import FileKind, detect
from fapiao.settings import IdentifierSettings
from fapiao.wire.common import WireError, load_json
from fapiao.wire.yipiaoyun import (
    ResultRequest,
    ResultResponse,
    SendByImageUrlRequest,
    SendResponse,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "RESULT_PATH",
    "SEND_FILE_PATH",
    "SEND_URL_PATH",
    "YipiaoyunIdentifier",
]

logger = logging.getLogger(__name__)

SEND_URL_PATH = "/openapi/identify/sendByImageUrl"
SEND_FILE_PATH = "/openapi/identify/sendByImageFile"
RESULT_PATH = "/openapi/identify/result"

_T = TypeVar("_T")


# --- the wire ------------------------------------------------------------------------


def _logged_codes(payload: object) -> dict[str, object]:
    if isinstance(payload, Mapping):
        return {"code": payload.get("code"), "provider_message": payload.get("message")}
    return {}


# An answer is any JSON object; what it means depends on the endpoint (``_submitted``,
# ``_polled``), so it is parsed there. Its log line carries its code and message.
ANSWER: Body[Any] = Body("JSON", load_json, _logged_codes)


def _row(message: str | None) -> CatalogueEntry | None:
    """The catalogue's yipiaoyun row whose message the provider's message holds."""
    if not message:
        return None
    for entry in CATALOGUE:
        if entry.family is Family.YIPIAOYUN and entry.code != "0" and entry.message in message:
            return entry
    return None


def _is_recognizing(code: int, message: str | None) -> bool:
    return code != 0 and message is not None and RECOGNIZING in message


# --- the identifier ------------------------------------------------------------------


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
        turns: ProviderTurns | None = None,
        turn_wait: float = 2.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._max_pages = max_pages
        self._limit = upload_limit
        self._http = ProviderClient(
            "yipiaoyun",
            spec="004",
            logger=logger,
            client=client,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            attempts=attempts,
            budget_seconds=budget_seconds,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            sleep=sleep,
            monotonic=monotonic,
            jitter=jitter,
            turns=turns,
            turn_wait=turn_wait,
        )

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
        self._http.close()

    # -- submissions -------------------------------------------------------------------

    def submit_url(self, url: str) -> Submission:
        """004 sendByImageUrl: yipiaoyun downloads the file itself (first PDF page only)."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            return Submission(reason="not an http(s) URL", problem=Problem.INVALID_REQUEST)
        return self._call(
            SEND_URL_PATH,
            lambda reply: self._submitted(reply, None),
            Submission(reason="yipiaoyun was not asked: no time left", retryable=True),
            {"host": parsed.host},
            json=SendByImageUrlRequest(imageUrl=url).to_wire(),
        )

    def submit_file(self, data: bytes, *, pages: Sequence[int] | None = None) -> list[Submission]:
        """004 sendByImageFile: an image as one submission (shrunk to 1 MB), a PDF as one
        submission per page (``pages``: only these, 1-based), at most ``max_pages``."""
        started = self._http.start()
        try:
            kind = detect(data)
            if kind is FileKind.OFD:
                raise HubError(Problem.UNSUPPORTED_FILE_TYPE, "yipiaoyun (004) takes no OFD")
            if kind is FileKind.PDF:
                prepared = pdf_uploads(data, pages, max_pages=self._max_pages, limit=self._limit)
                return [self._send_page(page, upload, started) for page, upload in prepared]
            upload = fit_image(data, kind, self._limit)
        except HubError as error:
            return [_refused(error)]
        return [self._upload(upload, started)]

    def _send_page(
        self, page: int, prepared: Upload | HubError | NotSent, started: float
    ) -> Submission:
        if isinstance(prepared, NotSent):
            return Submission(page=page, reason=prepared.reason, problem=prepared.problem)
        if self._http.time_left(started) <= 0:
            return Submission(
                page=page, reason="yipiaoyun was not asked: no time left", retryable=True
            )
        if isinstance(prepared, HubError):
            return _refused(prepared, page)
        return self._upload(prepared, started)

    def _upload(self, upload: Upload, started: float) -> Submission:
        return self._call(
            SEND_FILE_PATH,
            lambda reply: self._submitted(reply, upload.page),
            Submission(
                page=upload.page, reason="yipiaoyun was not asked: no time left", retryable=True
            ),
            {"page": upload.page, "bytes": len(upload.data), "kind": upload.kind.value},
            started=started,
            files={"imageFile": (upload.filename, upload.data, upload.content_type)},
        )

    def _submitted(self, reply: Reply[Any], page: int | None) -> tuple[Submission, bool]:
        """The submission a send answer gives, and whether another attempt may change it."""
        if reply.failure is not None:
            failed = Submission(
                page=page, reason=reply.failure, retryable=reply.retryable, problem=reply.problem
            )
            return failed, reply.retryable
        try:
            response, dropped = parse_send_response(reply.body)
        except (WireError, ValidationError) as error:
            return self._not_004(reply, error, page), reply.busy or reply.ok
        if dropped:
            logger.debug("yipiaoyun sent fields 004 does not name", extra={"fields": dropped})
        return self._sent(response, reply, page)

    def _sent(
        self, response: SendResponse, reply: Reply[Any], page: int | None
    ) -> tuple[Submission, bool]:
        """What a send answer in 004's envelope says: an identify id, or why there is none."""
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

    def _not_004(self, reply: Reply[Any], error: Exception, page: int | None) -> Submission:
        retryable = reply.busy or reply.ok
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
        return self._call(
            RESULT_PATH,
            lambda reply: self._polled(reply, identify_id),
            Poll(state=PollState.PENDING, reason="yipiaoyun was not asked: no time left"),
            {"identify_id": identify_id},
            json=ResultRequest(identifyId=identify_id).to_wire(),
        )

    def _polled(self, reply: Reply[Any], identify_id: str) -> tuple[Poll, bool]:
        """The poll a result answer gives, and whether another attempt may change it."""
        log = {"identify_id": identify_id, "http_status": reply.http_status}
        if reply.failure is not None:
            if reply.retryable:
                return _later(reply.failure), True
            return Poll(
                state=PollState.FAILED, reason=reply.failure, problem=Problem.INTERNAL
            ), False
        try:
            response, dropped = parse_result_response(reply.body)
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
        return self._result(response, reply, log)

    def _result(
        self, response: ResultResponse, reply: Reply[Any], log: Mapping[str, object]
    ) -> tuple[Poll, bool]:
        """What a result answer in 004's envelope says: done, pending or failed."""
        if response.code == 0:
            if response.data is None:
                return Poll(state=PollState.PENDING, reason="yipiaoyun is still recognizing"), False
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
        if _is_recognizing(response.code, message):
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

    def _call(
        self,
        path: str,
        decide: Callable[[Reply[Any]], tuple[_T, bool]],
        no_time: _T,
        context: Mapping[str, object],
        *,
        started: float | None = None,
        **content: Any,
    ) -> _T:
        """POST to ``path`` with the client's retries; the outcome ``decide`` made."""
        log = {"endpoint": path.rsplit("/", 1)[-1], **context}
        called: tuple[_T, int] = self._http.call(
            f"{self.base_url}{path}",
            ANSWER,
            decide,
            no_time=no_time,
            throttled=_throttled,
            log=log,
            started=started,
            **content,
        )
        return called[0]


def _throttled(reply: Reply[Any]) -> bool:
    """HTTP 429, or 004's -1 with the message of the catalogue's RATE_LIMITED row."""
    if reply.http_status == 429:
        return True
    body = reply.body
    message = body.get("message") if isinstance(body, dict) else None
    entry = _row(message) if isinstance(message, str) else None
    return entry is not None and entry.problem is Problem.RATE_LIMITED


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


def _alarm_refused(reply: Reply[Any], message: str | None) -> None:
    logger.error(
        "yipiaoyun refused the hub itself: check its configuration",
        extra={
            "http_status": reply.http_status,
            "provider_message": message,
            "alarm": "yipiaoyun",
        },
    )
