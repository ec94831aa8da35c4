"""API Gateway's own refusals answer in the route family's envelope, from template.yaml:
413 for a body over 10 MiB (REQUEST_TOO_LARGE, chosen by resource path) and 503 when the
function is at its concurrency (INTEGRATION_FAILURE, from the authorizer's context). The
local hub renders the same templates, and their bodies are the catalogue's rows."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest

from fakes.memory import MemoryApiKeyStore
from fapiao.api.envelopes import problem_envelope
from fapiao.catalogue.errors import Family, Problem, lookup
from fapiao.clients import ApiClient
from fapiao.local.apigw import (
    MAX_BODY_BYTES,
    HttpRequest,
    Router,
    render_gateway_template,
)
from fapiao.local.template import FunctionDef, Template, TemplateError
from fapiao.services.auth import forget_cached_keys
from fapiao.store.api_keys import hash_key
from support import TEMPLATE, handler_module

KEY = "fpk_unit-test-key-of-acme"
ROUTES = {
    Family.PLATFORM: "/common/invoice/create",
    Family.MAYCUR: "/api/openapi/invoice/import-invoice-pic",
    Family.EXOCR: "/data/v1/verify_invoice",
    Family.YIPIAOYUN: "/openapi/identify/result",
}


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(TEMPLATE)


def test_every_family_answers_busy_with_a_retryable_503() -> None:
    for family in ROUTES:
        entry = lookup(family, Problem.BUSY)
        assert (entry.http_status, entry.retryable) == (503, True)


def too_large_body() -> dict[str, Any]:
    """Every family's payload_too_large envelope merged, yipiaoyun's integer code last."""
    merged: dict[str, Any] = {}
    for family in (Family.MAYCUR, Family.EXOCR, Family.PLATFORM, Family.YIPIAOYUN):
        merged.update(problem_envelope(family, Problem.PAYLOAD_TOO_LARGE)[1])
    return merged


def test_request_too_large_is_one_body_with_every_familys_fields(template: Template) -> None:
    """No VTL in gateway responses: one body carries each family's refusal fields."""
    response = template.gateway_response("REQUEST_TOO_LARGE")
    assert response is not None
    status, text = response
    assert "#" not in text  # API Gateway would send a directive as text
    assert status == 413
    body = json.loads(render_gateway_template(text, {"resourcePath": "/any"}))
    assert body == too_large_body()
    for family in ROUTES:
        expected_status, envelope = problem_envelope(family, Problem.PAYLOAD_TOO_LARGE)
        assert expected_status == 413
        for field, value in envelope.items():
            if (family, field) != (Family.MAYCUR, "code"):
                assert body[field] == value, (family, field)
    assert body["success"] is False  # what tells a Maycur client it failed


def test_busy_is_a_503_with_the_authorizers_envelope(template: Template) -> None:
    assert template.gateway_response("INTEGRATION_FAILURE") == (503, "$context.authorizer.busy")


def test_context_variables_are_substituted_and_unknown_ones_are_empty() -> None:
    rendered = render_gateway_template(
        '{"id": "$context.requestId", "x": "$context.authorizer.x", "p": "$context.path"}',
        {"requestId": "r", "authorizer.x": "1"},
    )
    assert json.loads(rendered) == {"id": "r", "x": "1", "p": ""}


@pytest.mark.parametrize(
    "text",
    ['#if($context.a == "b")\nB\n#end', "#set($x = 1)\n{}", '{"a": 1}\n  #else'],
)
def test_a_vtl_directive_is_an_error_as_api_gateway_runs_no_vtl(text: str) -> None:
    with pytest.raises(TemplateError):
        render_gateway_template(text, {"a": "b"})


# --- the local hub's router, with template.yaml, the real authorizer and a held function --


class Held:
    """Every function but the authorizer: holds each event until released."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.entered.release()
        self.release.wait(timeout=10)
        return {"statusCode": 200, "body": "{}"}


@pytest.fixture
def held() -> Held:
    return Held()


@pytest.fixture
def router(template: Template, held: Held) -> Router:
    forget_cached_keys()
    store = MemoryApiKeyStore()
    store.put(
        ApiClient(
            key_hash=hash_key(KEY),
            client_id="acme",
            name="Acme",
            created_at=dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
        )
    )

    def loader(function: FunctionDef, instance: int) -> Any:
        if function.logical_id != "AuthorizerFunction":
            return held.handler
        module = handler_module(function.logical_id)
        module.deps = lambda: module.Deps(api_keys=store)  # as test_auth does: in memory
        return module.lambda_handler

    return Router(template, loader, concurrency=1, queue_depth=0)


def post(path: str, body: bytes = b"{}") -> HttpRequest:
    headers = [("Content-Type", "application/json"), ("x-api-key", KEY)]
    return HttpRequest("POST", path, "", headers, body)


@pytest.mark.parametrize("family", list(ROUTES))
def test_a_request_past_the_queue_is_503_in_the_routes_envelope(
    router: Router, held: Held, family: Family
) -> None:
    inside = threading.Thread(target=router.handle, args=(post(ROUTES[family]),), daemon=True)
    inside.start()
    assert held.entered.acquire(timeout=5)
    try:
        refused = router.handle(post(ROUTES[family]))
    finally:
        held.release.set()
        inside.join(timeout=5)
    assert refused.status == 503
    assert json.loads(refused.body) == problem_envelope(family, Problem.BUSY)[1]


def test_health_past_the_queue_is_a_plain_503(router: Router, held: Held) -> None:
    get = HttpRequest("GET", "/health", "", [], b"")
    inside = threading.Thread(target=router.handle, args=(get,), daemon=True)
    inside.start()
    assert held.entered.acquire(timeout=5)
    try:
        refused = router.handle(get)
    finally:
        held.release.set()
        inside.join(timeout=5)
    assert (refused.status, json.loads(refused.body)) == (503, {"message": "Service Unavailable"})


@pytest.mark.parametrize("family", list(ROUTES))
def test_a_body_over_10_mib_is_413_in_the_routes_envelope(router: Router, family: Family) -> None:
    refused = router.handle(post(ROUTES[family], b"x" * (MAX_BODY_BYTES + 1)))
    assert refused.status == 413
    assert json.loads(refused.body) == too_large_body()
    assert router.too_large("POST", ROUTES[family]).body == refused.body


def test_the_authorizer_puts_the_busy_envelope_of_the_route_in_its_context(
    router: Router,
) -> None:
    for family, path in ROUTES.items():
        allowed = router._pools["AuthorizerFunction"].invoke(
            {
                "type": "REQUEST",
                "methodArn": f"arn:aws:execute-api:cn-north-1:123456789012:api/v1/POST{path}",
                "resource": path,
                "path": path,
                "httpMethod": "POST",
                "headers": {"x-api-key": KEY},
                "requestContext": {},
            }
        )
        assert json.loads(allowed["context"]["busy"]) == problem_envelope(family, Problem.BUSY)[1]
