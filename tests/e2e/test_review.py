"""The review queue through a running local hub (`fapiao serve`, a process), a fake exocr
behind it, and `fapiao review` as a user runs it (its ``run``, in this process, over
the hub's HTTP API with the hub's development key):

- a photo of just the QR code of an e-invoice (code, number, date, pre-tax amount; no
  total) is not F: it waits for completion (C 907010), `fapiao review list --json` lists
  it, `fapiao review fix ID --set total_amount=...` makes it verified (Y), and the
  correction shows in GET /common/invoice/detail and GET /common/review/{id};
- a file that cannot be read (U) is listed, and a fix with its fields creates the
  invoice under the file's owner and takes the file out of the queue.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fixtures.generate import qr_photo, random_bytes
from fixtures.served import recent_invoice

from fakes.exocr_server import FakeExocr, authority_says
from fapiao.local import review_cli
from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.settings import LocalHubSettings
from fapiao.wire.common import load_json
from hubprocess import RunningHub, call, get, start_hub
from support import REGION, TEMPLATE, Session

pytestmark = pytest.mark.slow

SPEC = recent_invoice(61)  # an electronic ordinary invoice: its QR code has no total
UNREAD = recent_invoice(62)  # the invoice of a file the hub cannot read
OWNER = "review.owner"
WAIT_SECONDS = 120.0


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        for spec in (SPEC, UNREAD):
            fake.script(spec.invoice_number, authority_says(spec))
        yield fake


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hub's data folder (where `fapiao review` finds its key)."""
    return Path(tmp_path_factory.mktemp("hub")) / "data"


@pytest.fixture(scope="module")
def hub(data: Path, exocr: FakeExocr) -> Iterator[RunningHub]:
    env: dict[str, str | None] = {
        **exocr.hub_settings,
        "FAPIAO_IDENTIFIER": None,  # the embedded engine reads the QR code
    }
    running = start_hub(data, env)
    yield running
    running.stop()


class Review:
    """`fapiao review ARGV --data <the hub's data folder>`, run as the command line runs
    it: its exit code and what it printed."""

    def __init__(self, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.data = data
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str]:
        parser = argparse.ArgumentParser(prog="fapiao")
        review_cli.add_parser(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["review", *argv, "--data", str(self.data)])
        self.capsys.readouterr()
        code = review_cli.run(args, LocalHubSettings.from_env())
        return code, self.capsys.readouterr().out


@pytest.fixture
def review(hub: RunningHub, data: Path, capsys: pytest.CaptureFixture[str]) -> Review:
    return Review(data, capsys)


def drop(hub: RunningHub, key: str, data: bytes) -> None:
    bucket = LocalNames(Template(TEMPLATE), REGION).ref("DropBucket")
    Session(hub.aws).client("s3").put_object(Bucket=bucket, Key=key, Body=data)


def listed(review: Review, key: str, *argv: str) -> dict[str, Any]:
    """The entry of the dropped object ``key`` in `fapiao review list --json`, once the
    pipeline has finished with it."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        code, out = review("list", "--json", *argv)
        assert code == 0
        found = [entry for entry in load_json(out) if entry["key"] == key]
        if found:
            (entry,) = found
            return entry  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"{key} not in the review queue: {out}"
        time.sleep(1)


def test_a_qr_only_photo_waits_for_completion_and_a_fix_verifies_it(
    hub: RunningHub, review: Review
) -> None:
    key = f"{OWNER}/phone/qr-only.png"
    drop(hub, key, qr_photo([SPEC.qr_payload()], size=(600, 400), fmt="PNG"))
    invoice_key = f"{SPEC.invoice_code}{SPEC.invoice_number}"

    entry = listed(review, key, "--status", "C", "--owner", OWNER)

    assert (entry["id"], entry["invoice_key"], entry["status"]) == (invoice_key, invoice_key, "C")
    assert entry["message_code"] == 907010
    assert entry["message"] == "发票信息不全,补全后查验: total_amount"
    assert entry["fields"]["invoice_number"] == SPEC.invoice_number
    assert entry["fields"]["amount"] == SPEC.amount
    assert "total_amount" not in entry["fields"]

    code, out = review("fix", invoice_key, "--set", f"total_amount={SPEC.total_amount}")

    assert code == 0
    assert out.split("\t")[:3] == [invoice_key, "Y", ""]
    query = urlencode({"invoice_code": SPEC.invoice_code, "invoice_number": SPEC.invoice_number})
    status, detail = get(f"{hub.url}/common/invoice/detail?{query}")
    assert status == 200
    (stored,) = detail["data"]
    assert stored["ocrResult"]["invoice_status"] == "Y"
    assert stored["ocrResult"]["amount"] == float(SPEC.total_amount)
    (correction,) = stored["corrections"]
    assert (correction["field"], correction["old"], correction["new"]) == (
        "total_amount",
        None,
        str(SPEC.total_amount),
    )
    # The development client's API key: its client id (its name once the authorizer
    # passes the name on).
    assert correction["by"] in ("dev", "local development client")
    status, queued = get(f"{hub.url}/common/review/{invoice_key}")
    assert status == 200
    assert queued["data"]["corrections"] == stored["corrections"]
    assert [t["status"] for t in queued["data"]["transitions"]] == ["C", "Y"]
    assert queued["data"]["check"]["result"] == 1
    code, out = review("list", "--json")
    assert invoice_key not in [entry["id"] for entry in load_json(out)]


def test_an_unreadable_file_is_listed_and_a_fix_creates_its_invoice(
    hub: RunningHub, review: Review
) -> None:
    key = f"{OWNER}/scan/unreadable.bin"
    drop(hub, key, random_bytes())

    entry = listed(review, key, "--status", "U")

    assert (entry["status"], entry["index"], entry["invoice_key"]) == ("U", 0, None)
    assert entry["message_code"] == 907006
    fields = {
        "invoice_type": "10",
        "invoice_code": UNREAD.invoice_code,
        "invoice_number": UNREAD.invoice_number,
        "receipt_date": UNREAD.receipt_date.strftime("%Y%m%d"),
        "amount": UNREAD.amount,
        "total_amount": UNREAD.total_amount,
        "check_code": UNREAD.check_code,
    }
    argv = [arg for name, value in fields.items() for arg in ("--set", f"{name}={value}")]

    code, out = review("fix", entry["id"], *argv, "--json")

    assert code == 0
    outcome = load_json(out)
    invoice_key = f"{UNREAD.invoice_code}{UNREAD.invoice_number}"
    assert (outcome["id"], outcome["status"], outcome["invoice_key"]) == (
        invoice_key,
        "Y",
        invoice_key,
    )
    status, resolved = get(f"{hub.url}/common/review/{entry['id']}")
    assert (status, resolved["data"]["resolved_by"]) == (200, invoice_key)
    status, created = get(f"{hub.url}/common/review/{invoice_key}")
    assert status == 200
    assert created["data"]["owner"] == OWNER
    assert created["data"]["key"] == key
    assert [t["status"] for t in created["data"]["transitions"]] == ["U", "Y"]
    assert {c["field"] for c in created["data"]["corrections"]} == set(fields)
    code, out = review("list", "--json", "--status", "U")
    assert entry["id"] not in [listed_["id"] for listed_ in load_json(out)]


def test_a_fix_with_an_unknown_field_is_refused_with_the_catalogue_code(
    hub: RunningHub, review: Review
) -> None:
    status, body = call(
        "POST",
        f"{hub.url}/common/review/033022100211ABCDEFGH/fix",
        b'{"set": {"no_such_field": "1"}}',
    )
    assert (status, body["resCode"]) == (400, 400000)
    assert "no_such_field" in body["resMsg"]
    status, body = call("GET", f"{hub.url}/common/review", api_key="not-a-key")
    assert (status, body["resCode"]) == (401, 401000)
    status, schema = get(f"{hub.url}/openapi.json")
    assert status == 200
    operations = schema["paths"]["/common/review/{review_id}/fix"]["post"]
    assert operations["security"] == [{"apiKey": []}]
