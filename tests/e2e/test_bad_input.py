"""A running hub answers every bad input with a clear 4xx in the route family's envelope,
never a 500: hostile JSON (huge numbers, deep nesting, lone surrogates), a body over API
Gateway's 10 MiB, a broken Content-Length. And a request past a function's concurrency
and queue is a 503 in its envelope at once (FAPIAO_CONCURRENCY=1, FAPIAO_QUEUE_DEPTH=0)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from fapiao.api.envelopes import problem_envelope
from fapiao.catalogue.errors import Family, Problem
from fapiao.local.apigw import MAX_BODY_BYTES
from hubprocess import RunningHub, call, start_hub

pytestmark = pytest.mark.slow
KEY = "fpk_bad-input-e2e-development-key"
MAYCUR = "/api/openapi/invoice/import-invoice-pic"
ROUTES = {
    "/common/invoice/create": Family.PLATFORM,
    "/common/InvoiceOCR/ocrSync": Family.PLATFORM,
    MAYCUR: Family.MAYCUR,
    "/openapi/identify/sendByImageUrl": Family.YIPIAOYUN,
    "/openapi/identify/result": Family.YIPIAOYUN,
    "/data/v1/verify_invoice": Family.EXOCR,
}
HOSTILE = {
    "5000_digit_integer": '{"bizId": "e2e", "data": {"n": %s}}' % ("7" * 5000),
    "huge_exponent": '{"bizId": "e2e", "timestamp": 1e999999999}',
    "nested_100000_deep": '{"bizId": "e2e", "x": %s}' % ("[" * 100_000 + "]" * 100_000),
    "lone_surrogate": '{"bizId": "\\ud800", "identifyId": "\\ud800", "imageUrl": "\\udfff"}',
}
_maycur_lock = threading.Lock()
_maycur_last = [0.0]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    settings = {
        "FAPIAO_DEV_API_KEY": KEY,
        "FAPIAO_CONCURRENCY": "1",
        "FAPIAO_QUEUE_DEPTH": "0",
        "FAPIAO_ALLOW_LOOPBACK_FETCH": "1",
    }
    with pytest.MonkeyPatch.context() as env:
        for name, value in settings.items():
            env.setenv(name, value)
        running = start_hub(Path(tmp_path_factory.mktemp("hub")) / "data")
    yield running
    running.stop()


def post(hub: RunningHub, path: str, body: bytes, content_type: str = "application/json") -> Any:
    if path == MAYCUR:  # 002 allows a client 2 calls a second: keep under it
        with _maycur_lock:
            time.sleep(max(0.0, _maycur_last[0] + 0.6 - time.monotonic()))
            _maycur_last[0] = time.monotonic()
    return call("POST", hub.url + path, body, content_type)


def code_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("resCode", "errorCode", "error_code", "code") if k in body}


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("path", list(ROUTES))
def test_a_hostile_json_body_is_400_in_the_familys_envelope(
    hub: RunningHub, path: str, kind: str
) -> None:
    status, body = post(hub, path, HOSTILE[kind].encode())
    expected_status, expected = problem_envelope(ROUTES[path], Problem.INVALID_REQUEST)
    assert (status, code_of(body)) == (expected_status, code_of(expected))


def test_verify_refuses_5000_digit_form_fields_with_a_4xx(hub: RunningHub) -> None:
    form = {
        "app_key": "k",
        "app_secret": "s",
        "invoice_type": "01",
        "invoice_no": "12345678",
        "invoice_code": "033002100211",
        "check_code_last6": "123456",
        "total": "100.00",
        "create_date": "20240101",
    }
    for field in form:
        status, body = post(
            hub,
            "/data/v1/verify_invoice",
            urlencode({**form, field: "1" * 5000}).encode(),
            "application/x-www-form-urlencoded",
        )
        assert 400 <= status < 500, (field, status, body)
        assert body["error_code"] != 0


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/common/invoice/create", Family.PLATFORM),
        (MAYCUR, Family.MAYCUR),
        ("/data/v1/verify_invoice", Family.EXOCR),
        ("/openapi/identify/sendByImageFile", Family.YIPIAOYUN),
    ],
)
def test_a_body_over_10_mib_is_413_in_the_familys_envelope(
    hub: RunningHub, path: str, family: Family
) -> None:
    status, body = call("POST", hub.url + path, b" " * (MAX_BODY_BYTES + 1))
    assert status == 413
    expected = problem_envelope(family, Problem.PAYLOAD_TOO_LARGE)[1]
    # one body for every route (see template.yaml): the family's fields are all in it
    assert {k: body[k] for k in expected if k != "code"} == {
        k: v for k, v in expected.items() if k != "code"
    }


def raw_exchange(hub: RunningHub, head: bytes) -> tuple[int, dict[str, str], Any]:
    """Send ``head`` (request line and headers, no body) and read the answer."""
    address = urlsplit(hub.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(head)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    header, _, payload = received.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(payload)


def test_a_huge_declared_body_is_413_before_it_is_sent_and_the_connection_closes(
    hub: RunningHub,
) -> None:
    status, headers, body = raw_exchange(
        hub,
        b"POST /openapi/identify/result HTTP/1.1\r\nHost: hub\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n",
    )
    assert status == 413
    expected = problem_envelope(Family.YIPIAOYUN, Problem.PAYLOAD_TOO_LARGE)[1]
    assert {k: body[k] for k in expected} == expected
    assert headers["Connection"] == "close"


@pytest.mark.parametrize("length", [b"-5", b"12abc", b"\xd9\xa3"])
def test_a_broken_content_length_is_400_not_a_hang(hub: RunningHub, length: bytes) -> None:
    status, _, body = raw_exchange(
        hub,
        b"POST /common/invoice/create HTTP/1.1\r\nHost: hub\r\nContent-Length: "
        + length
        + b"\r\n\r\n",
    )
    assert (status, body) == (400, {"message": "Bad Request"})


# --- a function at its concurrency, with no queue: the next API request is a 503 --------


@contextmanager
def held_file() -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """A URL whose download waits until released (then 404s): holds a container."""
    asked, release = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.set()
            release.wait(timeout=20)
            self.send_error(404)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/a.pdf", asked, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def downloading(path: str, url: str) -> dict[str, Any]:
    if path == MAYCUR:
        return {"fileUrl": url, "fileType": "PDF", "employeeId": "MK00001"}
    if path.startswith("/openapi/"):
        return {"imageUrl": url}
    return {"bizId": f"busy-{time.monotonic_ns()}", "timestamp": 1, "data": {"attachment_url": url}}


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/common/InvoiceOCR/ocrSync", Family.PLATFORM),
        (MAYCUR, Family.MAYCUR),
        ("/openapi/identify/sendByImageUrl", Family.YIPIAOYUN),
    ],
)
def test_a_request_past_the_concurrency_and_queue_is_503_in_the_familys_envelope(
    hub: RunningHub, path: str, family: Family
) -> None:
    with held_file() as (url, asked, release), ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, hub, path, json.dumps(downloading(path, url)).encode())
        assert asked.wait(timeout=20), "the first request never downloaded"
        started = time.monotonic()
        status, body = post(hub, path, json.dumps(downloading(path, url)).encode())
        waited = time.monotonic() - started
        release.set()
        assert first.result(timeout=30)[0] < 500
    assert (status, body) == problem_envelope(family, Problem.BUSY)
    assert waited < 2  # refused at once, not after the first one finished


def test_once_the_container_is_free_the_next_request_runs(hub: RunningHub) -> None:
    with urllib.request.urlopen(hub.url + "/health", timeout=30) as response:
        assert response.status == 200
    status, body = post(hub, "/openapi/identify/result", b'{"identifyId": "%s"}' % (b"0" * 32))
    assert (status, body["code"]) == (404, -1)
