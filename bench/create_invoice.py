"""DynamoDB cost and handler CPU of POST /common/invoice/create, per outcome.

Runs the real handler (functions/invoice_create/app.py) in process against the local AWS
(moto behind the hub's gateway, tables from template.yaml) and prints, per created
invoice, per rejected duplicate (new bizId, same invoice) and per bizId replay:
- the DynamoDB requests the handler made, counted at botocore's client;
- consumed capacity as moto reports it (moto reports none for transactions) and as
  DynamoDB's sizing rules give it for the items written and read (1 WCU per KB written,
  0.5/1 RCU per 4 KB read eventually/strongly consistent, x2 inside a transaction);
- the handler thread's CPU time (moto runs in other threads), against the CPU time of
  a Powertools resolver answering a static route in the same process (the floor).

Run: make bench, or .venv/bin/python bench/create_invoice.py [ROUNDS]
"""

from __future__ import annotations

import copy
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import botocore.client
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

ROOT = Path(__file__).resolve().parents[1]
# tests/ is not installed: import its helpers as pytest does (pyproject's pythonpath)
sys.path.insert(0, str(ROOT / "tests"))

from contract.spec_examples import examples  # noqa: E402

from fapiao.local.apigw import HttpRequest, LambdaContext, load_handler, to_event  # noqa: E402
from fapiao.local.aws import LOCAL_CREDENTIALS, LocalAws  # noqa: E402
from fapiao.local.resources import LocalNames, provision  # noqa: E402
from fapiao.local.template import Route, Template  # noqa: E402
from fapiao.wire.common import dump_json  # noqa: E402

REGION = "cn-north-1"
CAPACITY_OPS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "Query"}


class Accounting:
    """Every botocore call in this process, with DynamoDB asked for its capacity."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        self._original = botocore.client.BaseClient._make_api_call

    def __enter__(self) -> Accounting:
        accounting = self
        original = self._original

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if service == "dynamodb" and operation in CAPACITY_OPS:
                params = {**params, "ReturnConsumedCapacity": "TOTAL"}
            try:
                response = original(client, operation, params)
            except botocore.exceptions.ClientError as error:
                accounting.calls.append((service, operation, params, error.response))
                raise
            accounting.calls.append((service, operation, params, response))
            return response

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]


def _size(value: dict[str, Any]) -> int:
    """DynamoDB's item-size rules for one attribute value."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return len(inner.strip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_size(v) + 1 for v in inner)
    return len(inner)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _size(value) for name, value in item.items())


def estimated_units(params: dict[str, Any], response: dict[str, Any], operation: str) -> float:
    """Write/read capacity units by DynamoDB's documented rules."""
    if operation == "TransactWriteItems":
        return sum(
            2 * math.ceil(item_size(entry["Put"]["Item"]) / 1024)
            for entry in params["TransactItems"]
            if "Put" in entry
        )
    if operation in ("PutItem",):
        return float(math.ceil(item_size(params["Item"]) / 1024))
    if operation in ("UpdateItem", "DeleteItem"):
        return 1.0  # at least one unit; the updated item's size is not returned
    if operation == "GetItem":
        size = item_size(response.get("Item", {})) or 1
        units = math.ceil(size / 4096)
        return float(units if params.get("ConsistentRead") else units / 2)
    return 0.0


def reported_units(response: dict[str, Any]) -> float | None:
    capacity = response.get("ConsumedCapacity")
    if isinstance(capacity, dict):
        return float(capacity.get("CapacityUnits", 0))
    if isinstance(capacity, list) and capacity:
        return float(sum(c.get("CapacityUnits", 0) for c in capacity))
    return None


def event_for(body: dict[str, Any]) -> dict[str, Any]:
    route = Route("POST", "/common/invoice/create", "InvoiceCreateFunction")
    request = HttpRequest(
        "POST",
        route.path,
        "",
        [("Content-Type", "application/json")],
        dump_json(body).encode("utf-8"),
    )
    return to_event(request, route, {})


def measure(handler: Any, bodies: list[dict[str, Any]], accounting: Accounting) -> dict[str, Any]:
    cpu: list[float] = []
    ops: Counter[str] = Counter()
    reported: list[float] = []
    estimated = 0.0
    codes: Counter[str] = Counter()
    for body in bodies:
        start_calls = len(accounting.calls)
        event = event_for(body)
        started = time.thread_time()
        result = handler(event, LambdaContext("InvoiceCreateFunction"))
        cpu.append(time.thread_time() - started)
        codes[str(result["statusCode"])] += 1
        for service, operation, params, response in accounting.calls[start_calls:]:
            if service != "dynamodb":
                continue
            ops[operation] += 1
            units = reported_units(response)
            if units is not None:
                reported.append(units)
            estimated += estimated_units(params, response, operation)
    n = len(bodies)
    return {
        "requests": sum(ops.values()) / n,
        "ops": {op: count / n for op, count in sorted(ops.items())},
        "reported": sum(reported) / n,
        "estimated": estimated / n,
        "cpu_ms": statistics.median(cpu) * 1000,
        "statuses": dict(codes),
    }


def floor_cpu_ms(rounds: int) -> float:
    app = APIGatewayRestResolver()

    @app.post("/common/invoice/create")
    def static() -> dict[str, Any]:
        return {"resCode": 200000}

    event = event_for({"bizId": "floor"})
    samples = []
    for _ in range(rounds):
        started = time.thread_time()
        app.resolve(event, LambdaContext("floor"))
        samples.append(time.thread_time() - started)
    return statistics.median(samples) * 1000


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    template = Template(ROOT / "template.yaml")
    names = LocalNames(template, REGION)
    example = examples("001")[0]
    with tempfile.TemporaryDirectory() as folder, LocalAws(Path(folder)) as aws:
        os.environ.update(
            {
                **LOCAL_CREDENTIALS,
                "AWS_ENDPOINT_URL": aws.endpoint,
                "AWS_DEFAULT_REGION": REGION,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                **names.function_environment(),
            }
        )
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        provision(template, names, boto3.session.Session())
        function = next(f for f in template.functions if f.logical_id == "InvoiceCreateFunction")
        handler = load_handler(template, function)

        def body(i: int, biz: str) -> dict[str, Any]:
            request = copy.deepcopy(example)
            number = f"{20000000 + i}"
            request["receipt_ocr"]["invoices"][0]["invoice_number"] = number
            request["receipt_check"]["invoice_num"] = number
            request["bizId"] = f"{biz}-{i}"
            return request

        with Accounting() as accounting:
            handler(event_for(body(-1, "warm")), LambdaContext("warm"))  # cold start
            created = measure(handler, [body(i, "c") for i in range(rounds)], accounting)
            duplicate = measure(handler, [body(i, "d") for i in range(rounds)], accounting)
            replay = measure(handler, [body(i, "c") for i in range(rounds)], accounting)
    floor = floor_cpu_ms(rounds * 5)

    print(f"POST /common/invoice/create, {rounds} requests each, handler in process")
    print(
        f"{'outcome':<20}{'DynamoDB requests':>18}{'moto CU':>9}{'rules CU':>10}"
        f"{'CPU ms':>8}{'x floor':>9}  requests by operation"
    )
    for name, figures in (
        ("created", created),
        ("duplicate (907002)", duplicate),
        ("bizId replay", replay),
    ):
        ops = ", ".join(f"{op} {count:g}" for op, count in figures["ops"].items())
        print(
            f"{name:<20}{figures['requests']:>18.1f}{figures['reported']:>9.2f}"
            f"{figures['estimated']:>10.2f}{figures['cpu_ms']:>8.2f}"
            f"{figures['cpu_ms'] / floor:>9.1f}  {ops}  (HTTP {figures['statuses']})"
        )
    print(f"floor: a Powertools resolver answering a static route, {floor:.3f} ms CPU")
    print(
        "moto CU: capacity moto reports (none for TransactWriteItems); rules CU: "
        "DynamoDB's sizing rules applied to the items sent and received"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
