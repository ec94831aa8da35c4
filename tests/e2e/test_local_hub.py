"""Drive `fapiao serve` as a user would: start it, call it over HTTP, Ctrl-C, start again."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support import PROJECT_ROOT, Session

pytestmark = pytest.mark.slow


@dataclass
class RunningHub:
    process: subprocess.Popen[str]
    url: str
    aws: str
    replayed: int
    output: list[str] = field(default_factory=list)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def start_hub(data: Path) -> RunningHub:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fapiao.local.cli",
            "serve",
            "--port",
            "0",
            "--aws-port",
            "0",
            "--data",
            str(data),
            "--inbox",
            str(data.parent / "inbox"),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    url = aws = None
    replayed = -1
    timer = threading.Timer(60, process.kill)  # a hub that never starts fails the test
    timer.start()
    try:
        for line in process.stdout:
            lines.append(line)
            if found := re.search(r"listening on (http://\S+)", line):
                url = found.group(1)
            if found := re.search(r"local AWS\s+(http://\S+) .* (\d+) requests replayed", line):
                aws, replayed = found.group(1), int(found.group(2))
            if "Ctrl-C stops it." in line:
                break
    finally:
        timer.cancel()
    assert url, "".join(lines)
    assert aws, "".join(lines)
    # keep draining output so the hub never blocks on a full pipe
    threading.Thread(target=lambda: [lines.append(x) for x in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    return RunningHub(process, url, aws, replayed, lines)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def hub(data_dir: Path) -> Iterator[RunningHub]:
    running = start_hub(data_dir)
    yield running
    if running.process.poll() is None:
        running.stop()


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_reports_each_component(hub: RunningHub) -> None:
    status, body = get(f"{hub.url}/health")
    assert status == 200
    assert body["status"] == "ok"
    assert {name for name, c in body["components"].items() if c["ok"]} == {
        "invoices_table",
        "expenses_table",
        "idempotency_table",
        "drop_bucket",
        "event_bus",
    }


def test_unknown_route_is_a_json_404(hub: RunningHub) -> None:
    assert get(f"{hub.url}/no/such/route") == (404, {"message": "Not Found"})


def test_ctrl_c_stops_cleanly_and_state_survives_the_restart(data_dir: Path) -> None:
    first = start_hub(data_dir)
    session = Session(first.aws)
    session.client("dynamodb").put_item(
        TableName="InvoicesTable",
        Item={"invoice_key": {"S": "03302210021168552329"}},
        ConditionExpression="attribute_not_exists(invoice_key)",
    )
    assert first.stop() == 0
    assert "stopped" in "".join(first.output)

    second = start_hub(data_dir)
    try:
        assert second.replayed > 0
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            Session(second.aws).client("dynamodb").put_item(
                TableName="InvoicesTable",
                Item={"invoice_key": {"S": "03302210021168552329"}},
                ConditionExpression="attribute_not_exists(invoice_key)",
            )
        assert get(f"{second.url}/health")[0] == 200
    finally:
        assert second.stop() == 0
