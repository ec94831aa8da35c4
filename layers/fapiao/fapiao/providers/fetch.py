"""SafeFetcher: the one way the hub downloads a file named by a client's URL.

Maycur's ``fileUrl``, ocrSync's ``attachment_url`` and yipiaoyun's ``imageUrl`` are
chosen by whoever calls the hub, so a download is a request the hub makes on a
stranger's behalf from inside the cloud (SSRF). Every download therefore goes through
here, and here only:

- http and https only; no user:password in the URL;
- the host is resolved by the hub itself (numeric forms such as ``2130706433`` or
  ``0x7f.1`` are read the way the system resolver reads them) and EVERY address it
  resolves to is checked (``address_refusal``); the connection is then made to the
  checked address, never to the name, so a DNS answer that changes between the check
  and the connection (DNS rebinding) cannot move it. The name still goes in the Host
  header and, for https, in the TLS SNI and the certificate check;
- redirects are followed by hand, each ``Location`` (relative ones too) checked by the
  same rules, at most ``max_redirects`` of them;
- the body is streamed and the download stops at ``max_bytes`` + 1 bytes; a
  Content-Length over the cap fails before the body is read; gzip/deflate bodies are
  inflated under the same cap;
- ``total_timeout`` bounds the whole fetch: resolution, every connection, TLS handshake
  and read, across redirects (each socket operation is given only the time left).

Failures are ``HubError(FILE_UNREACHABLE)``, or ``FILE_TOO_LARGE`` over the cap. Their
detail says why, naming only what the caller gave: never an address a name resolved to,
never where a redirect led. Logs carry the host, never the path or query (a presigned
URL's query is a credential).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from types import TracebackType
from typing import Any, Self

import httpcore
import httpx

from fapiao.catalogue.errors import HubError, Problem
from fapiao.settings import FetchSettings

__all__ = [
    "AddressKind",
    "Fetched",
    "IPAddress",
    "Posted",
    "Resolver",
    "SafeFetcher",
    "Target",
    "address_refusal",
    "literal_address",
    "pinned_transport",
    "system_resolver",
]

logger = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
Resolver = Callable[[str, int], Iterable[str]]
"""``(host, port) -> addresses as text``; the default asks ``socket.getaddrinfo``."""

SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "fapiao-hub"
POST_ANSWER_BYTES = 4096  # what a webhook reads of the receiver's answer, at most


@dataclass(frozen=True)
class Fetched:
    """A downloaded file: its bytes, the URL it finally came from, its Content-Type."""

    content: bytes = field(repr=False)
    url: str = field(repr=False)  # may hold a presigned query: not for logs
    content_type: str | None


@dataclass(frozen=True)
class Posted:
    """What a POST (a webhook) got back: the status of the answer, and how long it took."""

    status: int
    latency_ms: int


@dataclass(frozen=True)
class Target:
    """A URL that passed the check: where to connect, and what to call the server."""

    url: httpx.URL = field(repr=False)
    host: str  # lower case, IDNA, no trailing dot, IPv6 without brackets
    port: int
    addresses: tuple[IPAddress, ...]  # every one checked; connected to in this order

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS[self.url.scheme]
        return host if self.port == default else f"{host}:{self.port}"


# --- which addresses are refused, and why ---------------------------------------------


class AddressKind(StrEnum):
    """Why an address is refused; the word the caller's error detail uses."""

    LOOPBACK = "loopback"
    PRIVATE = "private"
    SHARED = "shared (carrier-grade NAT)"
    LINK_LOCAL = "link-local"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    UNSPECIFIED = "unspecified"
    RESERVED = "reserved"


_K = AddressKind
_V4 = IPv4Network
_V6 = IPv6Network

# First match wins. The hub fetches from the public internet only; everything here is
# somewhere a stranger's URL must never reach from inside the cloud.
_REFUSED_V4: tuple[tuple[IPv4Network, AddressKind], ...] = (
    # "this network": 0.0.0.0 connects to the local host itself on Linux.
    (_V4("0.0.0.0/8"), _K.UNSPECIFIED),
    # The host itself: the Lambda Runtime API listens on 127.0.0.1:9001, the local hub
    # and local AWS on 127.0.0.1. Allowed only with FAPIAO_ALLOW_LOOPBACK_FETCH.
    (_V4("127.0.0.0/8"), _K.LOOPBACK),
    # RFC 1918: the VPC, the office network, every internal service.
    (_V4("10.0.0.0/8"), _K.PRIVATE),
    (_V4("172.16.0.0/12"), _K.PRIVATE),
    (_V4("192.168.0.0/16"), _K.PRIVATE),
    # RFC 6598 shared space: carrier-internal, and Alibaba Cloud's metadata service
    # (100.100.100.200) lives here.
    (_V4("100.64.0.0/10"), _K.SHARED),
    # Link-local: the instance metadata service of AWS, Huawei and others
    # (169.254.169.254: credentials), ECS task metadata (169.254.170.2), Tencent
    # Cloud's (169.254.0.23), the Amazon DNS resolver (169.254.169.253).
    (_V4("169.254.0.0/16"), _K.LINK_LOCAL),
    # Multicast: not a server; a GET to it makes no sense and may reach many hosts.
    (_V4("224.0.0.0/4"), _K.MULTICAST),
    # Limited broadcast, before the reserved block that holds it.
    (_V4("255.255.255.255/32"), _K.BROADCAST),
    # Reserved for future use (class E): never a real server.
    (_V4("240.0.0.0/4"), _K.RESERVED),
    # IETF protocol assignments, documentation (TEST-NET-1/2/3), benchmarking, and the
    # deprecated 6to4 relay anycast: none of them is a file server on the internet.
    (_V4("192.0.0.0/24"), _K.RESERVED),
    (_V4("192.0.2.0/24"), _K.RESERVED),
    (_V4("198.51.100.0/24"), _K.RESERVED),
    (_V4("203.0.113.0/24"), _K.RESERVED),
    (_V4("198.18.0.0/15"), _K.RESERVED),
    (_V4("192.88.99.0/24"), _K.RESERVED),
)

_REFUSED_V6: tuple[tuple[IPv6Network, AddressKind], ...] = (
    # "::" reaches the local host like 0.0.0.0.
    (_V6("::/128"), _K.UNSPECIFIED),
    # The host itself, as 127.0.0.0/8.
    (_V6("::1/128"), _K.LOOPBACK),
    # IPv4-compatible addresses (deprecated): an IPv4 address in IPv6 clothes.
    (_V6("::/96"), _K.RESERVED),
    # SIIT IPv4-translated addresses (::ffff:0:a.b.c.d): likewise.
    (_V6("::ffff:0:0:0/96"), _K.RESERVED),
    # Unique local (fc00::/7): the IPv6 private ranges; AWS's IPv6 metadata service is
    # fd00:ec2::254. Local-use NAT64 (64:ff9b:1::/48) translates into private networks.
    (_V6("fc00::/7"), _K.PRIVATE),
    (_V6("64:ff9b:1::/48"), _K.PRIVATE),
    # Link-local, as 169.254.0.0/16; and the deprecated site-local range.
    (_V6("fe80::/10"), _K.LINK_LOCAL),
    (_V6("fec0::/10"), _K.PRIVATE),
    (_V6("ff00::/8"), _K.MULTICAST),
    # Discard-only, IETF protocol assignments (Teredo 2001::/32 among them: it tunnels
    # to an address it hides), documentation, SRv6 SIDs.
    (_V6("100::/64"), _K.RESERVED),
    (_V6("2001::/23"), _K.RESERVED),
    (_V6("2001:db8::/32"), _K.RESERVED),
    (_V6("3fff::/20"), _K.RESERVED),
    (_V6("5f00::/16"), _K.RESERVED),
)

_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address

del _K, _V4, _V6


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address that a NAT64 or 6to4 address leads to."""
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour  # 2002:AABB:CCDD::/48 -> AA.BB.CC.DD


def address_refusal(address: IPAddress, *, allow_loopback: bool = False) -> AddressKind | None:
    """Why the hub must not connect to ``address``, or None when it may.

    IPv4-mapped IPv6 (``::ffff:10.0.0.1``) is judged as the IPv4 address it is. NAT64
    (``64:ff9b::a.b.c.d``) and 6to4 (``2002:AABB:CCDD::``) addresses are refused when
    the IPv4 address they lead to is, loopback included (a translator cannot reach
    our loopback, and no one should try). Anything the ``ipaddress`` module does not
    call global is refused as reserved, so a range missing from the tables above
    still fails closed. ``allow_loopback`` lets 127.0.0.0/8 and ::1 through, and
    nothing else.
    """
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address_refusal(address.ipv4_mapped, allow_loopback=allow_loopback)
        embedded = _embedded_ipv4(address)
        if embedded is not None and (kind := address_refusal(embedded)) is not None:
            return kind
        table: Iterable[tuple[IPv4Network | IPv6Network, AddressKind]] = _REFUSED_V6
    else:
        table = _REFUSED_V4
    for network, kind in table:
        if address in network:
            return None if kind is AddressKind.LOOPBACK and allow_loopback else kind
    return None if address.is_global else AddressKind.RESERVED


_IPV4_NUMERIC = frozenset("0123456789abcdefxABCDEFX.")


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one, read the way ``getaddrinfo`` reads it.

    IPv4 goes through ``inet_aton``, as the resolver's numeric path does, so the old
    forms count: ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1`` are all
    127.0.0.1. A host with a colon is IPv6 (brackets already removed) or invalid.
    """
    host = host[:-1] if host.endswith(".") else host
    if ":" in host:
        try:
            return ip_address(host)
        except ValueError:
            raise HubError(Problem.FILE_UNREACHABLE, "not a valid URL") from None
    if host and set(host) <= _IPV4_NUMERIC:
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None  # a name such as "cafe.be": the resolver decides
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


# --- the transport: connect only to the address just checked, within the deadline ----

_DEADLINE: ContextVar[float | None] = ContextVar("fapiao_fetch_deadline", default=None)
_CLEARED: ContextVar[frozenset[str]] = ContextVar("fapiao_fetch_cleared", default=frozenset())


def _time_left(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = max(deadline - time.monotonic(), 0.001)  # 0 would mean non-blocking
    return left if timeout is None else min(timeout, left)


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout))
        return _GuardedStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Sockets that connect only to an address the fetch has just cleared, and whose
    every operation (connect, TLS handshake, read, write) gets only the time left."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if host not in _CLEARED.get():  # belt and braces: SafeFetcher checked it already
            raise httpcore.ConnectError("address not cleared by the fetch policy")
        stream = self._inner.connect_tcp(
            host, port, _time_left(timeout), local_address, socket_options
        )
        return _GuardedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched from")


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        super().__init__(verify=ssl_context, trust_env=False, retries=0, limits=limits)
        # httpx has no parameter for the network backend: its pool is replaced by the
        # same pool with the guarded backend. No keep-alive: a connection made for one
        # host name (SNI, certificate) is never reused for another on the same address.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_keepalive_connections=0,
            retries=0,
            network_backend=_GuardedBackend(),
        )


def pinned_transport(ssl_context: ssl.SSLContext | None = None) -> httpx.HTTPTransport:
    """The transport SafeFetcher uses by default: no proxies from the environment, no
    keep-alive, no retries; connects only to addresses a fetch cleared, within its
    deadline. ``ssl_context`` defaults to certifi's CAs with hostname checking."""
    context = ssl_context or httpx.create_ssl_context(verify=True, trust_env=False)
    return _PinnedTransport(context)


@contextmanager
def _deadline(deadline: float) -> Iterator[None]:
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@contextmanager
def _cleared(address: IPAddress) -> Iterator[None]:
    token = _CLEARED.set(frozenset({str(address)}))
    try:
        yield
    finally:
        _CLEARED.reset(token)


# --- the body: under the cap, inflated under the cap ------------------------------------


class _Inflater:
    """Undoes a gzip/deflate Content-Encoding without ever producing more than asked,
    so a small compressed body cannot become a huge one in memory."""

    def __init__(self, encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (encoding or "").split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise HubError(
                Problem.FILE_UNREACHABLE,
                f"the file server sent an unsupported Content-Encoding: {encoding}",
            )
        # 32 + MAX_WBITS: a gzip or zlib header, detected
        self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS) if codings else None

    def feed(self, data: bytes, limit: int) -> bytes:
        """At most ``limit`` (>= 1) bytes of the file that ``data`` continues."""
        if self._zlib is None:
            return data[:limit]
        try:
            return self._zlib.decompress(data, limit)  # limit >= 1: 0 would mean no limit
        except zlib.error:
            raise HubError(
                Problem.FILE_UNREACHABLE, "the file server sent a corrupt compressed body"
            ) from None

    def flush(self) -> bytes:
        return b"" if self._zlib is None else self._zlib.flush()


# --- the fetcher --------------------------------------------------------------------


def _unreachable(detail: str, **context: object) -> HubError:
    return HubError(Problem.FILE_UNREACHABLE, detail, **context)


class SafeFetcher:
    """Downloads a file a client named by URL, refusing every address but public ones.

    ``resolver`` and ``transport`` are for tests: a resolver that answers from a table,
    a transport that counts what it is asked to send. Thread-safe; reuse one per
    process.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings or FetchSettings.current()
        self._resolver = resolver
        self._transport = transport or pinned_transport()

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the check --------------------------------------------------------------------

    def check(self, url: str) -> Target:
        """The checked target of ``url``, resolving its host; nothing is sent.

        Raises ``HubError(FILE_UNREACHABLE)`` saying why the URL is refused; for an
        address, ``error.context["refused"]`` is its ``AddressKind``.
        """
        deadline = time.monotonic() + self.settings.total_timeout
        return self._check(url, deadline, redirected=False)

    def _check(self, url: str | httpx.URL, deadline: float, *, redirected: bool) -> Target:
        where = "the redirect" if redirected else "the URL"
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise _unreachable(f"{where} is not a valid URL") from None
        if parsed.scheme not in SCHEMES:
            said = f"uses the {parsed.scheme!r} scheme" if parsed.scheme else "is not absolute"
            raise _unreachable(
                f"{where} {said}; only http and https are fetched", scheme=parsed.scheme
            )
        if parsed.userinfo:
            raise _unreachable(f"{where} carries a user name or password; they are not sent")
        host = parsed.raw_host.decode("ascii").lower()
        host = host[:-1] if host.endswith(".") else host
        if not host:
            raise _unreachable(f"{where} names no host")
        port = DEFAULT_PORTS[parsed.scheme] if parsed.port is None else parsed.port
        if not 0 < port < 65536:
            raise _unreachable(f"{where} has an invalid port")
        literal = literal_address(host)
        if literal is not None:
            candidates: list[IPAddress] = [literal]
        else:
            candidates = self._resolve(host, port, deadline, redirected=redirected)
        addresses: list[IPAddress] = []
        for address in candidates:
            kind = address_refusal(address, allow_loopback=self.settings.allow_loopback)
            if kind is not None:
                logger.warning("refused to fetch from %s: %s address", host, kind.value)
                if redirected:
                    detail = f"the redirect leads to a {kind.value} address"
                elif literal is not None:
                    detail = f"{host} is a {kind.value} address"
                else:
                    detail = f"{host} resolves to a {kind.value} address"
                raise _unreachable(detail, refused=kind)
            if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
                address = address.ipv4_mapped  # connect to what was checked
            if address not in addresses:
                addresses.append(address)
        return Target(parsed, host, port, tuple(addresses))

    def _resolve(
        self, host: str, port: int, deadline: float, *, redirected: bool
    ) -> list[IPAddress]:
        # getaddrinfo has no timeout of its own: it runs in a thread so that the fetch
        # gives up at its deadline (the thread ends when the resolver does).
        named = "the redirect target" if redirected else host
        answers: list[str] = []
        failures: list[BaseException] = []

        def resolve() -> None:
            try:
                answers.extend(self._resolver(host, port))
            except BaseException as error:  # handed to the caller's thread
                failures.append(error)

        thread = threading.Thread(target=resolve, name="fapiao-fetch-resolve", daemon=True)
        thread.start()
        thread.join(max(deadline - time.monotonic(), 0.0))
        if thread.is_alive():
            raise _unreachable(f"resolving {named} timed out", timeout=True)
        if failures:
            if isinstance(failures[0], OSError | UnicodeError):
                raise _unreachable(f"{named} cannot be resolved") from None
            raise failures[0]
        try:
            addresses = [ip_address(answer) for answer in answers]
        except ValueError:
            raise _unreachable(f"{named} cannot be resolved") from None
        if not addresses:
            raise _unreachable(f"{named} cannot be resolved")
        return addresses

    # -- the download -----------------------------------------------------------------

    def fetch(self, url: str, *, max_bytes: int | None = None) -> Fetched:
        """The file at ``url``, at most ``max_bytes`` (default: the setting) long.

        Raises ``HubError(FILE_TOO_LARGE)`` over the cap, ``HubError(FILE_UNREACHABLE)``
        for a refused URL or address (``context["refused"]`` / ``["scheme"]``), a name
        that does not resolve, a server that cannot be reached, answers an error status
        (``context["status"]``) or is too slow (``context["timeout"]``).
        """
        cap = self.settings.max_bytes if max_bytes is None else max_bytes
        if cap < 0:
            raise ValueError("max_bytes must not be negative")
        deadline = time.monotonic() + self.settings.total_timeout
        with _deadline(deadline):
            target = self._check(url, deadline, redirected=False)
            logger.info("fetching a file from %s", target.host)
            for hop in range(self.settings.max_redirects + 1):
                response = self._send(
                    target, deadline, redirected=hop > 0, headers={"Accept": "*/*"}
                )
                try:
                    if response.status_code in REDIRECTS:
                        location = response.headers.get("location")
                        if hop == self.settings.max_redirects:
                            raise _unreachable(f"more than {self.settings.max_redirects} redirects")
                        if not location:
                            raise _unreachable("the file server redirected without a Location")
                        try:
                            next_url = target.url.join(location)
                        except (httpx.InvalidURL, TypeError):
                            raise _unreachable("the redirect is not a valid URL") from None
                        target = self._check(next_url, deadline, redirected=True)
                        logger.info("following a redirect to %s", target.host)
                        continue
                    if not 200 <= response.status_code < 300:
                        raise _unreachable(
                            f"the file server answered HTTP {response.status_code}",
                            status=response.status_code,
                        )
                    content = self._read(response, cap, deadline)
                    return Fetched(content, str(target.url), response.headers.get("content-type"))
                finally:
                    response.close()
        raise AssertionError("unreachable: the last hop returns or raises")  # pragma: no cover

    # -- a webhook ----------------------------------------------------------------------

    def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float = 10.0,
    ) -> Posted:
        """POST ``body`` once to ``url``, checked as ``fetch`` checks it before any
        connection; answers the status (a redirect is just an answer: never followed)
        and the latency. At most ``POST_ANSWER_BYTES`` of the answer are read.

        ``timeout`` bounds it all: resolution, connection, sending and the answer.
        Raises ``HubError(FILE_UNREACHABLE)`` for a refused URL or address
        (``context["refused"]`` / ``["scheme"]``), a name that does not resolve, a
        receiver that cannot be reached or does not answer in time
        (``context["timeout"]``).
        """
        started = time.monotonic()
        deadline = started + timeout
        with _deadline(deadline):
            target = self._check(url, deadline, redirected=False)
            logger.info("posting a webhook to %s", target.host)

            def timed_out() -> HubError:
                said = f"{target.host} did not answer within {timeout:g} s"
                return _unreachable(said, timeout=True)

            response = self._send(
                target, deadline, method="POST", headers=headers, content=body, timed_out=timed_out
            )
            try:
                self._drain(response, deadline)
            finally:
                response.close()
            return Posted(response.status_code, round((time.monotonic() - started) * 1000))

    def _drain(self, response: httpx.Response, deadline: float) -> None:
        """Read at most ``POST_ANSWER_BYTES`` of an answer, then stop: the status is the
        answer; a body that stalls or breaks after it changes nothing."""
        read = 0
        try:
            for chunk in response.iter_raw():
                read += len(chunk)
                if read >= POST_ANSWER_BYTES or time.monotonic() >= deadline:
                    return
        except httpx.TransportError:
            return

    def _send(
        self,
        target: Target,
        deadline: float,
        *,
        redirected: bool = False,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timed_out: Callable[[], HubError] | None = None,
    ) -> httpx.Response:
        """One request to the checked addresses of ``target``, the first that connects;
        ``headers`` are the caller's, below the hub's own. ``timed_out`` words a timeout
        (by default as a download's)."""
        where = "the redirect target" if redirected else target.host
        left = max(deadline - time.monotonic(), 0.001)
        timeout = {
            "connect": min(self.settings.connect_timeout, left),
            "read": left,
            "write": left,
            "pool": left,
        }
        sent = {
            **(headers or {}),
            "Host": target.host_header,
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",  # a compressed body is inflated under the cap
            "Connection": "close",
        }
        for address in target.addresses:
            request = httpx.Request(
                method,
                target.url.copy_with(host=str(address)),
                headers=sent,
                content=content,
                extensions={"timeout": timeout, "sni_hostname": target.host},
            )
            try:
                with _cleared(address):
                    return self._transport.handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                pass  # try the next address
            except httpx.TimeoutException:
                if timed_out is not None:
                    raise timed_out() from None
                raise self._timed_out(deadline, f"{where} did not answer in time") from None
            except httpx.TransportError as error:
                raise _unreachable(f"{where} failed: {type(error).__name__}") from None
            if time.monotonic() >= deadline:
                break
        raise _unreachable(f"cannot connect to {where}")

    def _read(self, response: httpx.Response, cap: int, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise HubError(Problem.FILE_TOO_LARGE, f"the file is larger than {cap} bytes")
        inflater = _Inflater(response.headers.get("content-encoding"))
        body = bytearray()
        try:
            for chunk in response.iter_raw():
                body += inflater.feed(chunk, cap + 1 - len(body))
                if len(body) > cap:
                    raise HubError(Problem.FILE_TOO_LARGE, f"the file is larger than {cap} bytes")
                if time.monotonic() >= deadline:
                    raise self._timed_out(deadline, "the download is too slow")
            body += inflater.flush()
        except httpx.TimeoutException:
            raise self._timed_out(deadline, "the file server stopped sending") from None
        except httpx.TransportError as error:
            raise _unreachable(f"the download failed: {type(error).__name__}") from None
        if len(body) > cap:
            raise HubError(Problem.FILE_TOO_LARGE, f"the file is larger than {cap} bytes")
        return bytes(body)

    def _timed_out(self, deadline: float, otherwise: str) -> HubError:
        if time.monotonic() >= deadline - 0.01:
            total = self.settings.total_timeout
            return _unreachable(f"the download took longer than {total:g} s", timeout=True)
        return _unreachable(otherwise, timeout=True)
