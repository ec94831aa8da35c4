"""S3FileStore (store/files.py) on the local AWS: a dropped file read in one GET, refused
past the size limit before its body is read, and a missing one named unreachable."""

from __future__ import annotations

from typing import Any

import pytest

from fapiao.catalogue.errors import HubError, Problem
from fapiao.local.resources import LocalNames
from fapiao.store.files import S3FileStore
from support import Session


@pytest.fixture
def store(tables: Session, names: LocalNames) -> tuple[S3FileStore, Any, list[str]]:
    client = tables.client("s3")
    sent: list[str] = []
    client.meta.events.register(
        "before-call.s3",
        lambda model, **_: sent.append(model.name),  # every request made
    )
    return S3FileStore(names.ref("DropBucket"), client), client, sent


def test_a_file_is_read_in_one_request(store: tuple[S3FileStore, Any, list[str]]) -> None:
    files, client, sent = store
    client.put_object(Bucket=files.bucket, Key="acme/a.pdf", Body=b"%PDF-1.7 small")
    sent.clear()

    assert files.get("acme/a.pdf", max_bytes=100) == b"%PDF-1.7 small"
    assert sent == ["GetObject"]


def test_a_file_over_the_limit_is_refused(store: tuple[S3FileStore, Any, list[str]]) -> None:
    files, client, _ = store
    client.put_object(Bucket=files.bucket, Key="acme/big.pdf", Body=b"x" * 101)

    with pytest.raises(HubError) as refused:
        files.get("acme/big.pdf", max_bytes=100)
    assert refused.value.problem is Problem.FILE_TOO_LARGE
    assert files.get("acme/big.pdf", max_bytes=101) == b"x" * 101  # the limit itself passes


def test_a_missing_file_is_unreachable(store: tuple[S3FileStore, Any, list[str]]) -> None:
    files, _, _ = store
    with pytest.raises(HubError) as refused:
        files.get("acme/nothing.pdf", max_bytes=100)
    assert refused.value.problem is Problem.FILE_UNREACHABLE
