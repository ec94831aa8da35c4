"""Every route but /health needs the caller's API key; a refusal is in the route's envelope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubprocess import RunningHub, call, get, start_hub

pytestmark = pytest.mark.slow
DEV_KEY = "fpk_e2e-fixed-development-key"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(
        Path(tmp_path_factory.mktemp("hub")) / "data", {"FAPIAO_DEV_API_KEY": DEV_KEY}
    )
    yield running
    running.stop()


def test_the_hub_prints_the_key_it_was_given(hub: RunningHub) -> None:
    assert hub.api_key == DEV_KEY


@pytest.mark.parametrize("key", ["", "fpk_not-a-key-of-anyone", "x" * 500])
def test_a_call_without_a_valid_key_is_401_in_the_platform_envelope(
    hub: RunningHub, key: str
) -> None:
    status, body = call("POST", hub.url + "/common/invoice/create", b"{}", api_key=key)
    assert status == 401
    assert body["resCode"] == 401000
    assert body["data"] is None
    status, body = call("GET", hub.url + "/common/invoice/detail?invoice_number=1", api_key=key)
    assert (status, body["resCode"]) == (401, 401000)


def test_with_the_key_the_route_runs(hub: RunningHub) -> None:
    status, body = call(
        "GET", hub.url + "/common/invoice/detail?invoice_number=12345678", api_key=DEV_KEY
    )
    assert (status, body["resCode"]) == (404, 404000)  # ran: nothing stored yet


def test_health_needs_no_key(hub: RunningHub) -> None:
    assert call("GET", hub.url + "/health", api_key="")[0] == 200
    assert get(hub.url + "/health")[0] == 200
