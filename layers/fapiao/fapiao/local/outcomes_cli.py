"""`fapiao outcomes`: every object in the drop bucket with its terminal outcomes.

Lists the bucket (every version), looks each object up in the OutcomesTable, and prints
one line per object and a summary; exit 1 when an object has no outcome, one twice, or
a gap between its invoices. With ``--json``, one JSON array for scripts, an element per
terminal outcome (the names are a contract)::

    {"key": S3 key, "index": invoice of the object (0, 1, ...), "outcome": "created" |
     "duplicate" | "rejected" | "unrecognisable" | "failed" | "identified",
     "status": "Y" | "F" | "C" | "R" | "U" | "I" | null, "message_code": str | null,
     "message": str | null, "invoice_key": str | null, "at": ISO 8601 time}

An object without an outcome has no element: the exit code says so, and stderr names it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fapiao.local.locate import add_hub_flags, locate
from fapiao.model.pipeline import Outcome
from fapiao.services.drops import IDENTIFY_PREFIX
from fapiao.services.reconcile import Report, listed_object, outcomes_in, reconcile
from fapiao.settings import LocalHubSettings
from fapiao.store.outcomes import DynamoOutcomes
from fapiao.wire.common import dump_json


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "outcomes",
        help="reconcile the drop bucket with outcomes",
        description="Every object of a running hub's drop bucket with its terminal outcomes. "
        "Exit code 1 when an object has no outcome, or one twice.",
    )
    add_hub_flags(parser)
    parser.add_argument("--prefix", default="", help="only keys under this prefix")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON array, an element per outcome"
    )


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    hub = locate(args, settings)
    bucket = hub.ref("DropBucket")
    log = DynamoOutcomes(hub.ref("OutcomesTable"), hub.client("dynamodb"))
    with hub.talking():
        objects = []
        pages = hub.client("s3").get_paginator("list_object_versions")
        for page in pages.paginate(Bucket=bucket, Prefix=args.prefix):
            for entry in page.get("Versions", []):
                if not entry["Key"].startswith(IDENTIFY_PREFIX):
                    objects.append(listed_object(bucket, entry))
        report = reconcile(objects, outcomes_in(log))
    if args.json:
        print(dump_json(outcomes_json(report)))
        if not report.complete:
            print(f"fapiao outcomes: {report.problems()}", file=sys.stderr)
    else:
        for line in report.lines():
            print(line)
    return 0 if report.complete else 1


def outcomes_json(report: Report) -> list[dict[str, Any]]:
    """The ``--json`` array: an element per terminal outcome, objects in listed order."""
    return [outcome_json(row.object.key, o) for row in report.objects for o in row.outcomes]


def outcome_json(key: str, outcome: Outcome) -> dict[str, Any]:
    """One element of the ``--json`` array (these names are a contract with scripts)."""
    return {
        "key": key,
        "index": outcome.index,
        "outcome": outcome.outcome.value,
        "status": outcome.status.value if outcome.status is not None else None,
        "message_code": outcome.message_code,
        "message": outcome.message,
        "invoice_key": outcome.invoice_key,
        "at": outcome.at.isoformat(),
    }
