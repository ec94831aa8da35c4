"""Re-checks: the re-check state machine that waits and checks a C invoice again
(``StepFunctionsRecheckScheduler``, the adapter of ``fapiao.ports.RecheckScheduler``),
and the bus the ERP hears of status changes on (``EventBridgeStatusBus``, of
``fapiao.ports.StatusBus``).

An execution of statemachines/recheck.asl.json is started with
``{"invoice_key", "retry_at", "wait_seconds"}``: ``retry_at`` RFC 3339 in UTC, the
schedule the record names; ``wait_seconds`` the whole seconds until then, what its Wait
state waits (a wait in seconds runs the same in AWS and in the local hub's interpreter,
whose timestamp waits compare with the machine's local clock). Its name is unique per
invoice and time: the same schedule twice starts one execution.

Event schema (EventBridge): ``source`` "fapiao", ``detail-type`` "Invoice status
changed", ``detail`` the ``fapiao.model.status.StatusChange`` model as JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.dates import now_in_shanghai, to_iso_utc
from fapiao.model.erp import event_of_status_change
from fapiao.model.status import StatusChange
from fapiao.store.events import DynamoEventFeed, announce

__all__ = [
    "STATUS_DETAIL_TYPE",
    "EventBridgeStatusBus",
    "StepFunctionsRecheckScheduler",
    "recheck_execution_name",
    "recheck_input",
]

STATUS_DETAIL_TYPE = "Invoice status changed"


def recheck_execution_name(invoice_key: str, at: dt.datetime) -> str:
    """``rc-<hash of the key>-<epoch seconds of the time>``: within Step Functions' 80
    characters of [A-Za-z0-9-_], whatever the key holds."""
    digest = hashlib.sha256(invoice_key.encode()).hexdigest()[:40]
    return f"rc-{digest}-{math.ceil(at.timestamp())}"


def recheck_input(invoice_key: str, at: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    return {
        "invoice_key": invoice_key,
        "retry_at": to_iso_utc(at),
        "wait_seconds": max(0, math.ceil((at - now).total_seconds())),
    }


class StepFunctionsRecheckScheduler:
    """Starts an execution of the re-check state machine (``FAPIAO_RECHECK_STATE_MACHINE``)."""

    def __init__(
        self,
        state_machine_arn: str | None,
        client: Any = None,
        clock: Callable[[], dt.datetime] = now_in_shanghai,
    ) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("stepfunctions")

    def schedule(self, invoice_key: str, at: dt.datetime) -> None:
        if not self.state_machine_arn:
            raise RuntimeError("FAPIAO_RECHECK_STATE_MACHINE is not set")
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=recheck_execution_name(invoice_key, at),
                input=json.dumps(recheck_input(invoice_key, at, self._clock())),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise  # the same schedule is running already: nothing to start


class EventBridgeStatusBus:
    """The ERP's event bus (``StatusBus``), and the ERP's feed when ``feed`` is given: one
    "Invoice status changed" a change, and its ERP event."""

    def __init__(self, bus: str, client: Any = None, feed: DynamoEventFeed | None = None) -> None:
        self.bus = bus
        self._client = client
        self.feed = feed

    def publish(self, change: StatusChange) -> None:
        announce(
            self._client if self._client is not None else aws.client("events"),
            self.bus,
            detail_type=STATUS_DETAIL_TYPE,
            detail=change.model_dump_json(),
            event=event_of_status_change(change),
            feed=self.feed,
        )
