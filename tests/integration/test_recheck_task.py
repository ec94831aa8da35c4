"""The re-check tasks (functions/recheck/app.py) on the local AWS provisioned from
template.yaml, exocr a fake on loopback: the ingest's ScheduleRecheck task starts one
execution of the re-check state machine per schedule; the re-check task checks again,
stores what is true now and puts one "Invoice status changed" event on the bus.

The handlers are imported afresh with the environment Lambda would give them; the
bus's events are read from a queue the test subscribes to it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from fakes.exocr_server import FakeExocr, result, vat_data
from fapiao import aws
from fapiao.catalogue.errors import Problem, invoice_message
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI, now_in_shanghai, to_iso_utc
from fapiao.local.apigw import LambdaContext
from fapiao.local.aws import LOCAL_CREDENTIALS
from fapiao.local.resources import LocalNames
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.stored import Expense, StoredInvoice, Transition
from fapiao.store.invoices import DynamoInvoiceStore
from fapiao.store.rechecks import StepFunctionsRecheckScheduler, recheck_execution_name
from support import REGION, Session, handler_module

CODE, NUMBER = "033022100211", "68552329"
KEY = CODE + NUMBER


@pytest.fixture
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        yield fake


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, local_aws: Session, names: LocalNames, exocr: FakeExocr
) -> Iterator[None]:
    variables = {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": local_aws.endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        **names.function_environment(),
        **exocr.hub_settings,
        "FAPIAO_EXOCR_ATTEMPTS": "1",
        "FAPIAO_VERIFY_RETRY_AFTER_SECONDS": "3600",  # the execution started waits
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    aws.client.cache_clear()
    yield
    aws.client.cache_clear()


@pytest.fixture
def store(local_aws: Session, names: LocalNames) -> DynamoInvoiceStore:
    return DynamoInvoiceStore(
        names.ref("InvoicesTable"), names.ref("ExpensesTable"), local_aws.client("dynamodb")
    )


@pytest.fixture
def events(local_aws: Session, names: LocalNames) -> list[dict[str, Any]]:
    """What reaches the bus from now on (read when the test asks: call ``drain``)."""
    sqs, bus = local_aws.client("sqs"), names.ref("EventBus")
    url = sqs.create_queue(QueueName="recheck-task-bus")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    eventbridge = local_aws.client("events")
    eventbridge.put_rule(Name="all", EventBusName=bus, EventPattern='{"source": ["fapiao"]}')
    eventbridge.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return []


def drain(local_aws: Session, received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sqs = local_aws.client("sqs")
    url = sqs.get_queue_url(QueueName="recheck-task-bus")["QueueUrl"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        received.extend(json.loads(m["Body"]) for m in messages)
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return received


def a_c_record(store: DynamoInvoiceStore, retry_at: dt.datetime | None = None) -> StoredInvoice:
    """An invoice create stored C because exocr was busy."""
    now = now_in_shanghai()
    code, message = invoice_message(Problem.CHECK_DEFERRED)
    invoice = Invoice(
        invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
        invoice_code=CODE,
        invoice_number=NUMBER,
        receipt_date=now.date() - dt.timedelta(days=3),
        amount=Decimal("100.00"),
        tax_amount=Decimal("13.00"),
        total_amount=Decimal("113.00"),
        check_code="58053893572132760108",
    )
    record = StoredInvoice(
        invoice_key=KEY,
        expense_id=382680158296375431,
        user_code="acme",
        biz_id="b1",
        status=InvoiceStatus.AWAITING_CHECK,
        message=message,
        message_code=str(code),
        currency="CNY",
        invoice=invoice,
        created_at=now,
        transitions=[Transition(status=InvoiceStatus.AWAITING_CHECK, at=now, reason=message)],
        retry_at=retry_at,
    )
    expense = Expense(
        expense_id=record.expense_id,
        user_code="acme",
        invoice_keys=[KEY],
        currency="CNY",
        created_at=now,
    )
    store.create(record, expense)
    return record


def executions(local_aws: Session, names: LocalNames) -> list[dict[str, Any]]:
    sfn = local_aws.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=names.ref("RecheckStateMachine"))["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]


def test_the_schedule_task_starts_one_waiting_execution_per_schedule(
    environment: None, local_aws: Session, names: LocalNames, store: DynamoInvoiceStore
) -> None:
    a_c_record(store)
    function: ModuleType = handler_module("ScheduleRecheckFunction")
    outcome = {"invoice_key": KEY, "status": "C"}  # the ingest's outcome, as the task gets it
    first = function.schedule_handler(outcome, LambdaContext("ScheduleRecheckFunction"))
    again = function.schedule_handler(outcome, LambdaContext("ScheduleRecheckFunction"))
    assert first == again
    stored = store.get(KEY)
    assert stored is not None and stored.retry_at is not None
    assert first == {"invoice_key": KEY, "retry_at": to_iso_utc(stored.retry_at)}
    (execution,) = executions(local_aws, names)
    assert execution["name"] == recheck_execution_name(KEY, stored.retry_at)
    assert execution["status"] == "RUNNING"  # waiting: an hour
    started = json.loads(execution["input"])
    assert started["invoice_key"] == KEY
    assert started["retry_at"] == to_iso_utc(stored.retry_at)
    assert 3590 <= started["wait_seconds"] <= 3601


def test_the_scheduler_starts_nothing_new_for_the_same_schedule(
    environment: None, local_aws: Session, names: LocalNames
) -> None:
    scheduler = StepFunctionsRecheckScheduler(
        names.ref("RecheckStateMachine"), local_aws.client("stepfunctions")
    )
    at = dt.datetime(2099, 1, 1, 8, 0, tzinfo=SHANGHAI)
    scheduler.schedule(KEY, at)
    scheduler.schedule(KEY, at)  # ExecutionAlreadyExists: fine
    scheduler.schedule(KEY, at + dt.timedelta(hours=1))
    assert len(executions(local_aws, names)) == 2


def test_the_recheck_task_stores_and_publishes_the_change_once(
    environment: None,
    local_aws: Session,
    store: DynamoInvoiceStore,
    exocr: FakeExocr,
    events: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAPIAO_VERIFY_RETRY_AFTER_SECONDS", "1")
    due = now_in_shanghai().replace(microsecond=0) - dt.timedelta(seconds=1)
    record = a_c_record(store, retry_at=due)
    function: ModuleType = handler_module("RecheckTaskFunction")
    context = LambdaContext("RecheckTaskFunction")

    exocr.busy_for(60)
    busy = function.recheck_handler({"invoice_key": KEY, "retry_at": to_iso_utc(due)}, context)
    assert busy["final"] is False
    assert 1 <= busy["wait_seconds"] <= 3  # the second wait: twice the first
    waiting = store.get(KEY)
    assert waiting is not None and waiting.status is InvoiceStatus.AWAITING_CHECK
    assert waiting.retry_at is not None
    assert busy["retry_at"] == to_iso_utc(waiting.retry_at)
    assert drain(local_aws, events) == []

    # the provider answers now: when the wait is over, the task checks again
    exocr.busy_for(0)
    assert record.invoice.receipt_date is not None
    form = {
        "invoice_code": CODE,
        "invoice_no": NUMBER,
        "invoice_type": "10",
        "create_date": record.invoice.receipt_date.strftime("%Y%m%d"),
    }
    exocr.script(
        NUMBER, result(1, vat_data(form, total="100.00", total_tax="13.00", amount="113.00"))
    )
    early = function.recheck_handler({"invoice_key": KEY, "retry_at": busy["retry_at"]}, context)
    assert early["final"] is False  # not yet: the wait goes on
    time.sleep(busy["wait_seconds"] + 0.5)
    done = function.recheck_handler({"invoice_key": KEY, "retry_at": busy["retry_at"]}, context)
    assert done == {"invoice_key": KEY, "final": True, "retry_at": None, "wait_seconds": 0}
    verified = store.get(KEY)
    assert verified is not None and verified.status is InvoiceStatus.VERIFIED
    assert len(verified.check_attempts) == 2
    assert all(t.published for t in verified.transitions)
    event, erp_event = drain(local_aws, events)  # the ERP queue's detail, and its ERP event
    assert (event["source"], event["detail-type"]) == ("fapiao", "Invoice status changed")
    assert erp_event["detail-type"] == "Invoice event"
    assert erp_event["detail"]["type"] == "invoice.status_changed"
    assert erp_event["detail"]["data"]["previous_status"] == "C"
    assert erp_event["detail"]["data"]["status"] == "Y"
    assert event["detail"]["previous_status"] == "C"
    assert event["detail"]["status"] == "Y"
    assert event["detail"]["invoice_type"] == {"code": "10", "name": "增值税电子普通发票"}

    # run again (a Step Functions retry): nothing new is checked or sent
    again = function.recheck_handler({"invoice_key": KEY, "retry_at": busy["retry_at"]}, context)
    assert again["final"] is True
    assert drain(local_aws, events) == [event, erp_event]
