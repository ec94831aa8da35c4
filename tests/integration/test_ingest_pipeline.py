"""The S3 drop pipeline end to end in one process: a LocalHub from template.yaml (moto
runs statemachines/ingest.asl.json, its Lambda tasks answered by the in-process
handlers, the DropQueue polled as Lambda's event source mapping would) and the fake
yipiaoyun on loopback. Objects are put into the drop bucket with boto3, as a scanner
would; each test waits (bounded) for the execution and reads the OutcomesTable, the
ErpQueue and the IngestDeadLetterQueue."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import ingest_runs
import pytest
from fixtures.generate import invoice_pdf, qr_photo
from fixtures.served import recent_invoice
from inprocess import local_hub

from fakes.yipiaoyun_server import FakeYipiaoyun, error, yipiaoyun_result
from fapiao.local.hub import LocalHub
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.services.reconcile import listed_object
from fapiao.store.invoices import DynamoInvoiceStore
from fapiao.store.outcomes import EVENT_DETAIL_TYPE, EVENT_SOURCE, DynamoOutcomes
from support import REGION, Session

pytestmark = pytest.mark.slow

POLL_ATTEMPTS = 5
SETTINGS = {  # FAPIAO_* from the shell override the template's parameters, as at deploy
    "FAPIAO_IDENTIFIER": "yipiaoyun",
    "FAPIAO_IDENTIFY_POLL_ATTEMPTS": str(POLL_ATTEMPTS),
    "FAPIAO_IDENTIFY_FIRST_WAIT_SECONDS": "1",
    "FAPIAO_IDENTIFY_MAX_WAIT_SECONDS": "1",
    "FAPIAO_YIPIAOYUN_ATTEMPTS": "1",
}
DEADLINE_SECONDS = 60.0


@dataclass
class Pipeline:
    """The running hub, seen as a client of its local AWS sees it."""

    hub: LocalHub
    company_file: Path
    session: Session = field(init=False)
    bucket: str = field(init=False)
    _events: list[dict[str, Any]] = field(default_factory=list)
    _dead: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = Session(self.hub.aws.endpoint)
        self.bucket = self.hub.names.ref("DropBucket")

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def queue_url(self, logical_id: str) -> str:
        name = self.hub.names.queue_name(logical_id)
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def drop(self, key: str, data: bytes) -> DroppedObject:
        put = self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=data)
        # The local S3 events name the version, as S3's do: the pipeline names it so.
        return listed_object(
            self.bucket, {"Key": key, "ETag": put["ETag"], "VersionId": put.get("VersionId")}
        )

    def notify(self, body: str) -> None:
        """A message on the DropQueue, as S3 sends one (again)."""
        self.client("sqs").send_message(QueueUrl=self.queue_url("DropQueue"), MessageBody=body)

    def executions(self, obj: DroppedObject) -> list[dict[str, Any]]:
        """The object's executions of both ingest machines (Express first)."""
        return ingest_runs.runs(self.client("stepfunctions"), self.hub.names, obj.execution_name)

    def finished(self, obj: DroppedObject, timeout: float = DEADLINE_SECONDS) -> dict[str, Any]:
        """The object's last execution once it is no longer running (bounded wait)."""
        deadline = time.monotonic() + timeout
        sfn = self.client("stepfunctions")
        while time.monotonic() < deadline:
            described = ingest_runs.finished(sfn, self.hub.names, obj.execution_name)
            if described is not None:
                return described
            time.sleep(0.2)
        raise AssertionError(f"no finished execution for {obj.key} after {timeout} s")

    def run_again(self, obj: DroppedObject, timeout: float = DEADLINE_SECONDS) -> dict[str, Any]:
        """Another execution for ``obj`` with the S3 drop's input, run to its end."""
        sfn = self.client("stepfunctions")
        arn = sfn.start_execution(
            stateMachineArn=self.hub.names.ref("IngestStateMachine"),
            name=f"{obj.execution_name}-again-{uuid.uuid4().hex[:8]}",
            input=json.dumps({"object": obj.model_dump(mode="json")}),
        )["executionArn"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.2)
        raise AssertionError(f"the second execution for {obj.key} ran over {timeout} s")

    def outcomes(self, obj: DroppedObject) -> list[Outcome]:
        table = DynamoOutcomes(self.hub.names.ref("OutcomesTable"), self.client("dynamodb"))
        return list(table.of_object(obj.object_id))

    def invoices(self) -> DynamoInvoiceStore:
        return DynamoInvoiceStore(
            self.hub.names.ref("InvoicesTable"),
            self.hub.names.ref("ExpensesTable"),
            self.client("dynamodb"),
        )

    def _drain(self, logical_id: str, into: list[dict[str, Any]]) -> None:
        sqs, url = self.client("sqs"), self.queue_url(logical_id)
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            into.extend(json.loads(m["Body"]) for m in messages)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    def erp_events(self, obj: DroppedObject) -> list[dict[str, Any]]:
        """The ErpQueue's events about ``obj`` (the queue is read once; kept here)."""
        self._drain("ErpQueue", self._events)
        return [e for e in self._events if e["detail"]["object"]["key"] == obj.key]

    def dead_letters(self, obj: DroppedObject) -> list[dict[str, Any]]:
        self._drain("IngestDeadLetterQueue", self._dead)
        return [d for d in self._dead if d["object"]["key"] == obj.key]

    def queue_is_empty(self, logical_id: str, timeout: float = DEADLINE_SECONDS) -> bool:
        sqs, url = self.client("sqs"), self.queue_url(logical_id)
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            if all(counts[n] == "0" for n in names):
                return True
            time.sleep(0.2)
        return False


@pytest.fixture(scope="module")
def yipiaoyun() -> Iterator[FakeYipiaoyun]:
    with FakeYipiaoyun() as fake:
        yield fake


@pytest.fixture(scope="module")
def pipeline(
    tmp_path_factory: pytest.TempPathFactory, yipiaoyun: FakeYipiaoyun
) -> Iterator[Pipeline]:
    folder = tmp_path_factory.mktemp("ingest")
    company = folder / "company.json"
    company.write_text('{"default_currency": "CNY"}', encoding="utf-8")
    env = {**SETTINGS, "FAPIAO_YIPIAOYUN_URL": yipiaoyun.url, "FAPIAO_COMPANY_FILE": str(company)}
    with local_hub(folder, env) as hub:
        yield Pipeline(hub, company)


@pytest.fixture
def fake(yipiaoyun: FakeYipiaoyun) -> FakeYipiaoyun:
    yipiaoyun.reset()
    return yipiaoyun


def unique(name: str) -> str:
    return f"{uuid.uuid4().hex[:8]}-{name}"


def photo_without_qr(seed: int) -> bytes:
    """A photo the embedded engine answers U for: no QR code, nothing machine-readable."""
    return qr_photo([], size=(400 + seed % 50, 300))


# --- (1) a valid invoice ---------------------------------------------------------------


def test_a_dropped_invoice_is_created_and_the_erp_told(pipeline: Pipeline) -> None:
    spec = recent_invoice(7101)
    obj = pipeline.drop(f"acme/2024/05/{unique('发票 1+1.pdf')}", invoice_pdf(spec))

    execution = pipeline.finished(obj)

    assert execution["status"] == "SUCCEEDED"
    (outcome,) = pipeline.outcomes(obj)
    assert outcome.outcome is OutcomeKind.CREATED
    assert (outcome.object, outcome.index, outcome.owner) == (obj, 0, "acme")
    assert outcome.invoice_key == f"{spec.invoice_code}{spec.invoice_number}"
    assert outcome.status is InvoiceStatus.AWAITING_CHECK  # the offline verifier: C
    stored = pipeline.invoices().get(outcome.invoice_key)
    assert stored is not None
    assert (stored.user_code, stored.expense_id) == ("acme", outcome.expense_id)
    assert stored.invoice.attachment_url == f"s3://{pipeline.bucket}/{obj.key}"

    (event,) = pipeline.erp_events(obj)
    assert (event["source"], event["detail-type"]) == (EVENT_SOURCE, EVENT_DETAIL_TYPE)
    assert (EVENT_SOURCE, EVENT_DETAIL_TYPE) == ("fapiao", "Invoice outcome")
    detail = event["detail"]
    assert {"outcome", "object", "invoice_key", "expense_id", "status"} <= detail.keys()
    assert detail["outcome"] == "created"
    assert obj.version_id  # the drop bucket is versioned: the event names the version
    assert detail["object"] == {
        "bucket": pipeline.bucket,
        "key": obj.key,
        "etag": obj.etag,
        "version_id": obj.version_id,
    }
    # the platform's type code and its name; no message for a C awaiting a provider
    assert set(detail["invoice_type"]) == {"code", "name"}
    assert detail["invoice_type"]["code"].isdigit()
    assert (detail["invoice_key"], detail["expense_id"], detail["status"]) == (
        outcome.invoice_key,
        outcome.expense_id,
        "C",
    )
    assert Outcome.model_validate(detail) == outcome
    assert pipeline.dead_letters(obj) == []


def test_a_file_of_two_invoices_has_two_outcomes(pipeline: Pipeline) -> None:
    first, second = recent_invoice(7111), recent_invoice(7112)
    obj = pipeline.drop(f"bob/{unique('two.pdf')}", invoice_pdf(first, second))

    assert pipeline.finished(obj)["status"] == "SUCCEEDED"

    outcomes = pipeline.outcomes(obj)
    assert [(o.index, o.outcome, o.owner) for o in outcomes] == [
        (0, OutcomeKind.CREATED, "bob"),
        (1, OutcomeKind.CREATED, "bob"),
    ]
    assert [o.invoice_key for o in outcomes] == [
        f"{s.invoice_code}{s.invoice_number}" for s in (first, second)
    ]
    assert len(pipeline.erp_events(obj)) == 2


def test_the_same_invoice_dropped_again_is_a_duplicate(pipeline: Pipeline) -> None:
    pdf = invoice_pdf(recent_invoice(7121))
    first = pipeline.drop(f"acme/{unique('a.pdf')}", pdf)
    assert pipeline.finished(first)["status"] == "SUCCEEDED"

    copy = pipeline.drop(f"acme/{unique('copy of a.pdf')}", pdf)

    assert pipeline.finished(copy)["status"] == "SUCCEEDED"
    (created,) = pipeline.outcomes(first)
    (duplicate,) = pipeline.outcomes(copy)
    assert duplicate.outcome is OutcomeKind.DUPLICATE
    assert (duplicate.message_code, duplicate.expense_id) == (907002, created.expense_id)
    assert duplicate.message == "发票已导入"


# --- (2) and (3) the recognition provider ------------------------------------------------


def test_a_provider_pending_three_times_then_answering_leads_to_a_created_invoice(
    pipeline: Pipeline, fake: FakeYipiaoyun
) -> None:
    spec = recent_invoice(7201)
    fake.plan(yipiaoyun_result(spec), pending=3)
    photo = photo_without_qr(1)

    obj = pipeline.drop(f"acme/photos/{unique('receipt.jpg')}", photo)

    assert pipeline.finished(obj)["status"] == "SUCCEEDED"
    (outcome,) = pipeline.outcomes(obj)
    assert outcome.outcome is OutcomeKind.CREATED
    assert outcome.invoice_key == f"{spec.invoice_code}{spec.invoice_number}"
    assert [u.data for u in fake.uploads] == [photo]  # only what the engine could not read
    assert fake.count("result") == 4  # pending, pending, pending, the result
    stored = pipeline.invoices().get(outcome.invoice_key)
    assert stored is not None and stored.user_code == "acme"
    assert [e["detail"]["outcome"] for e in pipeline.erp_events(obj)] == ["created"]


def test_a_provider_that_never_finishes_ends_unrecognisable_after_the_attempts(
    pipeline: Pipeline, fake: FakeYipiaoyun
) -> None:
    fake.plan(pending=None)  # never done
    started = time.monotonic()

    obj = pipeline.drop(f"acme/photos/{unique('blurred.jpg')}", photo_without_qr(2))
    execution = pipeline.finished(obj, timeout=30)

    assert execution["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 30
    (outcome,) = pipeline.outcomes(obj)
    assert outcome.outcome is OutcomeKind.UNRECOGNISABLE
    assert outcome.status is InvoiceStatus.UNRECOGNISABLE
    assert outcome.message_code == 907006
    assert (
        outcome.message == f"发票无法识别: the provider had no answer after {POLL_ATTEMPTS} polls"
    )
    assert fake.count("result") == POLL_ATTEMPTS
    time.sleep(1.5)  # longer than a wait: nobody polls any more
    assert fake.count("result") == POLL_ATTEMPTS
    assert [e["detail"]["outcome"] for e in pipeline.erp_events(obj)] == ["unrecognisable"]


def test_a_file_the_provider_refuses_is_unrecognisable_without_polling(
    pipeline: Pipeline, fake: FakeYipiaoyun
) -> None:
    fake.inject("sendByImageFile", error("图片最大支持1M"))

    obj = pipeline.drop(f"acme/{unique('big.jpg')}", photo_without_qr(3))

    assert pipeline.finished(obj)["status"] == "SUCCEEDED"
    (outcome,) = pipeline.outcomes(obj)
    assert outcome.outcome is OutcomeKind.UNRECOGNISABLE
    assert outcome.message and "图片最大支持1M" in outcome.message
    assert fake.count("result") == 0


# --- (4) the same S3 event twice ---------------------------------------------------------


def test_the_same_s3_event_delivered_again_changes_nothing(pipeline: Pipeline) -> None:
    """S3 delivers at least once: the very message S3 sent, sent again to the DropQueue
    (once while the first execution may still run, once after it ended)."""
    s3, sqs = pipeline.client("s3"), pipeline.client("sqs")
    prefix = f"acme/twice-{uuid.uuid4().hex[:8]}/"
    # A second queue hears what S3 sends for this prefix, so the test holds S3's message.
    capture = sqs.create_queue(QueueName=f"capture-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    capture_arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    configured = s3.get_bucket_notification_configuration(Bucket=pipeline.bucket)
    configured.pop("ResponseMetadata", None)
    s3.put_bucket_notification_configuration(
        Bucket=pipeline.bucket,
        NotificationConfiguration={
            **configured,
            "QueueConfigurations": [
                *configured["QueueConfigurations"],
                {
                    "QueueArn": capture_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                },
            ],
        },
    )
    try:
        obj = pipeline.drop(prefix + "发票 (1)+副本.pdf", invoice_pdf(recent_invoice(7401)))
    finally:
        s3.put_bucket_notification_configuration(
            Bucket=pipeline.bucket, NotificationConfiguration=configured
        )
    received = sqs.receive_message(QueueUrl=capture, MaxNumberOfMessages=10)["Messages"]
    # S3 sends a TestEvent when a queue is configured (the DropQueue got two: ignored).
    tests = [m for m in received if json.loads(m["Body"]).get("Event") == "s3:TestEvent"]
    (message,) = [m for m in received if m not in tests]
    assert len(tests) == 1
    assert quote_plus(obj.key) in message["Body"]  # S3's own, URL-encoded key

    pipeline.notify(message["Body"])
    first = pipeline.finished(obj)
    kept = pipeline.outcomes(obj)
    stored = pipeline.invoices().get(kept[0].invoice_key)
    pipeline.notify(message["Body"])
    pipeline.notify(message["Body"])

    # Express names are not deduplicated: each repeat runs the file again, and its
    # idempotent tasks find the work done.
    runs = wait_for(lambda: done_runs(pipeline, obj, 4))  # S3's own and three repeats
    assert [r["machine"] for r in runs] == [ingest_runs.EXPRESS] * 4
    assert len({r["executionArn"] for r in runs}) == 4
    assert first["executionArn"] in {r["executionArn"] for r in runs}
    assert {r["status"] for r in runs} == {"SUCCEEDED"}
    assert pipeline.queue_is_empty("DropQueue")
    assert pipeline.outcomes(obj) == kept  # the first outcome, not rewritten
    assert [o.outcome for o in kept] == [OutcomeKind.CREATED]
    assert pipeline.invoices().get(kept[0].invoice_key) == stored  # created once
    assert len(pipeline.erp_events(obj)) == 1
    assert pipeline.queue_is_empty("DropDeadLetterQueue", timeout=0.5)


def done_runs(pipeline: Pipeline, obj: DroppedObject, count: int) -> list[dict[str, Any]] | None:
    runs = pipeline.executions(obj)
    if len(runs) < count or any(r["status"] == "RUNNING" for r in runs):
        return None
    return runs


def wait_for(look: Any, timeout: float = DEADLINE_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (seen := look()) is not None:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"not seen within {timeout} s")


# --- (5) an execution run again for the same object ------------------------------------


def test_an_execution_run_again_for_the_same_object_tells_the_erp_nothing_new(
    pipeline: Pipeline,
) -> None:
    """The local hub runs an execution that was in flight when it was killed again from
    the start, for the same object version: the invoices are not created twice, and
    the outcomes kept and published by the first run are the ones that count."""
    obj = pipeline.drop(
        f"acme/{unique('rerun.pdf')}", invoice_pdf(recent_invoice(7451), recent_invoice(7452))
    )
    assert pipeline.finished(obj)["status"] == "SUCCEEDED"
    first = pipeline.outcomes(obj)
    assert [o.outcome for o in first] == [OutcomeKind.CREATED, OutcomeKind.CREATED]
    assert len(pipeline.erp_events(obj)) == 2

    rerun = pipeline.run_again(obj)

    assert rerun["status"] == "SUCCEEDED"
    output = json.loads(rerun["output"])["outcomes"]
    assert [Outcome.model_validate(o) for o in output] == first  # same times, same details
    assert pipeline.outcomes(obj) == first
    assert len(pipeline.erp_events(obj)) == 2


# --- (6) failures --------------------------------------------------------------------


def test_a_key_that_names_no_owner_fails_and_is_dead_lettered(pipeline: Pipeline) -> None:
    obj = pipeline.drop(unique("ownerless.pdf"), invoice_pdf(recent_invoice(7501)))

    execution = pipeline.finished(obj)

    assert execution["status"] == "FAILED"
    (outcome,) = pipeline.outcomes(obj)
    assert outcome.outcome is OutcomeKind.FAILED
    assert outcome.owner is None
    assert outcome.message_code == 400000  # the catalogue's; the error's name is logged
    assert outcome.message and outcome.message.startswith("请求参数错误: ")
    assert "names no owner" in outcome.message
    assert "HubError" not in outcome.message
    (dead,) = pipeline.dead_letters(obj)
    assert DroppedObject.model_validate(dead["object"]) == obj
    assert dead["error"]["Error"] == "HubError"
    assert [e["detail"]["outcome"] for e in pipeline.erp_events(obj)] == ["failed"]


def test_an_object_gone_before_it_is_read_fails_and_is_dead_lettered(
    pipeline: Pipeline,
) -> None:
    key = f"acme/{unique('deleted.pdf')}"
    obj = DroppedObject(bucket=pipeline.bucket, key=key, etag="0" * 32)
    event = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": pipeline.bucket},
                    "object": {"key": quote_plus(key), "size": 10, "eTag": obj.etag},
                },
            }
        ]
    }

    pipeline.notify(json.dumps(event))

    assert pipeline.finished(obj)["status"] == "FAILED"
    (outcome,) = pipeline.outcomes(obj)
    assert outcome.outcome is OutcomeKind.FAILED
    assert outcome.message_code == 500000
    assert outcome.message and outcome.message.startswith("系统内部错误")
    assert "no such file" in outcome.message
    (dead,) = pipeline.dead_letters(obj)
    assert dead["object"]["key"] == key


def test_a_task_failing_for_good_records_the_invoice_failed_and_dead_letters_it(
    pipeline: Pipeline,
) -> None:
    good = pipeline.company_file.read_text(encoding="utf-8")
    pipeline.company_file.write_text("{not json", encoding="utf-8")  # the create task fails
    try:
        obj = pipeline.drop(f"acme/{unique('a.pdf')}", invoice_pdf(recent_invoice(7601)))
        execution = pipeline.finished(obj)
    finally:
        pipeline.company_file.write_text(good, encoding="utf-8")

    assert execution["status"] == "SUCCEEDED"  # the object's other invoices go on
    (outcome,) = pipeline.outcomes(obj)
    assert (outcome.outcome, outcome.index) == (OutcomeKind.FAILED, 0)
    assert outcome.message_code == 500000
    assert outcome.message and outcome.message.startswith("系统内部错误")
    assert "company settings unusable" in outcome.message
    assert outcome.invoice_key == (
        f"{recent_invoice(7601).invoice_code}{recent_invoice(7601).invoice_number}"
    )
    (dead,) = pipeline.dead_letters(obj)
    assert dead["index"] == 0
    assert dead["found"]["invoice"]["invoice_number"] == recent_invoice(7601).invoice_number
    assert dead["error"]["Error"] == "HubError"
    assert pipeline.invoices().get(str(outcome.invoice_key)) is None
