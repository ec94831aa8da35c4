"""The ERP's events: one type per outcome, a stable id, and every event valid against the
JSON Schema that /erp/schema.json serves."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from fapiao.model import InvoiceStatus
from fapiao.model.erp import (
    EVENT_TYPES,
    ErpEvent,
    erp_event_schema,
    event_of_outcome,
    event_of_status_change,
)
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.signature import SignatureCheck
from fapiao.model.status import InvoiceTypeName, StatusChange

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 12, 1, 9, 30, 5, tzinfo=SHANGHAI)
OBJ = DroppedObject(bucket="fapiao-drop", key="acme/inbox/a.pdf", etag="e1", version_id="v1")
VAT = InvoiceTypeName(code="10", name="增值税电子普通发票")


def outcome(kind: OutcomeKind, status: InvoiceStatus | None, code: int | None = None) -> Outcome:
    return Outcome(
        outcome=kind,
        object=OBJ,
        owner="acme",
        invoice_key="033022100211-68552329",
        invoice_type=VAT,
        expense_id=7,
        status=status,
        message=None if code is None else "某消息",
        message_code=code,
        signature=SignatureCheck.model_validate({"state": "absent"}),
        at=AT,
    )


def change(previous: InvoiceStatus, status: InvoiceStatus, code: int | None = None) -> StatusChange:
    return StatusChange(
        invoice_key="03302210021168552329",
        owner="acme",
        expense_id=7,
        previous_status=previous,
        status=status,
        message_code=code,
        invoice_type=VAT,
        at=AT,
    )


CASES = [
    (event_of_outcome(outcome(OutcomeKind.CREATED, InvoiceStatus.VERIFIED)), "invoice.created"),
    (
        event_of_outcome(outcome(OutcomeKind.CREATED, InvoiceStatus.AWAITING_CHECK, 907011)),
        "invoice.created",
    ),
    (
        event_of_outcome(outcome(OutcomeKind.CREATED, InvoiceStatus.AWAITING_CHECK, 907010)),
        "invoice.awaiting_completion",
    ),
    (event_of_outcome(outcome(OutcomeKind.DUPLICATE, None, 907002)), "invoice.duplicate"),
    (
        event_of_outcome(outcome(OutcomeKind.REJECTED, InvoiceStatus.CHECK_FAILED, 907001)),
        "invoice.rejected",
    ),
    (
        event_of_outcome(outcome(OutcomeKind.UNRECOGNISABLE, InvoiceStatus.UNRECOGNISABLE, 907009)),
        "invoice.unrecognisable",
    ),
    (event_of_outcome(outcome(OutcomeKind.FAILED, None, 500000)), "invoice.failed"),
    (
        event_of_outcome(outcome(OutcomeKind.IDENTIFIED, InvoiceStatus.RECOGNIZED)),
        "invoice.identified",
    ),
    (
        event_of_status_change(change(InvoiceStatus.AWAITING_CHECK, InvoiceStatus.VERIFIED)),
        "invoice.status_changed",
    ),
    (
        event_of_status_change(change(InvoiceStatus.UNRECOGNISABLE, InvoiceStatus.VERIFIED)),
        "invoice.created",
    ),
    (
        event_of_status_change(
            change(InvoiceStatus.UNRECOGNISABLE, InvoiceStatus.CHECK_FAILED, 907001)
        ),
        "invoice.rejected",
    ),
]


@pytest.mark.parametrize(("event", "type_"), CASES)
def test_each_change_has_its_type_and_validates_against_the_schema(
    event: ErpEvent, type_: str
) -> None:
    assert event.type == type_
    assert event.type == f"invoice.{event.data.outcome.value}"
    body = json.loads(event.body())
    jsonschema.validate(body, erp_event_schema())
    assert set(body) == {"id", "type", "timestamp", "data"}
    assert body["data"]["message_code"] is None or isinstance(body["data"]["message_code"], int)
    assert ErpEvent.model_validate_json(event.body()) == event


def test_every_type_appears_and_the_schema_refuses_what_is_not_an_event() -> None:
    assert {type_ for _, type_ in CASES} == set(EVENT_TYPES)
    schema = erp_event_schema()
    good = json.loads(CASES[0][0].body())
    for bad in (
        {**good, "type": "invoice.paid"},
        {k: v for k, v in good.items() if k != "id"},
        {**good, "data": {**good["data"], "message_code": "907001"}},
        {**good, "extra": 1},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_the_id_is_stable_for_the_same_change_and_differs_for_another() -> None:
    first = event_of_outcome(outcome(OutcomeKind.CREATED, InvoiceStatus.VERIFIED))
    again = event_of_outcome(outcome(OutcomeKind.CREATED, InvoiceStatus.VERIFIED))
    assert first.id == again.id and first.id.startswith("evt_") and len(first.id) == 30
    other_index = event_of_outcome(
        outcome(OutcomeKind.CREATED, InvoiceStatus.VERIFIED).model_copy(update={"index": 1})
    )
    later = event_of_outcome(
        outcome(OutcomeKind.CREATED, InvoiceStatus.VERIFIED).model_copy(
            update={"at": AT + dt.timedelta(seconds=1)}
        )
    )
    assert len({first.id, other_index.id, later.id}) == 3
    status = event_of_status_change(change(InvoiceStatus.AWAITING_CHECK, InvoiceStatus.VERIFIED))
    assert (
        status.id
        == event_of_status_change(change(InvoiceStatus.AWAITING_CHECK, InvoiceStatus.VERIFIED)).id
    )
    assert status.id not in {first.id, later.id}
