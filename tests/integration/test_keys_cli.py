"""`fapiao keys create`: the printed key authenticates; only its hash is stored."""

from __future__ import annotations

import pytest

from fapiao.local import cli
from fapiao.services.auth import authenticate, forget_cached_keys
from fapiao.store.api_keys import DynamoApiKeyStore, hash_key
from support import Session


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    forget_cached_keys()


def create(local_aws: Session, usage_plan: str | None = None) -> int:
    argv = ["keys", "create", "Acme Finance", "--table", "ApiKeysTable"]
    argv += ["--aws", local_aws.endpoint]
    return cli.main(argv + (["--usage-plan", usage_plan] if usage_plan else []))


def test_the_printed_key_names_the_client_and_is_stored_hashed(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert create(local_aws) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    store = DynamoApiKeyStore("ApiKeysTable", local_aws.client("dynamodb"))
    assert authenticate(key, store).client_id == "acme-finance"
    items = local_aws.client("dynamodb").scan(TableName="ApiKeysTable")["Items"]
    assert key not in str(items)
    assert {item["key_hash"]["S"] for item in items} == {hash_key(key)}


def test_with_a_usage_plan_the_client_gets_a_throttled_gateway_key(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    apigateway = local_aws.client("apigateway")
    plan = apigateway.create_usage_plan(name="clients")["id"]
    assert create(local_aws, usage_plan=plan) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    client = DynamoApiKeyStore("ApiKeysTable", local_aws.client("dynamodb")).find(hash_key(key))
    assert client is not None
    assert client.usage_key
    plan_keys = apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]
    assert [k["name"] for k in plan_keys] == ["fapiao-acme-finance"]
    assert client.usage_key != key


def test_a_table_the_local_aws_does_not_have_is_one_line_not_a_traceback(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["keys", "create", "Acme", "--table", "NoSuchTable", "--aws", local_aws.endpoint]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no key is shown that was not stored
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        f"fapiao keys: the local AWS at {local_aws.endpoint} refused: ResourceNotFoundException"
    )
