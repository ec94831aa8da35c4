"""An ERP's webhook receiver on 127.0.0.1, for tests and benches: it keeps every POST it
gets (when, headers, body) and answers what the test's ``answer`` says; it can go down
and come back on the same port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    at: float  # time.time()
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


# (the webhook-id, how many POSTs of it came before this one) -> the status to answer
Answer = Callable[[str, int], int]


def always(status: int) -> Answer:
    return lambda webhook_id, before: status


def fail_first(failures: int, status: int = 500) -> Answer:
    """``status`` to the first ``failures`` attempts of each event, 200 after."""
    return lambda webhook_id, before: status if before < failures else 200


class Receiver:
    def __init__(self, answer: Answer | None = None, port: int = 0) -> None:
        self.answer = answer or always(200)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = port
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    webhook_id = headers.get("webhook-id", "")
                    before = sum(1 for r in receiver.received if r.webhook_id == webhook_id)
                    status = receiver.answer(webhook_id, before)
                    receiver.received.append(Received(time.time(), headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: a connection is refused until ``up``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def of(self, webhook_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.webhook_id == webhook_id]

    def delivered(self) -> set[str]:
        with self._lock:
            return {r.webhook_id for r in self.received if 200 <= r.status < 300}

    def wait_delivered(self, count: int, timeout: float) -> set[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            delivered = self.delivered()
            if len(delivered) >= count:
                return delivered
            time.sleep(0.2)
        raise AssertionError(f"{len(self.delivered())} of {count} delivered in {timeout} s")
