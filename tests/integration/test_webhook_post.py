"""SafeFetcher.post (a webhook's POST) against a receiver on 127.0.0.1 that the test
starts: the body and the Standard Webhooks headers arrive as sent (and verify with the
receiver's library), a redirect is an answer and never followed, the timeout is kept, a
refused address is never connected to. Names come from a table, never from DNS."""

from __future__ import annotations

import datetime as dt
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model.webhooks import WebhookSubscription
from fapiao.providers.fetch import AddressKind, SafeFetcher, pinned_transport
from fapiao.services.webhooks import new_secret, webhook_headers
from fapiao.settings import FetchSettings

BODY = b'{"id":"evt_1","type":"invoice.created"}'


class Receiver(BaseHTTPRequestHandler):
    """/ok, /fail (500), /gone (410), /moved (302 to /ok), /slow?s, /endless (a 200 whose
    body never ends)."""

    server: ReceiverServer

    def do_POST(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.received.append((path, dict(self.headers.items()), body))
        try:
            if path == "/ok":
                self.answer(200, b"thanks")
            elif path == "/fail":
                self.answer(500, b"broken")
            elif path == "/gone":
                self.answer(410, b"")
            elif path == "/moved":
                self.answer(302, b"", {"Location": "/ok"})
            elif path == "/slow":
                self.server.release.wait(float(query or "5"))
                self.answer(200, b"late")
            elif path == "/endless":
                self.send_response(200)
                self.send_header("Content-Length", str(10 * 1024 * 1024))
                self.end_headers()
                self.wfile.write(b"x" * 65536)
                self.wfile.flush()
                self.server.release.wait(5)  # and nothing more
            else:
                self.answer(404, b"")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Receiver)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.connections = 0
        self.release = threading.Event()

    def server_bind(self) -> None:  # no DNS lookup of the host's name
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.port

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1  # every accepted connection, a request or not
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def receiver() -> Iterator[ReceiverServer]:
    running = ReceiverServer()
    thread = threading.Thread(target=running.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.release.set()
        running.shutdown()
        running.server_close()


TABLE = {"erp.test": ["127.0.0.1"], "intranet.test": ["10.0.0.1"], "meta.test": ["169.254.169.254"]}


def resolver(host: str, _port: int) -> list[str]:
    if host not in TABLE:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return TABLE[host]


class CountingTransport(httpx.BaseTransport):
    """Records every request before the real, pinned transport sends it."""

    def __init__(self) -> None:
        self.inner = pinned_transport()
        self.dialled: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.dialled.append(request.url.host)
        assert request.url.host == "127.0.0.1", "a test must never leave loopback"
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def transport() -> Iterator[CountingTransport]:
    counting = CountingTransport()
    yield counting
    counting.close()


def poster(transport: CountingTransport, *, loopback: bool = True) -> SafeFetcher:
    settings = FetchSettings(allow_loopback=loopback, total_timeout=5)
    return SafeFetcher(settings, resolver=resolver, transport=transport)


def test_the_body_and_the_signed_headers_arrive_and_verify(
    receiver: ReceiverServer, transport: CountingTransport
) -> None:
    secret = new_secret()
    subscription = WebhookSubscription(
        id="wh_" + "a" * 26, url="", secret=secret, created_at=dt.datetime.now(dt.UTC)
    )
    headers = webhook_headers(subscription, "evt_1", BODY, dt.datetime.now(dt.UTC))
    posted = poster(transport).post(f"http://erp.test:{receiver.port}/ok", BODY, headers)
    assert posted.status == 200 and 0 <= posted.latency_ms < 5000
    ((path, got, body),) = receiver.received
    assert path == "/ok" and body == BODY
    assert got["Host"] == f"erp.test:{receiver.port}"  # the name, though 127.0.0.1 was dialled
    assert got["content-type"] == "application/json"
    assert got["webhook-id"] == "evt_1"
    assert Webhook(secret).verify(body, got)["id"] == "evt_1"
    assert transport.dialled == ["127.0.0.1"]


@pytest.mark.parametrize(("path", "status"), [("/fail", 500), ("/gone", 410), ("/moved", 302)])
def test_an_error_status_is_an_answer_and_a_redirect_is_not_followed(
    receiver: ReceiverServer, transport: CountingTransport, path: str, status: int
) -> None:
    posted = poster(transport).post(f"http://127.0.0.1:{receiver.port}{path}", BODY, {})
    assert posted.status == status
    assert [p for p, _, _ in receiver.received] == [path]  # never /ok after /moved


def test_a_receiver_slower_than_the_timeout_is_a_timeout(
    receiver: ReceiverServer, transport: CountingTransport
) -> None:
    started = time.monotonic()
    with pytest.raises(HubError) as caught:
        poster(transport).post(f"http://127.0.0.1:{receiver.port}/slow?5", BODY, {}, timeout=0.5)
    took = time.monotonic() - started
    assert caught.value.problem is Problem.FILE_UNREACHABLE
    assert caught.value.context.get("timeout") is True
    assert "did not answer within 0.5 s" in str(caught.value)
    assert 0.4 <= took < 2.5


def test_the_default_timeout_is_ten_seconds() -> None:
    import inspect

    assert inspect.signature(SafeFetcher.post).parameters["timeout"].default == 10.0


def test_only_the_start_of_an_answer_is_read(
    receiver: ReceiverServer, transport: CountingTransport
) -> None:
    started = time.monotonic()
    posted = poster(transport).post(f"http://127.0.0.1:{receiver.port}/endless", BODY, {}, 3)
    assert posted.status == 200
    assert time.monotonic() - started < 2  # not the 3 s deadline: it stopped reading


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:{port}/ok", AddressKind.LOOPBACK),
        ("http://erp.test:{port}/ok", AddressKind.LOOPBACK),
        ("http://intranet.test:{port}/ok", AddressKind.PRIVATE),
        ("http://meta.test/latest/meta-data/", AddressKind.LINK_LOCAL),
        ("http://169.254.169.254/latest/meta-data/", AddressKind.LINK_LOCAL),
    ],
)
def test_a_refused_address_is_never_connected_to(
    receiver: ReceiverServer, transport: CountingTransport, url: str, kind: AddressKind
) -> None:
    with pytest.raises(HubError) as caught:
        poster(transport, loopback=False).post(url.format(port=receiver.port), BODY, {})
    assert caught.value.problem is Problem.FILE_UNREACHABLE
    assert caught.value.context["refused"] is kind
    assert transport.dialled == [] and receiver.connections == 0


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "file:///etc/passwd"])
def test_other_schemes_are_refused(transport: CountingTransport, url: str) -> None:
    with pytest.raises(HubError) as caught:
        poster(transport).post(url, BODY, {})
    assert caught.value.context["scheme"] in ("ftp", "file")
    assert transport.dialled == []


def test_a_closed_port_is_a_refused_connection(transport: CountingTransport) -> None:
    with socket.socket() as probe:  # a port just freed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HubError) as caught:
        poster(transport).post(f"http://127.0.0.1:{port}/ok", BODY, {})
    assert caught.value.problem is Problem.FILE_UNREACHABLE
    assert "cannot connect to 127.0.0.1" in str(caught.value)
