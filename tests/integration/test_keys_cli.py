"""`fapiao keys create` and `list`: the printed key authenticates with its role; only its
hash is stored, and never shown."""

from __future__ import annotations

import json

import pytest

from fapiao.clients import Role
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


# --- roles ------------------------------------------------------------------------------------


def keys(local_aws: Session, *args: str) -> list[str]:
    return ["keys", *args, "--table", "ApiKeysTable", "--aws", local_aws.endpoint]


def test_create_json_prints_exactly_the_client_its_role_and_the_key(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(keys(local_aws, "create", "Finance Team", "--role", "review", "--json")) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"client_id", "role", "api_key"}
    assert (printed["client_id"], printed["role"]) == ("finance-team", "review")
    store = DynamoApiKeyStore("ApiKeysTable", local_aws.client("dynamodb"))
    assert authenticate(printed["api_key"], store).role is Role.REVIEW
    (item,) = local_aws.client("dynamodb").scan(TableName="ApiKeysTable")["Items"]
    assert item["role"] == {"S": "review"}


def test_a_new_key_without_a_role_is_submit(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(keys(local_aws, "create", "Acme", "--json")) == 0
    assert json.loads(capsys.readouterr().out)["role"] == "submit"


def test_an_unknown_role_is_a_usage_error(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(keys(local_aws, "create", "Acme", "--role", "root")) == 2
    assert "invalid choice: 'root'" in capsys.readouterr().err
    assert local_aws.client("dynamodb").scan(TableName="ApiKeysTable")["Items"] == []


def put_key_from_before_roles(local_aws: Session, key: str) -> None:
    """An item as `fapiao keys create` wrote it before keys had roles."""
    local_aws.client("dynamodb").put_item(
        TableName="ApiKeysTable",
        Item={
            "key_hash": {"S": hash_key(key)},
            "client_id": {"S": "old-client"},
            "name": {"S": "Old Client"},
            "created_at": {"S": "2025-01-02T03:04:05+00:00"},
            "disabled": {"BOOL": False},
        },
    )


def test_a_key_stored_without_a_role_is_admin(local_aws: Session) -> None:
    put_key_from_before_roles(local_aws, "fpk_old-key-made-before-roles")
    store = DynamoApiKeyStore("ApiKeysTable", local_aws.client("dynamodb"))
    assert authenticate("fpk_old-key-made-before-roles", store).role is Role.ADMIN


def test_list_shows_each_client_with_its_role_and_never_a_hash(
    local_aws: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    put_key_from_before_roles(local_aws, "fpk_old-key-made-before-roles")
    assert cli.main(keys(local_aws, "create", "Finance Team", "--role", "review", "--json")) == 0
    assert cli.main(keys(local_aws, "create", "Acme", "--json")) == 0
    capsys.readouterr()

    assert cli.main(keys(local_aws, "list", "--json")) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["client_id"], c["name"], c["role"], c["disabled"]) for c in listed] == [
        ("old-client", "Old Client", "admin", False),  # oldest first
        ("finance-team", "Finance Team", "review", False),
        ("acme", "Acme", "submit", False),
    ]
    assert set(listed[0]) == {"client_id", "name", "role", "created_at", "disabled"}
    assert listed[0]["created_at"] == "2025-01-02T03:04:05+00:00"

    assert cli.main(keys(local_aws, "list")) == 0
    text = capsys.readouterr().out
    header, *rows = text.splitlines()
    assert header.split() == ["client", "name", "role", "created", "disabled"]
    assert rows[1].split()[:4] == ["finance-team", "Finance", "Team", "review"]
    assert hash_key("fpk_old-key-made-before-roles") not in text
