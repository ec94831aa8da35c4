"""What the browser tests put in a running hub, as clients would: a QR-only photo of an
invoice dropped into the drop bucket (it waits for completion, C 907010), and an
invoice that invoice/create stores as F because its check contradicts its amounts, with
a seller name that would run as HTML if the page ever used it as HTML."""

from __future__ import annotations

import copy
import time
from typing import Any

from fixtures.generate import qr_photo, random_bytes
from fixtures.served import recent_invoice

from fakes.exocr_server import FakeExocr, authority_says
from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.wire.common import dump_json
from hubprocess import RunningHub, call
from support import REGION, SPECS, TEMPLATE, Session

QR_ONLY = recent_invoice(81)  # an electronic ordinary invoice: its QR code has no total
UNREAD = recent_invoice(82)  # the invoice of a file the hub cannot read
OWNER = "console.owner"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
WAIT_SECONDS = 120.0


def script(exocr: FakeExocr) -> None:
    for spec in (QR_ONLY, UNREAD):
        exocr.script(spec.invoice_number, authority_says(spec))


def drop(hub: RunningHub, key: str, body: bytes) -> str:
    """``body`` dropped into the drop bucket as ``key``, as a scanner would."""
    bucket = LocalNames(Template(TEMPLATE), REGION).ref("DropBucket")
    Session(hub.aws).client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return key


def drop_qr_only_photo(hub: RunningHub) -> str:
    photo = qr_photo([QR_ONLY.qr_payload()], size=(600, 400), fmt="PNG")
    return drop(hub, f"{OWNER}/phone/qr-only.png", photo)


def drop_unreadable_file(hub: RunningHub) -> str:
    return drop(hub, f"{OWNER}/scan/unreadable.bin", random_bytes())


def create_contradicted(hub: RunningHub, number: str = "20250001") -> dict[str, Any]:
    """Spec 001's example, read as 240 where its check says 250 and sold by HOSTILE_NAME:
    stored F 907007. The request sent."""
    from contract.spec_examples import examples

    request = copy.deepcopy(examples("001")[0])
    invoice = request["receipt_ocr"]["invoices"][0]
    invoice.update(invoice_number=number, amount=240, total_amount=240, seller_name=HOSTILE_NAME)
    request["receipt_check"]["invoice_num"] = number
    request["bizId"] = f"console-{number}"
    body = dump_json(request).encode("utf-8")
    status, answer = call("POST", f"{hub.url}/common/invoice/create", body, api_key=hub.api_key)
    assert status == 200, answer
    assert answer["data"]["invoice_status"] == "F", answer
    return request


def specs_present() -> bool:
    return SPECS.is_dir()


def queued(hub: RunningHub, predicate: Any, query: str = "") -> dict[str, Any]:
    """The first entry of GET /common/review that ``predicate`` accepts, once it is there."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        url = f"{hub.url}/common/review?limit=100{query}"
        status, body = call("GET", url, api_key=hub.api_key)
        assert status == 200, body
        found = [entry for entry in body["data"]["items"] if predicate(entry)]
        if found:
            return found[0]  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"not in the review queue: {body}"
        time.sleep(0.5)
