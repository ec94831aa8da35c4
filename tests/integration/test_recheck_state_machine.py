"""statemachines/recheck.asl.json in the local hub's Step Functions interpreter (moto),
its task a stand-in handler served in process: wait, check, wait again while the answer
is not final, and end when it is. The real task is tested in test_recheck_task.py."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from fapiao.local.hub import HubConfig, LocalHub
from support import PROJECT_ROOT

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  RecheckTaskFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/recheck/
      Handler: app.recheck_handler
  RecheckStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/recheck.asl.json
      DefinitionSubstitutions:
        RecheckTaskFunctionArn: !GetAtt RecheckTaskFunction.Arn
"""
# Not final twice (a second's wait each), then final; what it was asked goes to a file.
HANDLER = """
import json, os, time

CALLS = []

def recheck_handler(event, context):
    CALLS.append({"event": event, "at": time.time()})
    with open(os.environ["RECHECK_CALLS"], "w") as out:
        json.dump(CALLS, out)
    final = len(CALLS) >= 3
    return {
        "invoice_key": event["invoice_key"],
        "final": final,
        "retry_at": None if final else "2024-06-01T02:30:0%dZ" % len(CALLS),
        "wait_seconds": 0 if final else 1,
    }
"""


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    project = tmp_path / "project"
    (project / "functions" / "recheck").mkdir(parents=True)
    (project / "statemachines").mkdir()
    (project / "functions" / "recheck" / "app.py").write_text(HANDLER, encoding="utf-8")
    (project / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    shutil.copy(PROJECT_ROOT / "statemachines" / "recheck.asl.json", project / "statemachines")
    monkeypatch.setenv("RECHECK_CALLS", str(tmp_path / "calls.json"))
    hub = LocalHub(
        HubConfig(
            host="127.0.0.1",
            port=0,
            aws_port=0,
            data_dir=tmp_path / "data",
            inbox=tmp_path / "inbox",
            template=project / "template.yaml",
            region="cn-north-1",
        )
    )
    hub.start()
    yield hub
    hub.stop()


def test_the_machine_waits_checks_and_loops_until_the_answer_is_final(
    hub: LocalHub, tmp_path: Path
) -> None:
    client = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name="cn-north-1"
    ).client("stepfunctions", endpoint_url=hub.aws.endpoint)
    started = time.time()
    payload = {"invoice_key": "K1", "retry_at": "2024-06-01T02:30:00Z", "wait_seconds": 1}
    execution = client.start_execution(
        stateMachineArn=hub.names.ref("RecheckStateMachine"),
        name="rc-test",
        input=json.dumps(payload),
    )
    described: dict[str, Any] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = client.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.2)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["final"] is True
    calls = json.loads((tmp_path / "calls.json").read_text(encoding="utf-8"))
    # the task is asked with the invoice and the schedule only, the new one each time
    assert [c["event"] for c in calls] == [
        {"invoice_key": "K1", "retry_at": "2024-06-01T02:30:00Z"},
        {"invoice_key": "K1", "retry_at": "2024-06-01T02:30:01Z"},
        {"invoice_key": "K1", "retry_at": "2024-06-01T02:30:02Z"},
    ]
    # each check came after its wait (a second, in whole seconds)
    assert calls[0]["at"] - started >= 0.9
    assert calls[1]["at"] - calls[0]["at"] >= 0.9
    assert calls[2]["at"] - calls[1]["at"] >= 0.9
