"""A fake exocr on loopback that speaks spec 003: form in, 003 JSON out.

Integration tests start it on loopback themselves (``with FakeExocr() as exocr:``),
script answers per invoice number (``exocr.script("12345678", error(3213), result(1))``)
and count the calls (``exocr.calls``, ``exocr.calls_for(number)``). Scripted answers are
served in order and the last one repeats. Unscripted invoices are verified: result 1
with VAT data echoing the form. Like exocr, it checks the form first: wrong credentials
answer 4002, a missing or unknown field 4001, whatever was scripted.

Answers: ``result(code, data)``, ``error(code)``, ``example()`` (003's response example
verbatim), ``raw(status, body)`` (5xx, broken JSON, anything) and ``slow(seconds,
answer)``. ``max_rps``: a rate cap as exocr's account has one, 4007 to any call
beyond that many in the sliding second before it (every call counts, refused or not);
``arrivals`` are the calls' times (``max_in_any_second()``: the most in one sliding
second). ``transport()`` serves the same answers in process for unit tests (a slow
answer is a read timeout there).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx

from fapiao.catalogue.errors import Family, by_code

if TYPE_CHECKING:
    from fixtures.generate import InvoiceSpec

APP_KEY = "fake-app-key-7f3a"
APP_SECRET = "fake-app-secret-c91d2e"
PATH = "/data/v1/verify_invoice"
# 003 request type code -> the response type code a verified invoice comes back with.
RESPONSE_TYPES = {
    "01": "10",
    "02": "40",
    "03": "50",
    "04": "20",
    "09": "90",
    "10": "30",
    "11": "60",
    "14": "80",
    "15": "70",
    "16": "110",
    "17": "160",
}

# 003 返回示例, verbatim: the placeholders, the misspelt productO_oil_flag, the
# image_base64 beside data, "version": null.
EXAMPLE: dict[str, Any] = {
    "result": {
        "desc": "查验成功",
        "data": {
            "invoice_code": "########",
            "invoice_no": "######",
            "invoice_type": "90",
            "verify_count": "1113",
            "create_date": "20210121",
            "buyer_name": "海口############有限公司",
            "buyer_tax_no": "##########",
            "buyer_address": "海南省#########",
            "buyer_bank_info": "工行海口市#######",
            "seller_name": "海口######有限公司",
            "seller_tax_no": "########",
            "seller_address": "海南省海口市#####",
            "seller_bank_info": "工行琼山支行#######",
            "total": "1300.00",
            "total_tax": "117.00",
            "amount": "1417.00",
            "note": "",
            "machine_no": "##############",
            "check_code": "############",
            "cancel_flag": "N",
            "inv_status": "30",
            "productO_oil_flag": "N",
            "verify_date": "2023-10-17 21:09:47",
            "detail_list": [
                {
                    "name": "*水果*橙",
                    "type": "",
                    "unit": "kg",
                    "count": "100",
                    "unit_price": "13.00",
                    "amount": "1300.00",
                    "tax_rate": "9",
                    "tax": "117.00",
                }
            ],
            "agent_mark": "N",
        },
        "image_base64": "data:image/jpg;base64,#####",
        "result_code": 1,
    },
    "error_code": 0,
    "description": "调用成功",
    "request_id": "B540EA16BE344940A3818BD993E7995F",
    "recognize_time": 668,
    "available_count": 854,
    "version": None,
}


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes | None = None  # None: built from the form (result 1, echoing it)
    delay: float = 0.0


def _json(payload: object, status: int = 200) -> Answer:
    return Answer(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def error(code: int, status: int = 200) -> Answer:
    """error_code ``code`` (the call failed), described as the catalogue says."""
    return _json(
        {
            "result": None,
            "error_code": code,
            "description": by_code(Family.EXOCR, code).message,
            "request_id": f"ERR{code}",
            "recognize_time": 3,
            "available_count": 854,
            "version": None,
        },
        status,
    )


def result(code: int, data: dict[str, Any] | None = None) -> Answer:
    """error_code 0 and result_code ``code`` (the check), with ``data`` if given."""
    return _json(
        {
            "result": {
                "desc": by_code(Family.EXOCR_RESULT, code).message,
                "data": data,
                "result_code": code,
            },
            "error_code": 0,
            "description": "调用成功",
            "request_id": f"RES{code}",
            "recognize_time": 668,
            "available_count": 853,
            "version": None,
        }
    )


def example() -> Answer:
    return _json(EXAMPLE)


def raw(status: int, body: bytes | str) -> Answer:
    return Answer(status, body.encode("utf-8") if isinstance(body, str) else body)


def slow(seconds: float, answer: Answer | None = None) -> Answer:
    base = answer or Answer()
    return Answer(base.status, base.body, seconds)


def vat_data(form: dict[str, str], **fields: Any) -> dict[str, Any]:
    """VAT verification data for the invoice the form asks about (003 VAT schema)."""
    data: dict[str, Any] = {
        "invoice_code": form.get("invoice_code", ""),
        "invoice_no": form.get("invoice_no", ""),
        "invoice_type": RESPONSE_TYPES.get(form.get("invoice_type", ""), "10"),
        "verify_count": "1",
        "create_date": form.get("create_date", ""),
        "buyer_name": "上海某某科技有限公司",
        "buyer_tax_no": "91310000MA1FL8XQ37",
        "buyer_address": "",
        "buyer_bank_info": "",
        "seller_name": "北京某某有限公司",
        "seller_tax_no": "91110000600037341L",
        "seller_address": "",
        "seller_bank_info": "",
        "total": "100.00",
        "total_tax": "13.00",
        "amount": "113.00",
        "note": "",
        "machine_no": "",
        "check_code": "0123456789" + form.get("check_code_last6", "0").rjust(10, "0"),
        "cancel_flag": "N",
        "inv_status": "0",
        "productO_oil_flag": "N",
        "verify_date": "2024-05-06 10:00:00",
        "detail_list": [],
        "agent_mark": "N",
    }
    data.update(fields)
    return data


def authority_says(spec: InvoiceSpec) -> Answer:
    """The tax authority's record of a generated VAT invoice, as exocr answers it: the
    invoice exactly as ``spec`` prints it."""
    form = {
        "invoice_code": spec.invoice_code or "",
        "invoice_no": spec.invoice_number,
        "invoice_type": "10",
        "create_date": spec.receipt_date.strftime("%Y%m%d"),
    }
    return result(
        1,
        vat_data(
            form,
            total=str(spec.amount),
            total_tax=str(spec.tax_amount),
            amount=str(spec.total_amount),
            buyer_name=spec.buyer_name,
            buyer_tax_no=spec.buyer_tax_code,
            seller_name=spec.seller_name,
            seller_tax_no=spec.seller_tax_code,
            check_code=spec.check_code,
        ),
    )


@dataclass
class FakeExocr:
    app_key: str = APP_KEY
    app_secret: str = APP_SECRET
    busy_seconds: float = 0.0  # 4007 to everything, for this long after start()
    max_rps: int | None = None  # 4007 beyond this many calls in a sliding second
    calls: list[dict[str, str]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each call
    capped: int = 0  # calls answered 4007 for the rate cap
    _scripts: dict[str, list[Answer]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _busy_until: float = 0.0

    def __post_init__(self) -> None:
        self._busy_until = time.monotonic() + self.busy_seconds

    @property
    def busy(self) -> bool:
        return time.monotonic() < self._busy_until

    def busy_for(self, seconds: float) -> None:
        """Answer "busy" (4007) from now on for ``seconds``."""
        self._busy_until = time.monotonic() + seconds

    # -- scripting --------------------------------------------------------------

    def script(self, invoice_no: str, *answers: Answer) -> None:
        with self._lock:
            self._scripts[invoice_no] = list(answers)

    def max_in_any_second(self) -> int:
        """The most calls that arrived within one sliding second (a window [t, t + 1))."""
        with self._lock:
            times = list(self.arrivals)
        return most_in_one_second(times)

    def _over_cap(self, now: float) -> bool:
        """Whether the call arriving at ``now`` (recorded already) is beyond the cap."""
        if self.max_rps is None:
            return False
        recent = sum(1 for at in self.arrivals if now - at < 1.0)
        return recent > self.max_rps

    def calls_for(self, invoice_no: str) -> int:
        with self._lock:
            return sum(1 for call in self.calls if call.get("invoice_no") == invoice_no)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def hub_settings(self) -> dict[str, str]:
        """The settings of a hub that verifies with this fake."""
        return {
            "FAPIAO_VERIFIER": "exocr",
            "FAPIAO_EXOCR_URL": self.url,
            "FAPIAO_EXOCR_APP_KEY": APP_KEY,
            "FAPIAO_EXOCR_APP_SECRET": APP_SECRET,
        }

    # -- serving ----------------------------------------------------------------

    def _next(self, invoice_no: str) -> Answer | None:
        with self._lock:
            queue = self._scripts.get(invoice_no)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def answer(self, path: str, content_type: str, body: bytes) -> Answer:
        if path != PATH:
            return raw(404, "<html>404 Not Found</html>")
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        now = time.monotonic()
        with self._lock:
            self.calls.append(form)
            self.arrivals.append(now)
            over_cap = self._over_cap(now)
            self.capped += over_cap
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return error(4001)
        if form.get("app_key") != self.app_key or form.get("app_secret") != self.app_secret:
            return error(4002)
        if not form.get("invoice_no") or form.get("invoice_type") not in RESPONSE_TYPES:
            return error(4001)
        if self.busy or over_cap:
            return error(4007)
        scripted = self._next(form["invoice_no"])
        if scripted is None:
            return result(1, vat_data(form))
        if scripted.body is None:
            return Answer(scripted.status, result(1, vat_data(form)).body, scripted.delay)
        return scripted

    def transport(self) -> httpx.MockTransport:
        """The same fake in process, for unit tests (no socket): an httpx transport."""

        def handle(request: httpx.Request) -> httpx.Response:
            answer = self.answer(
                request.url.path, request.headers.get("Content-Type", ""), request.read()
            )
            if answer.delay:
                raise httpx.ReadTimeout("slow answer", request=request)
            return httpx.Response(answer.status, content=answer.body or b"")

        return httpx.MockTransport(handle)

    def start(self) -> FakeExocr:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = fake.answer(self.path, self.headers.get("Content-Type", ""), body)
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body or b""
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._busy_until = time.monotonic() + self.busy_seconds
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeExocr:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        yield fake


def most_in_one_second(times: list[float]) -> int:
    """The most of ``times`` within one sliding second (a window [t, t + 1))."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
