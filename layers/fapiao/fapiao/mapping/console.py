"""The console's own data on the wire (``fapiao.wire.console``)."""

from __future__ import annotations

from fapiao.model.overview import Overview
from fapiao.wire.console import DayOutcomes, OverviewData


def overview_data(overview: Overview) -> OverviewData:
    return OverviewData(
        states={status.value: count for status, count in overview.states.items()},
        paid_checks_today=overview.paid_checks_today,
        outcomes=[
            DayOutcomes(date=day.day, **{kind.value: n for kind, n in day.counts.items()})
            for day in overview.outcomes
        ],
    )
