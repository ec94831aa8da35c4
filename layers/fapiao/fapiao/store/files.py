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
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            if head["ContentLength"] > max_bytes:
                raise HubError(Problem.FILE_TOO_LARGE, f"over {max_bytes} bytes")
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            data: bytes = body.read(max_bytes + 1)
        except ClientError as error:
            raise HubError(Problem.FILE_UNREACHABLE, "no such file in the drop bucket") from error
        if len(data) > max_bytes:  # the object grew between HEAD and GET
            raise HubError(Problem.FILE_TOO_LARGE, f"over {max_bytes} bytes")
        return data
