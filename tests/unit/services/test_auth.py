"""API keys: hashed at rest, one enabled client each; refusals in each family's envelope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fakes.memory import MemoryApiKeyStore
from fapiao.api.envelopes import family_for_path, problem_envelope
from fapiao.catalogue.errors import Family, HubError, Problem
from fapiao.clients import ApiClient
from fapiao.services.auth import authenticate, forget_cached_keys
from fapiao.store.api_keys import hash_key, new_key
from support import handler_module

NOW = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    forget_cached_keys()


def store_with(key: str, disabled: bool = False) -> MemoryApiKeyStore:
    store = MemoryApiKeyStore()
    store.put(
        ApiClient(
            key_hash=hash_key(key), client_id="acme", name="Acme", created_at=NOW, disabled=disabled
        )
    )
    return store


def test_keys_are_long_random_and_stored_only_as_their_hash() -> None:
    key = new_key()
    assert key.startswith("fpk_")
    assert len(key) > 40
    assert new_key() != key
    assert hash_key(key) != key
    assert len(hash_key(key)) == 64


def test_a_known_key_names_its_client() -> None:
    key = new_key()
    assert authenticate(key, store_with(key)).client_id == "acme"


@pytest.mark.parametrize("presented", [None, "", "fpk_other", "x" * 201])
def test_missing_unknown_or_absurd_keys_are_refused(presented: str | None) -> None:
    with pytest.raises(HubError) as refused:
        authenticate(presented, store_with(new_key()))
    assert refused.value.problem is Problem.UNAUTHORISED


def test_a_disabled_client_is_refused() -> None:
    key = new_key()
    with pytest.raises(HubError):
        authenticate(key, store_with(key, disabled=True))


@pytest.mark.parametrize(
    ("path", "family", "fields"),
    [
        ("/common/invoice/create", Family.PLATFORM, {"resCode": 401000}),
        (
            "/api/openapi/invoice/import-invoice-pic",
            Family.MAYCUR,
            {"code": "NACK", "success": False, "errorCode": "HUB40100"},
        ),
        ("/data/v1/verify_invoice", Family.EXOCR, {"error_code": 4002}),
        ("/openapi/identify/result", Family.YIPIAOYUN, {"code": -1}),
    ],
)
def test_each_family_refuses_in_its_own_envelope(
    path: str, family: Family, fields: dict[str, Any]
) -> None:
    assert family_for_path(path) is family
    status, body = problem_envelope(family, Problem.UNAUTHORISED, "no key")
    assert status == 401
    assert fields.items() <= body.items()


def _authorizer() -> Any:
    return handler_module("AuthorizerFunction")


class Context:
    function_name = "AuthorizerFunction"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:cn-north-1:123456789012:function:a"
    aws_request_id = "r"


def request_event(path: str, key: str | None) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:cn-north-1:123456789012:api1/v1/POST{path}",
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": {} if key is None else {"X-Api-Key": key},
        "requestContext": {},
    }


def test_authorizer_allows_a_client_and_denies_with_the_route_envelope() -> None:
    module = _authorizer()
    key = new_key()
    module.deps = lambda: module.Deps(api_keys=store_with(key))
    allowed = module.lambda_handler(request_event("/common/invoice/create", key), Context())
    assert allowed["principalId"] == "acme"
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["context"]["client_id"] == "acme"

    denied = module.lambda_handler(
        request_event("/api/openapi/invoice/import-invoice-pic", None), Context()
    )
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert '"errorCode": "HUB40100"' in denied["context"]["body"]
