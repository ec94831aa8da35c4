"""The local hub's AWS: moto's server behind a gateway that serialises and journals.

moto's ThreadedMotoServer is not safe under concurrent requests, so every request
passes one lock: two conditional writes racing for the same key behave as DynamoDB's
do (one wins, one gets ConditionalCheckFailedException). Each request that changed
state is appended to a journal in the data folder and replayed into a fresh moto at
the next start, so what the hub stored survives Ctrl-C (and a crash).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.server import ThreadedMotoServer

logger = logging.getLogger("fapiao-local.aws")

# Requests whose action starts with one of these only read state; they are not journaled.
_READ_ACTIONS = (
    "Get",
    "List",
    "Describe",
    "Query",
    "Scan",
    "BatchGet",
    "TransactGet",
    "Receive",
    "Head",
    "Test",
)
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}
JOURNAL_NAME = "aws-journal.jsonl"
# Lambda's Invoke API: what moto's Step Functions interpreter calls for a Task state.
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations(?:\?.*)?$")

# (function name or ARN, payload) -> (JSON result, error type or None)
Invoker = Callable[[str, bytes], tuple[bytes, str | None]]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Recorded:
    """One request as sent to moto."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def to_line(self) -> str:
        return json.dumps(
            {
                "method": self.method,
                "path": self.path,
                "headers": self.headers,
                "body": base64.b64encode(self.body).decode("ascii"),
            },
            ensure_ascii=True,
        )

    @classmethod
    def from_line(cls, line: str) -> Recorded:
        data = json.loads(line)
        return cls(
            data["method"],
            data["path"],
            [(str(k), str(v)) for k, v in data["headers"]],
            base64.b64decode(data["body"]),
        )

    def action(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "x-amz-target":
                return value.rsplit(".", 1)[-1]
        if b"Action=" in self.body[:200]:
            actions = parse_qs(self.body.decode("utf-8", "replace")).get("Action")
            if actions:
                return actions[0]
        return None

    def changes_state(self) -> bool:
        if self.method in ("GET", "HEAD", "OPTIONS"):
            return False
        action = self.action()
        return not (action and action.startswith(_READ_ACTIONS))


class Journal:
    """An append-only file of the requests that changed state, fsynced one by one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def append(self, request: Recorded) -> None:
        self._file.write(request.to_line() + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    @staticmethod
    def read(path: Path) -> Iterator[Recorded]:
        if not path.exists():
            return
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield Recorded.from_line(line)
                except (ValueError, KeyError) as error:
                    # A line cut short by a crash is the last one; nothing after it.
                    logger.warning(
                        "journal line %d unreadable (%s); stopping replay", number, error
                    )
                    return


class _Upstream:
    """A keep-alive connection to moto, used under the gateway's lock only."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._connection: http.client.HTTPConnection | None = None

    def send(self, request: Recorded) -> tuple[int, list[tuple[str, str]], bytes]:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self._connection.request(
                    request.method, request.path, body=request.body, headers=dict(request.headers)
                )
                response = self._connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (ConnectionError, http.client.HTTPException):
                self._connection.close()
                self._connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class Server(ThreadingHTTPServer):
    """A threading HTTP server that takes a burst of clients (the default backlog is 5)."""

    daemon_threads = True
    request_queue_size = 128


class LocalAws:
    """moto on a private port, and the serialising gateway that clients talk to."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.journal_path = data_dir / JOURNAL_NAME
        self._lock = threading.Lock()
        self._moto: ThreadedMotoServer | None = None
        self._upstream: _Upstream | None = None
        self._journal: Journal | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.replayed = 0
        self.invoker: Invoker | None = None  # set by the hub: runs a function in process

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "LocalAws is not started"
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._moto.start()
        self._upstream = _Upstream("127.0.0.1", moto_port)
        # moto keeps its state per process: start from nothing, then replay the journal.
        self._upstream.send(Recorded("POST", "/moto-api/reset", [], b""))
        for request in Journal.read(self.journal_path):
            self._upstream.send(request)
            self.replayed += 1
        # Only now do executions run: a replayed StartExecution must not run its tasks
        # again (their effects are in the journal already).
        config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        self._upstream.send(
            Recorded("POST", "/moto-api/config", [("Content-Type", "application/json")], config)
        )
        self._journal = Journal(self.journal_path)
        self._server = Server((self.host, self.port), _make_handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fapiao-aws-gateway", daemon=True
        )
        self._thread.start()
        return self.endpoint

    def invoke(self, request: Recorded) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """Lambda's Invoke, answered by the hub's in-process handler (outside the lock:
        the handler's own AWS calls come back through this gateway)."""
        found = _INVOKE.match(request.path)
        if request.method != "POST" or found is None or self.invoker is None:
            return None
        body, error = self.invoker(unquote(found.group("name")), request.body)
        headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
        if error is not None:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        return 200, headers, body

    def forward(self, request: Recorded) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._upstream is None or self._journal is None:
            raise RuntimeError("LocalAws is not started")
        with self._lock:
            status, headers, body = self._upstream.send(request)
            if status < 400 and request.changes_state():
                self._journal.append(request)
        return status, headers, body

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            if self._journal is not None:
                self._journal.close()
            if self._upstream is not None:
                self._upstream.close()
        if self._moto is not None:
            with contextlib.suppress(Exception):  # moto's shutdown is best effort
                self._moto.stop()

    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _make_handler(aws: LocalAws) -> type[BaseHTTPRequestHandler]:
    class GatewayHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stall

        def _relay(self) -> None:
            body = _read_body(self)
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
            request = Recorded(self.command, self.path, headers, body)
            try:
                invoked = aws.invoke(request)
                status, response_headers, response_body = invoked or aws.forward(request)
            except Exception:  # moto died or hung: answer like an unavailable service
                logger.exception("local AWS request failed: %s %s", self.command, self.path)
                status, response_headers, response_body = 503, [], b"local AWS unavailable"
            self.send_response(status)
            for name, value in response_headers:
                # send_response wrote Server and Date already
                if name.lower() not in _HOP_BY_HOP and name.lower() not in ("server", "date"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response_body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response_body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _relay  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("aws %s", format % args)

    return GatewayHandler
