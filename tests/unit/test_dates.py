"""fapiao.dates: every accepted form, the spec examples, round trips and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from fapiao.dates import (
    SHANGHAI,
    InvalidDate,
    date_to_iso_utc,
    date_to_utc_midnight_iso,
    datetime_to_epoch_millis,
    now_in_shanghai,
    parse_date,
    parse_datetime,
    parse_hhmm,
    to_chinese_date,
    to_epoch_millis,
    to_iso_utc,
    to_utc_midnight_millis,
    to_yyyymmdd,
    today_in_shanghai,
)


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """A Shanghai wall-clock datetime."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=SHANGHAI)


# --- the zone ---------------------------------------------------------------------------


def test_shanghai_is_utc_plus_eight_without_dst() -> None:
    assert str(SHANGHAI) == "Asia/Shanghai"
    assert sh(2024, 1, 15).utcoffset() == timedelta(hours=8)
    assert sh(2024, 7, 15).utcoffset() == timedelta(hours=8)


# --- parse_date: the spec examples ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # 000: ocrResult.receipt_date and checkResult.receiptDate: both 2024-04-10 in China
        (1712678400000, date(2024, 4, 10)),  # 2024-04-10 00:00 +08:00 (still 04-09 in UTC)
        (1712707200000, date(2024, 4, 10)),  # 2024-04-10 08:00 +08:00
        ("1712678400000", date(2024, 4, 10)),
        ("1712707200000", date(2024, 4, 10)),
        # 001: receipt_check.receipt_date and check_date
        ("2022-06-27T00:00:00.000Z", date(2022, 6, 27)),
        ("2022-07-21T17:07:42.000Z", date(2022, 7, 22)),  # 01:07:42 next day in Shanghai
        # 001: receipt_date yyyyMMdd
        ("20220627", date(2022, 6, 27)),
        # 003: create_date "20210121", verify time "2023-10-17 21:09:47" (naive: Shanghai)
        ("20210121", date(2021, 1, 21)),
        ("2023-10-17 21:09:47", date(2023, 10, 17)),
        # 004: "2019年07月06日"
        ("2019年07月06日", date(2019, 7, 6)),
        ("2018年01月19日", date(2018, 1, 19)),
    ],
)
def test_parse_date_spec_examples(value: str | int, expected: date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019年7月6日", date(2019, 7, 6)),
        ("2019年12月31日", date(2019, 12, 31)),
        ("2024年2月29日", date(2024, 2, 29)),  # leap day
        ("2022-06-27", date(2022, 6, 27)),
        ("  2022-06-27  ", date(2022, 6, 27)),
        ("20240229", date(2024, 2, 29)),
        # ISO datetimes with an offset are converted to the Shanghai date
        ("2022-06-26T16:00:00Z", date(2022, 6, 27)),  # exactly Shanghai midnight
        ("2022-06-26T15:59:59.999Z", date(2022, 6, 26)),  # one ms before it
        ("2022-06-27T00:00:00+08:00", date(2022, 6, 27)),
        ("2022-06-26T23:30:00-05:00", date(2022, 6, 27)),  # 12:30 in Shanghai
        ("2022-06-27T07:59:59+00:00", date(2022, 6, 27)),
        ("2022-06-27T23:59:59+00:00", date(2022, 6, 28)),
        # naive ISO datetimes are Shanghai wall time, not UTC
        ("2022-06-27T23:59:59", date(2022, 6, 27)),
        ("2022-06-27 00:00:00", date(2022, 6, 27)),
    ],
)
def test_parse_date_other_string_forms(value: str, expected: date) -> None:
    assert parse_date(value) == expected


def test_parse_date_empty_is_none() -> None:
    assert parse_date(None) is None
    assert parse_date("") is None
    assert parse_date("   ") is None


def test_parse_date_date_is_itself() -> None:
    day = date(2022, 6, 27)
    assert parse_date(day) is day


def test_parse_date_aware_datetime_takes_shanghai_date() -> None:
    assert parse_date(datetime(2024, 4, 9, 16, 0, tzinfo=UTC)) == date(2024, 4, 10)
    assert parse_date(datetime(2024, 4, 9, 15, 59, 59, tzinfo=UTC)) == date(2024, 4, 9)
    assert parse_date(sh(2024, 4, 10, 23, 59)) == date(2024, 4, 10)
    west = timezone(timedelta(hours=-10))
    assert parse_date(datetime(2024, 4, 9, 23, 0, tzinfo=west)) == date(2024, 4, 10)


def test_parse_date_naive_datetime_is_shanghai() -> None:
    assert parse_date(datetime(2024, 4, 10, 0, 0)) == date(2024, 4, 10)
    assert parse_date(datetime(2024, 4, 10, 23, 59, 59)) == date(2024, 4, 10)


def test_parse_date_epoch_millis_boundaries() -> None:
    midnight = 1712678400000  # 2024-04-10 00:00 Shanghai
    assert parse_date(midnight - 1) == date(2024, 4, 9)
    assert parse_date(midnight) == date(2024, 4, 10)
    assert parse_date(midnight + 86_400_000 - 1) == date(2024, 4, 10)
    assert parse_date(midnight + 86_400_000) == date(2024, 4, 11)


# --- parse_date: refusals ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "20221340",  # month 13
        "20220230",  # 30 February
        "20230229",  # not a leap year
        "20220600",  # day 0
        "2019年02月30日",
        "2019年13月01日",
        "2019年0月10日",
        "2022-02-30",
        "2022-13-01",
        "2022-02-30T00:00:00Z",
        "2022-06-27T25:00:00Z",
        "garbage",
        "2022/06/27",
        "2022-6-27",
        "27.06.2022",
        "2022-06",
        "2022062",  # 7 digits
        "202206271",  # 9 digits
        "171267840000",  # 12 digits (the length of an invoice code)
        "631123200000",  # 1990-01-01 as ms: 12 digits, only the int form is accepted
        "17126784000000",  # 14 digits
        "2019年07月06",
        "-1712678400000",
        "2022-06-27T",
        "N/A",
    ],
)
def test_parse_date_rejects_impossible_and_garbage_strings(value: str) -> None:
    with pytest.raises(InvalidDate) as raised:
        parse_date(value)
    assert repr(value) in str(raised.value)
    assert raised.value.value == value


@pytest.mark.parametrize("value", [True, False, 1712678400000.0, 20220627.0, 1.5])
def test_parse_date_rejects_bools_and_floats(value: Any) -> None:
    with pytest.raises(InvalidDate):
        parse_date(value)


@pytest.mark.parametrize("value", [[2022, 6, 27], {"date": "2022-06-27"}, b"20220627"])
def test_parse_date_rejects_other_types(value: Any) -> None:
    with pytest.raises(InvalidDate):
        parse_date(value)


@pytest.mark.parametrize(
    "value",
    [
        1712678400,  # epoch SECONDS mistaken for ms: 1970-01-20
        "1712678400",  # same, as a string (10 digits: not an accepted form either)
        0,
        -1,
        4_200_000_000_000,  # 2103
        10**20,  # far out of range
        -(10**20),
        "19891231",
        "21010101",
        "1989年12月31日",
        "2101-01-01",
        "1989-12-31T15:59:59Z",  # 1989-12-31 23:59:59 in Shanghai
        date(1989, 12, 31),
        date(2101, 1, 1),
        datetime(1989, 12, 31, 12, 0),
    ],
)
def test_parse_date_rejects_years_outside_1990_2100(value: Any) -> None:
    with pytest.raises(InvalidDate):
        parse_date(value)


def test_parse_date_year_bounds_are_inclusive() -> None:
    assert parse_date("19900101") == date(1990, 1, 1)
    assert parse_date("2100-12-31") == date(2100, 12, 31)
    assert parse_date("1989-12-31T16:00:00Z") == date(1990, 1, 1)


def test_invalid_date_is_a_value_error_naming_value_and_forms() -> None:
    with pytest.raises(ValueError, match="20221340") as raised:
        parse_date("20221340")
    message = str(raised.value)
    assert isinstance(raised.value, InvalidDate)
    assert "2019年07月06日" in message
    assert "20220627" in message
    assert "epoch milliseconds" in message


# --- parse_datetime ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-07-21T17:07:42.000Z", sh(2022, 7, 22, 1, 7, 42)),
        ("2022-07-21T17:07:42Z", sh(2022, 7, 22, 1, 7, 42)),
        ("2022-07-21T17:07:42.123Z", sh(2022, 7, 22, 1, 7, 42, 123000)),
        ("2022-07-22T01:07:42+08:00", sh(2022, 7, 22, 1, 7, 42)),
        ("2022-07-21T12:07:42-05:00", sh(2022, 7, 22, 1, 7, 42)),
        ("2023-10-17 21:09:47", sh(2023, 10, 17, 21, 9, 47)),  # 003, naive: Shanghai
        ("2023-10-17T21:09:47", sh(2023, 10, 17, 21, 9, 47)),
        (1712678400000, sh(2024, 4, 10)),
        ("1712707200000", sh(2024, 4, 10, 8)),
        (1731293325217, sh(2024, 11, 11, 10, 48, 45, 217000)),  # 002 createdAt
    ],
)
def test_parse_datetime_forms(value: str | int, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is SHANGHAI
    assert parsed.replace(tzinfo=None) == expected.replace(tzinfo=None)  # wall time too


def test_parse_datetime_datetimes() -> None:
    aware = datetime(2022, 7, 21, 17, 7, 42, tzinfo=UTC)
    parsed = parse_datetime(aware)
    assert parsed == aware
    assert parsed is not None
    assert parsed.tzinfo is SHANGHAI
    assert parsed.hour == 1
    naive = parse_datetime(datetime(2023, 10, 17, 21, 9, 47))
    assert naive == sh(2023, 10, 17, 21, 9, 47)
    assert naive is not None
    assert naive.tzinfo is SHANGHAI


def test_parse_datetime_empty_is_none() -> None:
    assert parse_datetime(None) is None
    assert parse_datetime("") is None


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "2022-07-21T25:00:00Z",
        "2022-02-30 10:00:00",
        "2022-06-27",  # a date is not an instant
        "20220627",
        "2019年07月06日",
        True,
        1712678400.0,
        1712678400,  # seconds, not ms
        "1712678400",
        "1980-01-01T00:00:00Z",
    ],
)
def test_parse_datetime_rejects(value: Any) -> None:
    with pytest.raises(InvalidDate):
        parse_datetime(value)


# --- formatting and round trips ---------------------------------------------------------


def test_to_epoch_millis_is_shanghai_midnight() -> None:
    assert to_epoch_millis(date(2024, 4, 10)) == 1712678400000
    assert to_epoch_millis(date(2022, 6, 27)) == 1656259200000
    assert to_epoch_millis(date(1990, 1, 1)) == 631123200000


def test_to_epoch_millis_refuses_datetimes() -> None:
    with pytest.raises(TypeError):
        to_epoch_millis(sh(2024, 4, 10, 8))


@pytest.mark.parametrize(
    ("value", "millis"),
    [
        (1712678400000, 1712678400000),
        (1712707200000, 1712678400000),  # 000's checkResult: 08:00 -> that day's midnight
        ("2022-06-27T00:00:00.000Z", 1656259200000),
        ("20220627", 1656259200000),
        ("2019年07月06日", 1562342400000),
    ],
)
def test_round_trip_through_epoch_millis(value: str | int, millis: int) -> None:
    day = parse_date(value)
    assert day is not None
    assert to_epoch_millis(day) == millis
    assert parse_date(to_epoch_millis(day)) == day


@pytest.mark.parametrize(
    "day",
    [date(1990, 1, 1), date(2019, 7, 6), date(2024, 2, 29), date(2024, 12, 31), date(2100, 12, 31)],
)
def test_round_trips_for_every_format(day: date) -> None:
    assert parse_date(to_epoch_millis(day)) == day
    if day >= date(2001, 9, 9):  # before that, ms strings have 12 digits (like invoice codes)
        assert parse_date(str(to_epoch_millis(day))) == day
    assert parse_date(to_yyyymmdd(day)) == day
    assert parse_date(to_chinese_date(day)) == day
    assert parse_date(date_to_iso_utc(day)) == day
    assert parse_date(day.isoformat()) == day


def test_datetime_to_epoch_millis() -> None:
    assert datetime_to_epoch_millis(sh(2024, 4, 10)) == 1712678400000
    assert datetime_to_epoch_millis(datetime(2024, 4, 10, 0, 0, tzinfo=UTC)) == 1712707200000
    assert datetime_to_epoch_millis(sh(2024, 11, 11, 10, 48, 45, 217999)) == 1731293325217
    assert datetime_to_epoch_millis(datetime(1970, 1, 1, tzinfo=UTC)) == 0


def test_datetime_to_epoch_millis_round_trip() -> None:
    parsed = parse_datetime(1731293325160)
    assert parsed is not None
    assert datetime_to_epoch_millis(parsed) == 1731293325160


def test_datetime_to_epoch_millis_requires_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        datetime_to_epoch_millis(datetime(2024, 4, 10))


def test_to_yyyymmdd() -> None:
    assert to_yyyymmdd(date(2022, 6, 27)) == "20220627"
    assert to_yyyymmdd(date(2019, 1, 5)) == "20190105"


def test_to_chinese_date_pads() -> None:
    assert to_chinese_date(date(2019, 7, 6)) == "2019年07月06日"
    assert to_chinese_date(date(2019, 12, 31)) == "2019年12月31日"


@pytest.mark.parametrize("function", [to_yyyymmdd, to_chinese_date, date_to_iso_utc])
def test_date_formatters_refuse_datetimes(function: Any) -> None:
    # A UTC datetime's .date() is not the invoice date; callers must parse_date() first.
    with pytest.raises(TypeError):
        function(datetime(2022, 6, 26, 16, 0, tzinfo=UTC))


def test_to_iso_utc() -> None:
    assert to_iso_utc(sh(2022, 7, 22, 1, 7, 42)) == "2022-07-21T17:07:42.000Z"
    assert to_iso_utc(datetime(2022, 7, 21, 17, 7, 42, tzinfo=UTC)) == "2022-07-21T17:07:42.000Z"
    assert to_iso_utc(sh(2022, 7, 22, 1, 7, 42, 123999)) == "2022-07-21T17:07:42.123Z"


def test_to_iso_utc_round_trips_the_spec_example() -> None:
    parsed = parse_datetime("2022-07-21T17:07:42.000Z")
    assert parsed is not None
    assert to_iso_utc(parsed) == "2022-07-21T17:07:42.000Z"


def test_to_iso_utc_requires_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        to_iso_utc(datetime(2022, 7, 21, 17, 7, 42))


def test_date_to_iso_utc_is_shanghai_midnight() -> None:
    assert date_to_iso_utc(date(2022, 6, 27)) == "2022-06-26T16:00:00.000Z"
    assert date_to_iso_utc(date(2024, 1, 1)) == "2023-12-31T16:00:00.000Z"


# --- now and today ----------------------------------------------------------------------


def test_today_in_shanghai_from_given_now() -> None:
    # 2024-04-09 16:00 UTC is already 2024-04-10 in Shanghai
    assert today_in_shanghai(datetime(2024, 4, 9, 16, 0, tzinfo=UTC)) == date(2024, 4, 10)
    assert today_in_shanghai(datetime(2024, 4, 9, 15, 59, tzinfo=UTC)) == date(2024, 4, 9)
    assert today_in_shanghai(sh(2024, 4, 10, 23, 59)) == date(2024, 4, 10)


def test_today_in_shanghai_requires_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        today_in_shanghai(datetime(2024, 4, 10, 12, 0))


def test_now_and_today_are_current_and_in_shanghai() -> None:
    before = datetime.now(UTC)
    now = now_in_shanghai()
    after = datetime.now(UTC)
    assert now.tzinfo is SHANGHAI
    assert before <= now <= after
    assert today_in_shanghai() in {
        before.astimezone(SHANGHAI).date(),
        after.astimezone(SHANGHAI).date(),
    }


# --- parse_hhmm -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8:05", "08:05"),
        ("08:05", "08:05"),
        ("08:05:00", "08:05"),
        ("23:59:59", "23:59"),
        ("0:00", "00:00"),
        (" 12:30 ", "12:30"),
    ],
)
def test_parse_hhmm(value: str, expected: str) -> None:
    assert parse_hhmm(value) == expected


def test_parse_hhmm_empty_is_none() -> None:
    assert parse_hhmm(None) is None
    assert parse_hhmm("") is None


@pytest.mark.parametrize(
    "value",
    [
        "24:00",
        "12:60",
        "12:00:60",
        "8:5",
        "805",
        "0805",
        "8.05",
        "08:05 PM",
        "abc",
        "-1:00",
        "123:00",
    ],
)
def test_parse_hhmm_rejects(value: str) -> None:
    with pytest.raises(InvalidDate) as raised:
        parse_hhmm(value)
    assert repr(value) in str(raised.value)
    assert "08:05" in str(raised.value)


def test_platform_check_dates_are_utc_midnight_of_the_calendar_date() -> None:
    # 000's checkResult example: 1712707200000 for the invoice of 2024-04-10
    assert to_utc_midnight_millis(date(2024, 4, 10)) == 1712707200000
    assert parse_date(to_utc_midnight_millis(date(2024, 4, 10))) == date(2024, 4, 10)
    # 001's receipt_check example
    assert date_to_utc_midnight_iso(date(2022, 6, 27)) == "2022-06-27T00:00:00.000Z"
    assert parse_date(date_to_utc_midnight_iso(date(2022, 6, 27))) == date(2022, 6, 27)
