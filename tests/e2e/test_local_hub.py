"""Drive `fapiao serve` as a user would: start it, call it over HTTP, Ctrl-C, start again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from hubprocess import RunningHub, get, start_hub
from support import Session

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def hub(data_dir: Path) -> Iterator[RunningHub]:
    running = start_hub(data_dir)
    yield running
    if running.process.poll() is None:
        running.stop()


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
        assert second.replayed == 0  # a clean stop left a snapshot: no log to replay
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            Session(second.aws).client("dynamodb").put_item(
                TableName="InvoicesTable",
                Item={"invoice_key": {"S": "03302210021168552329"}},
                ConditionExpression="attribute_not_exists(invoice_key)",
            )
        assert get(f"{second.url}/health")[0] == 200
    finally:
        assert second.stop() == 0
