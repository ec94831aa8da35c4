"""`fapiao keys create`: the printed key authenticates; only its hash is stored."""

from __future__ import annotations

import argparse

import pytest

from fapiao.local import keys_cli
from fapiao.services.auth import authenticate, forget_cached_keys
from fapiao.store.api_keys import DynamoApiKeyStore, hash_key
from support import Session


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    forget_cached_keys()


def create(local_aws: Session, usage_plan: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(
        name="Acme Finance",
        client_id=None,
        table="ApiKeysTable",
        aws=local_aws.endpoint,
        usage_plan=usage_plan,
    )


def test_the_printed_key_names_the_client_and_is_stored_hashed(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys_cli.run(create(local_aws)) == 0  # type: ignore[arg-type]
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
    assert keys_cli.run(create(local_aws, usage_plan=plan)) == 0  # type: ignore[arg-type]
    key = capsys.readouterr().out.strip().splitlines()[-1]
    client = DynamoApiKeyStore("ApiKeysTable", local_aws.client("dynamodb")).find(hash_key(key))
    assert client is not None
    assert client.usage_key
    plan_keys = apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]
    assert [k["name"] for k in plan_keys] == ["fapiao-acme-finance"]
    assert client.usage_key != key
