"""The local hub's AWS: moto's server behind a gateway that serialises and journals.

moto's ThreadedMotoServer is not safe under concurrent requests, so every request
passes one lock: two conditional writes racing for the same key behave as DynamoDB's
do (one wins, one gets ConditionalCheckFailedException). A request queued behind that
lock may outlast its client's read timeout, and botocore then sends it again: a retry
of a change already made is answered with the first attempt's reply (``_Attempts``),
so a conditional write never refuses its own retry. What the hub stored survives
Ctrl-C and ``kill -9`` through a snapshot and a short write-ahead log
(fapiao.local.state); a start restores that state and replays no history.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import logging
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from moto.server import ThreadedMotoServer

from fapiao.local import moto_fixes
from fapiao.local.recorded import Recorded, read_journal
from fapiao.local.state import RestoredState, StateStore
from fapiao.local.usage import Usage

logger = logging.getLogger("fapiao-local.aws")

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
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}  # how clients name this gateway
# Lambda's Invoke API: what moto's Step Functions interpreter calls for a Task state.
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations(?:\?.*)?$")

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "fapiao-local",
    "AWS_SECRET_ACCESS_KEY": "fapiao-local",
}


def local_session(region: str) -> boto3.session.Session:
    """A boto3 session with the local AWS's credentials (moto takes any)."""
    return boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )


# (function name or ARN, payload) -> (JSON result, error type or None)
Invoker = Callable[[str, bytes], tuple[bytes, str | None]]


def s3_events_name_the_version() -> None:
    """S3's event notifications name the object version in a versioned bucket
    (``s3.object.versionId``); moto's carry only the ETag. Patch moto's event builder
    (once per process: moto's backends are global) so the drop pipeline names each object
    by its version here as it does in AWS, and its outcomes carry the real version id."""
    from moto.s3 import notifications

    build = notifications._get_s3_event
    if getattr(build, "names_the_version", False):
        return

    def with_version(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        event = build(event_name, bucket, key, notification_id)
        version = getattr(key, "version_id", None)
        if version and version != "null":  # moto's version id of an unversioned bucket
            for record in event["Records"]:
                record["s3"]["object"]["versionId"] = version
        return event

    with_version.names_the_version = True  # type: ignore[attr-defined]
    notifications._get_s3_event = with_version


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _InProcess:
    """moto's WSGI application called in this process, under the gateway's lock only:
    the same application moto's server runs, without a second HTTP hop (a socket, a
    server thread and two HTTP parses per request, most of a small request's cost)."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import create_backend_app

        self.base_url = f"http://{host}:{port}"
        self.app = _dispatcher()(create_backend_app)

    def send(self, request: Recorded) -> tuple[int, list[tuple[str, str]], bytes]:
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        path, _, query = request.path.partition("?")
        builder = EnvironBuilder(
            method=request.method,
            path=path,
            query_string=query,
            headers=list(request.headers),
            data=request.body,
            base_url=self.base_url,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        answer, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        return int(status.split(" ", 1)[0]), list(headers.items()), body


def _dispatcher() -> Any:
    """moto's dispatcher, which finds each request's service by trying every backend of
    moto in turn (a twelfth of the local hub's CPU under load), remembering what it found
    for a signed request's credential scope (region and service) and X-Amz-Target."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class Dispatcher(DomainDispatcherApplication):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.found: dict[tuple[str, str], Any] = {}

        def get_application(self, environ: dict[str, Any]) -> Any:
            auth = environ.get("HTTP_AUTHORIZATION") or ""
            path = environ.get("PATH_INFO") or ""
            credential = auth.split(",")[0].split("Credential=")[-1].split("/")
            if len(credential) != 5 or path.startswith(("/moto-api", "/latest/")):
                return super().get_application(environ)
            target = (environ.get("HTTP_X_AMZ_TARGET") or "").split(".")[0]
            key = (f"{credential[2]}/{credential[3]}", target)
            app = self.found.get(key)
            if app is None:
                app = self.found[key] = super().get_application(environ)
            return app

    return Dispatcher


Reply = tuple[int, list[tuple[str, str]], bytes]
_INVOCATION_ID = "amz-sdk-invocation-id"  # botocore's: the same on every retry of a call


class _Attempts:
    """The replies to changes by botocore's invocation id: a retry of a call whose first
    attempt is queued or done gets that attempt's reply instead of changing state twice
    (DynamoDB would have answered the first attempt in time). A 5xx or an exception is
    not kept: the retry is sent again, as a retry is meant to be."""

    def __init__(self, keep: int = 4096) -> None:
        self._keep = keep
        self._replies: OrderedDict[str, Future[Reply]] = OrderedDict()
        self._lock = threading.Lock()

    def once(self, request: Recorded, send: Callable[[], Reply]) -> Reply:
        key = next((v for k, v in request.headers if k.lower() == _INVOCATION_ID), None)
        if key is None or not request.changes_state():
            return send()
        with self._lock:
            first = self._replies.get(key)
            if first is None:
                mine: Future[Reply] = Future()
                self._replies[key] = mine
                while len(self._replies) > self._keep:
                    self._replies.popitem(last=False)
        if first is not None:
            return first.result()
        try:
            reply = send()
        except BaseException as error:
            self._forget(key)
            mine.set_exception(error)
            raise
        if reply[0] >= 500:
            self._forget(key)
        mine.set_result(reply)
        return reply

    def _forget(self, key: str) -> None:
        with self._lock:
            self._replies.pop(key, None)


class Server(ThreadingHTTPServer):
    """A threading HTTP server that takes a burst of clients (the default backlog is 5)."""

    daemon_threads = True
    request_queue_size = 128


class LocalAws:
    """moto on a private port, and the serialising gateway that clients talk to.

    State survives restarts through ``StateStore`` (a snapshot and a write-ahead log,
    see fapiao.local.state): a start restores it without side effects.
    """

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "cn-north-1",
        snapshot_every: int = 500,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.region = region
        self.snapshot_every = snapshot_every
        self._lock = threading.Lock()
        self._attempts = _Attempts()
        self._moto: ThreadedMotoServer | None = None
        self._moto_port = 0
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()
        self._upstream: _InProcess | None = None
        self._state: StateStore | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock_file: Any = None
        self.restored = RestoredState()
        self.restore_seconds = 0.0
        self.invoker: Invoker | None = None  # set by the hub: runs a function in process
        # every request forwarded or invoked, counted (fapiao.local.usage; bench/cost.py)
        self.usage = Usage()

    @property
    def replayed(self) -> int:
        """Write-ahead log entries applied at the last start (0 after a clean stop)."""
        return self.restored.log_entries

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "LocalAws is not started"
        return f"http://{self.host}:{self._server.server_address[1]}"

    def client(self, service: str) -> Any:
        """A boto3 client straight to moto: not logged, for restoring and snapshots. One
        per service and moto server (boto3's clients are thread-safe): making one loads
        its service model, tens of milliseconds of CPU that a snapshot would take from
        the handlers each time."""
        endpoint = f"http://127.0.0.1:{self._moto_port}"
        with self._clients_lock:
            made = self._clients.get((service, endpoint))
            if made is None:
                session = local_session(self.region)
                made = session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]
                self._clients[(service, endpoint)] = made
        return made

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_fixes.install()  # costs of moto that grow with the state, made constant
        started = time.monotonic()
        self._hold_data_dir()
        try:
            return self._start(started)
        except BaseException:
            # Nothing is snapshotted: a start that failed half-way must not overwrite
            # the state it was restoring.
            if self._state is not None:
                self._state.close()
                self._state = None
            self.stop()
            raise

    def _start(self, started: float) -> str:
        s3_events_name_the_version()
        self._moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self._moto_port, verbose=False)
        self._moto.start()
        # moto's server stays up for the clients of snapshots and restores (client())
        self._upstream = _InProcess("127.0.0.1", self._moto_port)
        # moto keeps its state per process: start from nothing. Executions run from
        # the start: restoring starts none (RestoredState.running names the ones to redo).
        self._upstream.send(Recorded("POST", "/moto-api/reset", [], b""))
        config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        self._upstream.send(
            Recorded("POST", "/moto-api/config", [("Content-Type", "application/json")], config)
        )
        self._state = StateStore(self.data_dir, self.region, self.snapshot_every)
        self.restored = self._state.restore(self.client, self._upstream.send)
        self.restored.log_entries += self._migrate_journal()
        with self._lock:  # a fresh snapshot: the next start reads no log at all
            self._state.take_snapshot(self.client)
        self.restore_seconds = time.monotonic() - started
        self._server = Server((self.host, self.port), _make_handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fapiao-aws-gateway", daemon=True
        )
        self._thread.start()
        self._stopping.clear()
        self._watcher = threading.Thread(target=self._watch, name="fapiao-aws-state", daemon=True)
        self._watcher.start()
        return self.endpoint

    def _hold_data_dir(self) -> None:
        """One local AWS per data folder: a second one would write the same log."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = (self.data_dir / "lock").open("a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise OSError(f"another hub is using the data folder {self.data_dir}") from None

    def _migrate_journal(self) -> int:
        """A data folder of an earlier version kept a journal of every request: apply it
        once with no side effect (nothing notified, delivered or executed), then keep
        the result as a snapshot. Its objects get new version ids, so nothing of it is
        resumed (``RestoredState.migrated``)."""
        journal = self.data_dir / JOURNAL_NAME
        if not journal.exists() or self._upstream is None:
            return 0
        skipped = ("StartExecution", "PutEvents", "PutRule", "PutTargets")
        applied = 0
        for request in read_journal(journal):
            if request.action() in skipped or "notification" in request.path:
                continue
            self._upstream.send(request)
            applied += 1
        journal.rename(journal.with_name(JOURNAL_NAME + ".migrated"))
        self.restored.migrated = True
        logger.warning("migrated %d journaled requests of %s into a snapshot", applied, journal)
        return applied

    def _watch(self) -> None:
        """Log executions as they end, and snapshot when the log has grown."""
        while not self._stopping.wait(1.0):
            state = self._state
            if state is None:
                return
            try:
                with self._lock:
                    if self._state is None:
                        return
                    state.log_ended_executions()
                if state.snapshot_due:
                    self.snapshot()
            except Exception:
                logger.exception("keeping the local AWS's state failed")

    def snapshot(self) -> None:
        """A new snapshot now (the gateway waits meanwhile); the log starts empty."""
        with self._lock:
            if self._state is not None:
                self._state.log_ended_executions()
                self._state.take_snapshot(self.client)

    def invoke(self, request: Recorded) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """Lambda's Invoke, answered by the hub's in-process handler (outside the lock:
        the handler's own AWS calls come back through this gateway)."""
        found = _INVOKE.match(request.path)
        if request.method != "POST" or found is None or self.invoker is None:
            return None
        self.usage.request("lambda", "Invoke")
        body, error = self.invoker(unquote(found.group("name")), request.body)
        headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
        if error is not None:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        return 200, headers, body

    def relay(self, request: Recorded) -> Reply:
        """A request's answer: Lambda's Invoke by the hub's handler, the rest by moto; an
        unavailable service if moto died or hung (never a traceback to the caller)."""
        try:
            return self.invoke(request) or self.forward(request)
        except Exception:
            logger.exception("local AWS request failed: %s %s", request.method, request.path)
            return 503, [], b"local AWS unavailable"

    def attach(self, client: Any) -> None:
        """Answer ``client``'s requests to this local AWS in process: the same gateway
        (its lock, journal and counts) without HTTP, whose sockets, threads and parsing
        were a fifth of the local hub's CPU. Requests elsewhere go over HTTP as before."""
        client.meta.events.register("before-send", self.in_process)

    def in_process(self, request: Any, **_: Any) -> Any:
        """botocore's before-send handler: the answer to ``request``, or None for HTTP."""
        from botocore.awsrequest import AWSResponse, HTTPHeaders
        from moto.core.botocore_stubber import MockRawResponse

        parts = urlsplit(request.url)
        server = self._server
        if (
            server is None
            or parts.hostname not in _LOOPBACK
            or parts.port != server.server_address[1]
        ):
            return None  # elsewhere, or stopped: over HTTP, as without this route
        headers = [
            (str(k), v.decode("latin-1") if isinstance(v, bytes) else str(v))
            for k, v in request.headers.items()
            if str(k).lower() not in _HOP_BY_HOP
        ]
        if not any(k.lower() == "host" for k, _ in headers):
            headers.append(("Host", parts.netloc))  # as an HTTP client sends it
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        # In a context of its own, as on the gateway's thread: botocore copies the
        # calling context into every call it makes, and a Lambda invoke answered here
        # would have its handler's calls each copy the caller's
        status, answer_headers, answer = contextvars.Context().run(
            self.relay, Recorded(request.method, path, headers, body or b"")
        )
        headers_of_answer = HTTPHeaders()
        for name, value in answer_headers:
            headers_of_answer[name] = value
        return AWSResponse(request.url, status, headers_of_answer, MockRawResponse(answer))

    def forward(self, request: Recorded) -> Reply:
        return self._attempts.once(request, lambda: self._forward(request))

    def _forward(self, request: Recorded) -> Reply:
        with self._lock:
            if self._upstream is None or self._state is None:
                # stopping: what is not in the final snapshot must not be acknowledged
                raise RuntimeError("LocalAws is not running")
            measure = self.usage.measure(request, self._stored_size)
            status, headers, body = self._upstream.send(request)
            measure.done(status, body)
            if status < 400 and request.changes_state():
                self._state.record_request(request)
        return status, headers, body

    def _stored_size(self, table_name: str, key: Mapping[str, Any]) -> int:
        """The size of the item ``key`` names (a key or a whole item) as moto stores it,
        0 if there is none: what DynamoDB bills a write by. moto runs in this process;
        called under the lock, so no request changes it meanwhile."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        try:
            table = dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region].get_table(table_name)
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            item = table.get_item(hash_key, range_key)
        except Exception:  # no such table or key: the request failed, nothing stored
            return 0
        return int(item.size()) if item is not None else 0

    def stop(self) -> None:
        """Keep the state as a snapshot, then stop. From the snapshot on, every request
        is refused (503), so nothing is acknowledged that the next start would lack;
        executions still running are named RUNNING in it and run again after a start."""
        self._stopping.set()
        with self._lock:
            if self._state is not None:
                try:
                    self._state.log_ended_executions()
                    self._state.take_snapshot(self.client)
                except Exception:  # the log since the last snapshot still holds it all
                    logger.exception("could not take the snapshot at stop")
                self._state.close()
                self._state = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._lock:
            self._upstream = None  # no connection to close: moto runs in this process
        if self._moto is not None:
            with contextlib.suppress(Exception):  # moto's shutdown is best effort
                self._moto.stop()
        if self._lock_file is not None:
            self._lock_file.close()  # the lock goes with it
            self._lock_file = None

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
            status, response_headers, response_body = aws.relay(request)
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
