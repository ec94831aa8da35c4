"""Adapter: ResourceProbe over boto3 (AWS and the local hub alike)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from fapiao import aws

_MISSING = {"ResourceNotFoundException", "NoSuchBucket", "404", "NotFound"}


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _MISSING


class AwsResourceProbe:
    def table_exists(self, name: str) -> bool:
        try:
            aws.client("dynamodb").describe_table(TableName=name)
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def bucket_exists(self, name: str) -> bool:
        try:
            aws.client("s3").head_bucket(Bucket=name)
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def event_bus_exists(self, name: str) -> bool:
        try:
            aws.client("events").describe_event_bus(Name=name)
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True
