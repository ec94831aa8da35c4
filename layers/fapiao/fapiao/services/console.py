"""Use cases of the review console (issue 18) beyond the review API: the overview above
the queue, and an entry's file as pictures.

The overview: how many entries wait in each state of the review list (U, F, C, counted
by the queue's indexes), the paid checks of today and the outcomes of dropped files per
day over the last ``DAYS`` days (the daily counters, ``fapiao.store.stats``).

An entry's file: the file the invoice was read from, when the hub keeps it (a key in the
drop bucket: every dropped file, and ocrSync's keys; not a client's URL nor an upload
that came as base64, which the hub read and did not keep), drawn page by page
(``fapiao.recognize.pages``).
"""

from __future__ import annotations

import datetime as dt

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model import InvoiceStatus
from fapiao.model.overview import CHARTED, DayOutcomes, Overview
from fapiao.model.review import OpenOutcome, ReviewEntry
from fapiao.ports import OUTCOME_COUNTS, PAID_CHECKS, DailyStats, FileStore, ReviewQueue
from fapiao.recognize.pages import PagePicture, page_picture
from fapiao.settings.limits import MAX_FILE_BYTES

__all__ = ["DAYS", "entry_file_key", "entry_page", "overview"]

DAYS = 30
_QUEUE_STATES = (
    InvoiceStatus.UNRECOGNISABLE,
    InvoiceStatus.CHECK_FAILED,
    InvoiceStatus.AWAITING_CHECK,
)


def overview(queue: ReviewQueue, stats: DailyStats, today: dt.date) -> Overview:
    days = [today - dt.timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
    counted = stats.days(OUTCOME_COUNTS, days)
    paid = stats.days(PAID_CHECKS, [today])[today]
    return Overview(
        states={status: queue.count(status) for status in _QUEUE_STATES},
        paid_checks_today=max(0, paid.get("calls", 0)),
        outcomes=[
            DayOutcomes(day, {kind: max(0, counted[day].get(kind.value, 0)) for kind in CHARTED})
            for day in days
        ],
    )


def entry_file_key(entry: ReviewEntry, drop_bucket: str) -> str | None:
    """The drop-bucket key of the file the entry was read from; None when the hub keeps
    no copy of it (a client's URL, a base64 upload)."""
    if isinstance(entry, OpenOutcome):
        dropped = entry.outcome.object
        return dropped.key if dropped.bucket == drop_bucket else None
    reference = (entry.invoice.attachment_url or "").strip()
    prefix = f"s3://{drop_bucket}/"
    if reference.startswith(prefix):
        return reference[len(prefix) :]
    if not reference or ":" in reference.split("/", 1)[0] or reference == "base64":
        return None  # a URL of the client's, or no file
    return reference.lstrip("/")  # ocrSync's attachment_url: a key of the drop bucket


def entry_page(entry: ReviewEntry, number: int, files: FileStore, drop_bucket: str) -> PagePicture:
    """Page ``number`` of the entry's file as a picture; NOT_FOUND when the hub keeps no
    copy of the file (or it is gone), or it has no such page."""
    key = entry_file_key(entry, drop_bucket)
    if key is None:
        raise HubError(Problem.NOT_FOUND, "the hub keeps no copy of this invoice's file")
    try:
        data = files.get(key, MAX_FILE_BYTES)
    except HubError as error:
        if error.problem is Problem.FILE_UNREACHABLE:
            raise HubError(Problem.NOT_FOUND, "the invoice's file is no longer kept") from None
        raise
    return page_picture(data, number)
