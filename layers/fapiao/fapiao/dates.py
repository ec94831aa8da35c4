"""Dates and times on the wire, all read in the Asia/Shanghai calendar.

The specs carry dates in five shapes: "2019年07月06日" (004), "20220627" (001
``receipt_date``), "2022-06-27", ISO datetimes such as "2022-07-21T17:07:42.000Z" (001)
or "2023-10-17 21:09:47" (003), and epoch milliseconds (000/002). An invoice's date is
the date in China, so every instant is converted to Asia/Shanghai before its date is
taken: 2024-04-10T00:00+08:00 is 1712678400000 ms, which is still 2024-04-09 in UTC.

Parsing is strict: an impossible or unrecognised value raises ``InvalidDate``; it is
never guessed, clamped or defaulted. Years outside 1990..2100 are refused, which catches
epoch seconds passed where milliseconds are expected.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "SHANGHAI",
    "InvalidDate",
    "date_to_iso_utc",
    "datetime_to_epoch_millis",
    "now_in_shanghai",
    "parse_date",
    "parse_datetime",
    "parse_hhmm",
    "to_chinese_date",
    "to_epoch_millis",
    "to_iso_utc",
    "to_yyyymmdd",
    "today_in_shanghai",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

MIN_YEAR = 1990
MAX_YEAR = 2100

DATE_FORMS = (
    '"2019年07月06日", "20220627", "2022-06-27", an ISO datetime '
    '("2022-07-21T17:07:42.000Z", "2023-10-17 21:09:47"), epoch milliseconds '
    "(13 digits, int or string), a date or a datetime"
)
DATETIME_FORMS = (
    'an ISO datetime ("2022-07-21T17:07:42.000Z", "2022-07-22T01:07:42+08:00", '
    '"2023-10-17 21:09:47" taken as Shanghai), epoch milliseconds (13 digits, int or '
    "string) or a datetime"
)
HHMM_FORMS = '"8:05", "08:05" or "08:05:00"'

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

_CHINESE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_YYYYMMDD = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_EPOCH_MILLIS = re.compile(r"\d{13}")
_HHMM = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class InvalidDate(ValueError):
    """A value that is not a date (or time) in any of the accepted forms."""

    def __init__(self, value: object, reason: str = "", accepted: str = DATE_FORMS) -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(f"invalid date {value!r}{detail}; accepted: {accepted}")
        self.value = value
        self.reason = reason


def _checked_year(value: object, day: date, accepted: str) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidDate(
            value, f"year {day.year} is outside {MIN_YEAR}..{MAX_YEAR}", accepted=accepted
        )


def _make_date(value: object, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise InvalidDate(value, str(exc)) from None


def _from_millis(value: object, millis: int, accepted: str) -> datetime:
    try:
        return (_EPOCH + millis * _MILLISECOND).astimezone(SHANGHAI)
    except (OverflowError, ValueError) as exc:
        raise InvalidDate(value, f"epoch milliseconds out of range: {exc}", accepted) from None


def _to_shanghai(value: datetime) -> datetime:
    """An aware datetime in Shanghai; a naive one is taken as Shanghai wall time."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI)


def _parse_iso_datetime(value: object, text: str, accepted: str) -> datetime | None:
    """``text`` as a Shanghai datetime if it looks like an ISO datetime, else None."""
    if not _ISO_DATETIME.fullmatch(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidDate(value, str(exc), accepted) from None
    return _to_shanghai(parsed)


def parse_date(value: str | int | date | datetime | None) -> date | None:
    """The Asia/Shanghai calendar date of ``value``; None for None or ""."""
    result = _parse_date(value)
    if result is not None:
        _checked_year(value, result, DATE_FORMS)
    return result


def _parse_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidDate(value, "a boolean is not a date")
    if isinstance(value, datetime):
        return _to_shanghai(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return _from_millis(value, value, DATE_FORMS).date()
    if not isinstance(value, str):
        raise InvalidDate(value, f"unsupported type {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    if match := _CHINESE.fullmatch(text):
        return _make_date(value, *match.groups())
    if match := _YYYYMMDD.fullmatch(text):
        return _make_date(value, *match.groups())
    if match := _ISO_DATE.fullmatch(text):
        return _make_date(value, *match.groups())
    if _EPOCH_MILLIS.fullmatch(text):
        return _from_millis(value, int(text), DATE_FORMS).date()
    parsed = _parse_iso_datetime(value, text, DATE_FORMS)
    if parsed is not None:
        return parsed.date()
    raise InvalidDate(value, "unrecognised form")


def parse_datetime(value: str | int | datetime | None) -> datetime | None:
    """``value`` as an aware datetime in Asia/Shanghai; None for None or ""."""
    result = _parse_datetime(value)
    if result is not None:
        _checked_year(value, result.date(), DATETIME_FORMS)
    return result


def _parse_datetime(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidDate(value, "a boolean is not a datetime", DATETIME_FORMS)
    if isinstance(value, datetime):
        return _to_shanghai(value)
    if isinstance(value, int):
        return _from_millis(value, value, DATETIME_FORMS)
    if not isinstance(value, str):
        raise InvalidDate(value, f"unsupported type {type(value).__name__}", DATETIME_FORMS)
    text = value.strip()
    if not text:
        return None
    if _EPOCH_MILLIS.fullmatch(text):
        return _from_millis(value, int(text), DATETIME_FORMS)
    parsed = _parse_iso_datetime(value, text, DATETIME_FORMS)
    if parsed is not None:
        return parsed
    raise InvalidDate(value, "unrecognised form", DATETIME_FORMS)


def _require_date(value: object, function: str) -> date:
    if isinstance(value, datetime):
        raise TypeError(
            f"{function} takes a date, not a datetime ({value!r}); "
            "take its Shanghai date with parse_date() first"
        )
    if not isinstance(value, date):
        raise TypeError(f"{function} takes a date, not {type(value).__name__}")
    return value


def _require_aware(value: object, function: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{function} takes a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{function} needs an aware datetime, got naive {value!r}")
    return value


def to_epoch_millis(value: date) -> int:
    """Epoch milliseconds of midnight Asia/Shanghai on ``value``."""
    day = _require_date(value, "to_epoch_millis")
    return (datetime.combine(day, time(), SHANGHAI) - _EPOCH) // _MILLISECOND


def datetime_to_epoch_millis(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime (sub-millisecond part truncated)."""
    moment = _require_aware(value, "datetime_to_epoch_millis")
    return (moment - _EPOCH) // _MILLISECOND


def to_yyyymmdd(value: date) -> str:
    """The date as "20220627"."""
    day = _require_date(value, "to_yyyymmdd")
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def to_iso_utc(value: datetime) -> str:
    """The instant as "2022-07-21T17:07:42.000Z": UTC, milliseconds (truncated), Z."""
    moment = _require_aware(value, "to_iso_utc").astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def date_to_iso_utc(value: date) -> str:
    """Midnight Asia/Shanghai of ``value`` in UTC: 2022-06-27 -> "2022-06-26T16:00:00.000Z"."""
    day = _require_date(value, "date_to_iso_utc")
    return to_iso_utc(datetime.combine(day, time(), SHANGHAI))


def to_utc_midnight_millis(value: date) -> int:
    """Epoch milliseconds of 00:00 UTC on ``value``.

    The platform writes check dates this way (000 ``checkResult.receiptDate``
    1712707200000 for 2024-04-10); it reads as the same calendar date in UTC and in
    Asia/Shanghai, where Shanghai midnight would read as the day before in UTC.
    """
    day = _require_date(value, "to_utc_midnight_millis")
    return (datetime.combine(day, time(), UTC) - _EPOCH) // _MILLISECOND


def date_to_utc_midnight_iso(value: date) -> str:
    """00:00 UTC on ``value``, as 001's ``receipt_check.receipt_date`` example writes it:
    2022-06-27 -> "2022-06-27T00:00:00.000Z"."""
    day = _require_date(value, "date_to_utc_midnight_iso")
    return to_iso_utc(datetime.combine(day, time(), UTC))


def to_chinese_date(value: date) -> str:
    """The date as "2019年07月06日"."""
    day = _require_date(value, "to_chinese_date")
    return f"{day.year:04d}年{day.month:02d}月{day.day:02d}日"


def now_in_shanghai() -> datetime:
    """The current instant, aware, in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def today_in_shanghai(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai (of ``now`` if given; it must be aware)."""
    if now is None:
        return now_in_shanghai().date()
    return _require_aware(now, "today_in_shanghai").astimezone(SHANGHAI).date()


def parse_hhmm(value: str | None) -> str | None:
    """A time of day as "HH:mm": "8:05", "08:05" or "08:05:00" -> "08:05"; None/"" -> None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidDate(value, f"unsupported type {type(value).__name__}", HHMM_FORMS)
    text = value.strip()
    if not text:
        return None
    match = _HHMM.fullmatch(text)
    if match is None:
        raise InvalidDate(value, "not a time of day", HHMM_FORMS)
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidDate(value, "hour, minute or second out of range", HHMM_FORMS)
    return f"{hour:02d}:{minute:02d}"
