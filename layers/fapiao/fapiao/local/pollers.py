"""What Lambda's event source mappings and a scanner do, done locally in threads.

``QueuePoller`` reads an SQS queue of the local AWS and invokes the function the
template's SQS event names with Lambda's SQS event, deleting what it handled
(``batchItemFailures`` stay for another try). ``InboxWatcher`` puts each file that
appears in the inbox folder (or a user's folder in it) into the drop bucket, as a
scanner would.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
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

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)

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
    """Files dropped into ``inbox`` go to the drop bucket, as a scanner would put them.

    - ``inbox/<file>`` goes under the default owner: ``<owner>/inbox/<digest>-<file>``;
    - ``inbox/<user_code>/<file>`` (or deeper, ``inbox/<user_code>/2024/05/<file>``) goes
      under that user code: ``<user_code>/inbox/<digest>-<file>``.

    ``<digest>`` is the first 12 hex digits of the file's SHA-256, so the key names the
    bytes. Each file is moved, once uploaded, to ``.sent/`` of the folder it was dropped
    in (``inbox/.sent/<file>``, ``inbox/<user_code>/.sent/<file>``, keeping the path
    below the user's folder); to ``.failed/`` there when S3 refuses it for good (a 4xx).
    A file the local AWS cannot take now (stopping, unavailable) stays where it is for the
    next scan or the next start. Hidden files and folders (``.sent``, ``.failed``, a
    ``.name.part`` being written) are never read, and hidden folders are never owners.

    A folder whose name cannot be a user code (see ``owner_refusal``: spaces, other
    punctuation, over 64 characters) is nobody's: its files are moved, unread, to
    ``inbox/.failed/<folder>/`` and a warning names the folder and why, rather than
    filing someone's invoices under the default owner."""

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

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)

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
        """Upload what is ready; answer the keys uploaded (or found uploaded already)."""
        uploaded: list[str] = []
        for path in sorted(self.inbox.iterdir()):
            if self._stop.is_set():
                break  # stopping: what is left is uploaded after the next start
            if path.name.startswith("."):
                continue
            if path.is_dir():
                uploaded.extend(self._scan_folder(path))
            elif path.is_file() and (key := self._take(path, self.owner, self.inbox)):
                uploaded.append(key)
        return uploaded

    def _scan_folder(self, folder: Path) -> list[str]:
        """A user's folder: its files, all the way down, under the user code it names."""
        refusal = owner_refusal(folder.name)
        uploaded = []
        for path in _files_below(folder):
            if self._stop.is_set():
                break
            if refusal is None:
                if key := self._take(path, folder.name, folder):
                    uploaded.append(key)
            elif _settled(path):
                logger.warning(
                    "inbox folder %r is not a user code (%s): %s moved to %s",
                    folder.name,
                    refusal,
                    path.relative_to(folder),
                    self.inbox / ".failed" / folder.name,
                )
                _move(path, folder, self.inbox / ".failed" / folder.name)
        return uploaded

    def _take(self, path: Path, owner: str, home: Path) -> str | None:
        """Upload one file under ``owner``, then move it into ``home``'s ``.sent/`` (or
        ``.failed/``); None when it is not uploaded (not ready, refused, or for later)."""
        if not _settled(path):
            return None
        try:
            data = path.read_bytes()
        except OSError as error:  # gone, or unreadable for now: the next scan sees
            logger.warning("%s not read (%s); it stays in the inbox", path.name, error)
            return None
        digest = hashlib.sha256(data).hexdigest()[:12]
        key = f"{owner}/inbox/{digest}-{path.name}"
        try:
            # The key names the content: if it is there, this file was uploaded and
            # the hub stopped before moving it. Putting it again would drop a second
            # version, and the same file would get a second outcome.
            if not self._uploaded(key):
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        except Exception as error:
            if self._stop.is_set() or not _refused(error):
                # The local AWS is stopping or unavailable: the file stays in the
                # inbox and goes at the next scan (or the next start).
                logger.warning("%s not uploaded yet (%s); it stays in the inbox", path.name, error)
                return None
            logger.exception("could not upload %s", path.name)
            _move(path, home, home / ".failed")
            return None
        _move(path, home, home / ".sent")
        return key


# The first segment of a drop key names whose invoices they are (DroppedObject.owner).
_USER_CODE = re.compile(r"[\w.@-]+")
MAX_USER_CODE = 64


def owner_refusal(text: str) -> str | None:
    """Why ``text`` cannot be a user code, the first segment of a drop key (an inbox
    folder's name, ``fapiao ingest --owner``); None when it can be one. A user code is 1
    to 64 letters, digits, ``.``, ``_``, ``@`` or ``-``, not starting with a dot, and not
    ``identify`` (keys under ``identify/`` start no pipeline)."""
    # Here, not at the top, as hub.py does: the pipeline's use cases are not needed to
    # start the hub (0.16 s of imports).
    from fapiao.services.drops import IDENTIFY_PREFIX

    if not text:
        return "empty"
    if len(text) > MAX_USER_CODE:
        return f"more than {MAX_USER_CODE} characters"
    if text.startswith("."):
        return "starts with a dot"
    if not _USER_CODE.fullmatch(text):
        return "only letters, digits, '.', '_', '@' and '-'"
    if f"{text}/" == IDENTIFY_PREFIX:
        return "reserved: the identify API's objects, which the S3 drop skips"
    return None


def _settled(path: Path) -> bool:
    """Not written to in the last half second (a copy in progress is left alone)."""
    try:
        return time.time() - path.stat().st_mtime >= 0.5
    except OSError:  # gone meanwhile
        return False


def _files_below(folder: Path) -> list[Path]:
    """A folder's regular files, all the way down, sorted; hidden files and folders
    (``.sent``, ``.failed``, ``.name.part``) left out."""
    found: list[Path] = []
    for top, subfolders, names in os.walk(folder):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found.extend(
            Path(top, name)
            for name in names
            if not name.startswith(".") and Path(top, name).is_file()
        )
    return sorted(found)


def _move(path: Path, home: Path, target: Path) -> None:
    """``home/<relative path>`` -> ``target/<relative path>``."""
    destination = target / path.relative_to(home)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), destination)


def _refused(error: Exception) -> bool:
    """True when S3 refused the upload for good (a 4xx): the file goes to ``.failed``.
    Anything else (503 while the hub stops, a connection error) is worth another try."""
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return isinstance(status, int) and 400 <= status < 500
