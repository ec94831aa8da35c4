"""`fapiao ingest FILE|DIR...`: send files to a running local hub and print each outcome.

Each file (a folder's files, all the way down, sorted) is put into the hub's drop bucket
under ``<owner>/ingest/`` through its local AWS endpoint, as a scanner would; the command
then waits for the pipeline's terminal outcomes (the OutcomesTable) and prints one line
per outcome: file, outcome, status, message or invoice key. Exit 1 when a file has no
outcome within ``--timeout``. Every file is checked before the first is sent.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

from fapiao.local.locate import (
    CommandError,
    add_hub_flags,
    check_readable,
    files_of,
    locate,
    positive_seconds,
    read_file,
)
from fapiao.model.pipeline import DroppedObject, Outcome
from fapiao.services.reconcile import outcomes_in
from fapiao.settings import LocalHubSettings
from fapiao.store.outcomes import DynamoOutcomes


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "ingest",
        help="send files to a running hub, print outcomes",
        description="Put files (or a folder's files) into a running hub's drop bucket and "
        "print each terminal outcome. Exit code 1 when one has none within --timeout.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE|DIR")
    add_hub_flags(parser, url=True)
    parser.add_argument(
        "--owner", type=_owner, default="local.user", help="user code the invoices belong to"
    )
    parser.add_argument(
        "--timeout", type=positive_seconds, default=300, help="seconds to wait in all"
    )


def _owner(text: str) -> str:
    if not text or "/" in text or text != text.strip():
        raise argparse.ArgumentTypeError(f"not a user code: {text!r} (no '/', no spaces)")
    return text


def _progress(done: int, total: int) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    paths = [file for given in args.files for file in files_of(given)]
    if not paths:
        raise CommandError(f"no files in {', '.join(map(str, args.files))}")
    for path in paths:
        check_readable(path)
    hub = locate(args, settings)
    bucket = hub.ref("DropBucket")
    outcomes_of = outcomes_in(DynamoOutcomes(hub.ref("OutcomesTable"), hub.client("dynamodb")))
    s3 = hub.client("s3")
    sent: list[tuple[Path, DroppedObject]] = []
    results: dict[int, list[Outcome]] = {}
    with hub.talking():
        for path in paths:
            data = read_file(path)
            key = f"{args.owner}/ingest/{hashlib.sha256(data).hexdigest()[:12]}-{path.name}"
            put = s3.put_object(Bucket=bucket, Key=key, Body=data)
            etag, version = put["ETag"].strip('"'), put.get("VersionId")
            sent.append(
                (path, DroppedObject(bucket=bucket, key=key, etag=etag, version_id=version))
            )
        deadline = time.monotonic() + args.timeout
        while len(results) < len(sent) and time.monotonic() < deadline:
            for number, (_, obj) in enumerate(sent):
                if number not in results and (found := list(outcomes_of(obj))):
                    results[number] = found
            _progress(len(results), len(sent))
            if len(results) < len(sent):
                time.sleep(0.5)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    for number, (path, _) in enumerate(sent):
        for outcome in results.get(number, []):
            detail = outcome.message or outcome.invoice_key or ""
            print(f"{path}\t{outcome.outcome.value}\t{outcome.status or ''}\t{detail}")
        if number not in results:
            print(f"{path}\tpending\t\tno outcome within {args.timeout:g} s")
    return 0 if len(results) == len(sent) else 1
