"""What the local hub asked of AWS: requests by service and operation, DynamoDB's
request units, Lambda invocations and their durations. A bench in the hub's process
reads it (``hub.aws.usage.counts()``) and prices it (bench/cost.py).

The local AWS gateway counts every request it forwards (``LocalAws``: one ``measure``
per request, under its lock), the router every handler call (``FunctionPool``). A
request's service is its SigV4 credential scope; its operation is the JSON target or
the query ``Action``, else (S3's and Lambda's REST APIs) named from method and path.

DynamoDB's request units are computed as on-demand DynamoDB bills them, from item
sizes (``item_size``: attribute names plus values, DynamoDB's documented rules):
a write is 1 WRU per KB of the larger of the item before and after it (the size moto
gives its stored item, read in the same process under the gateway's lock), a
transactional one 2; a
read is 1 RRU per 4 KB (strongly consistent), half that eventually consistent, twice
that in a transaction. Approximations: a Query or Scan is billed on the items it
returns, scaled by ``ScannedCount`` when a filter dropped some (DynamoDB bills what it
read, and a projection does not lower it: a projected item is counted at its returned
size); a condition check in a transaction counts as a transactional read. moto's own
ConsumedCapacity is not used: it answers a constant per call (0.5 for GetItem, 1 for
PutItem), whatever the size.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fapiao.local.recorded import Recorded

# (table name, key or whole item in DynamoDB JSON) -> the stored item's size in bytes (0: none)
StoredSize = Callable[[str, Mapping[str, Any]], int]

_LAMBDA_PATH = re.compile(r"^/2015-03-31/functions/[^/]+/invocations")
_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass(frozen=True)
class Invocations:
    """One function's invocations: how many, and their wall time in seconds."""

    count: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Counts:
    """What was counted since the last reset; every figure a plain number."""

    requests: dict[str, dict[str, int]]  # service -> operation -> requests
    read_units: float  # DynamoDB read request units
    write_units: float  # DynamoDB write request units
    invocations: dict[str, Invocations]  # function logical id -> invocations
    event_entries: dict[str, int]  # EventBridge entries put, by detail-type (each billed)
    units_by_table: dict[str, tuple[float, float]] = field(default_factory=dict)  # (RRU, WRU)

    def total(self, service: str) -> int:
        return sum(self.requests.get(service, {}).values())


@dataclass
class Usage:
    """The counter: thread-safe, cheap (a dict update per request), reset at will."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    _units: dict[str, list[float]] = field(default_factory=dict)  # table -> [RRU, WRU]
    _invocations: dict[str, list[float]] = field(default_factory=dict)  # fn -> [n, s]
    _entries: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._units.clear()
            self._invocations.clear()
            self._entries.clear()

    def counts(self) -> Counts:
        with self._lock:
            requests: dict[str, dict[str, int]] = {}
            for (service, operation), number in sorted(self._requests.items()):
                requests.setdefault(service, {})[operation] = number
            return Counts(
                requests=requests,
                read_units=sum(u[0] for u in self._units.values()),
                write_units=sum(u[1] for u in self._units.values()),
                invocations={
                    name: Invocations(int(n), s)
                    for name, (n, s) in sorted(self._invocations.items())
                },
                event_entries=dict(sorted(self._entries.items())),
                units_by_table={t: (u[0], u[1]) for t, u in sorted(self._units.items())},
            )

    # -- recording -----------------------------------------------------------------

    def request(self, service: str, operation: str) -> None:
        with self._lock:
            self._requests[(service, operation)] += 1

    def invoked(self, function: str, seconds: float) -> None:
        with self._lock:
            entry = self._invocations.setdefault(function, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    def measure(self, request: Recorded, stored: StoredSize | None = None) -> Measure:
        """Start counting ``request``: call the answer's ``done`` with the response.
        For a DynamoDB write, the items it changes are read now (their size before)."""
        service = request.service() or "unknown"
        operation = operation_of(request, service)
        before: dict[tuple[str, str], int] = {}
        body: dict[str, Any] = {}
        if service in ("dynamodb", "events"):
            body = _json(request.body)
        if service == "dynamodb" and stored is not None:
            for table, key in _written_keys(operation, body):
                before[(table, _key_id(key))] = stored(table, key)
        return Measure(self, service, operation, body, before, stored)

    def _add_units(self, table: str, read: float, write: float) -> None:
        with self._lock:
            units = self._units.setdefault(table, [0.0, 0.0])
            units[0] += read
            units[1] += write


@dataclass
class Measure:
    """One request being counted (``Usage.measure``)."""

    usage: Usage
    service: str
    operation: str
    body: dict[str, Any]
    before: dict[tuple[str, str], int]
    stored: StoredSize | None

    def done(self, status: int, response: bytes) -> None:
        operation = self.operation
        # An empty receive is the local poller's idle loop (Lambda's event source
        # mapping long-polls instead): counted apart so a bench can leave it out.
        if (
            (self.service, operation) == ("sqs", "ReceiveMessage")
            and status < 400
            and b'"Messages"' not in response
            and b"<Message>" not in response
        ):
            operation = "ReceiveMessage (empty)"
        self.usage.request(self.service, operation)
        if self.service == "events" and operation == "PutEvents" and status < 400:
            entries = _json_request_entries(self.body, response)
            with self.usage._lock:
                self.usage._entries.update(str(e.get("DetailType")) for e in entries)
        if self.service == "dynamodb" and status < 500 and self.stored is not None:
            for table, read, write in dynamodb_units(
                operation, self.body, _json(response), self.before, self.stored
            ):
                self.usage._add_units(table, read, write)


def operation_of(request: Recorded, service: str) -> str:
    """The API operation a request calls (``PutItem``, ``GetObject``, ``Invoke``)."""
    action = request.action()
    if action:
        return action
    parts = urlsplit(request.path)
    if service == "lambda" or _LAMBDA_PATH.match(parts.path):
        return "Invoke" if _LAMBDA_PATH.match(parts.path) else f"{request.method} {parts.path}"
    if service == "s3":
        return _s3_operation(request.method, parts.path, parts.query, request.headers)
    return f"{request.method} {parts.path}"


def _s3_operation(method: str, path: str, query: str, headers: list[tuple[str, str]]) -> str:
    has_key = len([p for p in path.split("/") if p]) > 1  # path style: /bucket/key
    params = {p.split("=", 1)[0] for p in query.split("&") if p}
    if has_key:
        if method == "PUT":
            if any(k.lower() == "x-amz-copy-source" for k, _ in headers):
                return "CopyObject"
            return "UploadPart" if "partNumber" in params else "PutObject"
        sub = next((p for p in ("tagging", "acl", "retention", "legal-hold") if p in params), "")
        names = {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}
        if method in names:
            return names[method].replace("Object", f"Object{sub.title()}") if sub else names[method]
        return f"{method} object"
    if method == "GET":
        if "versions" in params:
            return "ListObjectVersions"
        if "list-type" in params:
            return "ListObjectsV2"
        return f"GetBucket {sorted(params)[0]}" if params else "ListObjects"
    if method == "POST" and "delete" in params:
        return "DeleteObjects"
    return f"{method} bucket" + (f" {sorted(params)[0]}" if params else "")


# -- DynamoDB request units ------------------------------------------------------------


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size in bytes as DynamoDB counts it: each attribute's name (UTF-8)
    plus its value. Strings and binaries by their bytes, numbers by about one byte per
    two significant digits plus one, booleans and nulls one byte, lists and maps three
    bytes plus one per element plus the elements."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_value_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(_value_size({"B": b}) for b in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + _value_size(v) for k, v in inner.items())
    return 0


def _read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def _write_units(size: int, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 1024))
    return 2.0 * units if transactional else float(units)


def _key_id(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def _written_keys(operation: str, body: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(table, key or item) of each item a write request may change."""
    if operation in _WRITES:
        return [(str(body.get("TableName")), body.get("Key") or body.get("Item") or {})]
    found: list[tuple[str, Mapping[str, Any]]] = []
    if operation == "BatchWriteItem":
        for table, writes in (body.get("RequestItems") or {}).items():
            for write in writes:
                if "PutRequest" in write:
                    found.append((table, write["PutRequest"]["Item"]))
                elif "DeleteRequest" in write:
                    found.append((table, write["DeleteRequest"]["Key"]))
    if operation == "TransactWriteItems":
        for entry in body.get("TransactItems") or []:
            for kind in ("Put", "Update", "Delete"):
                if kind in entry:
                    part = entry[kind]
                    found.append((str(part["TableName"]), part.get("Key") or part.get("Item")))
    return found


def dynamodb_units(
    operation: str,
    request: Mapping[str, Any],
    response: Mapping[str, Any],
    before: Mapping[tuple[str, str], int],
    stored: StoredSize,
) -> list[tuple[str, float, float]]:
    """(table, RRU, WRU) that one DynamoDB request consumed (see the module's notes)."""
    consistent = bool(request.get("ConsistentRead"))
    table = str(request.get("TableName") or "")
    if operation in _WRITES or operation in ("BatchWriteItem", "TransactWriteItems"):
        transactional = operation == "TransactWriteItems"
        units: list[tuple[str, float, float]] = []
        for name, key in _written_keys(operation, request):
            after = stored(name, key)
            size = max(before.get((name, _key_id(key)), 0), after)
            units.append((name, 0.0, _write_units(size, transactional)))
        if transactional:
            for entry in request.get("TransactItems") or []:
                if "ConditionCheck" in entry:
                    check = entry["ConditionCheck"]
                    size = stored(str(check["TableName"]), check["Key"])
                    units.append((str(check["TableName"]), _read_units(size, True, True), 0.0))
        return units
    if operation == "GetItem":
        return [(table, _read_units(item_size(response.get("Item") or {}), consistent), 0.0)]
    if operation in ("Query", "Scan"):
        items = response.get("Items") or []
        size = sum(item_size(i) for i in items)
        scanned, count = int(response.get("ScannedCount") or 0), int(response.get("Count") or 0)
        if items and scanned > count:
            size = size * scanned // len(items)
        return [(table, _read_units(size, consistent), 0.0)]
    if operation == "BatchGetItem":
        wanted = request.get("RequestItems") or {}
        units = []
        for name, items in (response.get("Responses") or {}).items():
            strongly = bool((wanted.get(name) or {}).get("ConsistentRead"))
            units.extend((name, _read_units(item_size(i), strongly), 0.0) for i in items)
        return units
    if operation == "TransactGetItems":
        units = []
        for entry, answer in zip(
            request.get("TransactItems") or [], response.get("Responses") or [], strict=False
        ):
            name = str(entry["Get"]["TableName"])
            units.append((name, _read_units(item_size(answer.get("Item") or {}), True, True), 0.0))
        return units
    return []


def _json(data: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(data or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _json_request_entries(request: Mapping[str, Any], response: bytes) -> list[dict[str, Any]]:
    """PutEvents' entries that were put (the answer's entry at the same place has no
    ErrorCode)."""
    entries = request.get("Entries")
    if not isinstance(entries, list):
        return []
    answers = _json(response).get("Entries")
    if not isinstance(answers, list):
        return [e for e in entries if isinstance(e, dict)]
    return [
        e
        for e, answer in zip(entries, answers, strict=False)
        if isinstance(e, dict) and not (isinstance(answer, dict) and answer.get("ErrorCode"))
    ]
