"""What the use cases that read a file answer: per invoice, what was read in it and what
the verifier said, and what became of it.

The mappers (``fapiao.mapping``) turn these into 000's and 002's responses. They sit
above the model because they carry a recognition's reading (``fapiao.recognize``) and a
verification (``Verification``, still defined in ``fapiao.providers.verifier``; the
import contracts in pyproject.toml name that exception).
"""

from __future__ import annotations

from dataclasses import dataclass

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model import InvoiceStatus
from fapiao.model.create import CreateOutcome
from fapiao.model.parties import Employee
from fapiao.providers.verifier import Verification
from fapiao.recognize.result import RecognisedInvoice

__all__ = ["FileInvoice", "ImportedInvoice", "OcrSyncResult"]


@dataclass(frozen=True)
class FileInvoice:
    """One invoice of a file: what was read, and what the verifier said (None for U)."""

    recognised: RecognisedInvoice
    verification: Verification | None

    @property
    def status(self) -> InvoiceStatus:
        if self.verification is None:
            return self.recognised.status
        return self.verification.status


@dataclass(frozen=True)
class OcrSyncResult:
    """One element of 000's ``data``: the invoice, and its expense when one was asked."""

    item: FileInvoice
    created: CreateOutcome | None = None


@dataclass(frozen=True)
class ImportedInvoice:
    """One invoice of a Maycur import (002): stored (``outcome`` without a problem), a
    duplicate (``outcome.problem`` DUPLICATE_INVOICE, nothing written), or ``refused`` by
    a rule (its ``HubError``; nothing written, ``outcome`` None)."""

    item: FileInvoice
    outcome: CreateOutcome | None
    employee: Employee
    refused: HubError | None = None

    @property
    def duplicate(self) -> bool:
        return self.outcome is not None and self.outcome.problem is Problem.DUPLICATE_INVOICE

    @property
    def stored(self) -> bool:
        return self.outcome is not None and not self.duplicate
