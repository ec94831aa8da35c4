"""The inbox watcher: each file goes to the drop bucket once, a file in a user's folder
(``inbox/<user_code>/``) under that user code; a file S3 refuses goes to .failed; a file
the local AWS could not take now (stopping, unavailable) stays in the inbox for the next
scan or the next start, never lost."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fapiao.local.pollers import InboxWatcher, owner_refusal


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


# --- a user's folder in the inbox ------------------------------------------------------


def _drop_in(folder: Path, relative: str, data: bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return _drop(path.parent, path.name, data)


def test_a_file_in_a_users_folder_goes_under_that_user_code(inbox: Path) -> None:
    s3 = FakeS3()
    _drop_in(inbox, "alice/x.pdf", b"%PDF x")
    _drop_in(inbox, "MK00001/2024/05/y.pdf", b"%PDF y")
    _drop(inbox, "z.pdf", b"%PDF z")

    keys = InboxWatcher(inbox, s3, "drop", "acme").scan_once()

    assert sorted(k.split("/")[0] for k in keys) == ["MK00001", "acme", "alice"]
    assert {k.split("/")[1] for k in keys} == {"inbox"}
    assert sorted(k.rsplit("-", 1)[1] for k in keys) == ["x.pdf", "y.pdf", "z.pdf"]
    assert sorted(s3.objects.values()) == [b"%PDF x", b"%PDF y", b"%PDF z"]
    assert (inbox / "alice" / ".sent" / "x.pdf").is_file()
    assert (inbox / "MK00001" / ".sent" / "2024" / "05" / "y.pdf").is_file()
    assert (inbox / ".sent" / "z.pdf").is_file()
    assert InboxWatcher(inbox, s3, "drop", "acme").scan_once() == []  # .sent is nobody's
    assert s3.puts == 3


def test_a_users_file_already_uploaded_is_not_put_again(inbox: Path) -> None:
    s3 = FakeS3()
    _drop_in(inbox, "alice/x.pdf", b"%PDF x")
    (key,) = InboxWatcher(inbox, s3, "drop", "acme").scan_once()
    (inbox / "alice" / ".sent" / "x.pdf").rename(inbox / "alice" / "x.pdf")

    assert InboxWatcher(inbox, s3, "drop", "acme").scan_once() == [key]
    assert s3.puts == 1


def test_hidden_files_and_folders_are_not_read_nor_owners(inbox: Path) -> None:
    s3 = FakeS3()
    _drop_in(inbox, ".failed/x.pdf", b"%PDF x")
    _drop_in(inbox, ".sent/y.pdf", b"%PDF y")
    _drop_in(inbox, ".hidden/z.pdf", b"%PDF z")
    _drop_in(inbox, "alice/.w.pdf.part", b"%PDF w")
    _drop_in(inbox, "alice/.drafts/v.pdf", b"%PDF v")

    assert InboxWatcher(inbox, s3, "drop", "acme").scan_once() == []
    assert s3.puts == 0
    assert (inbox / "alice" / ".w.pdf.part").is_file()


@pytest.mark.parametrize("folder", ["John Smith", "a" * 65, "a+b", "见 票", "identify"])
def test_a_folder_that_is_no_user_code_goes_to_failed_unread(inbox: Path, folder: str) -> None:
    s3 = FakeS3()
    _drop_in(inbox, f"{folder}/x.pdf", b"%PDF x")

    assert InboxWatcher(inbox, s3, "drop", "acme").scan_once() == []

    assert s3.puts == 0
    assert (inbox / ".failed" / folder / "x.pdf").read_bytes() == b"%PDF x"
    assert list((inbox / folder).iterdir()) == []


def test_a_file_still_being_written_in_a_users_folder_waits(inbox: Path) -> None:
    (inbox / "alice").mkdir()
    (inbox / "alice" / "x.pdf").write_bytes(b"%PDF x")  # written just now

    assert InboxWatcher(inbox, FakeS3(), "drop", "acme").scan_once() == []
    assert (inbox / "alice" / "x.pdf").is_file()


def test_a_users_file_the_local_aws_cannot_take_now_stays_in_the_folder(inbox: Path) -> None:
    _drop_in(inbox, "alice/x.pdf", b"%PDF x")
    assert InboxWatcher(inbox, FakeS3(put_error=_error(503)), "drop", "acme").scan_once() == []
    assert sorted(p.name for p in (inbox / "alice").iterdir()) == ["x.pdf"]


def test_a_users_file_s3_refuses_goes_to_the_folders_failed(inbox: Path) -> None:
    _drop_in(inbox, "alice/x.pdf", b"%PDF x")
    assert InboxWatcher(inbox, FakeS3(put_error=_error(400)), "drop", "acme").scan_once() == []
    assert (inbox / "alice" / ".failed" / "x.pdf").is_file()


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("alice", None),
        ("MK00001", None),
        ("local.user", None),
        ("张三", None),
        ("a@b-c_d", None),
        ("", "empty"),
        ("...", "starts with a dot"),
        (".sent", "starts with a dot"),
        ("a b", "only letters, digits, '.', '_', '@' and '-'"),
        ("a/b", "only letters, digits, '.', '_', '@' and '-'"),
        ("a" * 65, "more than 64 characters"),
        ("identify", "reserved: the identify API's objects, which the S3 drop skips"),
    ],
)
def test_what_a_user_code_may_be(text: str, refusal: str | None) -> None:
    assert owner_refusal(text) == refusal
