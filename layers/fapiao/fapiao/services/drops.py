"""Use case: which objects an S3 event says were dropped, and which of them the async
identify API put there (recognized, never imported).

Apart from the rest of the pipeline's use cases (``fapiao.services.pipeline``): the S3
drop function needs only this, and its cold start does not load recognition, the rules
or the verifier's results (issue 13).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from fapiao.model.pipeline import DroppedObject

__all__ = ["IDENTIFY_PREFIX", "objects_of_s3_event"]

IDENTIFY_PREFIX = "identify/"  # objects of the async identify API: recognized, not imported


def objects_of_s3_event(event: dict[str, Any]) -> list[DroppedObject]:
    """The objects an S3 event notification names (keys arrive URL-encoded)."""
    objects = []
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        objects.append(
            DroppedObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                etag=str(s3["object"].get("eTag") or s3["object"].get("etag") or ""),
                version_id=s3["object"].get("versionId"),
            )
        )
    return objects
