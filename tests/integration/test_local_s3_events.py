"""The local AWS's S3 event notifications name the object version, as S3's do in a
versioned bucket (moto's own carry only the ETag): the drop pipeline names an object by
its version locally as in AWS, and its events carry the real ``version_id``."""

from __future__ import annotations

import json
from typing import Any

from fapiao.services.drops import objects_of_s3_event
from support import Session


def notified_bucket(session: Session, name: str, *, versioned: bool) -> str:
    """A bucket whose ObjectCreated events go to a queue of its own; the queue's URL."""
    s3, sqs = session.client("s3"), session.client("sqs")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    url = sqs.create_queue(QueueName=f"{name}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    return str(url)


def events(session: Session, url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    return [b for b in bodies if "Records" in b]  # not S3's test event


def test_an_event_of_a_versioned_bucket_names_the_version(local_aws: Session) -> None:
    url = notified_bucket(local_aws, "versioned-drop", versioned=True)

    first = local_aws.client("s3").put_object(Bucket="versioned-drop", Key="acme/a.pdf", Body=b"1")
    second = local_aws.client("s3").put_object(Bucket="versioned-drop", Key="acme/a.pdf", Body=b"2")

    objects = [o for event in events(local_aws, url) for o in objects_of_s3_event(event)]
    assert [o.version_id for o in objects] == [first["VersionId"], second["VersionId"]]
    assert objects[0].object_id != objects[1].object_id  # two versions, two objects


def test_an_event_of_an_unversioned_bucket_names_none(local_aws: Session) -> None:
    url = notified_bucket(local_aws, "plain-drop", versioned=False)

    local_aws.client("s3").put_object(Bucket="plain-drop", Key="acme/a.pdf", Body=b"1")

    (event,) = events(local_aws, url)
    assert "versionId" not in event["Records"][0]["s3"]["object"]
    (obj,) = objects_of_s3_event(event)
    assert obj.version_id is None
