"""Roles through the local hub's API Gateway, with real keys: made by `fapiao keys create
--role ... --json` in the hub's local AWS, sent over HTTP on loopback, checked by the
template's authorizer and by each handler (issue 18: a known key outside its role is
403 in its route's envelope; an unknown key 401 as before; the old dev key everywhere).
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from inprocess import local_hub

from fapiao import aws
from fapiao.local import cli
from fapiao.local.hub import LocalHub
from fapiao.store.api_keys import hash_key

pytestmark = pytest.mark.slow

DEV_KEY = "fpk_integration-dev-key-before-roles"
OLD_KEY = "fpk_integration-key-stored-before-roles"


@dataclass
class Hub:
    url: str
    keys: dict[str, str]  # role -> a key of that role, made by the CLI

    def call(
        self, method: str, path: str, key: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, data=body, method=method)
        request.add_header("x-api-key", key)
        if body is not None:
            request.add_header("Content-Type", content_type or "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def make_key(data_dir: Path, name: str, role: str) -> str:
    """A key made as a user makes one: the CLI against the running hub's data folder."""
    printed = io.StringIO()
    with redirect_stdout(printed):
        code = cli.main(["keys", "create", name, "--role", role, "--json", "--data", str(data_dir)])
    assert code == 0
    answer = json.loads(printed.getvalue())
    assert answer["role"] == role
    return str(answer["api_key"])


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    folder = tmp_path_factory.mktemp("roles")
    with local_hub(folder, dev_api_key=DEV_KEY, recognition_workers=1) as hub:
        # A key as `fapiao keys create` stored it before keys had roles: no role attribute.
        aws.client("dynamodb").put_item(
            TableName=hub.names.ref("ApiKeysTable"),
            Item={
                "key_hash": {"S": hash_key(OLD_KEY)},
                "client_id": {"S": "old-client"},
                "name": {"S": "Old Client"},
                "created_at": {"S": "2025-01-02T03:04:05+00:00"},
                "disabled": {"BOOL": False},
            },
        )
        yield hub


@pytest.fixture(scope="module")
def hub(running: LocalHub) -> Hub:
    roles = ("submit", "review", "erp")
    keys = {role: make_key(running.config.data_dir, f"{role} client", role) for role in roles}
    return Hub(running.url, keys)


GARBAGE = b'{"bizId": "b-1", "this is": not json'


def test_a_submit_key_gets_403_on_the_review_api_in_the_platform_envelope(hub: Hub) -> None:
    key = hub.keys["submit"]
    status, body = hub.call("GET", "/common/review", key)
    assert (status, body["resCode"], body["data"]) == (403, 403000, None)
    assert body["resMsg"].startswith("无权调用该接口")
    # before any validation: garbage is not a 400
    status, body = hub.call("POST", "/common/review/x/fix", key, GARBAGE)
    assert (status, body["resCode"]) == (403, 403000)
    status, body = hub.call("POST", "/common/review/x/recheck", key)
    assert (status, body["resCode"]) == (403, 403000)


@pytest.mark.parametrize(
    ("path", "content_type", "fields"),
    [
        ("/common/invoice/create", "", {"resCode": 403000}),
        ("/common/InvoiceOCR/ocrSync", "", {"resCode": 403000}),
        (
            "/api/openapi/invoice/import-invoice-pic",
            "",
            {"code": "NACK", "errorCode": "HUB40300", "success": False},
        ),
        (
            "/data/v1/verify_invoice",
            "application/x-www-form-urlencoded",
            {"error_code": 4030},
        ),
        ("/openapi/identify/sendByImageUrl", "", {"code": -1}),
    ],
)
def test_a_review_key_gets_403_on_every_wire_api_in_its_familys_envelope(
    hub: Hub, path: str, content_type: str, fields: dict[str, Any]
) -> None:
    status, body = hub.call("POST", path, hub.keys["review"], GARBAGE, content_type)
    assert status == 403
    assert fields.items() <= body.items()


def test_a_review_key_reads_the_queue_and_the_detail_query(hub: Hub) -> None:
    status, body = hub.call("GET", "/common/review", hub.keys["review"])
    assert (status, body["resCode"]) == (200, 200000)
    status, body = hub.call(
        "GET", "/common/invoice/detail?invoice_number=12345678", hub.keys["review"]
    )
    assert (status, body["resCode"]) == (404, 404000)  # ran: nothing stored


def test_a_submit_key_reaches_its_routes(hub: Hub) -> None:
    key = hub.keys["submit"]
    status, body = hub.call("GET", "/common/invoice/detail?invoice_number=12345678", key)
    assert (status, body["resCode"]) == (404, 404000)
    status, body = hub.call("POST", "/common/invoice/create", key, GARBAGE)
    assert (status, body["resCode"]) == (400, 400000)  # validated: the role let it through


def test_an_erp_key_calls_none_of_todays_routes(hub: Hub) -> None:
    key = hub.keys["erp"]
    assert hub.call("GET", "/common/invoice/detail?invoice_number=1", key)[0] == 403
    assert hub.call("GET", "/common/review", key)[0] == 403
    status, body = hub.call("POST", "/openapi/identify/result", key, b'{"identifyId": "x"}')
    assert (status, body["code"]) == (403, -1)


@pytest.mark.parametrize("key", ["fpk_nobody-has-this-key", ""])
def test_an_unknown_key_is_still_401(hub: Hub, key: str) -> None:
    status, body = hub.call("GET", "/common/review", key)
    assert (status, body["resCode"]) == (401, 401000)
    status, body = hub.call("POST", "/api/openapi/invoice/import-invoice-pic", key, b"{}")
    assert (status, body["errorCode"]) == (401, "HUB40100")


@pytest.mark.parametrize("key", [DEV_KEY, OLD_KEY], ids=["dev key", "key stored without role"])
def test_a_key_without_a_role_works_everywhere(hub: Hub, key: str) -> None:
    status, body = hub.call("GET", "/common/review", key)
    assert (status, body["resCode"]) == (200, 200000)
    status, body = hub.call("GET", "/common/invoice/detail?invoice_number=12345678", key)
    assert (status, body["resCode"]) == (404, 404000)
    status, body = hub.call("POST", "/common/invoice/create", key, GARBAGE)
    assert (status, body["resCode"]) == (400, 400000)
    status, body = hub.call("POST", "/api/openapi/invoice/import-invoice-pic", key, GARBAGE)
    assert (status, body["errorCode"]) == (400, "HUB40000")
    status, body = hub.call("POST", "/openapi/identify/result", key, b'{"identifyId": "nope"}')
    assert status != 403 and body["code"] == -1
