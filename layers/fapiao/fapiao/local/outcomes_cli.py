"""`fapiao outcomes`: every object in the drop bucket with its terminal outcomes.

Lists the bucket (every version), looks each object up in the OutcomesTable, and prints
one line per object and a summary; exit 1 when an object has no outcome or one twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.services.pipeline import IDENTIFY_PREFIX
from fapiao.services.reconcile import listed_object, outcomes_in, reconcile
from fapiao.store.outcomes import DynamoOutcomes


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("outcomes", help="reconcile the drop bucket with outcomes")
    parser.add_argument("--aws", default="http://127.0.0.1:4566", help="the hub's local AWS")
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--region", default="cn-north-1")
    parser.add_argument("--prefix", default="", help="only keys under this prefix")


def run(args: argparse.Namespace) -> int:
    from fapiao.local.hub import local_session

    names = LocalNames(Template(args.template), args.region)
    session = local_session(args.region)
    s3 = session.client("s3", endpoint_url=args.aws)
    bucket = names.ref("DropBucket")
    objects = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix=args.prefix
    ):
        for entry in page.get("Versions", []):
            if not entry["Key"].startswith(IDENTIFY_PREFIX):
                objects.append(listed_object(bucket, entry))
    log = DynamoOutcomes(
        names.ref("OutcomesTable"), session.client("dynamodb", endpoint_url=args.aws)
    )
    report = reconcile(objects, outcomes_in(log))
    for line in report.lines():
        print(line)
    return 0 if report.complete else 1
