"""`fapiao ingest FILE|DIR...`: send files to a running local hub, wait until every
invoice of every file has its outcome, and print one line per invoice.

Each file (a folder's files, all the way down, sorted; hidden ones left out) is put into
the hub's drop bucket as ``<owner>/ingest/<first 12 hex digits of its SHA-256>-<name>``
through the hub's local AWS endpoint, as a scanner would. The key names the bytes: when
it is in the bucket already, the file is not put again and the outcomes recorded for it
are printed, each line saying ``already processed``. Every file is checked before the
first is sent.

When a file's outcomes are all in: its pipeline execution (statemachines/ingest.asl.json,
named ``DroppedObject.execution_name``) is no longer running. The execution ends only
after its Map has recorded the outcome of every invoice the recognition found, and a
failure is recorded before the execution fails; so once it has ended the OutcomesTable
holds the file's outcomes, and a succeeded execution's output says how many invoices
there were (one whose outcome is missing is named). This needs no count read from the
middle of an execution, and it waits as long for a file of one invoice as for a file of
29 whose last invoice is still being verified. An execution Step Functions no longer
keeps (90 days after it ended) counts as ended once its object has outcomes.

Output, one line per invoice, files in the order given, each file's lines as soon as it
is done; tab-separated, always seven fields::

    <file>  <index>  <outcome>  <status>  <message_code>  <detail>  <sent>

- ``index``: the invoice of the file (0, 1, ...); empty on a line about the whole file.
- ``outcome``: ``created``, ``duplicate``, ``rejected``, ``unrecognisable`` or ``failed``
  (the pipeline's outcome kinds); or ``missing`` (the execution ended without this
  invoice's outcome) or ``pending`` (not done within ``--timeout``).
- ``status``: Y, F, C, R, U, I or empty; ``message_code``: the catalogue's code
  (907002 ...) or empty.
- ``detail``: the outcome's message, else its invoice key (tabs and line breaks become
  spaces).
- ``sent``: ``sent`` when this run put the file, ``already processed`` when its bytes
  were in the bucket before.

Exit code 0 when every invoice of every file is created or duplicate; 1 when any file
ended otherwise (unrecognisable, rejected, failed, missing) or is pending at the
timeout; 2 for a user's mistake or a hub that is not there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from fapiao.local.locate import (
    CommandError,
    Hub,
    add_hub_flags,
    check_readable,
    files_of,
    locate,
    positive_seconds,
    read_file,
)
from fapiao.local.pollers import owner_refusal
from fapiao.model.pipeline import DroppedObject, ExecutionStatus, Outcome, OutcomeKind
from fapiao.services.reconcile import outcomes_in
from fapiao.settings import LocalHubSettings
from fapiao.store.executions import execution_arn
from fapiao.store.outcomes import DynamoOutcomes

ALREADY = "already processed"
SENT = "sent"
FINE = frozenset({OutcomeKind.CREATED, OutcomeKind.DUPLICATE})
_STILL_RUNNING = frozenset({ExecutionStatus.RUNNING, ExecutionStatus.PENDING_REDRIVE})
_POLL_SECONDS = 0.5


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "ingest",
        help="send files to a running hub, print each invoice's outcome",
        description="Put files (or a folder's files) into a running hub's drop bucket, wait "
        "until every invoice of every file has its outcome and print one line per invoice. "
        "Exit code 1 when an invoice is not created or duplicate, or not done within "
        "--timeout.",
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
    refusal = owner_refusal(text)
    if refusal is not None:
        raise argparse.ArgumentTypeError(f"not a user code: {text!r} ({refusal})")
    return text


@dataclass
class Sent:
    """A file in the drop bucket, and the names its execution may have."""

    path: Path
    obj: DroppedObject
    already: bool

    @property
    def names(self) -> tuple[str, ...]:
        """The drop starter names the execution from the object its S3 event names: with
        its version (AWS's events, and the local hub's), or by its etag alone (an event
        that names no version, as moto's did)."""
        bare = self.obj.model_copy(update={"version_id": None})
        return tuple(dict.fromkeys((self.obj.execution_name, bare.execution_name)))


@dataclass(frozen=True)
class Seen:
    """What is known of a file's invoices."""

    ended: bool
    outcomes: tuple[Outcome, ...] = ()
    invoices: int | None = None  # how many the succeeded execution's output names
    failure: str | None = None  # how the execution ended, when not SUCCEEDED


class _Pipeline:
    """The hub's ingest executions and the outcomes they recorded."""

    def __init__(self, hub: Hub) -> None:
        # A dropped file runs the Express machine; one that waits for the asynchronous
        # provider is handed over to the Standard one by the same name.
        self.machines = [hub.ref("IngestStateMachine")]
        if "ExpressIngestStateMachine" in hub.names.template.resources:
            self.machines.append(hub.ref("ExpressIngestStateMachine"))
        self.stepfunctions = hub.client("stepfunctions")
        self.outcomes_of = outcomes_in(
            DynamoOutcomes(hub.ref("OutcomesTable"), hub.client("dynamodb"))
        )

    def _execution(self, sent: Sent) -> dict[str, Any] | None:
        """The Standard execution of the file if there is one, else its (first) Express
        one; an Express one that handed the file over is still running, in effect."""
        for machine in self.machines:
            for name in sent.names:
                try:
                    described: dict[str, Any] = self.stepfunctions.describe_execution(
                        executionArn=execution_arn(machine, name)
                    )
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                        continue
                    raise
                if described["status"] == "SUCCEEDED" and handed_over(described):
                    return {**described, "status": "RUNNING"}
                return described
        return None

    def look(self, sent: Sent) -> Seen:
        described = self._execution(sent)
        if described is None:  # not started yet, or long forgotten
            found = _in_order(self.outcomes_of(sent.obj))
            return Seen(ended=bool(found), outcomes=found)
        status = ExecutionStatus(described["status"])
        if status in _STILL_RUNNING:
            return Seen(ended=False)
        # The object exactly as the pipeline named it (its outcomes' object id).
        obj = DroppedObject.model_validate(json.loads(described["input"])["object"])
        found = _in_order(self.outcomes_of(obj))
        if status is ExecutionStatus.SUCCEEDED:
            output = json.loads(described.get("output") or "{}")
            listed = output.get("outcomes") if isinstance(output, dict) else None
            return Seen(
                ended=True,
                outcomes=found,
                invoices=len(listed) if isinstance(listed, list) else None,
            )
        said = ": ".join(str(p) for p in (described.get("error"), described.get("cause")) if p)
        return Seen(ended=True, outcomes=found, failure=f"{status.value}: {said or 'no cause'}")


def handed_over(described: dict[str, Any]) -> bool:
    """An Express execution that ended by starting the Standard one (no outcomes)."""
    output = json.loads(described.get("output") or "{}")
    return isinstance(output, dict) and "outcomes" not in output


def _in_order(outcomes: Sequence[Outcome]) -> tuple[Outcome, ...]:
    return tuple(sorted(outcomes, key=lambda o: (o.index, o.at)))


def _progress(done: int, total: int) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


def _one_line(text: str) -> str:
    return re.sub(r"[\t\r\n]+", " ", text).strip()


def _line(sent: Sent, index: str, outcome: str, status: str, code: str, detail: str) -> str:
    note = ALREADY if sent.already else SENT
    return "\t".join((str(sent.path), index, outcome, status, code, _one_line(detail), note))


def lines_of(sent: Sent, seen: Seen, timeout: float) -> list[str]:
    """The file's lines (see the module's docstring)."""
    lines = [
        _line(
            sent,
            str(o.index),
            o.outcome.value,
            o.status.value if o.status is not None else "",
            "" if o.message_code is None else str(o.message_code),
            o.message or o.invoice_key or "",
        )
        for o in seen.outcomes
    ]
    if not seen.ended:
        lines.append(_line(sent, "", "pending", "", "", f"not done within {timeout:g} s"))
        return lines
    indexes = {o.index for o in seen.outcomes}
    for index in range(seen.invoices or 0):
        if index not in indexes:
            lines.append(
                _line(sent, str(index), "missing", "", "", "the pipeline recorded no outcome")
            )
    if not seen.outcomes and not seen.invoices:
        lines.append(
            _line(sent, "", "failed", "", "", seen.failure or "the pipeline recorded no outcome")
        )
    return lines


def fine(seen: Seen) -> bool:
    """Every invoice of the file is created or duplicate."""
    indexes = {o.index for o in seen.outcomes}
    return (
        seen.ended
        and bool(seen.outcomes)
        and all(o.outcome in FINE for o in seen.outcomes)
        and indexes >= set(range(seen.invoices or 0))
    )


def _send(s3: Any, bucket: str, owner: str, path: Path) -> Sent:
    data = read_file(path)
    key = f"{owner}/ingest/{hashlib.sha256(data).hexdigest()[:12]}-{path.name}"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
    else:  # these bytes were sent before: their outcomes are recorded, or coming
        return Sent(path, _object(bucket, key, head), already=True)
    return Sent(path, _object(bucket, key, s3.put_object(Bucket=bucket, Key=key, Body=data)), False)


def _object(bucket: str, key: str, answer: dict[str, Any]) -> DroppedObject:
    version = answer.get("VersionId")
    return DroppedObject(
        bucket=bucket,
        key=key,
        etag=str(answer.get("ETag") or "").strip('"'),
        version_id=None if version in (None, "null") else str(version),
    )


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    paths = [file for given in args.files for file in files_of(given)]
    if not paths:
        raise CommandError(f"no files in {', '.join(map(str, args.files))}")
    for path in paths:
        check_readable(path)
    hub = locate(args, settings)
    bucket = hub.ref("DropBucket")
    all_fine = True
    with hub.talking():
        pipeline = _Pipeline(hub)
        s3 = hub.client("s3")
        sent = [_send(s3, bucket, args.owner, path) for path in paths]
        deadline = time.monotonic() + args.timeout
        printed = 0
        while printed < len(sent):
            # In the order given: a file still running stops the round (those after it
            # were sent later), so a round asks about one or two files, not all of them.
            seen = pipeline.look(sent[printed])
            last_chance = time.monotonic() >= deadline
            if not seen.ended and not last_chance:
                _progress(printed, len(sent))
                time.sleep(_POLL_SECONDS)
                continue
            _clear_progress()
            for line in lines_of(sent[printed], seen, args.timeout):
                print(line, flush=True)
            all_fine = all_fine and fine(seen)
            printed += 1
    return 0 if all_fine else 1


def _clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
