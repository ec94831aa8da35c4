"""What Lambda's event source mappings and a scanner do, done locally in threads.

``QueuePoller`` reads an SQS queue of the local AWS and invokes the function the
template's SQS event names with Lambda's SQS event, deleting what it handled
(``batchItemFailures`` stay for another try). ``InboxWatcher`` puts each file that
appears in the inbox folder into the drop bucket, as a scanner would.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger("fapiao-local.pollers")

# (function logical id, event) -> result
Invoke = Callable[[str, bytes], tuple[bytes, str | None]]


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: str,
        invoke: Invoke,
        batch_size: int = 10,
        idle_sleep: float = 0.3,
    ) -> None:
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.function, self.invoke, self.batch_size = function, invoke, batch_size
        self.idle_sleep = idle_sleep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poll-{function}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Take no more work; what runs now goes on (see ``stop``)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.poll_once()
            except Exception:  # the local AWS restarting, a handler bug: log, go on
                logger.exception("polling %s for %s failed", self.queue_arn, self.function)
                handled = 0
            if not handled:
                self._stop.wait(self.idle_sleep)

    def poll_once(self) -> int:
        # WaitTimeSeconds 0: a long poll would hold the gateway's lock for its duration.
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": self.queue_arn.split(":")[3],
                }
                for m in messages
            ]
        }
        result, error = self.invoke(self.function, json.dumps(event).encode())
        failed: set[str] = set()
        if error is not None:  # the whole batch goes back to the queue
            failed = {m["MessageId"] for m in messages}
        else:
            answer = json.loads(result or b"{}") or {}
            failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return len(messages)


class InboxWatcher:
    """Files dropped into ``inbox`` go to the drop bucket under ``<owner>/inbox/``; each
    is moved to ``inbox/.sent/`` once uploaded (``.failed/`` when it cannot be)."""

    def __init__(
        self, inbox: Path, s3: Any, bucket: str, owner: str, interval: float = 1.0
    ) -> None:
        self.inbox, self.s3, self.bucket, self.owner = inbox, s3, bucket, owner
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Take no more work; what runs now goes on (see ``stop``)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan_once()
            except Exception:
                logger.exception("scanning the inbox %s failed", self.inbox)
            self._stop.wait(self.interval)

    def _uploaded(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as error:
            status = getattr(error, "response", {}).get("ResponseMetadata", {})
            if status.get("HTTPStatusCode") == 404:
                return False
            raise
        return True

    def scan_once(self) -> list[str]:
        uploaded = []
        for path in sorted(self.inbox.iterdir()):
            if self._stop.is_set():
                break  # stopping: what is left is uploaded after the next start
            if path.name.startswith(".") or not path.is_file():
                continue
            if time.time() - path.stat().st_mtime < 0.5:  # still being written
                continue
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:12]
            key = f"{self.owner}/inbox/{digest}-{path.name}"
            try:
                # The key names the content: if it is there, this file was uploaded and
                # the hub stopped before moving it. Putting it again would drop a second
                # version, and the same file would get a second outcome.
                if not self._uploaded(key):
                    self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
                target = self.inbox / ".sent"
                uploaded.append(key)
            except Exception as error:
                if self._stop.is_set() or not _refused(error):
                    # The local AWS is stopping or unavailable: the file stays in the
                    # inbox and goes at the next scan (or the next start).
                    logger.warning(
                        "%s not uploaded yet (%s); it stays in the inbox", path.name, error
                    )
                    continue
                logger.exception("could not upload %s", path.name)
                target = self.inbox / ".failed"
            target.mkdir(exist_ok=True)
            shutil.move(str(path), target / path.name)
        return uploaded


def _refused(error: Exception) -> bool:
    """True when S3 refused the upload for good (a 4xx): the file goes to ``.failed``.
    Anything else (503 while the hub stops, a connection error) is worth another try."""
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return isinstance(status, int) and 400 <= status < 500
