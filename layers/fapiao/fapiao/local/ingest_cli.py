"""`fapiao ingest FILE...`: send files to a running local hub and print each outcome.

Each file is put into the hub's drop bucket under ``<owner>/ingest/`` through its local
AWS endpoint, as a scanner would; the command then waits for the pipeline's terminal
outcomes (the OutcomesTable) and prints one line per file.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.services.pipeline import DroppedObject
from fapiao.services.reconcile import outcomes_in
from fapiao.store.outcomes import DynamoOutcomes


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("ingest", help="send files to a running hub, print outcomes")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--aws", default="http://127.0.0.1:4566", help="the hub's local AWS")
    parser.add_argument("--owner", default="local.user", help="user code the invoices belong to")
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait in all")
    parser.add_argument("--region", default="cn-north-1")


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    names = LocalNames(Template(args.template), args.region)
    from fapiao.local.hub import local_session

    session = local_session(args.region)
    s3 = session.client("s3", endpoint_url=args.aws)
    outcomes_of = outcomes_in(
        DynamoOutcomes(
            names.ref("OutcomesTable"), session.client("dynamodb", endpoint_url=args.aws)
        )
    )
    bucket = names.ref("DropBucket")
    sent: dict[Path, DroppedObject] = {}
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as error:
            print(f"{path}: cannot read: {error}", file=sys.stderr)
            return 2
        key = f"{args.owner}/ingest/{hashlib.sha256(data).hexdigest()[:12]}-{path.name}"
        put = s3.put_object(Bucket=bucket, Key=key, Body=data)
        sent[path] = DroppedObject(
            bucket=bucket, key=key, etag=put["ETag"].strip('"'), version_id=put.get("VersionId")
        )
    results: dict[Path, list[Any]] = {}
    deadline = time.monotonic() + args.timeout
    while len(results) < len(sent) and time.monotonic() < deadline:
        for path, obj in sent.items():
            if path not in results:
                found = list(outcomes_of(obj))
                if found:
                    results[path] = found
        _progress(len(results), len(sent))
        if len(results) < len(sent):
            time.sleep(0.5)
    sys.stderr.write("\n")
    for path in args.files:
        for outcome in results.get(path, []):
            detail = outcome.message or outcome.invoice_key or ""
            print(f"{path}\t{outcome.outcome.value}\t{outcome.status or ''}\t{detail}")
        if path not in results:
            print(f"{path}\tpending\t\tno outcome within {args.timeout:g} s")
    return 0 if len(results) == len(sent) else 1
