"""An invoice to create, and what creating it answered (spec 001 ``票据创建``).

Every entry that creates invoices builds a ``CreateCommand`` (001's request, ocrSync,
the Maycur import, the S3 drop pipeline) and reads a ``CreateOutcome``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fapiao.catalogue.errors import Family, Problem, invoice_message, lookup
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.signature import SignatureCheck
from fapiao.model.stored import Provenance

__all__ = ["CreateCommand", "CreateOutcome"]


@dataclass(frozen=True)
class CreateCommand:
    biz_id: str
    user_code: str
    recognition_result: int  # receipt_ocr.result
    invoices: Sequence[Invoice]
    check: CheckResult | None
    # The one-call endpoints (000 ocrSync, 002 import) and the pipeline verify
    # themselves; their invoice may still await its check (C) or have failed it without
    # a check result (F): ``cause`` says why (a status-C or -F catalogue problem), and
    # ``cause_detail`` adds the fields or the checker's words.
    awaiting_check: bool = False
    cause: Problem | None = None
    cause_detail: str | None = None
    bind_to: int | None = None  # an existing expense to add the invoice to (002 expenseCode)
    employee_id: str | None = None
    # The check of the file's signatures (None: the invoice came without its file, as
    # 001's own request does): stored, and refused by ``verify_file_signatures``.
    signature: SignatureCheck | None = None
    provenance: Provenance | None = None  # how the hub read it (None: a client's reading)
    # Who decided the verification given (``fapiao.results.Source``'s value; None: 001's
    # own receipt_check, or none) and whether it reached the provider: the first entry of
    # the record's check history.
    checked_by: str | None = None
    paid: bool = False

    @property
    def claimed(self) -> bool:
        """001's own request: the reading and its receipt_check are what a client says,
        so the rules refuse what no invoice could say (a future date, a negative blue
        total, an amount beyond any invoice) and compare the two. The one-call endpoints
        and the pipeline read the invoice themselves and verified it (``awaiting_check``):
        the offline checks and the verifier have judged it already."""
        return not self.awaiting_check


@dataclass(frozen=True)
class CreateOutcome:
    """What 001 answers in ``data``: the expense, the status and any message."""

    expense_id: int | None
    status: InvoiceStatus
    invoice_key: str
    problem: Problem | None = None
    detail: str | None = None  # a message more specific than the catalogue's

    @property
    def message(self) -> str | None:
        """The catalogue's message for the problem, then the detail (never the detail
        alone: a client reads the code's words first)."""
        if self.problem is None:
            return None
        return invoice_message(self.problem, self.detail)[1]

    @property
    def message_code(self) -> str | None:
        return None if self.problem is None else lookup(Family.PLATFORM_INVOICE, self.problem).code
