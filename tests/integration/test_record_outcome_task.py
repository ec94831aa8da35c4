"""The record task (functions/pipeline/app.py ``record_handler``) run again for the same
invoice of an object, as a Step Functions retry or an execution re-run after the hub was
killed runs it: the ERP hears of the outcome once, and the task answers the first one.

The handler is imported afresh with the environment Lambda would give it, pointed at the
local AWS (moto behind the hub's gateway) provisioned from template.yaml, event rule to
the ErpQueue included; the ERP's side is read from that queue.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fapiao import aws
from fapiao.local.apigw import LambdaContext
from fapiao.local.aws import LOCAL_CREDENTIALS
from fapiao.local.resources import LocalNames, provision_notifications
from fapiao.local.template import Template
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.store.outcomes import DynamoOutcomes
from support import REGION, Session, handler_module

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 5, 1, 10, 30, 15, 123456, tzinfo=SHANGHAI)


@pytest.fixture
def function(
    monkeypatch: pytest.MonkeyPatch, local_aws: Session, template: Template, names: LocalNames
) -> Iterator[ModuleType]:
    """functions/pipeline/app.py, a cold start on the local AWS; its clock ticks a minute
    a call, so a record task run again builds a later outcome than the first run."""
    provision_notifications(template, names, local_aws)
    environment = {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": local_aws.endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **names.function_environment(),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    aws.client.cache_clear()  # clients of an earlier test point at its endpoint
    module = handler_module("RecordOutcomeFunction")
    ticks = iter(range(1000))
    monkeypatch.setattr(module, "now_in_shanghai", lambda: NOW + dt.timedelta(minutes=next(ticks)))
    yield module
    aws.client.cache_clear()


def record(function: ModuleType, event: dict[str, Any]) -> Outcome:
    answer = function.record_handler(event, LambdaContext("RecordOutcomeFunction"))
    return Outcome.model_validate(answer)


def erp_events(session: Session, names: LocalNames) -> list[dict[str, Any]]:
    """Every event on the ErpQueue now (read, then deleted)."""
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName=names.queue_name("ErpQueue"))["QueueUrl"]
    events: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        events.extend(json.loads(m["Body"]) for m in messages)
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return events


def unrecognisable(obj: DroppedObject, index: int = 0) -> dict[str, Any]:
    """The RecordUnrecognisable state's input: the task builds the outcome (and its time)."""
    found = {"status": "U", "reason": "no QR code, no text layer"}
    return {"object": obj.model_dump(), "index": index, "found": found, "kind": "unrecognisable"}


def an_object() -> DroppedObject:
    return DroppedObject(bucket="fapiao-drop", key=f"acme/{secrets.token_hex(4)}.jpg", etag="e1")


def test_the_record_task_run_twice_for_one_object_tells_the_erp_once(
    function: ModuleType, local_aws: Session, names: LocalNames
) -> None:
    obj = an_object()

    first = record(function, unrecognisable(obj))
    again = record(function, unrecognisable(obj))

    assert first.at == NOW
    assert again == first  # the state machine's output shows the first outcome
    (event,) = erp_events(local_aws, names)
    assert (event["source"], event["detail-type"]) == ("fapiao", "Invoice outcome")
    assert Outcome.model_validate(event["detail"]) == first
    assert first.outcome is OutcomeKind.UNRECOGNISABLE
    assert first.status is InvoiceStatus.UNRECOGNISABLE
    # the catalogue's code (an integer, as the API's) and message, then the reason
    assert (event["detail"]["message_code"], event["detail"]["message"]) == (
        907006,
        "发票无法识别: no QR code, no text layer",
    )
    table = DynamoOutcomes(names.ref("OutcomesTable"), local_aws.client("dynamodb"))
    assert table.of_object(obj.object_id) == [first]


def test_a_created_outcome_recorded_again_by_a_rerun_is_not_sent_again(
    function: ModuleType, local_aws: Session, names: LocalNames
) -> None:
    obj = an_object()
    created = Outcome(
        outcome=OutcomeKind.CREATED,
        object=obj,
        owner="acme",
        invoice_key="03302210021168552329",
        expense_id=382680158296375431,
        status=InvoiceStatus.AWAITING_CHECK,
        at=NOW,
    )
    # The re-run's create task answers the same invoice (biz_id) at a later time.
    rerun = created.model_copy(update={"at": NOW + dt.timedelta(hours=1)})

    assert record(function, {"outcome": created.model_dump(mode="json")}) == created
    assert record(function, {"outcome": rerun.model_dump(mode="json")}) == created

    assert [Outcome.model_validate(e["detail"]) for e in erp_events(local_aws, names)] == [created]


def test_a_task_dying_before_it_publishes_is_published_by_the_next_run_exactly_once(
    function: ModuleType, local_aws: Session, names: LocalNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj = an_object()
    bus = function.deps().bus
    publish = bus.publish
    calls = iter(range(1000))

    def down_once(outcome: Outcome) -> None:
        if next(calls) == 0:
            raise ConnectionError("the event bus did not answer")
        publish(outcome)

    monkeypatch.setattr(bus, "publish", down_once)

    with pytest.raises(ConnectionError):
        record(function, unrecognisable(obj))
    assert erp_events(local_aws, names) == []

    again = record(function, unrecognisable(obj))
    third = record(function, unrecognisable(obj))

    assert again.at == third.at == NOW  # the first run's outcome, kept before it died
    (event,) = erp_events(local_aws, names)
    assert Outcome.model_validate(event["detail"]) == again


def test_a_failure_then_a_later_run_s_outcome_tells_the_erp_both_once(
    function: ModuleType, local_aws: Session, names: LocalNames
) -> None:
    """A failed invoice (its task failed for good) no longer blocks what a later run of
    the execution (a redrive, the hub re-running it) gets: that outcome counts."""
    obj = an_object()
    error = {"Error": "Lambda.Unknown", "Cause": '{"errorMessage": "boom"}'}
    failed = record(function, {"object": obj.model_dump(), "index": 0, "error": error})
    created = Outcome(
        outcome=OutcomeKind.CREATED,
        object=obj,
        owner="acme",
        invoice_key="03302210021168552329",
        expense_id=382680158296375431,
        status=InvoiceStatus.VERIFIED,
        at=NOW + dt.timedelta(hours=1),
    )

    assert (failed.outcome, failed.message_code, failed.message) == (
        OutcomeKind.FAILED,
        500000,
        "系统内部错误",  # the Step Functions error's name and cause are in the log only
    )
    assert record(function, {"outcome": created.model_dump(mode="json")}) == created
    assert record(function, {"outcome": created.model_dump(mode="json")}) == created

    details = [e["detail"] for e in erp_events(local_aws, names)]
    assert [d["outcome"] for d in details] == ["failed", "created"]
    assert "Lambda.Unknown" not in json.dumps(details, ensure_ascii=False)
    table = DynamoOutcomes(names.ref("OutcomesTable"), local_aws.client("dynamodb"))
    assert table.of_object(obj.object_id) == [created]
