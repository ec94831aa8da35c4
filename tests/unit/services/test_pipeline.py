"""The S3 drop pipeline's use cases (services/pipeline.py) with memory adapters and a
scripted identifier: which objects an S3 event names, whose they are, what each task
answers the state machine, and which outcome each invoice ends in."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures.generate import blank_pdf, invoice_pdf, qr_photo, random_bytes
from fixtures.served import recent_invoice

from fakes.memory import MemoryFileStore, MemoryInvoiceStore
from fapiao.catalogue.errors import HubError, Problem
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Found, Outcome, OutcomeKind, Recognized
from fapiao.model.status import InvoiceTypeName
from fapiao.providers.identifier import Poll, PollState, Submission
from fapiao.recognize import recognize
from fapiao.results import Source, Verification
from fapiao.rules.offline_checks import Finding
from fapiao.rules.offline_checks import Outcome as FindingOutcome
from fapiao.services.drops import objects_of_s3_event
from fapiao.services.pipeline import (
    MAX_FILE_BYTES,
    create_from_object,
    poll_pending,
    recognize_object,
)
from fapiao.settings import CompanySettings, IdentifierSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 5, 1, 10, 30, tzinfo=SHANGHAI)
BUCKET = "fapiao-drop"
SETTINGS = IdentifierSettings(
    identify_poll_attempts=4, identify_first_wait_seconds=2, identify_max_wait_seconds=10
)
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")  # Step Functions' limit


def clock() -> dt.datetime:
    return NOW


def dropped(key: str = "acme/2024/05/a.pdf", etag: str = "e1", **more: Any) -> DroppedObject:
    return DroppedObject(bucket=BUCKET, key=key, etag=etag, **more)


def s3_record(key: str, event: str = "ObjectCreated:Put", **obj: Any) -> dict[str, Any]:
    """One record of an S3 event notification, as S3 writes it (the key URL-encoded)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "cn-north-1",
        "eventName": event,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": BUCKET, "arn": f"arn:aws-cn:s3:::{BUCKET}"},
            "object": {"key": key, "size": 1024, **obj},
        },
    }


def read(data: bytes) -> Invoice:
    """The invoice the embedded engine reads in ``data``."""
    (found,) = recognize(data)
    assert found.invoice is not None
    return found.invoice


class ScriptedIdentifier:
    """The identifier port, scripted: each submission is accepted (a fresh identify id)
    or refused with ``refuse``; each id answers the polls in ``answers`` in turn, the last
    one for ever after. Records what it was given."""

    def __init__(
        self, answers: Sequence[Poll] = (Poll(state=PollState.PENDING),), refuse: str = ""
    ) -> None:
        self.answers = list(answers)
        self.refuse = refuse
        self.submitted: list[tuple[bytes, list[int] | None]] = []
        self.polled: list[str] = []

    def submit_url(self, url: str) -> Submission:
        raise AssertionError("the pipeline hands over the file, not a URL")

    def submit_file(self, data: bytes, *, pages: Sequence[int] | None = None) -> list[Submission]:
        self.submitted.append((data, None if pages is None else list(pages)))
        if self.refuse:
            return [Submission(reason=self.refuse, problem=Problem.UNSUPPORTED_FILE_TYPE)]
        return [Submission(identify_id=f"id-{len(self.submitted)}")]

    def poll(self, identify_id: str) -> Poll:
        self.polled.append(identify_id)
        asked = self.polled.count(identify_id)
        return self.answers[min(asked, len(self.answers)) - 1]


def done(invoice: Invoice) -> Poll:
    return Poll(state=PollState.DONE, invoice=invoice)


PENDING = Poll(state=PollState.PENDING)


# --- objects_of_s3_event -------------------------------------------------------------


def test_keys_arrive_url_encoded_and_are_decoded() -> None:
    # S3 writes a space as "+", a plus as "%2B", and UTF-8 bytes as %xx.
    event = {"Records": [s3_record("acme/2024/%E5%8F%91%E7%A5%A8+1%2B2.pdf", eTag="abc")]}

    (obj,) = objects_of_s3_event(event)

    assert obj == DroppedObject(bucket=BUCKET, key="acme/2024/发票 1+2.pdf", etag="abc")
    assert obj.owner == "acme"


def test_each_created_record_is_one_object_with_its_etag_and_version() -> None:
    event = {
        "Records": [
            s3_record("acme/a.pdf", eTag="e-a", versionId="v-a"),
            s3_record("bob/b.jpg", event="ObjectCreated:CompleteMultipartUpload", eTag="e-b"),
        ]
    }

    objects = objects_of_s3_event(event)

    assert [(o.key, o.etag, o.version_id) for o in objects] == [
        ("acme/a.pdf", "e-a", "v-a"),
        ("bob/b.jpg", "e-b", None),
    ]


def test_events_other_than_object_created_name_no_object() -> None:
    event = {
        "Records": [
            s3_record("acme/gone.pdf", event="ObjectRemoved:Delete"),
            s3_record("acme/tagged.pdf", event="ObjectTagging:Put"),
            s3_record("acme/new.pdf", event="ObjectCreated:Copy", eTag="e"),
        ]
    }

    assert [o.key for o in objects_of_s3_event(event)] == ["acme/new.pdf"]


def test_s3_test_event_names_no_object() -> None:
    # What S3 sends to the queue when the notification is configured.
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2024-05-01T02:30:00.000Z",
        "Bucket": BUCKET,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }

    assert objects_of_s3_event(test_event) == []


# --- owner and identity --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "owner"),
    [("acme/a.pdf", "acme"), ("u-1001/2024/05/scans/a.pdf", "u-1001"), ("张三/发票.pdf", "张三")],
)
def test_the_keys_first_segment_is_the_owner(key: str, owner: str) -> None:
    assert dropped(key).owner == owner


@pytest.mark.parametrize("key", ["a.pdf", "/a.pdf", "acme/", "acme"])
def test_a_key_that_names_no_owner_is_refused(key: str) -> None:
    with pytest.raises(HubError) as refused:
        dropped(key).owner  # noqa: B018

    assert refused.value.problem is Problem.INVALID_REQUEST


def test_an_object_without_owner_is_refused_before_its_file_is_read() -> None:
    files = MemoryFileStore()  # reading would fail with FILE_UNREACHABLE

    with pytest.raises(HubError) as refused:
        recognize_object(dropped("a.pdf"), files, None, SETTINGS)

    assert refused.value.problem is Problem.INVALID_REQUEST


def test_the_execution_name_is_the_same_for_the_same_object() -> None:
    record = s3_record("acme/a+b.pdf", eTag="e1", versionId="v1")
    first = objects_of_s3_event({"Records": [record]})[0]
    again = objects_of_s3_event(json.loads(json.dumps({"Records": [record]})))[0]

    assert first.execution_name == again.execution_name


def test_execution_names_differ_per_bucket_key_etag_and_version() -> None:
    variants = [
        dropped("acme/a.pdf", "e1"),
        dropped("acme/a.pdf", "e2"),
        dropped("acme/b.pdf", "e1"),
        DroppedObject(bucket="other", key="acme/a.pdf", etag="e1"),
        dropped("acme/a.pdf", "e1", version_id="v1"),
        dropped("acme/a.pdf", "e1", version_id="v2"),
    ]

    assert len({o.execution_name for o in variants}) == len(variants)


@pytest.mark.parametrize(
    "key",
    [
        "acme/a.pdf",
        "acme/" + "很长的文件夹名/" * 60 + "发票 (1) + [副本] #2.pdf",
        "acme/../~!@$%^&*()=:;'\",<>?.pdf",
    ],
)
def test_execution_names_keep_step_functions_limits(key: str) -> None:
    obj = dropped(key, "0123456789abcdef0123456789abcdef-12", version_id="x" * 200)

    assert EXECUTION_NAME.match(obj.execution_name), obj.execution_name


# --- recognize_object ----------------------------------------------------------------


def test_a_readable_invoice_is_read_by_the_embedded_engine_alone() -> None:
    obj = dropped()
    identifier = ScriptedIdentifier()
    files = MemoryFileStore({obj.key: invoice_pdf(recent_invoice(1))})

    state = recognize_object(obj, files, identifier, SETTINGS)

    (found,) = state.invoices
    assert found.status is InvoiceStatus.RECOGNIZED and found.invoice is not None
    assert found.invoice.invoice_key == read(invoice_pdf(recent_invoice(1))).invoice_key
    assert (state.mode, state.pending_count, state.wait_seconds) == ("import", 0, 0)
    assert identifier.submitted == []


def test_every_invoice_of_a_file_is_found_in_order() -> None:
    obj = dropped()
    files = MemoryFileStore({obj.key: invoice_pdf(recent_invoice(1), recent_invoice(2))})

    state = recognize_object(obj, files, None, SETTINGS)

    assert [f.page for f in state.invoices] == [1, 2]
    assert all(f.status is InvoiceStatus.RECOGNIZED for f in state.invoices)


def test_what_the_engine_answers_u_for_is_submitted_and_pending() -> None:
    obj = dropped("acme/photo.jpg")
    photo = qr_photo([], size=(400, 300))
    identifier = ScriptedIdentifier()

    state = recognize_object(obj, MemoryFileStore({obj.key: photo}), identifier, SETTINGS)

    assert identifier.submitted == [(photo, None)]  # an image: the whole file
    (found,) = state.invoices
    assert (found.status, found.identify_id, found.invoice) == (
        InvoiceStatus.RECOGNIZING,
        "id-1",
        None,
    )
    assert state.pending_count == 1
    assert state.wait_seconds == SETTINGS.identify_first_wait_seconds


def test_a_submission_the_provider_refuses_stays_u_with_its_reason() -> None:
    obj = dropped("acme/blank.pdf")
    identifier = ScriptedIdentifier(refuse="图片文件类型不支持")

    state = recognize_object(obj, MemoryFileStore({obj.key: blank_pdf(1)}), identifier, SETTINGS)

    (found,) = state.invoices
    assert found.status is InvoiceStatus.UNRECOGNISABLE
    assert found.reason == "图片文件类型不支持"
    assert found.identify_id is None
    assert (state.pending_count, state.wait_seconds) == (0, 0)


def test_without_a_provider_what_the_engine_cannot_read_stays_u() -> None:
    obj = dropped("acme/photo.jpg")
    files = MemoryFileStore({obj.key: qr_photo([], size=(400, 300))})

    state = recognize_object(obj, files, None, SETTINGS)

    (found,) = state.invoices
    assert found.status is InvoiceStatus.UNRECOGNISABLE
    assert found.reason and "QR" in found.reason
    assert state.pending_count == 0


def test_a_file_missing_from_the_bucket_fails_the_task() -> None:
    # FILE_UNREACHABLE is the pipeline's failure (recorded as failed, dead-lettered),
    # not an unrecognisable invoice.
    with pytest.raises(HubError) as failed:
        recognize_object(dropped(), MemoryFileStore(), ScriptedIdentifier(), SETTINGS)

    assert failed.value.problem is Problem.FILE_UNREACHABLE


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (random_bytes(4096), "not a pdf"),
        (b"", "empty"),
        (b"%PDF-1.7\n" + random_bytes(2048), "pdf"),
    ],
)
def test_a_file_nothing_can_read_is_one_u_and_the_provider_is_not_asked(
    data: bytes, words: str
) -> None:
    obj = dropped("acme/junk.bin")
    identifier = ScriptedIdentifier()

    state = recognize_object(obj, MemoryFileStore({obj.key: data}), identifier, SETTINGS)

    (found,) = state.invoices
    assert found.status is InvoiceStatus.UNRECOGNISABLE
    assert found.reason and words in found.reason.lower()
    assert state.pending_count == 0
    assert identifier.submitted == []


def test_a_file_over_the_limit_is_one_u() -> None:
    obj = dropped("acme/huge.pdf")
    files = MemoryFileStore({obj.key: b"%PDF-" + bytes(MAX_FILE_BYTES)})

    state = recognize_object(obj, files, None, SETTINGS)

    assert [f.status for f in state.invoices] == [InvoiceStatus.UNRECOGNISABLE]


def test_the_identify_prefix_needs_no_owner_and_only_recognizes() -> None:
    obj = dropped("identify/9f2c/a.pdf")
    files = MemoryFileStore({obj.key: invoice_pdf(recent_invoice(3))})

    state = recognize_object(obj, files, None, SETTINGS)

    assert state.mode == "identify"
    assert [f.status for f in state.invoices] == [InvoiceStatus.RECOGNIZED]


def test_the_recognize_answer_round_trips_through_json() -> None:
    obj = dropped("acme/photo.jpg", version_id="v1")
    files = MemoryFileStore({obj.key: qr_photo([recent_invoice(4).qr_payload()])})

    state = recognize_object(obj, files, None, SETTINGS)
    carried = json.loads(json.dumps(state.model_dump(mode="json")))

    assert Recognized.model_validate(carried) == state


# --- poll_pending --------------------------------------------------------------------


def pending_state(count: int = 1, polls: int = 0) -> Recognized:
    return Recognized(
        object=dropped("acme/photo.jpg"),
        invoices=[
            Found(status=InvoiceStatus.RECOGNIZING, identify_id=f"id-{n + 1}") for n in range(count)
        ],
        pending_count=count,
        polls=polls,
        wait_seconds=SETTINGS.wait_seconds(1),
    )


def test_a_finished_recognition_is_i_with_its_invoice() -> None:
    invoice = read(invoice_pdf(recent_invoice(5)))
    identifier = ScriptedIdentifier([done(invoice)])

    state = poll_pending(pending_state(), identifier, SETTINGS)

    (found,) = state.invoices
    assert (found.status, found.invoice, found.identify_id) == (
        InvoiceStatus.RECOGNIZED,
        invoice,
        None,
    )
    assert (state.polls, state.pending_count, state.wait_seconds) == (1, 0, 0)


def test_a_failed_recognition_is_u_with_the_providers_reason() -> None:
    identifier = ScriptedIdentifier([Poll(state=PollState.FAILED, reason="识别失败")])

    state = poll_pending(pending_state(), identifier, SETTINGS)

    (found,) = state.invoices
    assert (found.status, found.reason, found.identify_id) == (
        InvoiceStatus.UNRECOGNISABLE,
        "识别失败",
        None,
    )
    assert state.pending_count == 0


def test_a_pending_answer_keeps_waiting_longer() -> None:
    state = poll_pending(pending_state(), ScriptedIdentifier([PENDING]), SETTINGS)

    (found,) = state.invoices
    assert (found.status, found.identify_id) == (InvoiceStatus.RECOGNIZING, "id-1")
    assert (state.polls, state.pending_count) == (1, 1)
    assert state.wait_seconds == SETTINGS.wait_seconds(2) == 4


def test_after_the_last_poll_a_pending_invoice_is_u() -> None:
    last = SETTINGS.identify_poll_attempts
    state = pending_state(polls=last - 1)

    state = poll_pending(state, ScriptedIdentifier([PENDING]), SETTINGS)

    (found,) = state.invoices
    assert found.status is InvoiceStatus.UNRECOGNISABLE
    assert found.identify_id is None
    assert found.reason == f"the provider had no answer after {last} polls"
    assert (state.polls, state.pending_count, state.wait_seconds) == (last, 0, 0)


def test_a_provider_that_never_finishes_is_polled_a_bounded_number_of_times() -> None:
    """The state machine's loop: Pending? -> Wait(wait_seconds) -> Poll, until none is."""
    obj = dropped("acme/photo.jpg")
    identifier = ScriptedIdentifier([PENDING])
    files = MemoryFileStore({obj.key: qr_photo([], size=(400, 300))})
    state = recognize_object(obj, files, identifier, SETTINGS)
    waits = []
    for _ in range(100):
        if not state.pending_count:
            break
        waits.append(state.wait_seconds)
        state = poll_pending(state, identifier, SETTINGS)

    assert waits == SETTINGS.poll_waits == [2, 4, 8, 10]
    assert identifier.polled == ["id-1"] * SETTINGS.identify_poll_attempts
    assert [f.status for f in state.invoices] == [InvoiceStatus.UNRECOGNISABLE]


def test_pending_three_times_then_a_result_is_read_on_the_fourth_poll() -> None:
    invoice = read(invoice_pdf(recent_invoice(6)))
    identifier = ScriptedIdentifier([PENDING, PENDING, PENDING, done(invoice)])
    state = pending_state()
    while state.pending_count:
        state = poll_pending(state, identifier, SETTINGS)

    assert state.polls == 4
    assert [(f.status, f.invoice) for f in state.invoices] == [(InvoiceStatus.RECOGNIZED, invoice)]


def test_only_pending_invoices_are_polled() -> None:
    invoice = read(invoice_pdf(recent_invoice(7)))
    state = pending_state(count=2)
    state.invoices.insert(0, Found(status=InvoiceStatus.RECOGNIZED, invoice=invoice, page=1))
    state.invoices.append(Found(status=InvoiceStatus.UNRECOGNISABLE, reason="blank"))
    identifier = ScriptedIdentifier([done(invoice)])

    state = poll_pending(state, identifier, SETTINGS)

    assert identifier.polled == ["id-1", "id-2"]
    assert [f.status for f in state.invoices] == [
        InvoiceStatus.RECOGNIZED,
        InvoiceStatus.RECOGNIZED,
        InvoiceStatus.RECOGNIZED,
        InvoiceStatus.UNRECOGNISABLE,
    ]


def test_pending_invoices_without_a_provider_are_u() -> None:
    state = poll_pending(pending_state(count=2), None, SETTINGS)

    assert [f.status for f in state.invoices] == [InvoiceStatus.UNRECOGNISABLE] * 2
    assert state.pending_count == 0


# --- create_from_object --------------------------------------------------------------


def found_in(data: bytes) -> Found:
    return Found(status=InvoiceStatus.RECOGNIZED, invoice=read(data), page=1)


def test_a_recognized_invoice_is_created_under_the_keys_owner() -> None:
    store = MemoryInvoiceStore()
    obj = dropped("acme/2024/05/a.pdf")
    found = found_in(invoice_pdf(recent_invoice(8)))
    assert found.invoice is not None

    outcome = create_from_object(obj, 0, found, None, store, CompanySettings(), clock)

    assert outcome.outcome is OutcomeKind.CREATED
    assert (outcome.object, outcome.index, outcome.owner) == (obj, 0, "acme")
    assert outcome.invoice_key == found.invoice.invoice_key
    # the platform's code and the type's Chinese name
    assert outcome.invoice_type == InvoiceTypeName(code="10", name="增值税电子普通发票")
    assert outcome.invoice_type.name == found.invoice.invoice_type.value
    assert outcome.status is InvoiceStatus.AWAITING_CHECK  # no provider checked it
    assert outcome.at == NOW
    assert outcome.invoice_key is not None
    stored = store.get(outcome.invoice_key)
    assert stored is not None
    assert stored.user_code == "acme"
    assert stored.expense_id == outcome.expense_id
    assert stored.invoice.attachment_url == f"s3://{BUCKET}/acme/2024/05/a.pdf"


def test_a_verified_invoice_is_created_with_status_y() -> None:
    store = MemoryInvoiceStore()
    found = found_in(invoice_pdf(recent_invoice(9)))
    assert found.invoice is not None
    check = CheckResult(success=True, message="查验成功", checked_at=NOW, invoice=found.invoice)
    verification = Verification(
        invoice_key=found.invoice.invoice_key,
        status=InvoiceStatus.VERIFIED,
        source=Source.PROVIDER,
        check=check,
    )

    outcome = create_from_object(dropped(), 0, found, verification, store, CompanySettings(), clock)

    assert (outcome.outcome, outcome.status) == (OutcomeKind.CREATED, InvoiceStatus.VERIFIED)


def test_the_same_invoice_in_another_object_is_a_duplicate() -> None:
    store = MemoryInvoiceStore()
    pdf = invoice_pdf(recent_invoice(10))
    first = create_from_object(
        dropped("acme/a.pdf"), 0, found_in(pdf), None, store, CompanySettings(), clock
    )

    again = create_from_object(
        dropped("acme/copy of a.pdf"), 0, found_in(pdf), None, store, CompanySettings(), clock
    )

    assert first.outcome is OutcomeKind.CREATED
    assert again.outcome is OutcomeKind.DUPLICATE
    assert (again.status, again.message_code, again.message) == (
        InvoiceStatus.CHECK_FAILED,
        907002,  # an integer, as the API gives it
        "发票已导入",
    )
    assert again.expense_id == first.expense_id
    assert len(store) == 1


def test_a_create_task_retried_after_its_write_is_still_created() -> None:
    # Step Functions retries a task whose answer was lost (a timeout): the invoice is
    # this object's own, not a duplicate.
    store = MemoryInvoiceStore()
    obj, found = dropped(), found_in(invoice_pdf(recent_invoice(11)))
    first = create_from_object(obj, 0, found, None, store, CompanySettings(), clock)

    retried = create_from_object(obj, 0, found, None, store, CompanySettings(), clock)

    assert retried.outcome is OutcomeKind.CREATED
    assert (retried.expense_id, retried.status) == (first.expense_id, first.status)
    assert retried.message_code is None
    assert len(store) == 1


def test_the_same_invoice_twice_in_one_object_is_a_duplicate_the_second_time() -> None:
    store = MemoryInvoiceStore()
    obj, found = dropped(), found_in(invoice_pdf(recent_invoice(12)))

    kinds = [
        create_from_object(obj, i, found, None, store, CompanySettings(), clock).outcome
        for i in (0, 1)
    ]

    assert kinds == [OutcomeKind.CREATED, OutcomeKind.DUPLICATE]


def test_an_invoice_a_rule_refuses_is_rejected_and_not_stored() -> None:
    store = MemoryInvoiceStore()
    found = found_in(invoice_pdf(recent_invoice(13)))
    assert found.invoice is not None
    too_long = found.model_copy(
        update={"invoice": found.invoice.model_copy(update={"remark": "备" * 1025})}
    )

    outcome = create_from_object(dropped(), 0, too_long, None, store, CompanySettings(), clock)

    assert outcome.outcome is OutcomeKind.REJECTED
    assert outcome.status is InvoiceStatus.CHECK_FAILED
    assert outcome.message_code == 400109  # the catalogue's code, as for 907002
    assert outcome.message and outcome.message.startswith("备注超过1024个字符: ")
    assert "1025 characters" in outcome.message
    assert outcome.invoice_key == found.invoice.invoice_key
    assert len(store) == 0


def test_an_unsupported_currency_is_rejected_with_its_code() -> None:
    store = MemoryInvoiceStore()
    found = found_in(invoice_pdf(recent_invoice(14)))
    assert found.invoice is not None
    in_dollars = found.model_copy(
        update={"invoice": found.invoice.model_copy(update={"currency": "XXX"})}
    )

    outcome = create_from_object(dropped(), 0, in_dollars, None, store, CompanySettings(), clock)

    assert (outcome.outcome, outcome.message_code) == (OutcomeKind.REJECTED, 400110)
    assert outcome.message and outcome.message.startswith("币种不支持: ")


def test_an_invoice_that_failed_its_check_is_stored_and_rejected() -> None:
    store = MemoryInvoiceStore()
    found = found_in(invoice_pdf(recent_invoice(15)))
    assert found.invoice is not None
    refusal = Finding(
        check="seller_tax_id_is_valid",
        outcome=FindingOutcome.FAILED,
        reason="销售方纳税人识别号校验失败",
        code="105",
    )
    failed = Verification(
        invoice_key=found.invoice.invoice_key,
        status=InvoiceStatus.CHECK_FAILED,
        source=Source.OFFLINE_CHECKS,
        reason="seller_tax_id_is_valid: 销售方纳税人识别号校验失败",  # for the logs
        code="105",
        findings=[refusal],
    )

    outcome = create_from_object(dropped(), 0, found, failed, store, CompanySettings(), clock)

    assert outcome.outcome is OutcomeKind.REJECTED
    # The catalogue's code and message (INVOICE_IRREGULAR), then the finding: no rule name.
    # (an event's message_code is an integer, as the API's invoice_message_code)
    assert (outcome.status, outcome.message_code, outcome.message) == (
        InvoiceStatus.CHECK_FAILED,
        907009,
        "发票信息不规范: 销售方纳税人识别号校验失败",
    )
    assert outcome.invoice_key is not None
    stored = store.get(outcome.invoice_key)
    assert stored is not None and stored.status is InvoiceStatus.CHECK_FAILED
    assert (stored.message_code, stored.message) == ("907009", outcome.message)
    retried = create_from_object(dropped(), 0, found, failed, store, CompanySettings(), clock)
    assert (retried.outcome, retried.expense_id) == (OutcomeKind.REJECTED, outcome.expense_id)


# --- outcomes (record_outcome and its outbox: test_pipeline_outbox.py) ----------------


def an_outcome(index: int = 0, kind: OutcomeKind = OutcomeKind.CREATED) -> Outcome:
    return Outcome(
        outcome=kind,
        object=dropped(),
        index=index,
        owner="acme",
        invoice_key="03302210021168552329",
        expense_id=382680158296375431,
        status=InvoiceStatus.AWAITING_CHECK,
        at=NOW,
    )


def test_an_outcome_round_trips_as_the_erp_events_detail() -> None:
    outcome = an_outcome().model_copy(update={"message": "发票已导入"})

    detail = json.loads(outcome.model_dump_json())

    assert detail["outcome"] == "created"
    assert detail["object"] == {
        "bucket": BUCKET,
        "key": "acme/2024/05/a.pdf",
        "etag": "e1",
        "version_id": None,
    }
    assert detail["expense_id"] == 382680158296375431
    assert Outcome.model_validate(detail) == outcome
