"""What the local AWS gateway (serialise + journal with fsync) costs over moto alone.

Prints the median time of a DynamoDB PutItem and GetItem through the gateway and
straight to moto, in the same process, and the ratio; then the time of the next start
(bench/local_hub_durability.py measures restarts at scale).
Run: make bench (or .venv/bin/python bench/local_aws_gateway.py).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import boto3

from fapiao.local.aws import LocalAws
from fapiao.local.resources import LocalNames, provision
from fapiao.local.template import Template

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 300


def client(endpoint: str):
    return boto3.session.Session(
        aws_access_key_id="b", aws_secret_access_key="b", region_name="cn-north-1"
    ).client("dynamodb", endpoint_url=endpoint)


def timed(call, rounds: int) -> float:
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    template = Template(ROOT / "template.yaml")
    names = LocalNames(template, "cn-north-1")
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        with LocalAws(data) as aws:

            class Session:
                def client(self, service: str):
                    return boto3.session.Session(
                        aws_access_key_id="b",
                        aws_secret_access_key="b",
                        region_name="cn-north-1",
                    ).client(service, endpoint_url=aws.endpoint)

            provision(template, names, Session())
            gateway = client(aws.endpoint)
            direct = client(f"http://127.0.0.1:{aws._upstream.port}")  # type: ignore[union-attr]

            def put(db, prefix):
                return lambda i: db.put_item(
                    TableName="InvoicesTable", Item={"invoice_key": {"S": f"{prefix}{i}"}}
                )

            def get(db, prefix):
                return lambda i: db.get_item(
                    TableName="InvoicesTable", Key={"invoice_key": {"S": f"{prefix}{i}"}}
                )

            timed(put(direct, "warm"), 20)
            put_direct = timed(put(direct, "d"), ROUNDS)
            put_gateway = timed(put(gateway, "g"), ROUNDS)
            get_direct = timed(get(direct, "d"), ROUNDS)
            get_gateway = timed(get(gateway, "g"), ROUNDS)
        start = time.perf_counter()
        with LocalAws(data) as again:
            replayed, items = again.replayed, again.restored.items
        replay = time.perf_counter() - start

    print(
        f"PutItem median: moto {put_direct * 1e3:.2f} ms, gateway {put_gateway * 1e3:.2f} ms,"
        f" ratio {put_gateway / put_direct:.2f}x (serialised + logged with fsync)"
    )
    print(
        f"GetItem median: moto {get_direct * 1e3:.2f} ms, gateway {get_gateway * 1e3:.2f} ms,"
        f" ratio {get_gateway / get_direct:.2f}x (serialised, not logged)"
    )
    print(
        f"restart after a clean stop: {items} items restored from the snapshot, {replayed} "
        f"log entries replayed, in {replay:.2f} s (moto start and the new snapshot included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
