"""The review console's own data (``/console/api/...``), in the platform envelope of specs
000/001 like the review API: ``{"resCode": 200000, "resMsg": "success", "data": ...}``.

``GET /console/api/overview``: how many entries wait in each state of the review list,
the paid checks of today, and the outcomes of dropped files per day (30 days, oldest
first). An entry's file is ``GET /console/api/items/{review_id}/file?page=N``: a picture
(image/png or image/jpeg), not JSON.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from fapiao.wire.common import StrictWireModel

__all__ = ["DayOutcomes", "OverviewData", "OverviewResponse"]


class DayOutcomes(StrictWireModel):
    date: dt.date  # an Asia/Shanghai day
    created: int = 0
    duplicate: int = 0
    rejected: int = 0
    unrecognisable: int = 0


class OverviewData(StrictWireModel):
    states: dict[str, int]  # "U", "F", "C": entries waiting in the review list
    paid_checks_today: int  # requests that reached the verification provider today
    outcomes: list[DayOutcomes]


class OverviewResponse(StrictWireModel):
    res_code: int = Field(alias="resCode")
    res_msg: str | None = Field(default=None, alias="resMsg")
    data: OverviewData
