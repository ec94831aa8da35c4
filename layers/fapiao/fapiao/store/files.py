"""Invoice files in the drop bucket: the S3 adapter of ``fapiao.ports.FileStore``."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.catalogue.errors import HubError, Problem


class S3FileStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("s3")

    def get(self, key: str, max_bytes: int) -> bytes:
        """The object's bytes; FILE_TOO_LARGE past ``max_bytes``, judged by the GET's
        Content-Length before its body is read (one request, no HEAD before it), and by
        what is read (never more than ``max_bytes`` + 1)."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            raise HubError(Problem.FILE_UNREACHABLE, "no such file in the drop bucket") from error
        body = answer["Body"]
        try:
            if answer.get("ContentLength", 0) > max_bytes:
                raise HubError(Problem.FILE_TOO_LARGE, f"over {max_bytes} bytes")
            data: bytes = body.read(max_bytes + 1)
        finally:
            body.close()  # an oversized body is not read: its connection is let go
        if len(data) > max_bytes:
            raise HubError(Problem.FILE_TOO_LARGE, f"over {max_bytes} bytes")
        return data
