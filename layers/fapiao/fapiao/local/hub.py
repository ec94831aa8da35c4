"""The local hub: the template's API, handlers and AWS resources on one laptop.

It starts the local AWS (moto behind the serialising gateway), creates what
template.yaml declares, gives the handlers the environment Lambda would, and serves the
template's routes over HTTP by calling the same handlers in process.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

from fapiao import aws as aws_clients
from fapiao.clients import ApiClient
from fapiao.local.apigw import MAX_BODY_BYTES, HttpRequest, HttpResponse, Router, default_loader
from fapiao.local.aws import LOCAL_CREDENTIALS, LocalAws, Server
from fapiao.local.pollers import InboxWatcher, QueuePoller
from fapiao.local.resources import LocalNames, provision, provision_notifications
from fapiao.local.template import Template
from fapiao.model.parties import Employee
from fapiao.settings.local import DEFAULT_QUEUE_DEPTH
from fapiao.store.api_keys import DynamoApiKeyStore, hash_key, new_key
from fapiao.store.employees import DEVELOPMENT_EMPLOYEES, DynamoEmployeeDirectory

POLLERS_STOP_SECONDS = 10.0  # what the queue pollers may take to end together at a stop

logger = logging.getLogger("fapiao-local")


@dataclass(frozen=True)
class HubConfig:
    host: str
    port: int
    aws_port: int
    data_dir: Path
    inbox: Path
    template: Path
    region: str
    dev_api_key: str | None = None
    employees_file: Path | None = None
    inbox_owner: str = "local.user"
    concurrency: int = 4
    queue_depth: int = DEFAULT_QUEUE_DEPTH
    recognition_workers: int = 2
    recognition_timeout: float = 60.0
    recognition_memory_mb: int = 3072
    snapshot_every: int = 500
    # what a recognition worker runs; tests name one that crashes on demand
    recognition_target: str = "fapiao.recognize:recognize_here"


class LocalHub:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.template = Template(config.template)
        self.names = LocalNames(self.template, config.region)
        self.aws = LocalAws(
            config.data_dir,
            host="127.0.0.1",
            port=config.aws_port,
            region=config.region,
            snapshot_every=config.snapshot_every,
        )
        self.router: Router | None = None
        self.created: list[str] = []
        self.dev_api_key = ""
        self.employees = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._pollers: list[QueuePoller | InboxWatcher] = []
        self._workers: Any = None
        self.resumed: list[str] = []  # executions started again: in flight at the last stop

    @property
    def url(self) -> str:
        assert self._server is not None, "hub not started"
        return f"http://{self.config.host}:{self._server.server_address[1]}"

    def environment(self, aws_endpoint: str) -> dict[str, str]:
        """What a Lambda function would find in its environment, pointed at local AWS."""
        return {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": aws_endpoint,
            # moto's Step Functions interpreter calls localhost:MOTO_PORT: the gateway.
            "MOTO_PORT": aws_endpoint.rsplit(":", 1)[1],
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on a laptop
            "POWERTOOLS_METRICS_DISABLED": "true",
            # a laptop's ERP listens on http; AWS keeps webhooks to https
            "FAPIAO_WEBHOOK_HTTPS_ONLY": os.environ.get("FAPIAO_WEBHOOK_HTTPS_ONLY", "false"),
            **self.names.function_environment(shell=os.environ),
        }

    def start(self) -> None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config.inbox.mkdir(parents=True, exist_ok=True)
        endpoint = self.aws.start()
        try:
            os.environ.update(self.environment(endpoint))
            # The handlers' clients (fapiao.aws) reach the local AWS in process
            aws_clients.route_through(self.aws.attach)
            self._start_workers()
            self.created = provision(self.template, self.names, boto3.session.Session())
            tables = {t.logical_id for t in self.template.tables}
            if "ApiKeysTable" in tables:
                self.dev_api_key = self._register_dev_key()
            if "EmployeesTable" in tables:
                self.employees = self._load_employees()
            # Handlers read their settings at import, so they load after the environment.
            self.router = Router(
                self.template,
                default_loader(self.template),
                concurrency=self.config.concurrency,
                queue_depth=self.config.queue_depth,
                usage=self.aws.usage,  # invocations counted beside the AWS requests
            )
            self.aws.invoker = self.router.invoke_function
            session = boto3.session.Session()
            session.events.register("before-send", self.aws.in_process)  # the pollers' too
            provision_notifications(self.template, self.names, session)
            self.resumed = self._resume(session)
            self._start_pollers(session)
            self._server = Server((self.config.host, self.config.port), _make_handler(self.router))
        except BaseException:
            self._stop_workers()
            self.aws.stop()
            aws_clients.route_through(None)
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fapiao-hub", daemon=True
        )
        self._thread.start()
        self._write_hub_file()

    def _start_workers(self) -> None:
        """Native recognition runs in worker processes: a crash there fails one file."""
        from fapiao.recognize import use_workers
        from fapiao.recognize.workers import RecognitionWorkers

        self._workers = RecognitionWorkers(
            processes=self.config.recognition_workers,
            timeout_seconds=self.config.recognition_timeout,
            memory_mb=self.config.recognition_memory_mb,
            target=self.config.recognition_target,
        )
        use_workers(self._workers)

    def _stop_workers(self) -> None:
        if self._workers is not None:
            from fapiao.recognize import use_workers

            use_workers(None)
            self._workers.close()
            self._workers = None

    def _resume(self, session: Any) -> list[str]:
        """Work in flight at the last stop ends with exactly one outcome: executions
        that were running start again under their own name (the pipeline's tasks are
        idempotent), and a dropped object that no execution has yet gets one (its
        notification may have been lost with the process). Nothing finished runs again."""
        from fapiao.model.pipeline import DroppedObject
        from fapiao.services.drops import IDENTIFY_PREFIX

        stepfunctions = session.client("stepfunctions")
        resumed = []
        for execution in self.aws.restored.running:
            stepfunctions.start_execution(
                stateMachineArn=execution["machine"],
                name=execution["name"],
                input=execution["input"],
            )
            resumed.append(execution["name"])
        if self.aws.restored.migrated or "IngestStateMachine" not in self.template.resources:
            return resumed
        machines = [
            self.names.ref(m)
            for m in ("IngestStateMachine", "ExpressIngestStateMachine")
            if m in self.template.resources
        ]
        machine = machines[-1]  # a dropped object starts the Express one, as S3DropFunction
        known = {
            e["name"]
            for each in machines
            for page in stepfunctions.get_paginator("list_executions").paginate(
                stateMachineArn=each
            )
            for e in page["executions"]
        }
        s3 = session.client("s3")
        for bucket in self.template.buckets:
            name = self.names.ref(bucket)
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
                for version in page.get("Versions", []):
                    if version["Key"].startswith(IDENTIFY_PREFIX):
                        continue  # the identify API started those by its own names
                    # Named as the drop starter names it from the notification, which
                    # names the version (fapiao.local.aws.s3_events_name_the_version);
                    # an execution of an older hub named it by its etag alone.
                    dropped = DroppedObject(
                        bucket=name, key=version["Key"], etag=version["ETag"].strip('"')
                    )
                    version_id = version.get("VersionId")
                    versioned = (
                        dropped
                        if version_id in (None, "null")
                        else dropped.model_copy(update={"version_id": version_id})
                    )
                    if {dropped.execution_name, versioned.execution_name} & known:
                        continue
                    stepfunctions.start_execution(
                        stateMachineArn=machine,
                        name=versioned.execution_name,
                        input=f'{{"object": {versioned.model_dump_json()}}}',
                    )
                    known.add(versioned.execution_name)
                    resumed.append(versioned.execution_name)
        return resumed

    @property
    def hub_file(self) -> Path:
        """Where the command line finds a running hub: its URLs, region and template."""
        return self.config.data_dir / "hub.json"

    def _write_hub_file(self) -> None:
        # a client cannot connect to "any address": name the loopback one instead
        url = self.url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")
        facts = {
            "url": url,
            "aws": self.aws.endpoint,
            "region": self.config.region,
            "template": str(self.config.template.resolve()),
            "inbox": str(self.config.inbox.resolve()),
            "pid": os.getpid(),
        }
        tmp = self.hub_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.hub_file)

    def _register_dev_key(self) -> str:
        """The development client's key: FAPIAO_DEV_API_KEY, or one kept in the data folder."""
        key = self.config.dev_api_key
        if not key:
            path = self.config.data_dir / "dev-api-key"
            if path.exists():
                key = path.read_text(encoding="utf-8").strip()
            else:
                key = new_key()
                path.write_text(key + "\n", encoding="utf-8")
                path.chmod(0o600)
        DynamoApiKeyStore(self.names.ref("ApiKeysTable")).put(
            ApiClient(
                key_hash=hash_key(key),
                client_id="dev",
                name="local development client",
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        return key

    def _load_employees(self) -> int:
        """The employee directory: FAPIAO_EMPLOYEES_FILE, or spec 002's example employee."""
        employees: tuple[Employee, ...] = DEVELOPMENT_EMPLOYEES
        if self.config.employees_file is not None:
            raw = json.loads(self.config.employees_file.read_text(encoding="utf-8"))
            employees = tuple(Employee.model_validate(e) for e in raw)
        directory = DynamoEmployeeDirectory(self.names.ref("EmployeesTable"))
        for employee in employees:
            directory.put(employee)
        return len(employees)

    def _start_pollers(self, session: Any) -> None:
        assert self.router is not None
        sqs = session.client("sqs")
        for function, queue, batch_size in self.template.sqs_event_sources:
            poller = QueuePoller(
                sqs,
                self.names.ref(queue),
                self.names.get_att(queue, "Arn"),
                function,
                self.router.invoke_function,
                batch_size,
            )
            poller.start()
            self._pollers.append(poller)
        if self.template.buckets:
            watcher = InboxWatcher(
                self.config.inbox,
                session.client("s3"),
                self.names.ref(self.template.buckets[0]),
                self.config.inbox_owner,
            )
            watcher.start()
            self._pollers.append(watcher)

    def stop(self) -> None:
        """Stop taking work, keep the state (the local AWS's snapshot), then end what
        runs. Work still in flight is named in the snapshot and resumed at the next
        start; nothing after the snapshot is acknowledged."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for poller in self._pollers:
            poller.request_stop()
        self.hub_file.unlink(missing_ok=True)
        self.aws.stop()
        # Each poller finishes what it runs; together, not one after another.
        deadline = time.monotonic() + POLLERS_STOP_SECONDS
        for poller in self._pollers:
            poller.stop(timeout=max(deadline - time.monotonic(), 0.0))
        self._stop_workers()
        aws_clients.route_through(None)

    def banner(self) -> str:
        assert self.router is not None
        restored = self.aws.restored
        lines = [
            f"fapiao hub listening on {self.url}",
            f"  local AWS  {self.aws.endpoint} (moto; state kept in {self.config.data_dir}/, "
            f"restored in {self.aws.restore_seconds:.1f} s: {restored.items} items, "
            f"{restored.objects} objects, {restored.messages} queued messages, "
            f"{restored.executions} executions; {self.aws.replayed} log entries replayed)",
            "  AWS client export AWS_ENDPOINT_URL="
            f"{self.aws.endpoint} AWS_DEFAULT_REGION={self.config.region} "
            f"AWS_ACCESS_KEY_ID={LOCAL_CREDENTIALS['AWS_ACCESS_KEY_ID']} "
            f"AWS_SECRET_ACCESS_KEY={LOCAL_CREDENTIALS['AWS_SECRET_ACCESS_KEY']}",
            f"  resumed    {len(self.resumed)} executions in flight at the last stop",
            f"  API key    {self.dev_api_key} (send it as the x-api-key header)",
            f"  console    {self.url}/console/ (sign in with the development key, or make "
            f"a review key: fapiao keys create NAME --role review --data {self.config.data_dir})",
            f"  employees  {self.employees} in the directory"
            + ("" if self.config.employees_file else " (MK00001, spec 002's example)"),
            f"  inbox      {self.config.inbox}/ (watched: a file dropped there goes to the drop "
            f"bucket as {self.config.inbox_owner}/inbox/<file> and through the pipeline)",
            "  resources  "
            + ", ".join(
                f"{kind} {self.names.ref(logical)}"
                for kind, logicals in (
                    ("table", [t.logical_id for t in self.template.tables]),
                    ("bucket", self.template.buckets),
                    ("bus", self.template.event_buses),
                )
                for logical in logicals
            ),
            "  routes",
        ]
        for route in self.router.routes:
            lines.append(f"    {route.method:<6} {route.path:<45} -> {route.function}")
        lines.append("Ctrl-C stops it.")
        return "\n".join(lines)


def _make_handler(router: Router) -> type[BaseHTTPRequestHandler]:
    class HubHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fapiao-local"
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stall

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            declared = (self.headers.get("Content-Length") or "0").strip()
            length = int(declared) if declared.isascii() and declared.isdigit() else -1
            if self.headers.get("Transfer-Encoding") or length < 0:
                # Not read: answer and close rather than guess where the body ends.
                self.close_connection = True
                response = HttpResponse.json(
                    400 if length < 0 else 411,
                    {"message": "Bad Request" if length < 0 else "Length Required"},
                )
            elif length > MAX_BODY_BYTES:
                # API Gateway's 413 in the route's envelope (template.yaml's
                # REQUEST_TOO_LARGE). A body of up to 40 MiB is read and dropped first,
                # so that a client still sending it hears the answer.
                self.close_connection = True
                left = length if length <= 4 * MAX_BODY_BYTES else 0
                while left > 0 and (chunk := self.rfile.read(min(left, 1 << 20))):
                    left -= len(chunk)
                response = router.too_large(self.command, parts.path)
            else:
                request = HttpRequest(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers=list(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                    source_ip=self.client_address[0],
                )
                response = router.handle(request)
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve  # noqa: N815

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, ...) is answered 405/404 in JSON, as API
            # Gateway would, never http.server's HTML 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), format % args)

    return HubHandler
