"""A fake yipiaoyun on loopback that speaks spec 004: submit, get an id, poll.

Integration tests start it themselves (``with FakeYipiaoyun() as fake:``) and plan what
the next submissions recognize: ``fake.plan(result=EXAMPLES["5000"], pending=3)``. Each
submission takes the plan in force when it arrives and gets a fresh identify id; polling
that id answers "pending" ``pending`` times, then ``code`` 0 with the planned ``data``
(``pending=None``: never done). Pending comes in both forms the identifier must accept
(004 does not document one): ``code`` 0 with no ``data`` ("empty") and ``code`` -1 with
message "识别中" ("recognizing"); ``pending_form="both"`` alternates them.

Like 004 it checks requests first: ``sendByImageUrl`` needs ``imageUrl`` (-1
"图片URL不能为空"); ``sendByImageFile`` needs a multipart ``imageFile`` that is a jpg,
jpeg, png or pdf by name and by its bytes (-1 "图片文件类型不支持") of at most 1 MB
(-1 "图片最大支持1M"); ``result`` with an id it never gave answers -1
"未查询到对应识别请求". Errors are HTTP 200 with ``code`` -1, as 004 shows them.

``fake.inject(endpoint, *answers)`` queues raw answers that the endpoint serves, one
each, before answering normally again: ``raw(503, "...")``, ``raw(200, "not json")``,
``error("请求过于频繁")``, ``slow(seconds)`` (a read timeout through ``transport()``).
Every request is recorded in ``fake.calls`` (endpoint, JSON body or upload), so tests
count them (``fake.count("result")``) and look at what was uploaded
(``fake.uploads``: name, content type, bytes, PDF page count).
"""

from __future__ import annotations

import email.parser
import io
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pypdfium2 as pdfium  # type: ignore[import-untyped]

SEND_URL = "/openapi/identify/sendByImageUrl"
SEND_FILE = "/openapi/identify/sendByImageFile"
RESULT = "/openapi/identify/result"
ENDPOINTS = {SEND_URL: "sendByImageUrl", SEND_FILE: "sendByImageFile", RESULT: "result"}
MAX_BYTES = 1_000_000  # 004: 图片最大支持1M
EXTENSIONS = ("jpg", "jpeg", "png", "pdf")
RECOGNIZING = "识别中"

if TYPE_CHECKING:
    from fixtures.generate import InvoiceSpec

PendingForm = Literal["empty", "recognizing", "both"]

# 004's 电票、纸票、专票 example data, verbatim: the default result.
VAT_EXAMPLE: dict[str, Any] = {
    "invoiceType": "10102",
    "invoiceCode": "050003521107",
    "invoiceNo": "89050020",
    "date": "2019年07月06日",
    "amountWithoutTax": "2.91",
    "taxAmount": "0.09",
    "amountWithTax": "3.00",
    "checkCode": "07452879925677728392",
    "purchaserTaxNo": "9131010563178864XK",
    "purchaserName": "换了丑章",
    "sellerTaxNo": "11010120181016022",
    "sellerName": "测试22",
    "companySeal": "1",
    "formType": "",
    "ciphertext": "03>98/-7<1-7688*0053->1+6<-,7+1631485>+*88*+605472+4488*,184/75+*0-*<21-8/>7>"
    "22-55<>3,1919+-8>9001764<197845+1803+",
    "payee": "张果老",
    "reviewer": ":南极翁",
    "ticketHolder": "铁头娃",
    "province": "重庆市",
    "city": "",
    "remark": "",
    "itemNames": "*软饮料*可乐",
}


def yipiaoyun_result(spec: InvoiceSpec) -> dict[str, Any]:
    """004's VAT result for the invoice ``spec`` (recent, valid tax IDs)."""
    date = spec.receipt_date
    return {
        **VAT_EXAMPLE,
        "invoiceCode": spec.invoice_code,
        "invoiceNo": spec.invoice_number,
        "date": f"{date.year}年{date.month:02d}月{date.day:02d}日",
        "amountWithoutTax": str(spec.amount),
        "taxAmount": str(spec.tax_amount),
        "amountWithTax": str(spec.total_amount),
        "checkCode": spec.check_code,
        "purchaserName": spec.buyer_name,
        "purchaserTaxNo": spec.buyer_tax_code,
        "sellerName": spec.seller_name,
        "sellerTaxNo": spec.seller_tax_code,
    }


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0


def answer(payload: object, status: int = 200) -> Answer:
    return Answer(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def error(message: str, status: int = 200) -> Answer:
    """004's failure: ``code`` -1 and the message."""
    return answer({"code": -1, "message": message}, status)


def raw(status: int, body: bytes | str) -> Answer:
    return Answer(status, body.encode("utf-8") if isinstance(body, str) else body)


def slow(seconds: float, then: Answer | None = None) -> Answer:
    base = then or raw(200, "")
    return Answer(base.status, base.body, seconds)


@dataclass(frozen=True)
class Plan:
    """What a submission made under it recognizes."""

    result: dict[str, Any]
    pending: int | None = 0  # polls answered pending first; None: never done
    pending_form: PendingForm = "both"
    extra: dict[str, Any] = field(default_factory=dict)  # envelope fields 004 does not name


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    pdf_pages: int | None  # for a PDF: how many pages it has


@dataclass
class _Identify:
    plan: Plan
    polls: int = 0


@dataclass
class FakeYipiaoyun:
    calls: list[tuple[str, Any]] = field(default_factory=list)  # (endpoint, body or Upload)
    _plan: Plan = field(default_factory=lambda: Plan(VAT_EXAMPLE))
    _identifies: dict[str, _Identify] = field(default_factory=dict)
    _injected: dict[str, list[Answer]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- scripting -----------------------------------------------------------------

    def plan(
        self,
        result: dict[str, Any] | None = None,
        *,
        pending: int | None = 0,
        pending_form: PendingForm = "both",
        extra: dict[str, Any] | None = None,
    ) -> None:
        """What the next submissions recognize (default: 004's VAT example, at once)."""
        with self._lock:
            self._plan = Plan(result or VAT_EXAMPLE, pending, pending_form, extra or {})

    def inject(self, endpoint: str, *answers: Answer) -> None:
        """Raw answers ``endpoint`` ("result", "sendByImageFile" …) serves first, one each."""
        with self._lock:
            self._injected.setdefault(endpoint, []).extend(answers)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._identifies.clear()
            self._injected.clear()
            self._plan = Plan(VAT_EXAMPLE)

    def count(self, endpoint: str) -> int:
        with self._lock:
            return sum(1 for name, _ in self.calls if name == endpoint)

    @property
    def uploads(self) -> list[Upload]:
        with self._lock:
            return [body for name, body in self.calls if isinstance(body, Upload)]

    def polls_of(self, identify_id: str) -> int:
        with self._lock:
            return self._identifies[identify_id].polls

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- 004 -----------------------------------------------------------------------

    def answer(self, path: str, content_type: str, body: bytes) -> Answer:
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            return raw(404, "<html>404 Not Found</html>")
        with self._lock:
            queue = self._injected.get(endpoint)
            injected = queue.pop(0) if queue else None
        if endpoint == "sendByImageFile":
            return self._send_file(content_type, body, injected)
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            request = None
        with self._lock:
            self.calls.append((endpoint, request))
        if injected is not None:
            return injected
        if not content_type.startswith("application/json") or not isinstance(request, dict):
            return error("请求参数错误")
        if endpoint == "sendByImageUrl":
            if not request.get("imageUrl"):
                return error("图片URL不能为空")
            return self._accepted()
        return self._result(str(request.get("identifyId") or ""))

    def _accepted(self) -> Answer:
        with self._lock:
            identify_id = f"{next(self._ids):032x}"
            self._identifies[identify_id] = _Identify(self._plan)
        return answer({"code": 0, "data": identify_id})

    def _send_file(self, content_type: str, body: bytes, injected: Answer | None) -> Answer:
        upload = _multipart_file(content_type, body)
        with self._lock:
            self.calls.append(("sendByImageFile", upload or body))
        if injected is not None:
            return injected
        if upload is None:
            return error("图片文件不能为空")
        extension = upload.filename.rsplit(".", 1)[-1].lower()
        if extension not in EXTENSIONS or _kind(upload.data) is None:
            return error("图片文件类型不支持")
        if len(upload.data) > MAX_BYTES:
            return error("图片最大支持1M")
        return self._accepted()

    def _result(self, identify_id: str) -> Answer:
        with self._lock:
            identify = self._identifies.get(identify_id)
            if identify is None:
                return error("未查询到对应识别请求")
            identify.polls += 1
            polls, plan = identify.polls, identify.plan
        if plan.pending is None or polls <= plan.pending:
            form = plan.pending_form
            if form == "both":
                form = "empty" if polls % 2 else "recognizing"
            if form == "empty":
                return answer({"code": 0, "data": None, **plan.extra})
            return answer({"code": -1, "message": RECOGNIZING, **plan.extra})
        return answer({"code": 0, "data": plan.result, **plan.extra})

    # -- serving -------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """The same fake in process, for unit tests (no socket): an httpx transport."""

        def handle(request: httpx.Request) -> httpx.Response:
            reply = self.answer(
                request.url.path, request.headers.get("Content-Type", ""), request.read()
            )
            if reply.delay:
                raise httpx.ReadTimeout("slow answer", request=request)
            return httpx.Response(reply.status, content=reply.body)

        return httpx.MockTransport(handle)

    def start(self) -> FakeYipiaoyun:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                reply = fake.answer(self.path, self.headers.get("Content-Type", ""), body)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeYipiaoyun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _multipart_file(content_type: str, body: bytes) -> Upload | None:
    """The ``imageFile`` part of a multipart/form-data body, or None."""
    header = email.parser.HeaderParser().parsestr(f"Content-Type: {content_type}\n\n")
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return None
    for part in body.split(b"--" + boundary.encode("ascii"))[1:-1]:
        head, separator, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        headers = email.parser.HeaderParser().parsestr(head.decode("utf-8", "replace") + "\n\n")
        if headers.get_param("name", header="content-disposition") != "imageFile":
            continue
        data = data.removesuffix(b"\r\n")
        pages = None
        if _kind(data) == "pdf":
            try:
                document = pdfium.PdfDocument(data)
            except pdfium.PdfiumError:
                return None
            pages = len(document)
            document.close()
        filename = headers.get_param("filename", header="content-disposition")
        return Upload(
            filename if isinstance(filename, str) else "",
            headers.get_content_type(),
            data,
            pages,
        )
    return None


def _kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def decodes(data: bytes) -> tuple[int, int]:
    """The pixel size of an uploaded image, after decoding it fully (raises if it is not)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


@contextmanager
def running() -> Iterator[FakeYipiaoyun]:
    with FakeYipiaoyun() as fake:
        yield fake
