"""The safe fetcher against a real HTTP server on 127.0.0.1 that the test starts.

Only loopback is ever dialled. Names are answered by a table, never by DNS; every
request handed to the transport is recorded (``CountingTransport``), so a refused
redirect is shown never to have been sent anywhere. The transport is the fetcher's own
(``pinned_transport``), which also refuses to dial an address the fetch did not clear.
"""

from __future__ import annotations

import datetime as dt
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

import httpx
import pytest

from fapiao.catalogue.errors import HubError, Problem
from fapiao.providers.fetch import AddressKind, SafeFetcher, pinned_transport
from fapiao.settings import FetchSettings

CAP = 64 * 1024
FILE = b"%PDF-1.7 " + b"invoice " * 100


class FileHandler(BaseHTTPRequestHandler):
    """/file, /host (echoes Host), /big, /big-unsized, /slow, /r/<n>, /to?<location>."""

    server: FileServer

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        path, _, query = self.path.partition("?")
        try:
            if path == "/file":
                self.send(200, FILE, {"Content-Type": "application/pdf"})
            elif path == "/host":
                self.send(200, self.headers["Host"].encode(), {"Content-Type": "text/plain"})
            elif path == "/big":
                self.send(200, b"x" * (CAP * 4))
            elif path == "/big-unsized":  # HTTP/1.0, no length: the body ends at close
                self.send_response(200)
                self.end_headers()
                for _ in range(64):
                    self.wfile.write(b"x" * (CAP // 8))
            elif path == "/slow":  # one byte every ?gap seconds (default 0.05)
                gap = float(query or "0.05")
                self.send_response(200)
                self.send_header("Content-Length", "200")
                self.end_headers()
                self.wfile.flush()
                for _ in range(200):
                    time.sleep(gap)
                    self.wfile.write(b"x")
                    self.wfile.flush()
            elif path.startswith("/r/"):
                left = int(path.removeprefix("/r/"))
                if left == 0:
                    self.send(200, FILE)
                else:
                    self.send(302, b"", {"Location": f"/r/{left - 1}"})
            elif path == "/to":
                self.send(302, b"", {"Location": unquote(query)})
            elif path == "/dir/relative":
                self.send(302, b"", {"Location": "../file"})
            else:
                self.send(404, b"no such file")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the fetcher hung up: that is what some tests want

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        super().__init__((address, 0), FileHandler)
        self.hits: list[str] = []

    def server_bind(self) -> None:  # HTTPServer's would look the name up: no DNS here
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.port

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a refused TLS handshake, a hung-up client: expected here

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture(scope="module")
def server() -> Iterator[FileServer]:
    running = FileServer()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.shutdown()
        running.server_close()


@pytest.fixture
def base(server: FileServer) -> str:
    server.hits.clear()
    return f"http://127.0.0.1:{server.port}"


class CountingResolver:
    """Names from a table, never from DNS; the internal names point where attackers aim."""

    TABLE: ClassVar[dict[str, list[str]]] = {
        "files.test": ["127.0.0.1"],
        "files6.test": ["::1"],
        "other.test": ["127.0.0.1"],
        "intranet.test": ["10.0.0.1"],
        "metadata.test": ["169.254.169.254"],
    }

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.TABLE:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.TABLE[host]


class CountingTransport(httpx.BaseTransport):
    """Records the address of every request before the real transport sends it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.dialled: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.dialled.append(request.url.host)
        assert request.url.host in ("127.0.0.1", "::1"), "a test must never leave loopback"
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def transport() -> Iterator[CountingTransport]:
    counting = CountingTransport(pinned_transport())
    yield counting
    counting.close()


def fetcher_with(transport: CountingTransport, **settings: Any) -> SafeFetcher:
    chosen: dict[str, Any] = {"allow_loopback": True, "max_bytes": CAP, "total_timeout": 5}
    chosen.update(settings)
    return SafeFetcher(FetchSettings(**chosen), resolver=CountingResolver(), transport=transport)


def failure(
    fetcher: SafeFetcher, url: str, problem: Problem = Problem.FILE_UNREACHABLE
) -> HubError:
    with pytest.raises(HubError) as caught:
        fetcher.fetch(url)
    assert caught.value.problem is problem
    return caught.value


# --- loopback allowed or not ----------------------------------------------------------


def test_file_is_fetched_from_loopback_when_allowed(
    base: str, transport: CountingTransport
) -> None:
    fetched = fetcher_with(transport).fetch(f"{base}/file")
    assert fetched.content == FILE
    assert fetched.content_type == "application/pdf"
    assert fetched.url == f"{base}/file"


def test_loopback_is_refused_before_connecting_when_not_allowed(
    base: str, server: FileServer, transport: CountingTransport
) -> None:
    error = failure(fetcher_with(transport, allow_loopback=False), f"{base}/file")
    assert error.context["refused"] is AddressKind.LOOPBACK
    assert transport.dialled == []
    assert server.hits == []


def test_the_name_is_sent_as_host_while_the_checked_address_is_dialled(
    server: FileServer, transport: CountingTransport
) -> None:
    fetched = fetcher_with(transport).fetch(f"http://files.test:{server.port}/host")
    assert fetched.content == f"files.test:{server.port}".encode()
    assert transport.dialled == ["127.0.0.1"]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
@pytest.mark.parametrize("host", ["[::1]", "files6.test"])
def test_file_is_fetched_from_ipv6_loopback_when_allowed(
    transport: CountingTransport, host: str
) -> None:
    server6 = FileServer("::1")
    threading.Thread(target=server6.serve_forever, daemon=True).start()
    try:
        fetched = fetcher_with(transport).fetch(f"http://{host}:{server6.port}/host")
    finally:
        server6.shutdown()
        server6.server_close()
    assert fetched.content == f"{host}:{server6.port}".encode()
    assert transport.dialled == ["::1"]


# --- size cap and timeouts ----------------------------------------------------------------


def test_a_file_over_the_cap_with_content_length_fails(
    base: str, transport: CountingTransport
) -> None:
    error = failure(fetcher_with(transport), f"{base}/big", Problem.FILE_TOO_LARGE)
    assert f"larger than {CAP} bytes" in str(error)


def test_a_file_over_the_cap_without_content_length_fails(
    base: str, transport: CountingTransport
) -> None:
    failure(fetcher_with(transport), f"{base}/big-unsized", Problem.FILE_TOO_LARGE)


def test_a_dripping_file_fails_at_the_total_timeout(
    base: str, transport: CountingTransport
) -> None:
    started = time.monotonic()
    error = failure(fetcher_with(transport, total_timeout=0.5), f"{base}/slow")
    assert error.context["timeout"] is True
    assert time.monotonic() - started < 1.5


def test_the_deadline_cuts_a_read_that_a_per_read_timeout_would_let_finish(
    base: str, transport: CountingTransport
) -> None:
    # a byte every 0.8 s: each read is shorter than the time left when the request was
    # sent (1 s), so only a deadline applied to every socket read stops it at 1 s
    # rather than at the second byte (1.6 s)
    started = time.monotonic()
    error = failure(fetcher_with(transport, total_timeout=1.0), f"{base}/slow?0.8")
    assert "took longer than 1 s" in str(error)
    assert time.monotonic() - started < 1.4


def test_a_stalled_server_fails_at_the_total_timeout_not_the_read_timeout(
    transport: CountingTransport,
) -> None:
    # accepts and never answers: only the deadline given to each socket read ends it
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        error = failure(fetcher_with(transport, total_timeout=0.5), f"http://127.0.0.1:{port}/")
    assert "took longer than 0.5 s" in str(error)
    assert time.monotonic() - started < 1.5


# --- redirects ----------------------------------------------------------------------


def test_a_redirect_chain_within_the_limit_is_followed(
    base: str, server: FileServer, transport: CountingTransport
) -> None:
    fetched = fetcher_with(transport, max_redirects=3).fetch(f"{base}/r/3")
    assert fetched.content == FILE
    assert fetched.url == f"{base}/r/0"
    assert server.hits == ["/r/3", "/r/2", "/r/1", "/r/0"]


def test_a_redirect_chain_over_the_limit_fails(
    base: str, server: FileServer, transport: CountingTransport
) -> None:
    error = failure(fetcher_with(transport, max_redirects=3), f"{base}/r/4")
    assert "more than 3 redirects" in str(error)
    assert server.hits == ["/r/4", "/r/3", "/r/2", "/r/1"]


def test_a_relative_redirect_is_followed(
    base: str, server: FileServer, transport: CountingTransport
) -> None:
    fetched = fetcher_with(transport).fetch(f"{base}/dir/relative")
    assert fetched.content == FILE
    assert fetched.url == f"{base}/file"
    assert server.hits == ["/dir/relative", "/file"]


@pytest.mark.parametrize(
    ("location", "refusal"),
    [
        ("http://10.0.0.1/invoice.pdf", AddressKind.PRIVATE),
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "link-local"),
        ("http://intranet.test/invoice.pdf", AddressKind.PRIVATE),
        ("http://metadata.test/latest/", AddressKind.LINK_LOCAL),
        ("http://[::ffff:10.0.0.1]/", AddressKind.PRIVATE),
        ("file:///etc/passwd", "file"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "gopher"),
    ],
)
def test_a_redirect_to_a_refused_url_is_never_dialled(
    base: str, server: FileServer, transport: CountingTransport, location: str, refusal: str
) -> None:
    error = failure(fetcher_with(transport), f"{base}/to?{location}")
    assert refusal in (error.context.get("refused"), error.context.get("scheme"))
    assert transport.dialled == ["127.0.0.1"]  # the first hop only
    assert server.hits == [f"/to?{location}"]


# --- https: the name is the SNI and the name the certificate must carry ----------------


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for files.test signed by it."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> Any:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("fapiao test CA"))
        .issuer_name(name("fapiao test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("files.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("files.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(leaf.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


@pytest.fixture(scope="module")
def tls_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FileServer, Path, list[str]]]:
    ca_file, cert_file, key_file = make_certificates(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    names: list[str] = []

    def record_sni(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        names.append(name or "")

    context.sni_callback = record_sni
    running = FileServer()
    running.socket = context.wrap_socket(
        running.socket, server_side=True, do_handshake_on_connect=False
    )
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield running, ca_file, names
    finally:
        running.shutdown()
        running.server_close()


@pytest.fixture
def tls_transport(
    tls_server: tuple[FileServer, Path, list[str]],
) -> Iterator[CountingTransport]:
    _, ca_file, names = tls_server
    names.clear()
    counting = CountingTransport(pinned_transport(ssl.create_default_context(cafile=ca_file)))
    yield counting
    counting.close()


def test_https_dials_the_address_and_verifies_the_name(
    tls_server: tuple[FileServer, Path, list[str]], tls_transport: CountingTransport
) -> None:
    server, _, names = tls_server
    fetched = fetcher_with(tls_transport).fetch(f"https://files.test:{server.port}/host")
    assert fetched.content == f"files.test:{server.port}".encode()
    assert tls_transport.dialled == ["127.0.0.1"]
    assert names == ["files.test"]


@pytest.mark.parametrize("host", ["other.test", "127.0.0.1"])
def test_https_refuses_a_certificate_not_for_the_name(
    tls_server: tuple[FileServer, Path, list[str]], tls_transport: CountingTransport, host: str
) -> None:
    server, _, _ = tls_server
    failure(fetcher_with(tls_transport), f"https://{host}:{server.port}/file")
    assert tls_transport.dialled == ["127.0.0.1"]
