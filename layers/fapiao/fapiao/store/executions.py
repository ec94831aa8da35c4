"""Ingest executions: start the state machine for an object (once per name), and read
an execution back by its name (the async identify API's result).

``start_ingest`` is the S3 drop's entry; ``StepFunctionsExecutions`` is the adapter of
``fapiao.ports.Executions`` (the port the identify use case talks to) and ``S3Drop`` of
``fapiao.ports.Uploads``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.model.pipeline import DroppedObject, Execution, ExecutionStatus
from fapiao.settings import HubSettings


def start_ingest(
    settings: HubSettings,
    obj: DroppedObject,
    name: str | None = None,
    client: Any = None,
    *,
    express: bool = False,
) -> bool:
    """True when an execution started; False when one of that name exists already.

    ``express``: the Express machine when one is set (a dropped file). Its names are not
    unique: a repeated notification starts it again, and its idempotent tasks find the
    work done (the hand-over to the Standard machine goes by the same name)."""
    machine = settings.ingest_state_machine
    if express and settings.express_ingest_state_machine:
        machine = settings.express_ingest_state_machine
    if not machine:
        raise RuntimeError("FAPIAO_INGEST_STATE_MACHINE is not set")
    try:
        (client or aws.client("stepfunctions")).start_execution(
            stateMachineArn=machine,
            name=name or obj.execution_name,
            input=f'{{"object": {obj.model_dump_json()}}}',
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return False
        raise
    return True


def execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:…:stateMachine:<machine> -> arn:…:execution:<machine>:<name>."""
    if ":stateMachine:" not in state_machine_arn:
        raise ValueError(f"not a state machine ARN: {state_machine_arn!r}")
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


class StepFunctionsExecutions:
    """Executions of the ingest state machine (``FAPIAO_INGEST_STATE_MACHINE``)."""

    def __init__(self, settings: HubSettings, client: Any = None) -> None:
        if not settings.ingest_state_machine:
            raise RuntimeError("FAPIAO_INGEST_STATE_MACHINE is not set")
        self.settings = settings
        self.state_machine_arn = settings.ingest_state_machine
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("stepfunctions")

    def start(self, name: str, obj: DroppedObject) -> bool:
        return start_ingest(self.settings, obj, name=name, client=self._client)

    def describe(self, name: str) -> Execution | None:
        try:
            described = self.client.describe_execution(
                executionArn=execution_arn(self.state_machine_arn, name)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise
        output = described.get("output")
        return Execution(
            status=ExecutionStatus(described["status"]),
            # money stays Decimal: the output carries invoices
            output=json.loads(output, parse_float=Decimal) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
        )


class S3Drop:
    """Puts a file into the drop bucket and names the object version an execution reads
    (the identify API's submissions; the S3 drop function skips their prefix)."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("s3")

    def put(self, key: str, data: bytes) -> DroppedObject:
        written = self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return DroppedObject(
            bucket=self.bucket,
            key=key,
            etag=str(written.get("ETag") or "").strip('"'),
            version_id=written.get("VersionId"),
        )
