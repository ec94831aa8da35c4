"""The S3 drop pipeline's domain (statemachines/ingest.asl.json): the object dropped, what
was read in it, and the terminal outcome of each of its invoices.

An object dropped into the bucket is named by its key, ``<user_code>/<any path>/<file>``:
the first segment says whose invoices they are. The state machine carries these models
between its tasks as JSON, so each of them round-trips through JSON exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from fapiao.basemodel import HubModel
from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType, UnknownTypeCode, from_platform_code
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.signature import SignatureCheck
from fapiao.model.status import InvoiceTypeName
from fapiao.model.stored import Provenance

__all__ = [
    "DroppedObject",
    "Execution",
    "ExecutionStatus",
    "Found",
    "Outcome",
    "OutcomeKind",
    "Publication",
    "Recognized",
    "Recorded",
]


class _Json(HubModel):
    model_config = ConfigDict(extra="forbid")


class DroppedObject(_Json):
    """One S3 object, as a version: the same object dropped twice is one object."""

    bucket: str = Field(description="the drop bucket")
    key: str = Field(description="the object's key: `<user_code>/<any path>/<file>`")
    etag: str = Field("", description="the object's ETag, without quotes")
    version_id: str | None = Field(
        None, description="the object's version (null only in an unversioned bucket)"
    )

    @property
    def object_id(self) -> str:
        return f"{self.bucket}/{self.key}#{self.version_id or self.etag}"

    @property
    def owner(self) -> str:
        """The user code the key names (its first segment)."""
        head, _, rest = self.key.partition("/")
        if not head or not rest:
            raise HubError(Problem.INVALID_REQUEST, "the key names no owner: <user_code>/...")
        return head

    @property
    def execution_name(self) -> str:
        """Step Functions names are unique per state machine: a repeated event (S3 may
        deliver one twice) starts nothing new."""
        return "obj-" + hashlib.sha256(self.object_id.encode()).hexdigest()[:60]


class Found(_Json):
    """One invoice of the object, as far as it has been read."""

    status: InvoiceStatus
    invoice: Invoice | None = None
    reason: str | None = None
    page: int | None = None
    identify_id: str | None = None  # the provider is still reading it
    signature: SignatureCheck | None = None  # the check of the file's signatures
    provenance: Provenance | None = None  # where each field came from


class Recognized(_Json):
    """The recognize task's answer, and the poll task's, for the state machine."""

    object: DroppedObject
    mode: str = "import"  # or "identify": recognize only
    invoices: list[Found] = Field(default_factory=list)
    pending_count: int = 0
    polls: int = 0
    wait_seconds: int = 0


class OutcomeKind(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"  # a rule refused it, or its check failed (status F)
    UNRECOGNISABLE = "unrecognisable"
    FAILED = "failed"  # the pipeline itself failed; the object is in the dead-letter queue
    IDENTIFIED = "identified"  # identify mode: recognized, not imported


class Outcome(_Json):
    """A terminal outcome of one invoice of an object: the ERP event's ``detail``.

    ``message_code`` and ``message`` are the error catalogue's (the code an API answer
    gives as ``invoice_message_code``, its Chinese message and the detail), never a rule's
    or an error's internal name: those stay in the logs. Each field's description is the
    README's event schema (``fapiao.local.readme``).
    """

    outcome: OutcomeKind = Field(description="what became of the invoice")
    object: DroppedObject = Field(description="the S3 object version it was read from")
    index: int = Field(0, description="which invoice of the object (0, 1, …)")
    owner: str | None = Field(None, description="the user code the key names")
    invoice_key: str | None = Field(None, description="the invoice's code and number")
    invoice_type: InvoiceTypeName | None = Field(
        None, description="the platform's type code (000/001) and the type's Chinese name"
    )
    expense_id: int | None = Field(None, description="the expense the invoice belongs to")
    status: InvoiceStatus | None = Field(
        None, description="the invoice's status, as 000/001's `invoice_status`"
    )
    message: str | None = Field(
        None,
        description="the catalogue's Chinese message, then the detail (the fields, the "
        "checker's words); null for an invoice created without a remark (Y)",
    )
    message_code: int | None = Field(
        None,
        description="the catalogue's code (907xxx, 400xxx, 500000), an integer as 000/001's "
        "`invoice_message_code`",
    )
    signature: SignatureCheck | None = Field(
        None,
        description="the check of the file's signatures (README: File signatures): `state` "
        "valid, tampered, modified_after_signing, absent or unverifiable; `issuer_kind` "
        "tax_bureau, tax_bureau_test, commercial_ca or unknown; null when the file was not read",
    )
    at: dt.datetime = Field(description="when the outcome was decided (Asia/Shanghai)")

    @field_validator("invoice_type", mode="before")
    @classmethod
    def _type_of_an_older_item(cls, value: Any) -> Any:
        """Items recorded before the type was an object named it by its Chinese name."""
        if isinstance(value, str):
            try:
                return InvoiceTypeName.of(InvoiceType(value))
            except ValueError:
                pass
            try:
                return InvoiceTypeName.of(from_platform_code(value))
            except UnknownTypeCode:
                return None
        return value

    @field_validator("message_code", mode="before")
    @classmethod
    def _code_of_an_older_item(cls, value: Any) -> Any:
        """Items recorded before the code was an integer held it as text, and a failure's
        Step Functions error name: a name is no catalogue code."""
        if isinstance(value, str):
            return int(value) if value.isdigit() else None
        return value


@dataclass(frozen=True)
class Recorded:
    """The outcome that counts for an invoice of an object (the first one recorded), and
    whether the ERP has been told of it."""

    outcome: Outcome
    published: bool
    # this record wrote it, with the claim to publish it (``record``'s ``claim_until``)
    claimed: bool = False


class Publication(StrEnum):
    """Who publishes a kept outcome (``OutcomeOutbox.claim_publication``)."""

    CLAIMED = "claimed"  # this run: nobody published it, nobody else is at it
    HELD = "held"  # another run is publishing it now (its claim has not expired)
    DONE = "done"  # published already, or replaced by a later outcome


class ExecutionStatus(StrEnum):
    """Step Functions' execution statuses (DescribeExecution ``status``)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"  # failed, and a redrive was asked for: not over


@dataclass(frozen=True)
class Execution:
    """One execution of the ingest state machine as far as it has run: ``output`` (the
    state machine's JSON output) once SUCCEEDED; ``error``/``cause`` as Step Functions
    reports a failure."""

    status: ExecutionStatus
    output: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None
