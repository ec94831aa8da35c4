"""The safe fetcher's policy: which URLs and addresses are refused, before any byte.

Sockets are disabled here. Names are answered by a table (``TableResolver``) and
requests by a fake transport that records every request it is asked to send
(``RecordingTransport``): a refused URL must leave it empty. The addresses the fake
"serves" from are public ones; nothing here ever leaves the process.
"""

from __future__ import annotations

import gzip
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from ipaddress import ip_address

import httpx
import pytest

from fapiao.catalogue.errors import HubError, Problem
from fapiao.providers.fetch import (
    AddressKind,
    SafeFetcher,
    address_refusal,
    literal_address,
    pinned_transport,
)
from fapiao.settings import FetchSettings, SettingsError

PUBLIC = "93.184.215.14"  # what files.example.com "resolves" to in these tests
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class TableResolver:
    """Answers from a table; an unknown name fails as getaddrinfo would."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = {
            "files.example.com": [PUBLIC],
            "intranet.example.com": ["10.1.2.3"],
            "metadata.example.com": ["169.254.169.254"],
            "localhost": ["127.0.0.1", "::1"],
            **(table or {}),
        }
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


Handler = Callable[[httpx.Request], httpx.Response]
PDF = {"Content-Type": "application/pdf"}


def answer(body: bytes = b"%PDF-1.7 invoice", status: int = 200, **headers: str) -> httpx.Response:
    """A response whose body is still to be read, as a real transport returns it."""
    fields = {"Content-Length": str(len(body)), **PDF}
    fields.update({name.replace("_", "-"): value for name, value in headers.items()})
    return httpx.Response(status, headers=fields, stream=httpx.ByteStream(body))


class RecordingTransport(httpx.MockTransport):
    """A fake transport: records each request, answers with ``handler`` (a file)."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if handler is not None:
                return handler(request)
            return answer()

        super().__init__(record)

    @property
    def hosts(self) -> list[str]:
        return [request.url.host for request in self.requests]


def make_fetcher(
    handler: Handler | None = None,
    *,
    resolver: TableResolver | None = None,
    **settings: object,
) -> tuple[SafeFetcher, RecordingTransport, TableResolver]:
    transport = RecordingTransport(handler)
    resolver = resolver or TableResolver()
    fetcher = SafeFetcher(FetchSettings(**settings), resolver=resolver, transport=transport)
    return fetcher, transport, resolver


def redirect_to(location: str, *, then: Handler | None = None) -> Handler:
    """The first request is redirected to ``location``; later ones get ``then``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/start"):
            return httpx.Response(302, headers={"Location": location})
        if then is not None:
            return then(request)
        return answer(b"%PDF-1.7 redirected")

    return handle


def refused(fetcher: SafeFetcher, url: str) -> HubError:
    with pytest.raises(HubError) as caught:
        fetcher.fetch(url)
    assert caught.value.problem is Problem.FILE_UNREACHABLE
    return caught.value


# --- "Done when": each refused before any byte is fetched ---------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/invoice.pdf", AddressKind.LOOPBACK),
        ("http://10.0.0.1/invoice.pdf", AddressKind.PRIVATE),
        ("http://[::1]/invoice.pdf", AddressKind.LOOPBACK),
        ("http://169.254.169.254/latest/meta-data/iam/", AddressKind.LINK_LOCAL),
        ("http://intranet.example.com/invoice.pdf", AddressKind.PRIVATE),
        ("http://metadata.example.com/latest/", AddressKind.LINK_LOCAL),
        ("http://localhost:9001/2018-06-01/runtime/invocation/next", AddressKind.LOOPBACK),
    ],
)
def test_internal_address_is_refused_before_connecting(url: str, kind: AddressKind) -> None:
    fetcher, transport, _ = make_fetcher()
    error = refused(fetcher, url)
    assert error.context["refused"] is kind
    assert transport.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/_HELO",
        "gopher://files.example.com/x",
        "ftp://files.example.com/invoice.pdf",
        "data:application/pdf;base64,JVBERi0=",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat",
        "files.example.com/invoice.pdf",
        "//files.example.com/invoice.pdf",
    ],
)
def test_scheme_other_than_http_and_https_is_refused(url: str) -> None:
    fetcher, transport, resolver = make_fetcher()
    error = refused(fetcher, url)
    assert "only http and https" in str(error)
    assert transport.requests == []
    assert resolver.calls == []


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1/x",
        "http://10.0.0.1/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://intranet.example.com/x",
        "//10.0.0.1/x",
        "http://2130706433/x",
        "http://[::ffff:169.254.169.254]/x",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
    ],
)
def test_redirect_to_a_refused_url_is_not_followed(location: str) -> None:
    fetcher, transport, _ = make_fetcher(redirect_to(location))
    error = refused(fetcher, "https://files.example.com/start")
    assert transport.hosts == [PUBLIC]  # the public server only; never the target
    assert "redirect" in str(error)


def test_refusal_does_not_echo_the_resolved_address() -> None:
    fetcher, _, _ = make_fetcher()
    error = refused(fetcher, "http://intranet.example.com/invoice.pdf")
    assert str(error) == "intranet.example.com resolves to a private address"
    assert "10.1.2.3" not in str(error)


def test_refused_redirect_does_not_echo_where_it_led() -> None:
    fetcher, _, _ = make_fetcher(redirect_to("http://intranet.example.com/secret"))
    error = refused(fetcher, "https://files.example.com/start")
    assert str(error) == "the redirect leads to a private address"


# --- every address form -------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        # IPv4-mapped IPv6 is the IPv4 address it carries
        ("[::ffff:10.0.0.1]", AddressKind.PRIVATE),
        ("[::ffff:a00:1]", AddressKind.PRIVATE),
        ("[::ffff:127.0.0.1]", AddressKind.LOOPBACK),
        ("[::ffff:169.254.169.254]", AddressKind.LINK_LOCAL),
        # unspecified: reaches the host itself
        ("0.0.0.0", AddressKind.UNSPECIFIED),
        ("0", AddressKind.UNSPECIFIED),
        ("[::]", AddressKind.UNSPECIFIED),
        # carrier-grade NAT, and Alibaba Cloud's metadata service in it
        ("100.64.0.1", AddressKind.SHARED),
        ("100.100.100.200", AddressKind.SHARED),
        # the other private and link-local ranges
        ("172.16.0.1", AddressKind.PRIVATE),
        ("172.31.255.254", AddressKind.PRIVATE),
        ("192.168.1.1", AddressKind.PRIVATE),
        ("169.254.170.2", AddressKind.LINK_LOCAL),
        ("[fd00:ec2::254]", AddressKind.PRIVATE),
        ("[fe80::1]", AddressKind.LINK_LOCAL),
        ("[fe80::1%25eth0]", AddressKind.LINK_LOCAL),
        ("[fec0::1]", AddressKind.PRIVATE),
        # multicast, broadcast, reserved, documentation, benchmarking
        ("224.0.0.1", AddressKind.MULTICAST),
        ("239.255.255.250", AddressKind.MULTICAST),
        ("[ff02::1]", AddressKind.MULTICAST),
        ("255.255.255.255", AddressKind.BROADCAST),
        ("240.0.0.1", AddressKind.RESERVED),
        ("192.0.2.1", AddressKind.RESERVED),
        ("198.18.0.1", AddressKind.RESERVED),
        ("[2001:db8::1]", AddressKind.RESERVED),
        # NAT64 and 6to4 lead to the IPv4 address they embed
        ("[64:ff9b::10.0.0.1]", AddressKind.PRIVATE),
        ("[64:ff9b::7f00:1]", AddressKind.LOOPBACK),
        ("[64:ff9b::169.254.169.254]", AddressKind.LINK_LOCAL),
        ("[64:ff9b:1::1]", AddressKind.PRIVATE),
        ("[2002:a00:1::1]", AddressKind.PRIVATE),
        ("[2002:7f00:1::]", AddressKind.LOOPBACK),
        ("[2002:a9fe:a9fe::]", AddressKind.LINK_LOCAL),
        # Teredo hides where it goes; IPv4-compatible is deprecated
        ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", AddressKind.RESERVED),
        ("[::10.0.0.1]", AddressKind.RESERVED),
    ],
)
def test_address_form_is_refused(host: str, kind: AddressKind) -> None:
    fetcher, transport, resolver = make_fetcher()
    error = refused(fetcher, f"http://{host}/invoice.pdf")
    assert error.context["refused"] is kind
    assert transport.requests == []
    assert resolver.calls == []  # a literal address is never looked up


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("2130706433", AddressKind.LOOPBACK),  # decimal
        ("0x7f.1", AddressKind.LOOPBACK),  # hex, two parts
        ("0X7F.1", AddressKind.LOOPBACK),
        ("0x7f000001", AddressKind.LOOPBACK),  # hex, one part
        ("017700000001", AddressKind.LOOPBACK),  # octal, one part
        ("127.1", AddressKind.LOOPBACK),  # short form
        ("0x7f.0.0.1", AddressKind.LOOPBACK),
        ("167772161", AddressKind.PRIVATE),  # 10.0.0.1
        ("012.1", AddressKind.PRIVATE),  # octal 10.0.0.1
        ("2852039166", AddressKind.LINK_LOCAL),  # 169.254.169.254
        ("0xa9.0xfe.0xa9.0xfe", AddressKind.LINK_LOCAL),
        ("0xa9fea9fe", AddressKind.LINK_LOCAL),
        ("00", AddressKind.UNSPECIFIED),
    ],
)
def test_numeric_forms_are_read_as_the_resolver_reads_them(host: str, kind: AddressKind) -> None:
    fetcher, transport, resolver = make_fetcher()
    error = refused(fetcher, f"http://{host}/invoice.pdf")
    assert error.context["refused"] is kind
    assert transport.requests == []
    assert resolver.calls == []


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0xa9fea9fe", "012.1", "0", "4294967295"],
)
def test_literal_address_agrees_with_inet_aton(host: str) -> None:
    assert literal_address(host) == ip_address(socket.inet_aton(host))


@pytest.mark.parametrize("host", ["cafe.be", "1.2.3.4.5", "4294967296", "08.0.0.1", "0x"])
def test_a_name_that_only_looks_numeric_goes_to_the_resolver(host: str) -> None:
    assert literal_address(host) is None


def test_leading_zero_dotted_quad_is_refused_as_invalid() -> None:
    # httpx refuses 0177.0.0.1 as a URL; getaddrinfo would read it as 127.0.0.1
    fetcher, transport, resolver = make_fetcher()
    assert "not a valid URL" in str(refused(fetcher, "http://0177.0.0.1/"))
    assert transport.requests == resolver.calls == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1./x", AddressKind.LOOPBACK),
        ("http://10.0.0.1./x", AddressKind.PRIVATE),
        ("http://2130706433./x", AddressKind.LOOPBACK),
        ("http://localhost./x", AddressKind.LOOPBACK),
        ("http://LOCALHOST./x", AddressKind.LOOPBACK),
        ("http://intranet.example.com./x", AddressKind.PRIVATE),
    ],
)
def test_trailing_dot_hosts_are_checked_like_the_plain_host(url: str, kind: AddressKind) -> None:
    fetcher, transport, _ = make_fetcher()
    assert refused(fetcher, url).context["refused"] is kind
    assert transport.requests == []


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("HTTP://10.0.0.1/x", AddressKind.PRIVATE),
        ("HtTpS://169.254.169.254/x", AddressKind.LINK_LOCAL),
        ("FILE:///etc/passwd", "file"),
        ("Gopher://files.example.com/", "gopher"),
    ],
)
def test_uppercase_schemes_are_read_case_blind(url: str, refusal: object) -> None:
    fetcher, transport, _ = make_fetcher()
    error = refused(fetcher, url)
    assert refusal in (error.context.get("refused"), error.context.get("scheme"))
    assert transport.requests == []


def test_uppercase_scheme_and_host_of_a_public_file_are_fetched() -> None:
    fetcher, transport, _ = make_fetcher()
    fetched = fetcher.fetch("HTTPS://FILES.EXAMPLE.COM./Invoice.pdf")
    assert fetched.content == b"%PDF-1.7 invoice"
    assert transport.requests[0].headers["host"] == "files.example.com"


def test_userinfo_in_the_url_is_refused() -> None:
    fetcher, transport, resolver = make_fetcher()
    error = refused(fetcher, "https://user:secret@files.example.com/invoice.pdf")
    assert "user name or password" in str(error)
    assert "secret" not in str(error)
    assert transport.requests == resolver.calls == []


@pytest.mark.parametrize(
    "url", ["http://files.example.com:0/x", "http://files.example.com:70000/x"]
)
def test_an_invalid_port_is_refused(url: str) -> None:
    fetcher, transport, _ = make_fetcher()
    assert "port" in str(refused(fetcher, url))
    assert transport.requests == []


def test_every_resolved_address_is_checked() -> None:
    resolver = TableResolver({"mixed.example.com": [PUBLIC, "10.0.0.7"]})
    fetcher, transport, _ = make_fetcher(resolver=resolver)
    assert refused(fetcher, "http://mixed.example.com/x").context["refused"] is AddressKind.PRIVATE
    assert transport.requests == []


def test_unresolvable_host_is_unreachable() -> None:
    fetcher, transport, _ = make_fetcher()
    assert "cannot be resolved" in str(refused(fetcher, "http://nowhere.example.com/x"))
    assert transport.requests == []


@pytest.mark.parametrize(
    "address",
    [PUBLIC, PUBLIC_V6, "8.8.8.8", "2002:5db8:d70e::1", "64:ff9b::5db8:d70e", "::ffff:8.8.8.8"],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_refusal(ip_address(address)) is None


# --- loopback, when the local hub allows it -------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:3000/f.pdf", "http://[::1]:3000/f.pdf", "http://localhost:3000/f"]
)
def test_allow_loopback_lets_loopback_through(url: str) -> None:
    fetcher, transport, _ = make_fetcher(allow_loopback=True)
    assert fetcher.fetch(url).content == b"%PDF-1.7 invoice"
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "169.254.169.254", "192.168.0.1", "0.0.0.0", "[64:ff9b::7f00:1]", "[fc00::1]"],
)
def test_allow_loopback_allows_nothing_but_loopback(host: str) -> None:
    fetcher, transport, _ = make_fetcher(allow_loopback=True)
    refused(fetcher, f"http://{host}/x")
    assert transport.requests == []


def test_mapped_loopback_is_fetched_from_the_ipv4_address_when_allowed() -> None:
    fetcher, transport, _ = make_fetcher(allow_loopback=True)
    fetcher.fetch("http://[::ffff:127.0.0.1]:3000/x")
    assert transport.hosts == ["127.0.0.1"]


# --- connecting to the checked address ------------------------------------------------


def test_the_checked_address_is_dialled_with_the_name_in_host_and_sni() -> None:
    fetcher, transport, resolver = make_fetcher()
    fetched = fetcher.fetch("https://files.example.com:8443/a/invoice.pdf?sig=1")
    (request,) = transport.requests
    assert request.url.host == PUBLIC
    assert request.url.port == 8443
    assert request.url.raw_path == b"/a/invoice.pdf?sig=1"
    assert request.headers["host"] == "files.example.com:8443"
    assert request.extensions["sni_hostname"] == "files.example.com"
    assert fetched.url == "https://files.example.com:8443/a/invoice.pdf?sig=1"
    assert fetched.content_type == "application/pdf"
    assert resolver.calls == ["files.example.com"]


def test_dns_rebinding_cannot_move_the_connection() -> None:
    class Rebinding(TableResolver):
        def __call__(self, host: str, port: int) -> list[str]:
            self.calls.append(host)
            return [PUBLIC] if len(self.calls) == 1 else ["127.0.0.1"]

    fetcher, transport, resolver = make_fetcher(resolver=Rebinding())
    fetcher.fetch("http://rebind.example.com/x")
    assert resolver.calls == ["rebind.example.com"]  # resolved once ...
    assert transport.hosts == [PUBLIC]  # ... and the checked answer is dialled


def test_dns_rebinding_on_a_redirect_is_checked_again() -> None:
    class Rebinding(TableResolver):
        def __call__(self, host: str, port: int) -> list[str]:
            self.calls.append(host)
            return [PUBLIC] if len(self.calls) == 1 else ["10.0.0.1"]

    handler = redirect_to("/next")
    fetcher, transport, _ = make_fetcher(handler, resolver=Rebinding())
    error = refused(fetcher, "http://rebind.example.com/start")
    assert error.context["refused"] is AddressKind.PRIVATE
    assert transport.hosts == [PUBLIC]


def test_the_next_checked_address_is_tried_when_one_does_not_connect() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == PUBLIC_V6:
            raise httpx.ConnectError("unreachable network", request=request)
        return answer(b"ok")

    resolver = TableResolver({"dual.example.com": [PUBLIC_V6, PUBLIC]})
    fetcher, transport, _ = make_fetcher(handle, resolver=resolver)
    assert fetcher.fetch("http://dual.example.com/x").content == b"ok"
    assert transport.hosts == [PUBLIC_V6, PUBLIC]


def test_the_pinned_transport_dials_no_address_the_fetch_did_not_clear() -> None:
    # sockets are disabled here: reaching a socket would raise SocketBlockedError
    with pinned_transport() as transport, pytest.raises(httpx.ConnectError, match="not cleared"):
        transport.handle_request(httpx.Request("GET", "http://10.0.0.1/"))


# --- redirects ----------------------------------------------------------------------


def chain(length: int) -> Handler:
    """/r/n redirects to /r/n-1 ... /r/0 is the file."""

    def handle(request: httpx.Request) -> httpx.Response:
        left = int(request.url.path.rsplit("/", 1)[1])
        if left == 0:
            return answer(b"end of chain")
        return httpx.Response(302, headers={"Location": f"/r/{left - 1}"})

    return handle


def test_redirects_within_the_limit_are_followed() -> None:
    fetcher, transport, _ = make_fetcher(chain(3), max_redirects=3)
    fetched = fetcher.fetch("http://files.example.com/r/3")
    assert fetched.content == b"end of chain"
    assert fetched.url == "http://files.example.com/r/0"
    assert len(transport.requests) == 4


def test_redirects_over_the_limit_fail() -> None:
    fetcher, transport, _ = make_fetcher(chain(4), max_redirects=3)
    assert "more than 3 redirects" in str(refused(fetcher, "http://files.example.com/r/4"))
    assert len(transport.requests) == 4  # the fourth redirect is not followed


def test_relative_redirect_is_resolved_against_the_name_not_the_address() -> None:
    fetcher, transport, _ = make_fetcher(redirect_to("../b/invoice.pdf"))
    fetched = fetcher.fetch("https://files.example.com/a/start")
    assert fetched.url == "https://files.example.com/b/invoice.pdf"
    assert transport.requests[1].headers["host"] == "files.example.com"
    assert transport.requests[1].url.path == "/b/invoice.pdf"


def test_redirect_without_location_is_unreachable() -> None:
    fetcher, _, _ = make_fetcher(lambda request: httpx.Response(302))
    assert "without a Location" in str(refused(fetcher, "http://files.example.com/x"))


# --- answers, size cap, encodings ---------------------------------------------------------


@pytest.mark.parametrize("status", [404, 403, 500, 304])
def test_an_error_status_is_unreachable(status: int) -> None:
    fetcher, _, _ = make_fetcher(lambda request: answer(b"", status))
    assert refused(fetcher, "http://files.example.com/x").context["status"] == status


class CountingBody:
    """A body that counts how much of it was pulled."""

    def __init__(self, chunks: int, size: int = 1024) -> None:
        self.chunks, self.size, self.pulled = chunks, size, 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * self.size


def too_large(fetcher: SafeFetcher, url: str, **kwargs: int) -> HubError:
    with pytest.raises(HubError) as caught:
        fetcher.fetch(url, **kwargs)
    assert caught.value.problem is Problem.FILE_TOO_LARGE
    return caught.value


def test_content_length_over_the_cap_fails_before_the_body_is_read() -> None:
    body = CountingBody(100)
    response = httpx.Response(200, content=body, headers={"Content-Length": "102400"})
    fetcher, _, _ = make_fetcher(lambda request: response, max_bytes=10_000)
    assert "larger than 10000 bytes" in str(too_large(fetcher, "http://files.example.com/x"))
    assert body.pulled == 0


def test_body_without_length_stops_right_after_the_cap() -> None:
    body = CountingBody(100)
    fetcher, _, _ = make_fetcher(lambda request: httpx.Response(200, content=body), max_bytes=4096)
    too_large(fetcher, "http://files.example.com/x")
    assert body.pulled == 5  # 5 KiB read for a 4 KiB cap; 95 chunks never pulled


def test_a_file_of_exactly_the_cap_is_fetched() -> None:
    fetcher, _, _ = make_fetcher(
        lambda request: httpx.Response(200, content=CountingBody(4)), max_bytes=4096
    )
    assert len(fetcher.fetch("http://files.example.com/x").content) == 4096


def test_the_caller_may_pass_its_own_cap() -> None:
    fetcher, _, _ = make_fetcher()  # a 16-byte file, 8 MiB default cap
    assert "larger than 10 bytes" in str(
        too_large(fetcher, "http://files.example.com/x", max_bytes=10)
    )


def test_the_default_cap_is_maycurs_8_mib() -> None:
    assert FetchSettings().max_bytes == 8 * 1024 * 1024


def test_gzip_body_is_inflated() -> None:
    packed = gzip.compress(b"%PDF-1.7 zipped")
    fetcher, transport, _ = make_fetcher(lambda request: answer(packed, Content_Encoding="gzip"))
    assert fetcher.fetch("http://files.example.com/x").content == b"%PDF-1.7 zipped"
    assert transport.requests[0].headers["accept-encoding"] == "identity"


def test_gzip_bomb_is_stopped_at_the_cap() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # about 50 KB on the wire
    fetcher, _, _ = make_fetcher(
        lambda request: answer(bomb, Content_Encoding="gzip"), max_bytes=1_000_000
    )
    too_large(fetcher, "http://files.example.com/x")


def test_unsupported_content_encoding_is_unreachable() -> None:
    fetcher, _, _ = make_fetcher(lambda request: answer(b"??", Content_Encoding="br"))
    assert "Content-Encoding" in str(refused(fetcher, "http://files.example.com/x"))


# --- timeouts -------------------------------------------------------------------------


def test_a_slow_resolver_is_cut_off_at_the_total_timeout() -> None:
    release = threading.Event()

    class Slow(TableResolver):
        def __call__(self, host: str, port: int) -> list[str]:
            release.wait(5)
            return [PUBLIC]

    fetcher, transport, _ = make_fetcher(resolver=Slow(), total_timeout=0.2)
    started = time.monotonic()
    try:
        assert "timed out" in str(refused(fetcher, "http://slow.example.com/x"))
    finally:
        release.set()
    assert time.monotonic() - started < 1.0
    assert transport.requests == []


def test_a_slow_body_is_cut_off_at_the_total_timeout() -> None:
    def drip() -> Iterable[bytes]:
        for _ in range(100):
            time.sleep(0.05)
            yield b"x"

    fetcher, _, _ = make_fetcher(
        lambda request: httpx.Response(200, content=drip()), total_timeout=0.3
    )
    started = time.monotonic()
    error = refused(fetcher, "http://files.example.com/x")
    assert "took longer than 0.3 s" in str(error)
    assert time.monotonic() - started < 1.0


def test_a_read_timeout_is_unreachable() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    fetcher, _, _ = make_fetcher(handle)
    assert refused(fetcher, "http://files.example.com/x").context["timeout"] is True


def test_timeouts_given_to_the_transport_are_bounded_by_the_settings() -> None:
    fetcher, transport, _ = make_fetcher(connect_timeout=3, total_timeout=15)
    fetcher.fetch("http://files.example.com/x")
    timeout = transport.requests[0].extensions["timeout"]
    assert timeout["connect"] == 3
    assert 14 < timeout["read"] <= 15


# --- settings and logs -------------------------------------------------------------------


def test_settings_are_read_from_fapiao_variables() -> None:
    settings = FetchSettings.from_env(
        {
            "FAPIAO_ALLOW_LOOPBACK_FETCH": "1",
            "FAPIAO_FETCH_MAX_BYTES": "1048576",
            "FAPIAO_FETCH_CONNECT_TIMEOUT_SECONDS": "1.5",
            "FAPIAO_FETCH_TIMEOUT_SECONDS": "9",
            "FAPIAO_FETCH_MAX_REDIRECTS": "0",
        }
    )
    assert settings == FetchSettings(
        allow_loopback=True,
        max_bytes=1048576,
        connect_timeout=1.5,
        total_timeout=9,
        max_redirects=0,
    )


def test_loopback_is_off_by_default() -> None:
    settings = FetchSettings.from_env({})
    assert settings.allow_loopback is False
    assert (settings.connect_timeout, settings.total_timeout, settings.max_redirects) == (3, 15, 3)


def test_malformed_fetch_setting_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="FAPIAO_FETCH_MAX_BYTES"):
        FetchSettings.from_env({"FAPIAO_FETCH_MAX_BYTES": "8M"})


def test_logs_name_the_host_never_the_path_or_query(caplog: pytest.LogCaptureFixture) -> None:
    fetcher, _, _ = make_fetcher(redirect_to("https://files.example.com/b?token=SECRET2"))
    with caplog.at_level(logging.DEBUG, logger="fapiao.providers.fetch"):
        fetcher.fetch("https://files.example.com/start?X-Amz-Signature=SECRET1")
        refused(fetcher, "https://intranet.example.com/x?token=SECRET3")
    logged = caplog.text
    assert "files.example.com" in logged
    assert "intranet.example.com" in logged
    assert "SECRET" not in logged
    assert "/start" not in logged


def test_check_resolves_without_sending() -> None:
    fetcher, transport, _ = make_fetcher()
    target = fetcher.check("https://files.example.com/invoice.pdf")
    assert (target.host, target.port, target.addresses) == (
        "files.example.com",
        443,
        (ip_address(PUBLIC),),
    )
    assert target.host_header == "files.example.com"
    assert transport.requests == []
