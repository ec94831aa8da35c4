"""What one invoice costs in AWS, measured: a mix of files through the local hub, every
AWS request counted by the local AWS layer (fapiao.local.usage), priced from
bench/prices.json (us-east-1 in USD, cn-north-1 in CNY where a China price is known).

Kinds, each dropped ROUNDS times into the drop bucket one after another (a kind's figures
are the mean per file): a PDF e-invoice verified (fake exocr) and created; the same PDF
dropped again (a duplicate; its first drop is not counted); a photo the embedded OCR
reads; a photo only the asynchronous provider reads (fake yipiaoyun, pending once);
a file nothing can read. For each: AWS requests by service and operation, Lambda
invocations and GB-seconds at template.yaml's MemorySize (the handler's wall time on
this machine), Step Functions state transitions (StateEntered events of the execution's
history) or Express requests and duration, DynamoDB read/write request units, S3, SQS
and EventBridge requests. Paid verification and recognition are not AWS and not in it.

Not counted by the gateway, so added here: S3's notification to the drop queue (one SQS
SendMessage per drop) and EventBridge's deliveries to SQS targets (one SendMessage per
event whose detail-type a rule with an SQS target names). Left out: the local queue
pollers' empty receives (Lambda's event source mapping long-polls: a fixed cost per
queue, not per invoice), S3 storage, the EventBridge archive, CloudWatch and X-Ray.

Writes bench/results/cost.json (per kind: counts, step durations, costs) for
bench/scale_sim.py. Run: .venv/bin/python bench/cost.py [rounds]
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# tests/ is not installed: import its helpers as pytest does (pyproject's pythonpath)
sys.path.insert(0, str(ROOT / "tests"))

from fixtures import photos  # noqa: E402
from fixtures.generate import InvoiceSpec, invoice_pdf, qr_photo, random_bytes  # noqa: E402
from fixtures.served import recent_invoice  # noqa: E402
from inprocess import local_hub  # noqa: E402

from fakes.exocr_server import FakeExocr  # noqa: E402
from fakes.yipiaoyun_server import FakeYipiaoyun, yipiaoyun_result  # noqa: E402
from fapiao.local.hub import LocalHub  # noqa: E402
from fapiao.local.usage import Counts  # noqa: E402
from support import Session  # noqa: E402

ROUNDS = 3
TARGET_USD_PER_1000_PDF = Decimal("0.05")  # issue 20: PDF invoices, global list prices
PRICES = ROOT / "bench" / "prices.json"
RESULTS = ROOT / "bench" / "results" / "cost.json"
DEADLINE = 90.0  # seconds for one file's executions to end
QUIET = 1.0  # seconds without a new AWS request after them: the file is done
MIX = {
    "pdf": 0.70,
    "duplicate": 0.05,
    "ocr_photo": 0.15,
    "async_provider": 0.08,
    "unreadable": 0.02,
}
SETTINGS = {
    "FAPIAO_IDENTIFIER": "yipiaoyun",
    "FAPIAO_IDENTIFY_FIRST_WAIT_SECONDS": "1",
    "FAPIAO_IDENTIFY_MAX_WAIT_SECONDS": "1",
    "FAPIAO_YIPIAOYUN_ATTEMPTS": "1",
}
EXPRESS_MEMORY_GB = 64 / 1024  # the smallest 64 MB chunk: a small definition and payload


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    make: Callable[[int], bytes]  # round -> the file's bytes
    suffix: str
    prepare: Callable[[Any, Any, int], None] | None = None  # (dropper, yipiaoyun, round)


def spec_of(seed: int) -> InvoiceSpec:
    return recent_invoice(91000 + seed)


def taxi(seed: int) -> bytes:
    image, _expected = photos.taxi_receipt(seed)
    return photos.jpeg_bytes(image)


def unreadable_photo(seed: int) -> bytes:
    return qr_photo([], size=(400 + seed % 50, 300))


def first_copy(dropper: Any, _fake: Any, seed: int) -> None:
    dropper.drop(f"acme/first-{seed}.pdf", invoice_pdf(spec_of(500 + seed)), count=False)


def provider_reads(_dropper: Any, fake: FakeYipiaoyun, seed: int) -> None:
    fake.plan(
        yipiaoyun_result(spec_of(700 + seed)),
        pending=1,
    )


KINDS = [
    Kind("pdf", "PDF e-invoice, verified and created", lambda s: invoice_pdf(spec_of(s)), "pdf"),
    Kind(
        "duplicate",
        "the same PDF dropped again (907002)",
        lambda s: invoice_pdf(spec_of(500 + s)),
        "pdf",
        first_copy,
    ),
    Kind("ocr_photo", "taxi receipt photo read by the embedded OCR", taxi, "jpg"),
    Kind(
        "async_provider",
        "photo only the asynchronous provider reads (pending once)",
        lambda s: unreadable_photo(100 + s),
        "jpg",
        provider_reads,
    ),
    Kind(
        "unreadable", "file nothing can read (random bytes)", lambda s: random_bytes(seed=s), "bin"
    ),
]


class Dropper:
    """Drops files into the hub's drop bucket and waits for what they start to end."""

    def __init__(self, hub: LocalHub) -> None:
        self.hub = hub
        self.s3 = Session(hub.aws.endpoint).client("s3")  # counted: the scanner's PUT
        self.sfn = hub.aws.client("stepfunctions")  # straight to moto: not counted
        self.bucket = hub.names.ref("DropBucket")
        self.machines = {
            m["stateMachineArn"]: self.sfn.describe_state_machine(
                stateMachineArn=m["stateMachineArn"]
            ).get("type", "STANDARD")
            for m in self.sfn.list_state_machines()["stateMachines"]
        }

    def executions(self) -> dict[str, dict[str, Any]]:
        found = {}
        for machine in self.machines:
            pages = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
            for page in pages:
                for execution in page["executions"]:
                    found[execution["executionArn"]] = {**execution, "machine": machine}
        return found

    def drop(self, name: str, data: bytes, count: bool = True) -> dict[str, Any]:
        known = set(self.executions())
        if count:
            self.hub.aws.usage.reset()
        started = time.monotonic()
        self.s3.put_object(Bucket=self.bucket, Key=f"acme/inbox/{name}", Body=data)
        new = self._wait(known)
        self._quiet()
        elapsed = time.monotonic() - started
        return {"counts": self.hub.aws.usage.counts(), "executions": new, "seconds": elapsed}

    def _wait(self, known: set[str]) -> list[dict[str, Any]]:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            new = [e for arn, e in self.executions().items() if arn not in known]
            if new and all(e["status"] != "RUNNING" for e in new):
                return [self._described(e) for e in new]
            time.sleep(0.1)
        raise SystemExit(f"the executions did not end within {DEADLINE} s")

    def _described(self, execution: dict[str, Any]) -> dict[str, Any]:
        arn = execution["executionArn"]
        events = [
            event
            for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
            for event in page["events"]
        ]
        described = self.sfn.describe_execution(executionArn=arn)
        seconds = (described["stopDate"] - described["startDate"]).total_seconds()
        entered = [e for e in events if e["type"].endswith("StateEntered")]
        return {
            "machine": execution["machine"].rsplit(":", 1)[-1],
            "type": self.machines[execution["machine"]],
            "status": described["status"],
            "transitions": len(entered),
            "seconds": seconds,
            "states": [e["stateEnteredEventDetails"]["name"] for e in entered],
        }

    def _quiet(self) -> None:
        """Until QUIET seconds pass without a request but the pollers' idle receives."""
        last, since = None, time.monotonic()
        while time.monotonic() - since < QUIET:
            counts = self.hub.aws.usage.counts()
            now = (busy_requests(counts), sum(i.count for i in counts.invocations.values()))
            if now != last:
                last, since = now, time.monotonic()
            time.sleep(0.1)


def busy_requests(counts: Counts) -> int:
    return sum(
        number
        for operations in counts.requests.values()
        for operation, number in operations.items()
        if operation != "ReceiveMessage (empty)"
    )


def memory_gb(template: Any) -> dict[str, float]:
    default = template.data.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return {
        f.logical_id: float(
            template.resources[f.logical_id].get("Properties", {}).get("MemorySize", default)
        )
        / 1024
        for f in template.functions
    }


def sqs_deliveries(template: Any) -> dict[str, int]:
    """detail-type -> how many rules with an SQS target take it (each a SendMessage)."""
    queues = set(template.queues)
    taken: dict[str, int] = {}
    for resource in template.resources.values():
        if resource.get("Type") != "AWS::Events::Rule":
            continue
        props = resource.get("Properties", {})
        targets = [
            t
            for t in props.get("Targets") or []
            if isinstance(t.get("Arn"), dict) and t["Arn"].get("Fn::GetAtt", [""])[0] in queues
        ]
        for detail_type in (props.get("EventPattern") or {}).get("detail-type") or []:
            taken[detail_type] = taken.get(detail_type, 0) + len(targets)
    return taken


def usage_of(
    run: dict[str, Any], memory: dict[str, float], deliveries: dict[str, int]
) -> dict[str, Any]:
    """One file's billable quantities."""
    counts: Counts = run["counts"]
    requests = {
        service: {op: n for op, n in operations.items() if op != "ReceiveMessage (empty)"}
        for service, operations in counts.requests.items()
    }
    s3 = requests.get("s3", {})
    s3_put = sum(
        n for op, n in s3.items() if op.startswith(("Put", "Copy", "List", "POST", "UploadPart"))
    )
    s3_get = sum(n for op, n in s3.items() if not op.startswith("Delete")) - s3_put
    entries = sum(counts.event_entries.values())
    implicit_sqs = 1 + sum(deliveries.get(t, 0) * n for t, n in counts.event_entries.items())
    lambda_invocations = sum(i.count for i in counts.invocations.values())
    gb_seconds = sum(memory.get(f, 0.125) * i.seconds for f, i in counts.invocations.items())
    standard = [e for e in run["executions"] if e["type"] == "STANDARD"]
    express = [e for e in run["executions"] if e["type"] == "EXPRESS"]
    return {
        "requests": requests,
        "lambda_invocations": lambda_invocations,
        "lambda_gb_seconds": gb_seconds,
        "lambda_by_function": {
            f: {
                "invocations": i.count,
                "seconds": i.seconds,
                "memory_mb": memory.get(f, 0.125) * 1024,
            }
            for f, i in counts.invocations.items()
        },
        "sfn_standard_transitions": sum(e["transitions"] for e in standard),
        "sfn_express_requests": len(express),
        "sfn_express_gb_seconds": sum(
            math.ceil(e["seconds"] * 10) / 10 * EXPRESS_MEMORY_GB for e in express
        ),
        "executions": run["executions"],
        "dynamodb_rru": counts.read_units,
        "dynamodb_wru": counts.write_units,
        "dynamodb_by_table": counts.units_by_table,
        "s3_put": s3_put,
        "s3_get": s3_get,
        "sqs_requests": sum(requests.get("sqs", {}).values()) + implicit_sqs,
        "sqs_implicit": implicit_sqs,
        "eventbridge_events": entries,
        "seconds": run["seconds"],
    }


QUANTITIES = {  # price name -> (service shown, quantity in a usage)
    "lambda_requests": ("Lambda", "lambda_invocations"),
    "lambda_gb_second_arm64": ("Lambda", "lambda_gb_seconds"),
    "sfn_standard_transitions": ("Step Functions", "sfn_standard_transitions"),
    "sfn_express_requests": ("Step Functions", "sfn_express_requests"),
    "sfn_express_gb_second": ("Step Functions", "sfn_express_gb_seconds"),
    "dynamodb_read_request_units": ("DynamoDB", "dynamodb_rru"),
    "dynamodb_write_request_units": ("DynamoDB", "dynamodb_wru"),
    "s3_put_requests": ("S3", "s3_put"),
    "s3_get_requests": ("S3", "s3_get"),
    "sqs_requests": ("SQS", "sqs_requests"),
    "eventbridge_custom_events": ("EventBridge", "eventbridge_events"),
}


def cost_per_1000(usage: dict[str, Any], prices: dict[str, Any], region: str) -> dict[str, Any]:
    """Cost of 1,000 such files by service; None where a price of the region is unknown
    and the quantity is not zero (the total then says it is partial)."""
    by_service: dict[str, Decimal] = {}
    missing: list[str] = []
    for name, (service, quantity) in QUANTITIES.items():
        price = prices[name]
        amount = Decimal(str(usage[quantity]))  # money in Decimal: the quantities are counts
        if amount == 0:
            continue
        if price[region] is None:
            missing.append(name)
            continue
        unit = Decimal(str(price[region])) / Decimal(str(price["per"]))
        by_service[service] = by_service.get(service, Decimal(0)) + amount * 1000 * unit
    total = sum(by_service.values(), Decimal(0))
    return {"by_service": by_service, "total": total, "missing": missing}


def mean_usage(runs: list[dict[str, Any]]) -> dict[str, Any]:
    numeric = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    mean: dict[str, Any] = {k: statistics.fmean(float(r[k]) for r in runs) for k in numeric}
    operations: dict[str, dict[str, float]] = {}
    for run in runs:
        for service, ops in run["requests"].items():
            for op, n in ops.items():
                operations.setdefault(service, {}).setdefault(op, 0.0)
                operations[service][op] += n / len(runs)
    mean["requests"] = operations
    functions: dict[str, dict[str, float]] = {}
    for run in runs:
        for name, f in run["lambda_by_function"].items():
            entry = functions.setdefault(
                name, {"invocations": 0.0, "seconds": 0.0, "memory_mb": f["memory_mb"]}
            )
            entry["invocations"] += f["invocations"] / len(runs)
            entry["seconds"] += f["seconds"] / len(runs)
    mean["lambda_by_function"] = functions
    mean["executions"] = [e for run in runs for e in run["executions"]]
    return mean


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    prices = json.loads(PRICES.read_text(encoding="utf-8"))["prices"]
    os.environ.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeExocr() as exocr,
        FakeYipiaoyun() as yipiaoyun,
    ):
        company = Path(folder) / "company.json"
        company.write_text('{"default_currency": "CNY"}', encoding="utf-8")
        env = {
            **SETTINGS,
            **exocr.hub_settings,
            "FAPIAO_YIPIAOYUN_URL": yipiaoyun.url,
            "FAPIAO_COMPANY_FILE": str(company),
        }
        with local_hub(Path(folder), env) as hub:
            memory = memory_gb(hub.template)
            deliveries = sqs_deliveries(hub.template)
            dropper = Dropper(hub)
            dropper.drop("warm-up.pdf", invoice_pdf(spec_of(999)), count=False)  # cold starts
            for kind in KINDS:
                runs = []
                for n in range(rounds):
                    yipiaoyun.reset()
                    if kind.prepare is not None:
                        kind.prepare(dropper, yipiaoyun, n)
                    run = dropper.drop(f"{kind.name}-{n}.{kind.suffix}", kind.make(n))
                    runs.append(usage_of(run, memory, deliveries))
                results[kind.name] = {"description": kind.description, **mean_usage(runs)}
    report(results, prices, rounds)
    write(results, prices, rounds)
    return 0


def report(results: dict[str, Any], prices: dict[str, Any], rounds: int) -> None:
    print(f"AWS cost per 1,000 invoices, measured on the local hub ({rounds} files of each kind)")
    print("(Lambda GB-s at template.yaml's MemorySize and this machine's handler wall time;")
    print(" paid verification and recognition excluded; prices: bench/prices.json)\n")
    for name, usage in results.items():
        usage["cost"] = {r: cost_per_1000(usage, prices, r) for r in ("us-east-1", "cn-north-1")}
        print(f"== {name}: {usage['description']}")
        for service, operations in sorted(usage["requests"].items()):
            listed = ", ".join(f"{op} {n:g}" for op, n in sorted(operations.items()))
            print(f"   {service:<14} {listed}")
        functions = ", ".join(
            f"{f} {v['invocations']:g}x {1000 * v['seconds'] / max(v['invocations'], 1):.0f} ms"
            f" @{v['memory_mb']:.0f} MB"
            for f, v in usage["lambda_by_function"].items()
        )
        print(
            f"   Lambda         {usage['lambda_invocations']:g} invocations, "
            f"{usage['lambda_gb_seconds']:.3f} GB-s ({functions})"
        )
        kinds = sorted({(e["machine"], e["type"]) for e in usage["executions"]})
        durations = [e["seconds"] for e in usage["executions"]]
        print(
            f"   Step Functions {usage['sfn_standard_transitions']:g} Standard transitions, "
            f"{usage['sfn_express_requests']:g} Express requests; executions "
            f"{', '.join(f'{m} ({t})' for m, t in kinds)}, "
            f"median {statistics.median(durations) if durations else 0:.2f} s"
        )
        print(
            f"   DynamoDB       {usage['dynamodb_rru']:g} RRU, {usage['dynamodb_wru']:g} WRU; "
            f"S3 {usage['s3_put']:g} PUT-class + {usage['s3_get']:g} GET-class; "
            f"SQS {usage['sqs_requests']:g} (of which {usage['sqs_implicit']:g} sent by S3 "
            f"and EventBridge); EventBridge {usage['eventbridge_events']:g} events"
        )
        for region, symbol in (("us-east-1", "$"), ("cn-north-1", "¥")):
            cost = usage["cost"][region]
            parts = ", ".join(f"{s} {symbol}{v:.4f}" for s, v in sorted(cost["by_service"].items()))
            partial = (
                f" (no {region} price for: {', '.join(cost['missing'])})" if cost["missing"] else ""
            )
            print(f"   {region:<10} {symbol}{cost['total']:.4f} per 1,000 = {parts}{partial}")
        print()
    mix = {r: mix_cost(results, r) for r in ("us-east-1", "cn-north-1")}
    weights = ", ".join(f"{k} {w:.0%}" for k, w in MIX.items())
    print(f"== mix ({weights})")
    for region, symbol in (("us-east-1", "$"), ("cn-north-1", "¥")):
        by = ", ".join(f"{s} {symbol}{v:.4f}" for s, v in sorted(mix[region]["by_service"].items()))
        print(f"   {region:<10} {symbol}{mix[region]['total']:.4f} per 1,000 = {by}")
    pdf = results["pdf"]["cost"]["us-east-1"]["total"]
    print(
        f"\nPDF invoices: ${pdf:.4f} per 1,000 (us-east-1 list prices) against the target "
        f"${TARGET_USD_PER_1000_PDF:.2f}: {pdf / TARGET_USD_PER_1000_PDF:.2f}x the target"
    )
    print("cn-north-1: partial (only DynamoDB's write price was found; see bench/prices.json)")


def mix_cost(results: dict[str, Any], region: str) -> dict[str, Any]:
    by: dict[str, Decimal] = {}
    for name, weight in MIX.items():
        for service, value in results[name]["cost"][region]["by_service"].items():
            by[service] = by.get(service, Decimal(0)) + Decimal(str(weight)) * value
    return {"by_service": by, "total": sum(by.values(), Decimal(0))}


def _plain(value: Any) -> Any:
    """JSON of what json cannot write itself: an amount as a number, the rest as text."""
    return float(value) if isinstance(value, Decimal) else str(value)


def write(results: dict[str, Any], prices: dict[str, Any], rounds: int) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "about": "bench/cost.py: per kind, the mean per file of what the local hub asked of AWS, "
        "the executions (transitions, wall seconds, states entered), Lambda seconds per "
        "function (handler wall time here), and the cost per 1,000 files by region",
        "rounds": rounds,
        "mix": MIX,
        "kinds": results,
        "mix_cost": {r: mix_cost(results, r) for r in ("us-east-1", "cn-north-1")},
    }
    RESULTS.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=_plain) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
