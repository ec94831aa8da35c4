"""Adapter: start the ingest state machine for an object, once per object version."""

from __future__ import annotations

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.services.pipeline import DroppedObject
from fapiao.settings import HubSettings


def start_ingest(settings: HubSettings, obj: DroppedObject, name: str | None = None) -> bool:
    """True when an execution started; False when one of that name exists already."""
    if not settings.ingest_state_machine:
        raise RuntimeError("FAPIAO_INGEST_STATE_MACHINE is not set")
    try:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=settings.ingest_state_machine,
            name=name or obj.execution_name,
            input=f'{{"object": {obj.model_dump_json()}}}',
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return False
        raise
    return True
