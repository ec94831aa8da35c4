"""The review queue <-> its wire models (``fapiao.wire.review``), in 001's field names.

An invoice's fields are shown, and set by a fix, by the names of 001's
``receipt_ocr.invoices[]``: ``ocr_fields`` writes them through 001's own mapper
(``to_ocr_invoice``); ``parse_fields`` reads values with the types of 001's wire model
(money ``Decimal``, Y/N flags, text) and checks dates (yyyyMMdd or ISO) and times
(HH:mm) as 001's mapper reads them; ``apply_fields`` maps the result back to the
canonical invoice through 001's mapper (``invoice_from_ocr_invoice``), so that "what 001
calls ``buyer_bank``" and "what the hub stores as ``buyer_account``" are one fact.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError, create_model
from pydantic.fields import FieldInfo

from fapiao.catalogue.errors import Family, HubError, Problem, by_code, invoice_message
from fapiao.dates import parse_date, parse_hhmm, to_yyyymmdd
from fapiao.mapping.invoice_create import (
    OCR_NAMES,
    invoice_from_ocr_invoice,
    to_ocr_invoice,
    to_receipt_check,
)
from fapiao.mapping.ocr_sync import to_ocr_sync_item
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.review import OpenOutcome, ReviewEntry, ReviewOutcome, review_id
from fapiao.model.status import InvoiceTypeName
from fapiao.model.stored import CheckRecord, Correction, RecheckAsked, StoredInvoice, Transition
from fapiao.wire.common import WireModel
from fapiao.wire.invoice_create import OcrInvoice
from fapiao.wire.review import (
    InvoiceDetailItem,
    ReviewCheck,
    ReviewCorrection,
    ReviewDetail,
    ReviewDisagreement,
    ReviewItem,
    ReviewOutcomeData,
    ReviewRecheck,
    ReviewRecheckState,
    ReviewTransition,
)

__all__ = [
    "SETTABLE_FIELDS",
    "FieldChange",
    "apply_fields",
    "field_text",
    "invoice_detail_item",
    "ocr_fields",
    "parse_fields",
    "review_detail",
    "review_item",
    "review_outcome",
]

# Where the file lies and how the invoice sits on it: not something to correct by hand.
_PLACEMENT = ("attachment_url", "image_size", "region", "direction")
# Every other field of receipt_ocr.invoices[], but the legs of an itinerary (a list).
SETTABLE_FIELDS: tuple[str, ...] = tuple(
    name for name in OcrInvoice.model_fields if name not in (*_PLACEMENT, "flight_detail")
)


def _optional(field: FieldInfo) -> Any:
    annotation: Any = field.annotation
    return annotation | None


# receipt_ocr.invoices[]'s fields with their types and validators, each optional: a fix
# reads its values as 001 reads them.
_SetFields: type[WireModel] = create_model(
    "SetFields",
    __base__=WireModel,
    **{  # type: ignore[call-overload]
        name: (_optional(field), FieldInfo.merge_field_infos(field, default=None))
        for name, field in OcrInvoice.model_fields.items()
        if name in SETTABLE_FIELDS
    },
)
_DATES = ("receipt_date",)
_TIMES = ("start_time", "end_time", "start_datetime")
_S3 = "s3://"


@dataclass(frozen=True)
class FieldChange:
    """One 001 field whose value a fix changes, as text (None: absent)."""

    field: str
    old: str | None
    new: str | None


# --- 001 fields of an invoice ---------------------------------------------------------------


def ocr_fields(invoice: Invoice) -> dict[str, Any]:
    """The invoice by 001's ``receipt_ocr.invoices[]`` names (every field, None where it
    has none). 001 requires ``attachment_url`` and ``total_amount``; an invoice read too
    incompletely has no total, and is written with it null."""
    placeholder = {
        name: value
        for name, value in (("attachment_url", ""), ("total_amount", Decimal(0)))
        if getattr(invoice, name) is None
    }
    fields = to_ocr_invoice(invoice.model_copy(update=placeholder)).to_wire()
    fields.update(dict.fromkeys(placeholder))
    return fields


def _shown(invoice: Invoice) -> dict[str, Any]:
    """What was read, by 001's names: the fields that have a value."""
    return {
        name: value
        for name, value in ocr_fields(invoice).items()
        if value is not None and name not in _PLACEMENT
    }


def field_text(value: Any) -> str | None:
    """A field's value as a correction keeps it: money with its scale, flags Y/N."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, default=str)


def _refuse(detail: str) -> HubError:
    return HubError(Problem.INVALID_REQUEST, detail)


def parse_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """A fix's ``set``, read as 001 reads ``receipt_ocr.invoices[]``: ``HubError``
    INVALID_REQUEST naming an unknown field or a value that is not its type."""
    unknown = sorted(name for name in values if name not in SETTABLE_FIELDS)
    if unknown:
        raise _refuse(
            f"unknown field {', '.join(unknown)}: set 001 receipt_ocr.invoices[] fields "
            f"({', '.join(SETTABLE_FIELDS)})"
        )
    try:
        read = _SetFields.model_validate(values)
    except ValidationError as error:
        raise _refuse(
            "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
                for e in error.errors()[:10]
            )
        ) from None
    parsed = {name: getattr(read, name) for name in values}
    try:
        for name in _DATES:  # checked, and kept as 001 writes it
            if parsed.get(name) is not None:
                parsed[name] = to_yyyymmdd(_required(parse_date(parsed[name])))
        for name in _TIMES:
            if name in parsed:
                parsed[name] = parse_hhmm(parsed[name])
    except ValueError as error:  # InvalidDate, a malformed time
        raise _refuse(f"{name}: {error}") from None
    return parsed


def _required(day: dt.date | None) -> dt.date:
    if day is None:
        raise ValueError("empty date")
    return day


def _canonical(fields: Mapping[str, Any]) -> Invoice:
    """001 fields as a canonical invoice, by 001's mapper (its two required fields given
    placeholders where absent, and taken out again)."""
    missing = {
        name: value
        for name, value in (("attachment_url", ""), ("total_amount", Decimal(0)))
        if fields.get(name) is None
    }
    try:
        item = OcrInvoice.model_validate({**fields, **missing})
        invoice = invoice_from_ocr_invoice(item)
    except ValidationError as error:
        where = ".".join(str(p) for p in error.errors()[0].get("loc", ()))
        raise _refuse(f"{where}: {error.errors()[0].get('msg', 'invalid')}") from None
    return invoice.model_copy(update=dict.fromkeys(missing))


def apply_fields(
    invoice: Invoice | None, values: Mapping[str, Any]
) -> tuple[Invoice, list[FieldChange]]:
    """The invoice with ``values`` (parsed by ``parse_fields``) set, and what changed.

    Fields 001 does not carry (line items, addresses and phones ...) are kept as stored;
    with no invoice (a file that was not read) the values are the whole invoice, and
    ``invoice_type`` is required.
    """
    before = {} if invoice is None else ocr_fields(invoice)
    after = {**before, **values}
    if after.get("invoice_type") is None:
        raise _refuse("invoice_type: required (001 platform type code, e.g. 10)")
    changes = [  # by value: 113 and 113.00 are one amount
        FieldChange(name, field_text(before.get(name)), field_text(after.get(name)))
        for name in values
        if before.get(name) != after.get(name)
    ]
    corrected = _canonical(after)
    if invoice is None:
        return corrected, changes
    unchanged = _canonical(before)
    updates = {
        name: getattr(corrected, name)
        for name in Invoice.model_fields
        if getattr(corrected, name) != getattr(unchanged, name)
    }
    merged = Invoice.model_validate({**invoice.model_dump(), **updates})
    return merged, changes


# --- entries of the queue -------------------------------------------------------------------


def _code(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _object_key(attachment_url: str | None) -> str | None:
    """The drop bucket's key of an invoice that came from a dropped file."""
    if not attachment_url or not attachment_url.startswith(_S3):
        return None
    _, _, key = attachment_url[len(_S3) :].partition("/")
    return key or None


def _outcome_message(entry: OpenOutcome) -> tuple[int, str]:
    """A file's invoice that was not stored, in the catalogue's words: its outcome's own
    code and message (the catalogue's), else 907006 "cannot be recognised"."""
    outcome = entry.outcome
    if outcome.message_code is not None:
        return outcome.message_code, outcome.message or _catalogue_message(outcome.message_code)
    return invoice_message(Problem.UNRECOGNISABLE, outcome.message)


def _catalogue_message(code: int) -> str:
    for family in (Family.PLATFORM_INVOICE, Family.PLATFORM):
        try:
            return by_code(family, code).message
        except LookupError:
            continue
    return invoice_message(Problem.UNRECOGNISABLE)[1]


def review_item(entry: ReviewEntry) -> ReviewItem:
    """One entry of the queue as the API lists it."""
    if isinstance(entry, StoredInvoice):
        return ReviewItem(
            id=entry.invoice_key,
            status=entry.status,
            message_code=_code(entry.message_code),
            message=entry.message,
            key=_object_key(entry.invoice.attachment_url),
            index=None,
            invoice_key=entry.invoice_key,
            fields=_shown(entry.invoice),
            owner=entry.user_code,
            changed_at=entry.changed_at,
            type_name=InvoiceTypeName.of(entry.invoice.invoice_type).name,
            file_name=_file_name(_object_key(entry.invoice.attachment_url)),
        )
    code, message = _outcome_message(entry)
    outcome = entry.outcome
    return ReviewItem(
        id=review_id(entry),
        status=InvoiceStatus.UNRECOGNISABLE,  # the queue's word for a file's unstored invoice
        message_code=code,
        message=message,
        key=outcome.object.key,
        index=outcome.index,
        invoice_key=outcome.invoice_key,
        fields={}
        if outcome.invoice_type is None or outcome.invoice_type.code is None
        else {"invoice_type": outcome.invoice_type.code},
        owner=outcome.owner,
        changed_at=entry.changed_at,
        type_name=None if outcome.invoice_type is None else outcome.invoice_type.name,
        file_name=_file_name(outcome.object.key),
    )


def _correction(correction: Correction) -> ReviewCorrection:
    return ReviewCorrection.model_validate(correction.model_dump())


def _recheck(asked: RecheckAsked) -> ReviewRecheck:
    return ReviewRecheck.model_validate(asked.model_dump())


def _transition(transition: Transition) -> ReviewTransition:
    return ReviewTransition(
        status=transition.status,
        at=transition.at,
        message_code=_code(transition.message_code),
        message=transition.reason,
    )


def _file_name(key: str | None) -> str | None:
    return None if not key else key.rsplit("/", 1)[-1] or None


def _ocr_name(field: str) -> str:
    return OCR_NAMES.get(field, field)


def _sources(record: StoredInvoice) -> dict[str, list[str]]:
    """Where each field came from, by 001's names; a field corrected by hand says so first."""
    provenance = record.provenance
    sources = (
        {}
        if provenance is None
        else {_ocr_name(name): list(found) for name, found in provenance.sources.items()}
    )
    for correction in record.corrections:
        earlier = [s for s in sources.get(correction.field, []) if s != "correction"]
        sources[correction.field] = ["correction", *earlier]
    return sources


def _check(record: CheckRecord) -> ReviewCheck:
    return ReviewCheck(
        at=record.at,
        status=record.status,
        message_code=_code(record.message_code),
        message=record.message,
        source=record.source,
        paid=record.paid,
    )


def review_detail(
    entry: ReviewEntry, recheck: tuple[bool, str | None] | None = None
) -> ReviewDetail:
    """An entry with its history (see ``ReviewDetail``); ``recheck``: whether a re-check
    by hand can be asked now, and why not."""
    item = review_item(entry).model_dump()
    state = None if recheck is None else ReviewRecheckState(allowed=recheck[0], reason=recheck[1])
    if isinstance(entry, StoredInvoice):
        provenance = entry.provenance
        return ReviewDetail(
            **item,
            expense_id=entry.expense_id,
            check=None if entry.check is None else to_receipt_check(entry.check),
            transitions=[_transition(t) for t in entry.transitions],
            corrections=[_correction(c) for c in entry.corrections],
            rechecks=[_recheck(r) for r in entry.rechecks_asked],
            sources=_sources(entry),
            disagreements=[]
            if provenance is None
            else [
                ReviewDisagreement(field=_ocr_name(d.field), readings=d.readings)
                for d in provenance.disagreements
            ],
            checks=[_check(c) for c in entry.checks],
            signature=entry.signature,
            recheck=state,
        )
    return ReviewDetail(
        **item, resolved_by=entry.resolved_by, signature=entry.outcome.signature, recheck=state
    )


def review_outcome(entry_id: str, outcome: ReviewOutcome) -> ReviewOutcomeData:
    return ReviewOutcomeData(
        id=entry_id,
        status=outcome.status,
        message_code=_code(outcome.message_code),
        message=outcome.message,
        invoice_key=outcome.invoice_key,
        expense_id=outcome.expense_id,
    )


# --- 发票明细查询 ---------------------------------------------------------------------------


def invoice_detail_item(record: StoredInvoice) -> InvoiceDetailItem:
    """000's element for a stored invoice, with its corrections."""
    item = to_ocr_sync_item(record.invoice, record.check, record.status)
    return InvoiceDetailItem(
        ocr_result=item.ocr_result,
        check_result=item.check_result,
        corrections=[_correction(c) for c in record.corrections],
        signature=record.signature,
    )
