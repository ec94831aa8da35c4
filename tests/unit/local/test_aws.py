"""The local AWS logs exactly the requests that changed state; an earlier version's
journal of them reads back as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from fapiao.local.recorded import Recorded, read_journal


def dynamodb(action: str) -> Recorded:
    return Recorded("POST", "/", [("X-Amz-Target", f"DynamoDB_20120810.{action}")], b"{}")


@pytest.mark.parametrize(
    ("request_", "changes"),
    [
        (dynamodb("PutItem"), True),
        (dynamodb("TransactWriteItems"), True),
        (dynamodb("UpdateTimeToLive"), True),
        (dynamodb("GetItem"), False),
        (dynamodb("Query"), False),
        (dynamodb("DescribeTable"), False),
        (dynamodb("TransactGetItems"), False),
        (Recorded("PUT", "/bucket/key.pdf", [], b"%PDF"), True),
        (Recorded("DELETE", "/bucket/key.pdf", [], b""), True),
        (Recorded("GET", "/bucket/key.pdf", [], b""), False),
        (Recorded("HEAD", "/bucket", [], b""), False),
        (Recorded("POST", "/", [], b"Action=SendMessage&QueueUrl=q"), True),
        (Recorded("POST", "/", [], b"Action=ReceiveMessage&QueueUrl=q"), False),
        (Recorded("POST", "/", [("x-amz-target", "AWSEvents.PutEvents")], b"{}"), True),
    ],
)
def test_only_state_changing_requests_are_journaled(request_: Recorded, changes: bool) -> None:
    assert request_.changes_state() is changes


def _write(path: Path, *requests: Recorded) -> None:
    path.write_text("".join(r.to_line() + "\n" for r in requests), encoding="utf-8")


def test_journal_round_trips_binary_bodies_and_header_order(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    first = Recorded("PUT", "/b/k", [("A", "1"), ("B", "2")], b"\x00\xff")
    second = dynamodb("PutItem")
    _write(path, first, second)
    assert list(read_journal(path)) == [first, second]


def test_a_line_cut_short_by_a_crash_ends_the_replay(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write(path, dynamodb("PutItem"))
    with path.open("a", encoding="utf-8") as file:
        file.write('{"method": "PUT", "pa')
    assert len(list(read_journal(path))) == 1


def test_no_journal_yet_replays_nothing(tmp_path: Path) -> None:
    assert list(read_journal(tmp_path / "absent.jsonl")) == []


def test_the_signed_service_names_the_request() -> None:
    signed = Recorded(
        "POST",
        "/",
        [
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=k/20260101/cn-north-1/sqs/aws4_request, x",
            )
        ],
        b"",
    )
    assert signed.service() == "sqs"
    assert dynamodb("PutItem").service() is None
