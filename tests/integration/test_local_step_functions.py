"""moto runs a state machine of the template; its Lambda tasks reach the local hub's
gateway, which answers with the in-process handler the template names (no Docker).
A handler's exception comes back as Lambda's function error, so Retry and Catch run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from fapiao.local.hub import HubConfig, LocalHub

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  DoubleFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/double/
      Handler: app.lambda_handler
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: machine.asl.json
      DefinitionSubstitutions:
        DoubleArn: !GetAtt DoubleFunction.Arn
"""
HANDLER = """
FAILED = {"count": 0}

def lambda_handler(event, context):
    if event.get("fail_times", 0) > FAILED["count"]:
        FAILED["count"] += 1
        raise ValueError("not yet")
    if event.get("explode"):
        raise RuntimeError("boom")
    return {"doubled": event["n"] * 2}
"""
MACHINE = {
    "StartAt": "Double",
    "States": {
        "Double": {
            "Type": "Task",
            "Resource": "${DoubleArn}",
            "Retry": [
                {
                    "ErrorEquals": ["ValueError"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 3,
                    "BackoffRate": 1,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Pass", "Result": "caught", "ResultPath": "$.outcome", "End": True},
    },
}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LocalHub]:
    project = tmp_path / "project"
    (project / "functions" / "double").mkdir(parents=True)
    (project / "functions" / "double" / "app.py").write_text(HANDLER, encoding="utf-8")
    (project / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (project / "machine.asl.json").write_text(json.dumps(MACHINE), encoding="utf-8")
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


def run(hub: LocalHub, name: str, payload: dict[str, object]) -> dict[str, object]:
    client = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name="cn-north-1"
    ).client("stepfunctions", endpoint_url=hub.aws.endpoint)
    arn = hub.names.ref("Machine")
    execution = client.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = client.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError("execution did not finish")


def test_a_task_runs_the_in_process_handler(hub: LocalHub) -> None:
    described = run(hub, "ok", {"n": 21})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(str(described["output"])) == {"doubled": 42}


def test_a_raising_handler_is_retried_then_succeeds(hub: LocalHub) -> None:
    described = run(hub, "retried", {"n": 2, "fail_times": 2})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(str(described["output"])) == {"doubled": 4}


def test_a_handler_that_keeps_failing_is_caught(hub: LocalHub) -> None:
    described = run(hub, "caught", {"n": 1, "explode": True})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(str(described["output"]))
    assert output["outcome"] == "caught"
    assert output["error"]["Error"] == "RuntimeError"
