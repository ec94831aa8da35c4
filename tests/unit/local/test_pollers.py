"""The inbox watcher: each file goes to the drop bucket once; a file S3 refuses goes to
.failed; a file the local AWS could not take now (stopping, unavailable) stays in the
inbox for the next scan or the next start, never lost."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fapiao.local.pollers import InboxWatcher


def _error(status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": str(status), "Message": "x"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "PutObject",
    )


class FakeS3:
    def __init__(self, put_error: Exception | None = None) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts = 0
        self.put_error = put_error

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 boto3 names
        if Key not in self.objects:
            raise _error(404)
        return {}

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> dict[str, Any]:  # noqa: N803
        self.puts += 1
        if self.put_error is not None:
            raise self.put_error
        self.objects[Key] = Body
        return {}


def _drop(inbox: Path, name: str, data: bytes) -> Path:
    path = inbox / name
    path.write_bytes(data)
    old = time.time() - 5  # written a while ago: not still being written
    os.utime(path, (old, old))
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_a_file_is_uploaded_once_and_moved_to_sent(inbox: Path) -> None:
    s3 = FakeS3()
    _drop(inbox, "a.pdf", b"%PDF a")
    (key,) = InboxWatcher(inbox, s3, "drop", "acme").scan_once()
    assert key.startswith("acme/inbox/") and key.endswith("-a.pdf")
    assert s3.objects == {key: b"%PDF a"}
    assert sorted(p.name for p in inbox.iterdir()) == [".sent"]


def test_a_file_already_uploaded_before_a_stop_is_not_put_again(inbox: Path) -> None:
    s3 = FakeS3()
    _drop(inbox, "a.pdf", b"%PDF a")
    (key,) = InboxWatcher(inbox, s3, "drop", "acme").scan_once()
    (inbox / ".sent" / "a.pdf").rename(inbox / "a.pdf")  # as if the move never happened
    assert InboxWatcher(inbox, s3, "drop", "acme").scan_once() == [key]
    assert s3.puts == 1


@pytest.mark.parametrize("error", [_error(503), ConnectionError("refused")])
def test_a_file_the_local_aws_cannot_take_now_stays_in_the_inbox(
    inbox: Path, error: Exception
) -> None:
    _drop(inbox, "a.pdf", b"%PDF a")
    assert InboxWatcher(inbox, FakeS3(put_error=error), "drop", "acme").scan_once() == []
    assert sorted(p.name for p in inbox.iterdir()) == ["a.pdf"]
    s3 = FakeS3()
    assert len(InboxWatcher(inbox, s3, "drop", "acme").scan_once()) == 1  # next time
    assert len(s3.objects) == 1


def test_a_file_s3_refuses_goes_to_failed(inbox: Path) -> None:
    _drop(inbox, "a.pdf", b"%PDF a")
    assert InboxWatcher(inbox, FakeS3(put_error=_error(400)), "drop", "acme").scan_once() == []
    assert sorted(p.name for p in inbox.iterdir()) == [".failed"]


def test_a_stopping_watcher_leaves_the_rest_for_the_next_start(inbox: Path) -> None:
    s3 = FakeS3()
    for name in ("a.pdf", "b.pdf"):
        _drop(inbox, name, name.encode())
    watcher = InboxWatcher(inbox, s3, "drop", "acme")
    watcher.request_stop()
    assert watcher.scan_once() == []
    assert sorted(p.name for p in inbox.iterdir()) == ["a.pdf", "b.pdf"]
    assert s3.puts == 0
