"""The error catalogue holds every code of the specs, each answerable in its family."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fapiao.catalogue.errors import (
    CATALOGUE,
    Family,
    HubError,
    Problem,
    UnknownErrorCode,
    by_code,
    lookup,
)

# Every family that answers clients must answer the problems any request can meet.
SERVED = (Family.PLATFORM, Family.MAYCUR, Family.YIPIAOYUN, Family.EXOCR)
GENERIC = (
    Problem.INVALID_REQUEST,
    Problem.UNAUTHORISED,
    Problem.RATE_LIMITED,
    Problem.INTERNAL,
    Problem.PAYLOAD_TOO_LARGE,
)


@pytest.mark.parametrize("family", SERVED)
@pytest.mark.parametrize("problem", GENERIC)
def test_every_served_family_answers_the_generic_problems(family: Family, problem: Problem) -> None:
    entry = lookup(family, problem)
    assert entry.family is family
    assert 400 <= entry.http_status < 600


def test_duplicate_import_is_907002_with_the_spec_message() -> None:
    entry = lookup(Family.PLATFORM_INVOICE, Problem.DUPLICATE_INVOICE)
    assert (entry.code, entry.message, entry.http_status) == ("907002", "发票已导入", 200)


def test_platform_success_is_200000() -> None:
    assert by_code(Family.PLATFORM, 200000).message == "success"


def test_maycur_codes_and_messages_are_those_of_spec_002(specs_dir: Path) -> None:
    text = next(specs_dir.glob("002_*.txt")).read_text(encoding="utf-8")
    # The error table lists "CODE |" then "description |" on the next line.
    pairs = re.findall(r"^([A-Z]+[A-Z0-9_]*\d) \|\n(.+?) \|", text, flags=re.MULTILINE)
    assert len(pairs) == 8
    for code, description in pairs:
        entry = by_code(Family.MAYCUR, code)
        assert entry.source == "002"
        assert description.startswith(entry.message.split(",")[0][:4])


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("3202", True),
        ("3213", True),
        ("4007", True),
        ("3204", False),
        ("3207", False),
        ("3210", False),
        ("4001", False),
        ("4002", False),
        ("0", False),
    ],
)
def test_exocr_error_codes_say_whether_a_retry_helps(code: str, retryable: bool) -> None:
    assert by_code(Family.EXOCR, code).retryable is retryable


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("1", False),
        ("2", True),
        ("6", False),
        ("7", True),
        ("8", True),
        ("9", False),
        ("105", False),
    ],
)
def test_exocr_result_codes_say_whether_a_retry_helps(code: str, retryable: bool) -> None:
    assert by_code(Family.EXOCR_RESULT, code).retryable is retryable


def test_every_exocr_code_of_spec_003_is_catalogued(specs_dir: Path) -> None:
    text = next(specs_dir.glob("003_*.txt")).read_text(encoding="utf-8")
    error_section = text.split("错误码", 1)[1].split("认证结果码", 1)[0]
    result_section = text.split("认证结果码", 1)[1].split("查验数据", 1)[0]
    error_codes = re.findall(r"^(\d+) int", error_section, flags=re.MULTILINE)
    result_codes = re.findall(r"^(\d+) int", result_section, flags=re.MULTILINE)
    assert len(error_codes) == 9
    assert len(result_codes) == 7
    for code in error_codes:
        assert by_code(Family.EXOCR, code).source == "003"
    for code in result_codes:
        assert by_code(Family.EXOCR_RESULT, code).source == "003"


def test_unknown_codes_are_an_error_not_a_default() -> None:
    with pytest.raises(UnknownErrorCode):
        by_code(Family.EXOCR, "9999")
    with pytest.raises(LookupError):
        lookup(Family.EXOCR_RESULT, Problem.UNKNOWN_EMPLOYEE)


def test_no_family_answers_one_problem_two_ways() -> None:
    seen: set[tuple[Family, Problem]] = set()
    for entry in CATALOGUE:
        if entry.problem is None:
            continue
        key = (entry.family, entry.problem)
        assert key not in seen, key
        seen.add(key)


def test_hub_error_finds_its_row_in_each_family() -> None:
    error = HubError(Problem.FILE_TOO_LARGE, "9 MB")
    assert error.entry(Family.MAYCUR).code == "INV30109"
    assert error.entry(Family.PLATFORM).http_status == 413
    assert str(error) == "9 MB"
