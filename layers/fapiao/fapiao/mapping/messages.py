"""The one vocabulary every answer, Maycur remark and event says an outcome in: the error
catalogue's code and Chinese message, then the detail (the fields, the checker's words).

An invoice's outcome is ``fapiao.catalogue.errors.invoice_message`` (907xxx); a rule's
refusal of a request is the platform's 400xxx row. Internal names (the offline checks'
function names, ``Problem`` values, Step Functions error names) never reach these texts:
they stay in the logs.
"""

from __future__ import annotations

from fapiao.catalogue.errors import Family, HubError, Problem, invoice_message, lookup
from fapiao.results import FileInvoice

__all__ = ["file_invoice_message", "refusal_message"]


def refusal_message(refused: HubError) -> tuple[int, str]:
    """A refusal in the catalogue's words (400107 开票日期必填 …), then its detail (the
    field). A problem the platform has no row for is said as 400000 请求参数错误."""
    try:
        entry = lookup(Family.PLATFORM, refused.problem)
    except LookupError:
        entry = lookup(Family.PLATFORM, Problem.INVALID_REQUEST)
    detail = refused.detail
    return int(entry.code), entry.message if not detail else f"{entry.message}: {detail}"


def file_invoice_message(item: FileInvoice) -> tuple[int | None, str | None]:
    """Why an invoice read from a file has its status: 907006 and the reason for what
    could not be read, the verification's cause and detail otherwise (907008 too old,
    907010 and the fields to complete, …); nothing for Y."""
    verification = item.verification
    if verification is None:
        return invoice_message(Problem.UNRECOGNISABLE, item.recognized.reason)
    cause = verification.cause
    if cause is None:
        return None, None
    return invoice_message(cause, verification.detail)
