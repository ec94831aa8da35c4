"""A dropped file's ingest executions, as tests look for them: the Express execution the
drop starts, and the Standard one it hands a waiting file over to (same name; that one
runs the Express machine again, by the same name, for the file's invoices)."""

from __future__ import annotations

from typing import Any

from fapiao.local.ingest_cli import handed_over
from fapiao.local.resources import LocalNames

EXPRESS, STANDARD = "ExpressIngestStateMachine", "IngestStateMachine"


def machines(names: LocalNames) -> dict[str, str]:
    """Logical id -> ARN of the template's ingest machines (Express first)."""
    return {m: names.ref(m) for m in (EXPRESS, STANDARD) if m in names.template.resources}


def runs(sfn: Any, names: LocalNames, name: str | None = None) -> list[dict[str, Any]]:
    """Executions of both machines (of the file named ``name``, or all), each with
    ``machine`` (its logical id); Express ones first."""
    found = []
    for logical_id, arn in machines(names).items():
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            for execution in page["executions"]:
                if name is None or execution["name"] == name:
                    found.append({**execution, "machine": logical_id})
    return found


def finished(sfn: Any, names: LocalNames, name: str) -> dict[str, Any] | None:
    """The file's last execution once none of its runs is running and none waits for a
    hand-over: the Standard one if the file went there, else its first Express one."""
    found = runs(sfn, names, name)
    if not found or any(r["status"] == "RUNNING" for r in found):
        return None
    standard = [r for r in found if r["machine"] == STANDARD]
    chosen = standard[0] if standard else found[0]
    described: dict[str, Any] = sfn.describe_execution(executionArn=chosen["executionArn"])
    if not standard and described["status"] == "SUCCEEDED" and handed_over(described):
        return None  # the Standard one is about to start
    return described
