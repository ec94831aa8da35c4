"""The local AWS's durable state: a snapshot plus a short write-ahead log since it.

moto keeps everything in memory. Replaying every request since the first start (what
this module replaces) re-ran history: S3 puts got new version ids and fired their
notifications again, executions ran again, and every outcome was published again.
Here a restart *restores state* instead:

- a **snapshot** (``state/snapshot-N.json`` plus content-addressed object bodies in
  ``blobs/``) holds the resources (tables, buckets, queues, state machines, parameters,
  buses) and their data: every table item, every object version with its version id,
  every queued message with its id, every execution with its status and output;
- a **write-ahead log** (``state/wal-N.jsonl``, fsynced entry by entry) holds what
  changed since: DynamoDB, SSM and control-plane requests as they were sent (they are
  deterministic), and the *effects* of everything else as moto applied them (an object
  version stored, a message added to or removed from a queue, an execution started or
  ended), taken from moto's own backends, so a notification or an event rule's
  delivery is logged once, as the message it produced, and never fires again;
- at start the snapshot is loaded and the log applied with no side effects, then a
  new snapshot is written and the log starts empty: restart time follows the state,
  not its history. A snapshot is also taken every ``snapshot_every`` log entries and at
  a clean stop. A log line cut short by ``kill -9`` is the last one and is dropped: the
  request it logged was never answered.

Executions that were running at the stop cannot be resumed mid-way (moto runs them in
threads); ``RestoredState.running`` names them so that the hub starts them again under
the same name, and the pipeline's tasks are idempotent.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fapiao.local.recorded import Recorded

logger = logging.getLogger("fapiao-local.state")

ACCOUNT_ID = "123456789012"  # moto's default account
FORMAT = 1
_QUEUE_READ_ONLY = {
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "RedrivePolicy",  # set once every queue exists: it names another queue
}
# SQS data-plane actions: their effects are logged from moto's queues, not as requests.
_SQS_DATA = (
    "SendMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "PurgeQueue",
    "ReceiveMessage",
)


def _fsync_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _jsonable(value: Any) -> Any:
    """boto3's DynamoDB values with bytes (B, BS) made JSON; ``_from_jsonable`` undoes it."""
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def _from_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_jsonable(v) for v in value]
    return value


@dataclass
class RestoredState:
    """What a start found: counts for the banner, and executions to start again."""

    snapshot: str | None = None
    log_entries: int = 0
    items: int = 0
    objects: int = 0
    messages: int = 0
    executions: int = 0
    migrated: bool = False  # from an earlier version's journal: nothing is resumed
    running: list[dict[str, Any]] = field(default_factory=list)  # {machine, name, input}


class Blobs:
    """Object bodies by SHA-256, written once, shared by snapshots and the log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.folder / digest
        if not path.exists():
            _fsync_write(path, data)
        return digest

    def get(self, digest: str) -> bytes:
        return (self.folder / digest).read_bytes()

    def keep_only(self, digests: set[str]) -> int:
        removed = 0
        for path in self.folder.iterdir():
            if path.name not in digests:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class _MotoHooks:
    """Class-level wrappers around moto's S3 and SQS backends that report each effect
    to the active ``StateStore`` (one per process: moto's backends are global)."""

    installed = False
    active: StateStore | None = None
    paused = threading.local()

    @classmethod
    def install(cls) -> None:
        if cls.installed:
            return
        from moto.s3.models import S3Backend
        from moto.sqs.models import Queue, SQSBackend

        put_object = S3Backend.put_object
        delete_object = S3Backend.delete_object
        add_message = Queue.add_message
        delete_message = Queue.delete_message
        purge_queue = SQSBackend.purge_queue

        def put_object_logged(backend: Any, bucket_name: str, key_name: str, *a: Any, **k: Any):  # type: ignore[no-untyped-def]
            key = put_object(backend, bucket_name, key_name, *a, **k)
            cls._report("object_put", bucket_name, key)
            return key

        def delete_object_logged(backend: Any, bucket_name: str, key_name: str, *a: Any, **k: Any):  # type: ignore[no-untyped-def]
            result = delete_object(backend, bucket_name, key_name, *a, **k)
            version_id = k.get("version_id", a[0] if a else None)
            cls._report("object_deleted", bucket_name, key_name, version_id)
            return result

        def add_message_logged(queue: Any, message: Any) -> None:
            add_message(queue, message)
            if any(m is message for m in queue._messages):  # a FIFO duplicate is dropped
                cls._report("message_added", queue, message)

        def delete_message_logged(queue: Any, receipt_handle: str) -> None:
            ids = [m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)]
            delete_message(queue, receipt_handle)
            for message_id in ids:
                cls._report("message_removed", queue.name, message_id)

        def purge_queue_logged(backend: Any, queue_name: str) -> None:
            purge_queue(backend, queue_name)
            cls._report("queue_purged", queue_name)

        S3Backend.put_object = put_object_logged  # type: ignore[method-assign,assignment]
        S3Backend.delete_object = delete_object_logged  # type: ignore[method-assign,assignment]
        Queue.add_message = add_message_logged  # type: ignore[method-assign,assignment]
        Queue.delete_message = delete_message_logged  # type: ignore[method-assign,assignment]
        SQSBackend.purge_queue = purge_queue_logged  # type: ignore[method-assign,assignment]
        cls.installed = True

    @classmethod
    def _report(cls, kind: str, *args: Any) -> None:
        store = cls.active
        if store is None or getattr(cls.paused, "on", False):
            return
        try:
            getattr(store, "_on_" + kind)(*args)
        except Exception:  # never fail moto's request for the log's sake: say it loudly
            logger.exception("could not log %s to the write-ahead log", kind)

    @classmethod
    @contextlib.contextmanager
    def pause(cls) -> Iterator[None]:
        cls.paused.on = True
        try:
            yield
        finally:
            cls.paused.on = False


class StateStore:
    """The snapshot and write-ahead log of one data folder (see the module docstring)."""

    def __init__(self, data_dir: Path, region: str, snapshot_every: int = 500) -> None:
        self.folder = data_dir / "state"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.blobs = Blobs(data_dir / "blobs")
        self.region = region
        self.snapshot_every = snapshot_every
        self._lock = threading.Lock()  # one writer of the log at a time
        self._wal: Any = None
        self._generation = 0
        self.entries_since_snapshot = 0
        self._ended: set[str] = set()  # execution ARNs whose end is logged

    # -- the files -------------------------------------------------------------------

    @property
    def current_file(self) -> Path:
        return self.folder / "CURRENT"

    def _current(self) -> dict[str, Any] | None:
        if not self.current_file.exists():
            return None
        data: dict[str, Any] = json.loads(self.current_file.read_text(encoding="utf-8"))
        return data

    def _wal_path(self, generation: int) -> Path:
        return self.folder / f"wal-{generation:06d}.jsonl"

    def _snapshot_path(self, generation: int) -> Path:
        return self.folder / f"snapshot-{generation:06d}.json"

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if self._wal is None:
                return  # not started, or restoring
            self._wal.write(line)
            self._wal.flush()
            os.fsync(self._wal.fileno())
            self.entries_since_snapshot += 1

    @property
    def snapshot_due(self) -> bool:
        return self.entries_since_snapshot >= self.snapshot_every

    # -- what the gateway reports ----------------------------------------------------

    def record_request(self, request: Recorded) -> None:
        """A state-changing request moto accepted: logged as sent when replaying it is
        exact; otherwise its effects are logged (or nothing, for what is read back)."""
        service, action = request.service(), request.action()
        if service in ("lambda", None):
            return
        if service == "s3":
            bucket_level = len([p for p in urlsplit(request.path).path.split("/") if p]) <= 1
            if not bucket_level:
                return  # object writes are logged from moto's backend, with version ids
        if service == "sqs" and action and action.startswith(_SQS_DATA):
            return
        if service == "events" and action == "PutEvents":
            return  # its effect is the messages its rules delivered, logged as such
        if service == "states":
            if action == "StartExecution":
                started = json.loads(request.body or b"{}")
                self._append(
                    {
                        "execution_started": {
                            "machine": started.get("stateMachineArn"),
                            "name": started.get("name"),
                            "input": started.get("input") or "{}",
                        }
                    }
                )
            if action != "CreateStateMachine":
                return  # executions' later states are read from moto, not replayed
        self._append({"request": request.to_dict()})

    def _on_object_put(self, bucket: str, key: Any) -> None:
        self._append({"object_put": self._object_image(bucket, key)})

    def _on_object_deleted(self, bucket: str, key: str, version_id: str | None) -> None:
        self._append({"object_deleted": {"bucket": bucket, "key": key, "version_id": version_id}})

    def _on_message_added(self, queue: Any, message: Any) -> None:
        self._append({"message_added": self._message_image(queue.name, message)})

    def _on_message_removed(self, queue: str, message_id: str) -> None:
        self._append({"message_removed": {"queue": queue, "id": message_id}})

    def _on_queue_purged(self, queue: str) -> None:
        self._append({"queue_purged": {"queue": queue}})

    def _object_image(self, bucket: str, key: Any) -> dict[str, Any]:
        return {
            "bucket": bucket,
            "key": key.name,
            "version_id": key._version_id,
            "etag": key.etag,
            "last_modified": key.last_modified.isoformat(),
            "metadata": {str(k): str(v) for k, v in dict(key.metadata).items()},
            "blob": self.blobs.put(key.value),
        }

    @staticmethod
    def _message_image(queue: str, message: Any) -> dict[str, Any]:
        return {
            "queue": queue,
            "id": message.id,
            "body": message.body,
            "attributes": message.message_attributes,
            "system_attributes": message.system_attributes,
            "sent": message.sent_timestamp,
            "group_id": message.group_id,
            "deduplication_id": message.deduplication_id,
            "receive_count": message.approximate_receive_count,
        }

    def log_ended_executions(self) -> int:
        """Log the end of executions that finished since the last look (moto runs them
        in threads, outside any request): a restart then starts them no more."""
        logged = 0
        for execution in self._executions():
            arn = execution.execution_arn
            status = _status(execution)
            if status == "RUNNING" or arn in self._ended:
                continue
            self._ended.add(arn)
            self._append({"execution_ended": _execution_image(execution)})
            logged += 1
        return logged

    # -- moto's backends -------------------------------------------------------------

    def _s3(self) -> Any:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        return s3_backends[ACCOUNT_ID][get_partition(self.region)]

    def _sqs(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[ACCOUNT_ID][self.region]

    def _sfn(self) -> Any:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends[ACCOUNT_ID][self.region]

    def _executions(self) -> list[Any]:
        return [e for machine in list(self._sfn().state_machines) for e in list(machine.executions)]

    # -- snapshot --------------------------------------------------------------------

    def take_snapshot(self, clients: Callable[[str], Any]) -> Path:
        """Write the whole state as a new snapshot and start a new, empty log. The
        caller holds the gateway's lock: no request changes state meanwhile."""
        state: dict[str, Any] = {"format": FORMAT, "region": self.region}
        state["tables"] = self._snapshot_tables(clients("dynamodb"))
        state["buckets"] = self._snapshot_buckets(clients("s3"))
        state["queues"] = self._snapshot_queues(clients("sqs"))
        state["state_machines"] = self._snapshot_state_machines(clients("stepfunctions"))
        state["parameters"] = self._snapshot_parameters(clients("ssm"))
        state["event_buses"] = [
            b["Name"]
            for b in clients("events").list_event_buses().get("EventBuses", [])
            if b["Name"] != "default"
        ]
        state["executions"] = [_execution_image(e) for e in self._executions()]
        generation = self._generation + 1
        snapshot = self._snapshot_path(generation)
        _fsync_write(snapshot, json.dumps(state, ensure_ascii=False).encode("utf-8"))
        with self._lock:
            new_wal = self._wal_path(generation).open("a", encoding="utf-8")
            _fsync_dir(self.folder)
            pointer = {"snapshot": snapshot.name, "wal": self._wal_path(generation).name}
            _fsync_write(self.current_file, json.dumps(pointer).encode())
            old, self._wal = self._wal, new_wal
            self._generation = generation
            self.entries_since_snapshot = 0
        if old is not None:
            old.close()
        self._ended = {e["arn"] for e in state["executions"] if e["status"] != "RUNNING"}
        for path in self.folder.iterdir():  # what the new pointer no longer names
            if path.name not in (snapshot.name, self._wal_path(generation).name, "CURRENT"):
                path.unlink(missing_ok=True)
        used = {o["blob"] for b in state["buckets"] for o in b["objects"]}
        self.blobs.keep_only(used)
        return snapshot

    def _snapshot_tables(self, dynamodb: Any) -> list[dict[str, Any]]:
        tables = []
        for name in (
            dynamodb.get_paginator("list_tables")
            .paginate()
            .build_full_result()
            .get("TableNames", [])
        ):
            described = dynamodb.describe_table(TableName=name)["Table"]
            definition: dict[str, Any] = {
                "TableName": name,
                "KeySchema": described["KeySchema"],
                "AttributeDefinitions": described["AttributeDefinitions"],
                "BillingMode": "PAY_PER_REQUEST",
            }
            for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                if described.get(kind):
                    definition[kind] = [
                        {k: i[k] for k in ("IndexName", "KeySchema", "Projection")}
                        for i in described[kind]
                    ]
            if described.get("StreamSpecification"):
                definition["StreamSpecification"] = described["StreamSpecification"]
            ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            items = self._items_of(name)
            tables.append(
                {
                    "definition": definition,
                    "ttl": ttl.get("AttributeName")
                    if ttl.get("TimeToLiveStatus") == "ENABLED"
                    else None,
                    "items": items,
                }
            )
        return tables

    def _items_of(self, table_name: str) -> list[Any]:
        """The table's items as a Scan would answer them (``_jsonable``), read from moto
        in this process: a Scan through moto's serializer and back through botocore's
        parser was a sixth of the local hub's CPU under load, taken every snapshot."""
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT_ID][self.region].get_table(table_name)
        return [_jsonable(item.to_json()["Attributes"]) for item in table.all_items()]

    def _snapshot_buckets(self, s3: Any) -> list[dict[str, Any]]:
        from moto.s3.models import FakeKey

        backend = self._s3()
        buckets = []
        for listed in s3.list_buckets().get("Buckets", []):
            name = listed["Name"]
            bucket: dict[str, Any] = {"name": name, "objects": []}
            versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
            bucket["versioning"] = versioning
            with contextlib.suppress(Exception):
                bucket["encryption"] = s3.get_bucket_encryption(Bucket=name)[
                    "ServerSideEncryptionConfiguration"
                ]
            with contextlib.suppress(Exception):
                bucket["public_access_block"] = s3.get_public_access_block(Bucket=name)[
                    "PublicAccessBlockConfiguration"
                ]
            fake = backend.get_bucket(name)
            for key_name in list(fake.keys):
                for version in list(fake.keys.getlist(key_name, [])):
                    if isinstance(version, FakeKey):  # delete markers are not kept
                        bucket["objects"].append(self._object_image(name, version))
            buckets.append(bucket)
        return buckets

    def _snapshot_queues(self, sqs: Any) -> list[dict[str, Any]]:
        backend = self._sqs()
        queues = []
        for url in sqs.list_queues().get("QueueUrls", []):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
                "Attributes"
            ]
            name = url.rsplit("/", 1)[1]
            queue = backend.get_queue(name)
            queues.append(
                {
                    "name": name,
                    "attributes": {
                        k: v for k, v in attributes.items() if k not in _QUEUE_READ_ONLY
                    },
                    "redrive": attributes.get("RedrivePolicy"),
                    "messages": [self._message_image(name, m) for m in list(queue._messages)],
                }
            )
        return queues

    @staticmethod
    def _snapshot_state_machines(sfn: Any) -> list[dict[str, Any]]:
        machines = []
        for listed in sfn.list_state_machines()["stateMachines"]:
            described = sfn.describe_state_machine(stateMachineArn=listed["stateMachineArn"])
            machines.append(
                {
                    "name": described["name"],
                    "definition": described["definition"],
                    "roleArn": described["roleArn"],
                    "type": described.get("type", "STANDARD"),
                }
            )
        return machines

    @staticmethod
    def _snapshot_parameters(ssm: Any) -> list[dict[str, Any]]:
        parameters = []
        for page in ssm.get_paginator("describe_parameters").paginate():
            for described in page["Parameters"]:
                value = ssm.get_parameter(Name=described["Name"], WithDecryption=True)
                parameters.append(
                    {
                        "Name": described["Name"],
                        "Type": described["Type"],
                        "Value": value["Parameter"]["Value"],
                    }
                )
        return parameters

    # -- restore ---------------------------------------------------------------------

    def restore(
        self, clients: Callable[[str], Any], send: Callable[[Recorded], object]
    ) -> RestoredState:
        """Load the snapshot and apply the log into a fresh moto, with no side effect:
        nothing is notified, delivered or executed. ``send`` replays a logged request."""
        _MotoHooks.install()
        restored = RestoredState()
        pointer = self._current()
        executions: dict[str, dict[str, Any]] = {}
        with _MotoHooks.pause():
            if pointer is not None:
                restored.snapshot = pointer["snapshot"]
                self._generation = int(pointer["snapshot"].split("-")[1].split(".")[0])
                state = json.loads((self.folder / pointer["snapshot"]).read_text("utf-8"))
                self._restore_snapshot(state, clients, restored)
                executions = {e["arn"]: e for e in state.get("executions", [])}
                for entry in self._read_log(self.folder / pointer["wal"]):
                    self._apply(entry, send, executions, restored)
                    restored.log_entries += 1
        for image in executions.values():
            if image["status"] == "RUNNING":
                restored.running.append(
                    {"machine": image["machine"], "name": image["name"], "input": image["input"]}
                )
            else:
                self._restore_execution(image)
                restored.executions += 1
        _MotoHooks.active = self
        return restored

    @staticmethod
    def _read_log(path: Path) -> Iterator[dict[str, Any]]:
        if not path.exists():
            return
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.endswith("\n"):
                    logger.warning("log line %d was cut short by a crash; dropped", number)
                    return
                try:
                    entry: dict[str, Any] = json.loads(line)
                except ValueError:
                    logger.warning("log line %d unreadable; the log ends there", number)
                    return
                yield entry

    def _restore_snapshot(
        self, state: dict[str, Any], clients: Callable[[str], Any], restored: RestoredState
    ) -> None:
        restored.items += self._restore_tables(state["tables"], clients("dynamodb"))
        restored.objects += self._restore_buckets(state["buckets"], clients("s3"))
        restored.messages += self._restore_queues(state["queues"], clients("sqs"))
        sfn = clients("stepfunctions")
        for machine in state["state_machines"]:
            sfn.create_state_machine(**machine)
        ssm = clients("ssm")
        for parameter in state["parameters"]:
            ssm.put_parameter(**parameter, Overwrite=True)
        events = clients("events")
        for bus in state["event_buses"]:
            events.create_event_bus(Name=bus)

    @staticmethod
    def _restore_tables(tables: list[dict[str, Any]], dynamodb: Any) -> int:
        """Each table with its TTL and items; returns how many items were written."""
        count = 0
        for table in tables:
            definition = table["definition"]
            dynamodb.create_table(**definition)
            if table.get("ttl"):
                dynamodb.update_time_to_live(
                    TableName=definition["TableName"],
                    TimeToLiveSpecification={"AttributeName": table["ttl"], "Enabled": True},
                )
            items = _from_jsonable(table["items"])
            for start in range(0, len(items), 25):
                batch = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
                dynamodb.batch_write_item(RequestItems={definition["TableName"]: batch})
            count += len(items)
        return count

    def _restore_buckets(self, buckets: list[dict[str, Any]], s3: Any) -> int:
        """Each bucket with its settings and object versions; returns how many objects."""
        count = 0
        for bucket in buckets:
            if self.region == "us-east-1":
                s3.create_bucket(Bucket=bucket["name"])
            else:
                s3.create_bucket(
                    Bucket=bucket["name"],
                    CreateBucketConfiguration={"LocationConstraint": self.region},
                )
            _restore_bucket_settings(s3, bucket)
            for image in bucket["objects"]:
                self._put_object(image)
                count += 1
        return count

    def _restore_queues(self, queues: list[dict[str, Any]], sqs: Any) -> int:
        """Every queue first (a redrive names another), then redrives and messages."""
        urls = {}
        for queue in queues:
            urls[queue["name"]] = sqs.create_queue(
                QueueName=queue["name"], Attributes=queue["attributes"]
            )["QueueUrl"]
        count = 0
        for queue in queues:
            if queue.get("redrive"):
                sqs.set_queue_attributes(
                    QueueUrl=urls[queue["name"]], Attributes={"RedrivePolicy": queue["redrive"]}
                )
            for image in queue["messages"]:
                self._add_message(image)
                count += 1
        return count

    def _apply(
        self,
        entry: dict[str, Any],
        send: Callable[[Recorded], object],
        executions: dict[str, dict[str, Any]],
        restored: RestoredState,
    ) -> None:
        ((kind, value),) = entry.items()
        if kind == "request":
            send(Recorded.from_dict(value))
        elif kind == "object_put":
            self._put_object(value)
        elif kind == "object_deleted":
            self._s3().delete_object(value["bucket"], value["key"], value["version_id"])
        elif kind == "message_added":
            self._add_message(value)
        elif kind == "message_removed":
            self._remove_message(value["queue"], value["id"])
        elif kind == "queue_purged":
            self._sqs().get_queue(value["queue"])._messages = []
        elif kind == "execution_started":
            arn = _execution_arn(value["machine"], value["name"])
            if arn not in executions:
                executions[arn] = {**value, "arn": arn, "status": "RUNNING"}
        elif kind == "execution_ended":
            executions[value["arn"]] = value
        else:
            logger.warning("unknown log entry %s skipped", kind)

    def _put_object(self, image: dict[str, Any]) -> None:
        backend = self._s3()
        bucket = backend.get_bucket(image["bucket"])
        key = backend.put_object(
            image["bucket"], image["key"], self.blobs.get(image["blob"]), disable_notification=True
        )
        key._version_id = image["version_id"]
        key._etag = image["etag"].strip('"') if image.get("etag") else None
        key.last_modified = dt.datetime.fromisoformat(image["last_modified"])
        if image.get("metadata"):
            key.set_metadata(dict(image["metadata"]), replace=True)
        versions = bucket.keys.getlist(image["key"], [])
        # put_object appended a new version (or replaced the only one): keep one per id
        kept = [v for v in versions if v is key or v.version_id != image["version_id"]]
        if kept != versions:
            bucket.keys.setlist(image["key"], kept)

    def _add_message(self, image: dict[str, Any]) -> None:
        from moto.sqs.models import Message

        for queue in self._sqs().queues.values():  # a redrive moved it: one queue holds it
            self._remove_message(queue.name, image["id"])
        queue = self._sqs().get_queue(image["queue"])
        message = Message(image["id"], image["body"], image.get("system_attributes") or {})
        message.message_attributes = image.get("attributes") or {}
        message.sent_timestamp = image.get("sent")
        message.group_id = image.get("group_id")
        message.deduplication_id = image.get("deduplication_id")
        message.approximate_receive_count = int(image.get("receive_count") or 0)
        with queue._messages_lock:
            queue._messages.append(message)

    def _remove_message(self, queue_name: str, message_id: str) -> None:
        queue = self._sqs().queues.get(queue_name)
        if queue is not None:
            queue._messages = [m for m in queue._messages if m.id != message_id]

    def _restore_execution(self, image: dict[str, Any]) -> None:
        """A finished execution, as DescribeExecution and ListExecutions show it."""
        from moto.stepfunctions.parser.api import ExecutionStatus
        from moto.stepfunctions.parser.backend.execution import Execution

        machine = self._sfn().describe_state_machine(image["machine"])
        execution = Execution(
            name=image["name"],
            sm_type=machine.sm_type,
            role_arn=machine.roleArn,
            exec_arn=image["arn"],
            account_id=ACCOUNT_ID,
            region_name=self.region,
            state_machine=machine,
            start_date=dt.datetime.fromisoformat(image["start"]),
            cloud_watch_logging_session=None,
            input_data=image.get("input") or "{}",
            trace_header=None,
            activity_store={},
        )
        execution.exec_status = ExecutionStatus(image["status"])
        execution.stop_date = (
            dt.datetime.fromisoformat(image["stop"]) if image.get("stop") else None
        )
        execution.output = None if image.get("output") is None else json.loads(image["output"])
        execution.error = image.get("error")
        execution.cause = image.get("cause")
        machine.executions.append(execution)
        self._ended.add(image["arn"])

    # -- life cycle ------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._wal is not None:
                self._wal.close()
                self._wal = None
        if _MotoHooks.active is self:
            _MotoHooks.active = None


def _restore_bucket_settings(s3: Any, bucket: dict[str, Any]) -> None:
    if bucket.get("encryption"):
        s3.put_bucket_encryption(
            Bucket=bucket["name"],
            ServerSideEncryptionConfiguration=bucket["encryption"],
        )
    if bucket.get("public_access_block"):
        s3.put_public_access_block(
            Bucket=bucket["name"],
            PublicAccessBlockConfiguration=bucket["public_access_block"],
        )
    if bucket.get("versioning"):
        s3.put_bucket_versioning(
            Bucket=bucket["name"], VersioningConfiguration={"Status": bucket["versioning"]}
        )


def _status(execution: Any) -> str:
    status = execution.exec_status
    return str(getattr(status, "value", status) or "RUNNING")


def _execution_arn(machine: str, name: str) -> str:
    return machine.replace(":stateMachine:", ":execution:", 1) + ":" + name


def _execution_image(execution: Any) -> dict[str, Any]:
    status = _status(execution)
    output = execution.output
    start = execution.start_date
    stop = execution.stop_date
    return {
        "arn": execution.execution_arn,
        "machine": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "input": execution.execution_input,
        "output": None if output is None else json.dumps(output, ensure_ascii=False),
        "error": execution.error,
        "cause": execution.cause,
        "start": start.isoformat() if start else dt.datetime.now(dt.UTC).isoformat(),
        "stop": stop.isoformat() if stop else None,
    }
