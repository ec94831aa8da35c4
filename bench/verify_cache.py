"""What one verification costs: provider calls and DynamoDB requests, uncached vs cached.

The verify use case runs against moto in process (the VerificationsTable and the
invoices table) and the fake exocr of tests/fakes served in process (no socket). For
each scenario it prints the provider calls, the DynamoDB requests by operation and the
median wall time of the use case (moto's time, not AWS's: read the counts, not the ms).
Run: make bench (or .venv/bin/python bench/verify_cache.py).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# tests/ is not installed: import its helpers as pytest does (pyproject's pythonpath)
sys.path.insert(0, str(ROOT / "tests"))

import boto3  # noqa: E402
import httpx  # noqa: E402
from moto import mock_aws  # noqa: E402

from fakes.exocr_server import APP_KEY, APP_SECRET, FakeExocr, error, result  # noqa: E402
from fapiao.catalogue.types import InvoiceType  # noqa: E402
from fapiao.dates import SHANGHAI  # noqa: E402
from fapiao.model import Invoice  # noqa: E402
from fapiao.ports import VerifyDeps  # noqa: E402
from fapiao.providers.exocr import ExocrVerifier, static_credentials  # noqa: E402
from fapiao.services.verify import verify_invoice  # noqa: E402
from fapiao.store.verifications import DynamoKnownInvoices, DynamoVerificationCache  # noqa: E402

ROUNDS = 50
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI)


def invoice(number: str, **fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": InvoiceType.VAT_SPECIAL,
        "invoice_code": "3100231130",
        "invoice_number": number,
        "receipt_date": dt.date(2024, 5, 6),
        "amount": Decimal("100.00"),
        "tax_amount": Decimal("13.00"),
        "total_amount": Decimal("113.00"),
    }
    base.update(fields)
    return Invoice(**base)


def main() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="cn-north-1"
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for table in ("verifications", "invoices"):
            dynamodb.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "invoice_key", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "invoice_key", "KeyType": "HASH"}],
            )
        requests: Counter[str] = Counter()
        dynamodb.meta.events.register(
            "before-call.dynamodb", lambda model, **_: requests.update([model.name])
        )
        exocr = FakeExocr()
        verifier = ExocrVerifier(
            "http://exocr.bench/data/v1/verify_invoice",
            static_credentials(APP_KEY, APP_SECRET),
            client=httpx.Client(transport=exocr.transport()),
            clock=lambda: NOW,
            sleep=lambda _: None,
        )
        deps = VerifyDeps(
            verifier=verifier,
            cache=DynamoVerificationCache("verifications", dynamodb),
            known=DynamoKnownInvoices("invoices", dynamodb),
            clock=lambda: NOW,
        )

        def scenario(name: str, make: Callable[[int], Invoice]) -> None:
            samples, calls = [], 0
            requests.clear()
            before = len(exocr.calls)
            for i in range(ROUNDS):
                subject = make(i)
                start = time.perf_counter()
                outcome = verify_invoice(subject, deps)
                samples.append(time.perf_counter() - start)
                calls += outcome.provider_calls
            assert len(exocr.calls) - before == calls
            per = {op: count / ROUNDS for op, count in sorted(requests.items())}
            total = sum(requests.values()) / ROUNDS
            print(
                f"{name:<38} status {outcome.status.value}  provider calls/verification "
                f"{calls / ROUNDS:.1f}  DynamoDB requests {total:.1f} {per}  "
                f"median {statistics.median(samples) * 1000:.1f} ms"
            )

        scenario("uncached (first verification)", lambda i: invoice(f"{i:08d}"))
        scenario("cached (same invoice again)", lambda i: invoice(f"{i:08d}"))
        scenario(
            "cached, asked with another amount (6)",
            lambda i: invoice(f"{i:08d}", amount=Decimal("90.00"), total_amount=Decimal("103.00")),
        )
        for i in range(ROUNDS):
            exocr.script(f"{10_000 + i:08d}", error(3213), result(7), result(1))
        scenario("uncached, two retries before success", lambda i: invoice(f"{10_000 + i:08d}"))
        for i in range(ROUNDS):
            exocr.script(f"{20_000 + i:08d}", result(2))
        scenario("daily cap (deferred, then cached)", lambda i: invoice(f"{20_000 + i:08d}"))
        scenario("deferred, asked again the same day", lambda i: invoice(f"{20_000 + i:08d}"))
        for i in range(ROUNDS):
            dynamodb.put_item(
                TableName="invoices", Item={"invoice_key": {"S": f"3100231130{30_000 + i:08d}"}}
            )
        scenario("duplicate (imported already)", lambda i: invoice(f"{30_000 + i:08d}"))
        scenario(
            "failing an offline check",
            lambda i: invoice(f"{40_000 + i:08d}", total_amount=Decimal("1")),
        )


if __name__ == "__main__":
    main()
