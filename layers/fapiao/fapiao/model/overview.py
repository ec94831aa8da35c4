"""The review console's overview (issue 18): entries waiting per state of the review
list, today's paid checks, and the outcomes of dropped files per day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import OutcomeKind

__all__ = ["CHARTED", "DayOutcomes", "Overview"]

# The outcomes the chart draws (failed and identified are not invoices someone created).
CHARTED = (
    OutcomeKind.CREATED,
    OutcomeKind.DUPLICATE,
    OutcomeKind.REJECTED,
    OutcomeKind.UNRECOGNISABLE,
)


@dataclass(frozen=True)
class DayOutcomes:
    day: dt.date
    counts: dict[OutcomeKind, int]


@dataclass(frozen=True)
class Overview:
    states: dict[InvoiceStatus, int]
    paid_checks_today: int
    outcomes: list[DayOutcomes]  # DAYS days, the oldest first, today last
