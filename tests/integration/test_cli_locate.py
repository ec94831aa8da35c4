"""The commands find a running hub through its data folder's hub.json, from any folder:
`fapiao outcomes [--json]`, `fapiao ingest FILE|DIR`, `fapiao keys create`.

The hub here is one local AWS started in process for the module (provisioned from
template.yaml) and a small HTTP server playing the hub's API, named by a hub.json written
as ``fapiao serve`` writes it. Each test drops its objects under an owner of its own and
reads them with ``--prefix``; outcomes are put into the OutcomesTable by the test, or by
a thread that plays the pipeline."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fapiao.local import cli
from fapiao.local.aws import LocalAws, free_port
from fapiao.local.locate import HUB_FILE
from fapiao.local.resources import LocalNames, provision
from fapiao.model.pipeline import DroppedObject
from fapiao.services.reconcile import listed_object
from fapiao.store.api_keys import DynamoApiKeyStore
from fapiao.wire.common import load_json
from support import PROJECT_ROOT, REGION, TEMPLATE, Session

AT = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
JSON_KEYS = {"key", "index", "outcome", "status", "message_code", "message", "invoice_key", "at"}


class _Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Hub:
    data: Path
    aws: Session
    names: LocalNames
    url: str
    owner: str  # this test's objects are under <owner>/

    @property
    def bucket(self) -> str:
        return self.names.ref("DropBucket")

    def drop(self, key: str, body: bytes = b"%PDF-1.7 invoice") -> DroppedObject:
        put = self.aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)
        return DroppedObject(
            bucket=self.bucket, key=key, etag=put["ETag"].strip('"'), version_id=put["VersionId"]
        )

    def record(self, obj: DroppedObject, index: int, outcome: str, **detail: Any) -> None:
        """An OutcomesTable item as the pipeline writes it; ``item_index`` may differ from
        the detail's index, which is how a second outcome for one invoice looks."""
        item_index = detail.pop("item_index", index)
        model = {
            "outcome": outcome,
            "object": obj.model_dump(),
            "index": index,
            "owner": obj.key.split("/")[0],
            "at": AT.isoformat(),
            **detail,
        }
        self.aws.client("dynamodb").put_item(
            TableName=self.names.ref("OutcomesTable"),
            Item={
                "object_id": {"S": obj.object_id},
                "index": {"N": str(item_index)},
                "outcome": {"S": outcome},
                "detail": {"S": json.dumps(model)},
                "published": {"BOOL": True},
            },
        )


def write_hub_file(data: Path, **fields: Any) -> None:
    data.mkdir(parents=True, exist_ok=True)
    (data / HUB_FILE).write_text(json.dumps(fields), encoding="utf-8")


@pytest.fixture(scope="module")
def shared_aws(tmp_path_factory: pytest.TempPathFactory, names: LocalNames) -> Iterator[Session]:
    aws = LocalAws(tmp_path_factory.mktemp("aws"))
    session = Session(aws.start())
    try:
        provision(names.template, names, session)
        yield session
    finally:
        aws.stop()


@pytest.fixture
def hub(
    tmp_path: Path, shared_aws: Session, names: LocalNames, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Hub]:
    """A running hub as the commands see it, and a current folder that is not the
    repository (no template.yaml, no .fapiao)."""
    api = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{api.server_address[1]}"
    data = tmp_path / "data"
    write_hub_file(
        data,
        url=url,
        aws=shared_aws.endpoint,
        region=REGION,
        template=str(TEMPLATE),
        inbox=str(tmp_path / "inbox"),
        pid=os.getpid(),
    )
    for name in ("FAPIAO_DATA_DIR", "FAPIAO_REGION", "FAPIAO_TEMPLATE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    try:
        yield Hub(data, shared_aws, names, url, f"t{uuid.uuid4().hex[:12]}")
    finally:
        api.shutdown()
        api.server_close()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_outcomes_json_is_one_array_an_element_per_outcome(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    one = hub.drop(f"{hub.owner}/ingest/0a1b2c3d4e5f-train.pdf")
    two = hub.drop(f"{hub.owner}/ingest/5f4e3d2c1b0a-two-invoices.pdf")
    hub.record(one, 0, "created", status="I", invoice_key="033022100211:68552329")
    hub.record(
        two,
        1,
        "duplicate",
        status="F",
        message="发票已导入",
        message_code="907002",
        invoice_key="k2",
    )
    hub.record(two, 0, "created", status="Y", invoice_key="k1", expense_id=7)

    code, out, err = run(
        ["outcomes", "--data", str(hub.data), "--json", "--prefix", f"{hub.owner}/"], capsys
    )

    assert (code, err) == (0, "")
    elements = load_json(out)
    assert all(set(element) == JSON_KEYS for element in elements)
    assert elements == [
        {
            "key": f"{hub.owner}/ingest/0a1b2c3d4e5f-train.pdf",
            "index": 0,
            "outcome": "created",
            "status": "I",
            "message_code": None,
            "message": None,
            "invoice_key": "033022100211:68552329",
            "at": "2024-05-01T09:30:00+08:00",
        },
        {
            "key": f"{hub.owner}/ingest/5f4e3d2c1b0a-two-invoices.pdf",
            "index": 0,
            "outcome": "created",
            "status": "Y",
            "message_code": None,
            "message": None,
            "invoice_key": "k1",
            "at": "2024-05-01T09:30:00+08:00",
        },
        {
            "key": f"{hub.owner}/ingest/5f4e3d2c1b0a-two-invoices.pdf",
            "index": 1,
            "outcome": "duplicate",
            "status": "F",
            "message_code": 907002,
            "message": "发票已导入",
            "invoice_key": "k2",
            "at": "2024-05-01T09:30:00+08:00",
        },
    ]


def test_outcomes_exit_1_when_an_object_has_no_outcome(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    done = hub.drop(f"{hub.owner}/ingest/a.pdf")
    hub.drop(f"{hub.owner}/ingest/lost.pdf")
    hub.record(done, 0, "unrecognisable", status="U", message="no readable code")

    code, out, err = run(
        ["outcomes", "--data", str(hub.data), "--json", "--prefix", f"{hub.owner}/"], capsys
    )

    assert code == 1
    assert [(e["key"], e["outcome"]) for e in load_json(out)] == [
        (f"{hub.owner}/ingest/a.pdf", "unrecognisable")
    ]
    assert err == f"fapiao outcomes: 1 of 2 objects are off: missing {hub.owner}/ingest/lost.pdf\n"


def test_outcomes_exit_1_when_an_invoice_has_two_outcomes(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = hub.drop(f"{hub.owner}/ingest/twice.pdf")
    hub.record(twice, 0, "created", status="Y", invoice_key="k1")
    hub.record(twice, 0, "duplicate", status="F", message_code="907002", item_index=1)

    code, out, err = run(
        ["outcomes", "--data", str(hub.data), "--json", "--prefix", f"{hub.owner}/"], capsys
    )

    assert code == 1
    elements = load_json(out)
    assert [(e["key"], e["index"]) for e in elements] == [(f"{hub.owner}/ingest/twice.pdf", 0)] * 2
    assert err == f"fapiao outcomes: 1 of 1 objects are off: doubled {hub.owner}/ingest/twice.pdf\n"


def test_outcomes_for_people_as_before(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    done = hub.drop(f"{hub.owner}/ingest/a.pdf")
    hub.drop(f"{hub.owner}/ingest/lost.pdf")
    hub.record(done, 0, "created", status="Y")

    code, out, err = run(["outcomes", "--data", str(hub.data), "--prefix", f"{hub.owner}/"], capsys)

    assert (code, err) == (1, "")
    listed = hub.aws.client("s3").list_object_versions(Bucket=hub.bucket, Prefix=f"{hub.owner}/")[
        "Versions"
    ]
    ids = {v["Key"]: listed_object(hub.bucket, v).object_id for v in listed}
    assert out.splitlines() == [
        f"{ids[f'{hub.owner}/ingest/a.pdf']}  0:created",
        f"{ids[f'{hub.owner}/ingest/lost.pdf']}  MISSING",
        "2 objects: 1 created; 1 missing, 0 doubled, 0 with a gap",
    ]


def test_flags_name_the_hub_without_a_hub_file(
    hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (hub.data / HUB_FILE).unlink()
    hub.drop(f"{hub.owner}/ingest/a.pdf")
    argv = ["outcomes", "--json", "--aws", hub.aws.endpoint, "--template", str(TEMPLATE)]
    argv += ["--prefix", f"{hub.owner}/"]

    code, out, err = run(argv, capsys)

    assert (code, [e["key"] for e in load_json(out)]) == (1, [])
    assert err == f"fapiao outcomes: 1 of 1 objects are off: missing {hub.owner}/ingest/a.pdf\n"


def test_a_local_aws_that_refuses_is_one_line(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    """The tables exist in the hub's region only: asked in another, DynamoDB refuses."""
    hub.drop(f"{hub.owner}/ingest/a.pdf")

    code, out, err = run(["outcomes", "--data", str(hub.data), "--region", "us-east-1"], capsys)

    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(
        f"fapiao outcomes: the local AWS at {hub.aws.endpoint} refused: ResourceNotFoundException"
    )


def test_a_hub_file_whose_url_does_not_answer_is_no_hub(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    fields = json.loads((hub.data / HUB_FILE).read_text())
    write_hub_file(hub.data, **{**fields, "url": gone})  # its pid is alive: this process

    code, out, err = run(["outcomes", "--data", str(hub.data)], capsys)

    assert (code, out) == (2, "")
    assert err == f"fapiao outcomes: no hub at {gone} (nothing answers there)\n"


def test_a_local_aws_that_is_gone_is_no_hub(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    fields = json.loads((hub.data / HUB_FILE).read_text())
    gone = f"http://127.0.0.1:{free_port()}"
    write_hub_file(hub.data, **{**fields, "aws": gone})

    code, out, err = run(["outcomes", "--data", str(hub.data)], capsys)

    assert (code, out) == (2, "")
    assert err == (f"fapiao outcomes: no hub at {hub.url} (its local AWS {gone} does not answer)\n")


@pytest.fixture
def pipeline(hub: Hub) -> Iterator[None]:
    """Plays the pipeline: each object dropped gets one outcome, named by its file."""
    stop = threading.Event()
    s3 = hub.aws.client("s3")

    def play() -> None:
        done: set[str] = set()
        while not stop.wait(0.1):
            listed = s3.list_object_versions(Bucket=hub.bucket, Prefix=f"{hub.owner}/")
            for entry in listed.get("Versions", []):
                obj = listed_object(hub.bucket, entry)
                if obj.object_id not in done:
                    done.add(obj.object_id)
                    hub.record(obj, 0, "created", status="Y", invoice_key=f"key-of-{entry['Key']}")

    player = threading.Thread(target=play, daemon=True)
    player.start()
    yield
    stop.set()
    player.join(timeout=10)


def test_ingest_sends_a_folders_files_and_prints_their_outcomes(
    hub: Hub, pipeline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scans = tmp_path / "scans"
    (scans / "may").mkdir(parents=True)
    (scans / "b.pdf").write_bytes(b"%PDF-1.7 b")
    (scans / "may" / "a.pdf").write_bytes(b"%PDF-1.7 a")
    (scans / ".DS_Store").write_bytes(b"hidden")

    code, out, err = run(
        ["ingest", str(scans), "--data", str(hub.data), "--owner", hub.owner, "--timeout", "30"],
        capsys,
    )

    assert (code, err) == (0, "")
    rows = [line.split("\t") for line in out.splitlines()]
    assert all(len(row) == 7 for row in rows)
    assert [(row[0], row[1], row[2], row[3], row[6]) for row in rows] == [
        (str(scans / "b.pdf"), "0", "created", "Y", "sent"),
        (str(scans / "may" / "a.pdf"), "0", "created", "Y", "sent"),
    ]
    keys = [
        v["Key"]
        for v in hub.aws.client("s3").list_object_versions(
            Bucket=hub.bucket, Prefix=f"{hub.owner}/"
        )["Versions"]
    ]
    assert sorted(keys) == sorted(row[5].removeprefix("key-of-") for row in rows)
    assert all(key.startswith(f"{hub.owner}/ingest/") for key in keys)
    assert {key.rsplit("-", 1)[1] for key in keys} == {"a.pdf", "b.pdf"}


def test_ingest_of_bytes_sent_before_prints_their_outcomes_already_processed(
    hub: Hub, pipeline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7 a")
    argv = ["ingest", str(tmp_path / "a.pdf"), "--data", str(hub.data), "--owner", hub.owner]
    first = run(argv, capsys)

    second = run(argv, capsys)

    assert (first[0], first[2], second[0], second[2]) == (0, "", 0, "")
    assert first[1].endswith("\tsent\n")
    assert second[1] == first[1].replace("\tsent\n", "\talready processed\n")
    versions = hub.aws.client("s3").list_object_versions(Bucket=hub.bucket, Prefix=hub.owner)
    assert len(versions["Versions"]) == 1  # not put again


def test_ingest_without_an_outcome_in_time_is_pending_and_exit_1(
    hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7 a")

    argv = ["ingest", str(tmp_path / "a.pdf"), "--data", str(hub.data), "--timeout", "0.3"]
    code, out, err = run(argv, capsys)

    assert (code, err) == (1, "")
    assert out == f"{tmp_path / 'a.pdf'}\t\tpending\t\t\tnot done within 0.3 s\tsent\n"


def test_ingest_exits_1_when_a_file_is_not_created(
    hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outcomes recorded for the two invoices of a file, one of them unrecognisable."""
    data = b"%PDF-1.7 two"
    (tmp_path / "two.pdf").write_bytes(data)
    key = f"{hub.owner}/ingest/{hashlib.sha256(data).hexdigest()[:12]}-two.pdf"
    obj = hub.drop(key, data)  # sent before: the command finds it there
    hub.record(obj, 0, "created", status="Y", invoice_key="03302210021168552329")
    hub.record(obj, 1, "unrecognisable", status="U", message="no QR code\nno text")

    argv = ["ingest", str(tmp_path / "two.pdf"), "--data", str(hub.data), "--owner", hub.owner]
    code, out, err = run(argv, capsys)

    assert (code, err) == (1, "")
    path = tmp_path / "two.pdf"
    assert out.splitlines() == [
        f"{path}\t0\tcreated\tY\t\t03302210021168552329\talready processed",
        f"{path}\t1\tunrecognisable\tU\t\tno QR code no text\talready processed",
    ]


def test_keys_create_takes_the_hubs_region_and_table(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No region anywhere but hub.json (the settings say another): the key is stored in
    the hub's ApiKeysTable, which exists in the hub's region only."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAPIAO_REGION", "us-west-2")

    code, out, err = run(["keys", "create", "Acme Finance", "--data", str(hub.data)], capsys)

    assert (code, err) == (0, "")
    store = DynamoApiKeyStore(hub.names.ref("ApiKeysTable"), hub.aws.client("dynamodb"))
    assert store.find(_hash(out.splitlines()[-1])) is not None


def test_keys_create_with_aws_and_no_hub_file_takes_the_settings_region(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (hub.data / HUB_FILE).unlink()
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAPIAO_REGION", REGION)
    argv = ["keys", "create", "Acme", "--aws", hub.aws.endpoint, "--template", str(TEMPLATE)]

    code, out, err = run(argv, capsys)

    assert (code, err) == (0, "")
    store = DynamoApiKeyStore(hub.names.ref("ApiKeysTable"), hub.aws.client("dynamodb"))
    client = store.find(_hash(out.splitlines()[-1]))
    assert client is not None and client.client_id == "acme"


def _hash(key: str) -> str:
    from fapiao.store.api_keys import hash_key

    return hash_key(key)


def test_the_installed_command_from_another_folder(hub: Hub, tmp_path: Path) -> None:
    """As a user runs it: a process of its own, in a folder that is not the repository;
    stdout is the JSON alone, and a mistake is one line on stderr, never a traceback."""
    obj = hub.drop(f"{hub.owner}/ingest/a.pdf")
    hub.record(obj, 0, "created", status="Y")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")},
        "PYTHONPATH": str(PROJECT_ROOT / "layers" / "fapiao"),
    }

    def fapiao(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fapiao.local.cli", *argv],
            cwd=tmp_path / "elsewhere",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = fapiao("outcomes", "--json", "--data", str(hub.data), "--prefix", f"{hub.owner}/")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert [e["key"] for e in load_json(listed.stdout)] == [f"{hub.owner}/ingest/a.pdf"]

    (hub.data / HUB_FILE).unlink()
    refused = fapiao("ingest", str(tmp_path / "elsewhere"), "--data", str(hub.data))
    assert refused.returncode == 2
    assert refused.stderr == f"fapiao ingest: no files in {tmp_path / 'elsewhere'}\n"
    nobody = fapiao("outcomes", "--data", str(hub.data))
    assert nobody.returncode == 2
    assert nobody.stderr.startswith("fapiao outcomes: no hub at http://127.0.0.1:3000 (no ")
    assert nobody.stderr.count("\n") == 1
