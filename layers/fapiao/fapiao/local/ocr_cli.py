"""`fapiao ocr FILE [--create --user-code CODE] [--json]`: one local file through the
running hub's ocrSync (spec 000, ``POST /common/InvoiceOCR/ocrSync``), no file server.

ocrSync reads ``attachment_url`` as an http(s) URL (the safe fetcher, which refuses
loopback addresses unless ``FAPIAO_ALLOW_LOOPBACK_FETCH``) or, without a scheme, as a key
of the drop bucket (``services.process_file.load_file``). So the file is put into the
hub's drop bucket through its local AWS, under ``OCR_PREFIX``
(``identify/ocr/<first 16 hex digits of its SHA-256>/<name>``; not put again when that
key is there), and that key is the ``attachment_url``. The S3 drop function starts the
ingest pipeline for every key but those under ``identify/`` (the identify API's, which
start their own executions), so the file is read by ocrSync alone: no execution, no
outcome, no second invoice. No identify id has that form, so the identify API never
answers for it.

The request: a new ``bizId`` (a UUID), ``create_expense`` Y with ``--create`` (which
needs ``--user-code``), N otherwise, ``purchase_invoice`` N; sent with the development
client's API key (``fapiao.local.locate.api_key``).

Output: with ``--json``, 000's answer as the hub sent it (numbers exactly as sent);
else one line per invoice, tab-separated::

    <index>  <status>  <message_code>  <message>  <invoice key>  <type>  <total>  <expense>

``type`` is the platform code and its name (``10 增值税电子普通发票``), ``total`` the
total with tax, ``expense`` the expense id when one was created (``--create``; 000's
answer then carries the fields of 001's, with no invoice key, type or total). An empty
field was not in the answer.

Exit 0 on ``resCode`` 200000; 1 otherwise, with the answer's ``resCode`` and ``resMsg``
on stderr; 2 for a user's mistake or a hub that is not there.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from fapiao.catalogue.types import UnknownTypeCode, from_platform_code
from fapiao.local.locate import (
    CommandError,
    Hub,
    add_hub_flags,
    api_key,
    locate,
    positive_seconds,
    read_file,
    request_hub,
)
from fapiao.local.pollers import owner_refusal
from fapiao.services.drops import IDENTIFY_PREFIX
from fapiao.settings import LocalHubSettings
from fapiao.settings.limits import MAX_DOWNLOAD_BYTES
from fapiao.wire.common import dump_json

OCR_SYNC_PATH = "/common/InvoiceOCR/ocrSync"
# Under identify/: the S3 drop function skips those keys (see the module docstring).
OCR_PREFIX = f"{IDENTIFY_PREFIX}ocr/"
SUCCESS = 200000
_UNSAFE = re.compile(r"[^\w.\-]+")  # load_file would read "a:b.pdf" as a URL scheme


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "ocr",
        help="recognize and verify a local file through the hub's ocrSync (spec 000)",
        description="Send a local file through a running hub's ocrSync (spec 000) and print "
        "its answer: one line per invoice, or with --json the whole answer. Exit code 1 "
        "when resCode is not 200000.",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument(
        "--create",
        action="store_true",
        help="create the expense (create_expense Y); needs --user-code",
    )
    parser.add_argument(
        "--user-code", type=_user_code, metavar="CODE", help="工号 the expense is created under"
    )
    parser.add_argument("--json", action="store_true", help="print 000's JSON answer")
    parser.add_argument(
        "--timeout", type=positive_seconds, default=120, help="seconds to wait for the answer"
    )
    add_hub_flags(parser, url=True)


def _user_code(text: str) -> str:
    refusal = owner_refusal(text)
    if refusal is not None:
        raise argparse.ArgumentTypeError(f"not a user code: {text!r} ({refusal})")
    return text


def ocr_key(path: Path, data: bytes) -> str:
    """Where the file goes in the drop bucket: named by its bytes, no scheme-like name."""
    name = _UNSAFE.sub("_", path.name).strip("._") or "file"
    return f"{OCR_PREFIX}{hashlib.sha256(data).hexdigest()[:16]}/{name}"


def _upload(hub: Hub, path: Path, data: bytes) -> str:
    bucket, key = hub.ref("DropBucket"), ocr_key(path, data)
    s3 = hub.client("s3")
    with hub.talking():
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                raise
            s3.put_object(Bucket=bucket, Key=key, Body=data)
    return key


def request_body(key: str, create: bool, user_code: str | None) -> dict[str, Any]:
    """000's request for the uploaded file."""
    body: dict[str, Any] = {
        "bizId": str(uuid.uuid4()),
        "timestamp": int(time.time() * 1000),
        "attachment_url": key,
        "purchase_invoice": "N",
        "create_expense": "Y" if create else "N",
    }
    if user_code is not None:
        body["user_code"] = user_code
    return body


def _field(element: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` in the element, else in its ``ocrResult``."""
    ocr = element.get("ocrResult")
    for where in (element, ocr if isinstance(ocr, dict) else {}):
        for name in names:
            if where.get(name) is not None:
                return where[name]
    return None


def _text(value: Any) -> str:
    return "" if value is None else re.sub(r"[\t\r\n]+", " ", str(value)).strip()


def _type(code: Any) -> str:
    if code is None:
        return ""
    try:
        return f"{code} {from_platform_code(code).value}"
    except UnknownTypeCode:
        return str(code)


def invoice_line(index: int, element: dict[str, Any]) -> str:
    """One invoice of 000's ``data`` as a line (see the module's docstring)."""
    ocr = element.get("ocrResult")
    ocr = ocr if isinstance(ocr, dict) else {}
    invoice_key = f"{ocr.get('invoice_code') or ''}{ocr.get('invoice_num') or ''}"
    fields = (
        str(index),
        _text(_field(element, "invoice_status")),
        _text(_field(element, "invoice_message_code")),
        _text(_field(element, "invoice_message")),
        _text(_field(element, "invoice_key") or invoice_key),
        _type(_field(element, "invoice_type")),
        _text(_field(element, "amount", "total_amount")),
        _text(element.get("expense_id")),
    )
    return "\t".join(fields)


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    if args.create and args.user_code is None:
        raise CommandError("--create needs --user-code CODE (000: 当create_expense为Y时必传)")
    data = read_file(args.file)
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise CommandError(
            f"{args.file}: {len(data)} bytes; ocrSync reads files of {MAX_DOWNLOAD_BYTES} "
            "bytes at most"
        )
    hub = locate(args, settings)
    if hub.url is None:
        raise CommandError("the hub's API is not known: pass --url URL or --data DIR")
    key = api_key(args, settings)
    attachment = _upload(hub, args.file, data)
    body = request_body(attachment, args.create, args.user_code)
    status, answer = request_hub(hub.url, key, args.timeout, "POST", OCR_SYNC_PATH, body=body)
    code = answer.get("resCode") if isinstance(answer, dict) else None
    if args.json:
        print(dump_json(answer))
    elif code == SUCCESS:
        for index, element in enumerate(answer.get("data") or []):
            if isinstance(element, dict):
                print(invoice_line(index, element))
    if code == SUCCESS:
        return 0
    said = answer.get("resMsg") or answer.get("message") if isinstance(answer, dict) else None
    print(
        f"fapiao ocr: {code if code is not None else f'HTTP {status}'}: {said or answer}",
        file=sys.stderr,
    )
    return 1
