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

from pydantic import BaseModel, ConfigDict, Field

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model import Invoice, InvoiceStatus

__all__ = [
    "DroppedObject",
    "Execution",
    "ExecutionStatus",
    "Found",
    "Outcome",
    "OutcomeKind",
    "Recognized",
    "Recorded",
]


class _Json(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DroppedObject(_Json):
    """One S3 object, as a version: the same object dropped twice is one object."""

    bucket: str
    key: str
    etag: str = ""
    version_id: str | None = None

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
    """A terminal outcome of one invoice of an object: the ERP event's ``detail``."""

    outcome: OutcomeKind
    object: DroppedObject
    index: int = 0  # which invoice of the object
    owner: str | None = None
    invoice_key: str | None = None
    invoice_type: str | None = None
    expense_id: int | None = None
    status: InvoiceStatus | None = None
    message: str | None = None
    message_code: str | None = None
    at: dt.datetime


@dataclass(frozen=True)
class Recorded:
    """The outcome that counts for an invoice of an object (the first one recorded), and
    whether the ERP has been told of it."""

    outcome: Outcome
    published: bool


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
