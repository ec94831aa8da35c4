"""Roles of API keys: the one table (fapiao.api.roles), the 403 every API handler answers
before anything reads the request (fapiao.api.access), in each family's envelope."""

from __future__ import annotations

import datetime as dt
import json
from types import ModuleType
from typing import Any

import pytest
import simplejson

from fakes.memory import MemoryApiKeyStore
from fapiao.api.access import refuse_outside_role
from fapiao.api.roles import GRANTS, allows, grant_for
from fapiao.catalogue.errors import CATALOGUE, Family, Problem, lookup
from fapiao.clients import ApiClient, Role
from fapiao.local.apigw import HttpRequest, LambdaContext, to_event
from fapiao.local.template import Template
from fapiao.model import InvoiceStatus
from fapiao.model.stored import RecheckAsked
from fapiao.services.auth import forget_cached_keys
from fapiao.store.api_keys import hash_key, new_key
from support import TEMPLATE, handler_module
from unit.services.test_review import (
    NOW,
    World,
    awaiting_completion,
    minutes_ago,
    record,
)
from unit.services.test_review_api import review_deps

ROUTES = Template(TEMPLATE).routes
KEYED = [route for route in ROUTES if route.authorizer]
WIRE = (  # the five wire APIs: what a submit key is for
    "/common/InvoiceOCR/ocrSync",
    "/common/invoice/create",
    "/api/openapi/invoice/import-invoice-pic",
    "/data/v1/verify_invoice",
    "/openapi/identify/sendByImageUrl",
    "/openapi/identify/sendByImageFile",
    "/openapi/identify/result",
)
DETAIL = "/common/invoice/detail"
REVIEW = (
    "/common/review",
    "/common/review/{review_id}",
    "/common/review/{review_id}/fix",
    "/common/review/{review_id}/recheck",
)


# --- the table ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", KEYED, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_that_needs_a_key_is_in_the_role_table(route: Any) -> None:
    assert grant_for(route.path) is not None, f"add {route.path} to fapiao/api/roles.py"


def test_the_routes_this_test_names_are_the_templates() -> None:
    assert {*WIRE, DETAIL, *REVIEW} <= {route.path for route in KEYED}


@pytest.mark.parametrize("path", [*WIRE, DETAIL])
def test_a_submit_key_may_call_the_wire_apis_and_the_detail_query(path: str) -> None:
    assert allows(Role.SUBMIT, path)


@pytest.mark.parametrize("path", REVIEW)
def test_a_submit_key_may_not_call_the_review_api(path: str) -> None:
    assert not allows(Role.SUBMIT, path)
    assert allows(Role.REVIEW, path)


@pytest.mark.parametrize("path", WIRE)
def test_a_review_key_may_not_submit(path: str) -> None:
    assert not allows(Role.REVIEW, path)


def test_a_review_key_reads_details_and_the_consoles_data() -> None:
    assert allows(Role.REVIEW, DETAIL)
    assert allows(Role.REVIEW, "/console/api/overview")
    assert not allows(Role.SUBMIT, "/console/api/overview")


@pytest.mark.parametrize("path", [*WIRE, DETAIL, *REVIEW])
def test_an_erp_key_calls_none_of_these_routes_and_admin_all(path: str) -> None:
    assert not allows(Role.ERP, path)
    assert allows(Role.ADMIN, path)


def test_an_erp_key_reads_its_feed_and_nothing_beside() -> None:
    assert allows(Role.ERP, "/erp/events")
    assert not allows(Role.REVIEW, "/erp/events")


def test_a_prefix_covers_its_routes_not_a_longer_name() -> None:
    assert allows(Role.REVIEW, "/common/review/x/fix")
    assert not allows(Role.REVIEW, "/common/reviewers")
    assert grant_for("/common/reviewers") is None


def test_a_route_no_row_covers_is_admins_alone() -> None:
    assert grant_for("/common/something/new") is None
    assert [role for role in Role if allows(role, "/common/something/new")] == [Role.ADMIN]


def test_the_table_has_one_row_per_prefix() -> None:
    prefixes = [grant.prefix for grant in GRANTS]
    assert len(prefixes) == len(set(prefixes))


# --- the catalogue -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "code"),
    [
        (Family.PLATFORM, "403000"),
        (Family.MAYCUR, "HUB40300"),
        (Family.EXOCR, "4030"),
        (Family.YIPIAOYUN, "-1"),
    ],
)
def test_each_family_has_its_own_forbidden_row(family: Family, code: str) -> None:
    entry = lookup(family, Problem.FORBIDDEN)
    assert (entry.code, entry.http_status, entry.message, entry.retryable) == (
        code,
        403,
        "无权调用该接口",
        False,
    )


def test_forbidden_is_not_unauthorised() -> None:
    forbidden = {e.code for e in CATALOGUE if e.problem is Problem.FORBIDDEN}
    unauthorised = {e.code for e in CATALOGUE if e.problem is Problem.UNAUTHORISED}
    assert forbidden & unauthorised == {"-1"}  # yipiaoyun's one code; the status tells


# --- the check ---------------------------------------------------------------------------


def event(
    method: str,
    path: str,
    context: dict[str, Any] | None,
    body: bytes = b"",
    content_type: str = "application/json",
) -> dict[str, Any]:
    """The event API Gateway gives the function behind ``path``, with the authorizer's
    ``context`` (None: a direct invocation, no authorizer)."""
    found = [
        (route, match.groupdict())
        for route in ROUTES
        if route.method == method and (match := route.pattern.match(path))
    ]
    assert found, f"no {method} {path} in template.yaml"
    route, parameters = found[0]
    headers = [("Content-Type", content_type)] if body else []
    made = to_event(HttpRequest(method, path, "", headers, body), route, parameters)
    if context is not None:
        made["requestContext"]["authorizer"] = {"principalId": "acme", **context}
    return made


def as_role(role: str) -> dict[str, str]:
    return {"client_id": "acme", "client_name": "Acme", "role": role}


def test_a_direct_invocation_is_not_checked() -> None:
    assert refuse_outside_role(event("GET", "/common/review", None)) is None


def test_a_context_without_a_role_is_a_key_from_before_roles_admin() -> None:
    context = {"client_id": "acme"}
    assert refuse_outside_role(event("GET", "/common/review", context)) is None
    assert refuse_outside_role(event("POST", "/common/invoice/create", context)) is None


def test_a_role_the_hub_does_not_know_is_refused() -> None:
    refused = refuse_outside_role(event("GET", "/common/invoice/detail", as_role("root")))
    assert refused is not None
    assert refused["statusCode"] == 403
    assert "role root may not call /common/invoice/detail" in json.loads(refused["body"])["resMsg"]


@pytest.mark.parametrize(
    ("role", "path", "fields"),
    [
        ("submit", "/common/review", {"resCode": 403000, "data": None}),
        ("review", "/common/invoice/create", {"resCode": 403000, "bizId": "b-1"}),
        ("review", "/common/InvoiceOCR/ocrSync", {"resCode": 403000}),
        (
            "review",
            "/api/openapi/invoice/import-invoice-pic",
            {"code": "NACK", "errorCode": "HUB40300", "success": False, "data": None},
        ),
        ("review", "/data/v1/verify_invoice", {"error_code": 4030, "result": None}),
        ("erp", "/openapi/identify/result", {"code": -1}),
    ],
)
def test_a_key_outside_its_role_is_403_in_the_routes_envelope(
    role: str, path: str, fields: dict[str, Any]
) -> None:
    method = "GET" if path == "/common/review" else "POST"
    refused = refuse_outside_role(event(method, path, as_role(role), b'{"bizId": "b-1"}'))
    assert refused is not None
    assert refused["statusCode"] == 403
    assert refused["headers"]["Content-Type"] == "application/json"
    body = json.loads(refused["body"])
    assert fields.items() <= body.items()
    message = body.get("resMsg") or body.get("message") or body.get("description")
    assert message.startswith("无权调用该接口: role ")


def test_exocrs_403_names_the_request_as_003_does() -> None:
    made = event("POST", "/data/v1/verify_invoice", as_role("review"), b"a=1", "text/plain")
    refused = refuse_outside_role(made)
    assert refused is not None
    request_id = made["requestContext"]["requestId"].replace("-", "").upper()
    assert json.loads(refused["body"])["request_id"] == request_id


# --- through the handlers -------------------------------------------------------------------

API_FUNCTIONS = sorted({route.function for route in KEYED})


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


def answer(module: ModuleType, made: dict[str, Any], function: str) -> tuple[int, Any]:
    result = module.lambda_handler(made, LambdaContext(function))
    return result["statusCode"], simplejson.loads(result["body"], use_decimal=True)


@pytest.mark.usefixtures("environment")
@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_every_api_handler_refuses_an_erp_key_outside_its_role_first(function: str) -> None:
    """Each handler answers a route outside the key's role with 403 without building
    what it talks to (no deps: nothing here could reach AWS)."""
    module = handler_module(function)
    module.deps = None  # called, it would fail with TypeError, not 403
    for route in (r for r in KEYED if r.function == function and not allows(Role.ERP, r.path)):
        path = route.path.replace("{review_id}", "x")
        status, body = answer(module, event(route.method, path, as_role("erp"), b"{]"), function)
        assert status == 403, (route.path, body)


@pytest.fixture
def review(environment: None, world: World) -> ModuleType:
    module = handler_module("ReviewFunction")
    deps = review_deps(module, world)
    module.deps = lambda: deps
    return module


@pytest.fixture
def world() -> World:
    return World()


def test_a_submit_key_posting_garbage_to_the_review_api_gets_403_not_400(
    review: ModuleType, world: World
) -> None:
    stored = awaiting_completion(world)
    path = f"/common/review/{stored.invoice_key}/fix"
    garbage = b'{"set": "not fields", '

    refused = answer(review, event("POST", path, as_role("submit"), garbage), "ReviewFunction")
    ran = answer(review, event("POST", path, as_role("review"), garbage), "ReviewFunction")

    assert (refused[0], refused[1]["resCode"]) == (403, 403000)
    assert (ran[0], ran[1]["resCode"]) == (400, 400000)  # the review key reaches validation
    assert world.get(stored.invoice_key).corrections == []


def test_a_correction_keeps_the_client_name_and_role_of_its_key(
    review: ModuleType, world: World
) -> None:
    stored = awaiting_completion(world)
    path = f"/common/review/{stored.invoice_key}/fix"
    body = b'{"set": {"total_amount": "113.00"}}'

    status, _ = answer(review, event("POST", path, as_role("review"), body), "ReviewFunction")

    assert status == 200
    (correction,) = world.get(stored.invoice_key).corrections
    assert (correction.by, correction.role) == ("Acme", "review")
    _, detail = answer(
        review,
        event("GET", f"/common/review/{stored.invoice_key}", as_role("review")),
        "ReviewFunction",
    )
    assert detail["data"]["corrections"][0]["role"] == "review"


def test_a_recheck_asked_through_the_api_keeps_who_asked_and_in_which_role(
    review: ModuleType, world: World
) -> None:
    stored = world.put(
        record("10000001", InvoiceStatus.AWAITING_CHECK, Problem.CHECK_DEFERRED, minutes_ago(9))
    )
    path = f"/common/review/{stored.invoice_key}/recheck"

    status, body = answer(review, event("POST", path, as_role("review")), "ReviewFunction")

    assert (status, body["data"]["status"]) == (200, "Y")
    kept = world.get(stored.invoice_key)
    assert kept.rechecks_asked == [RecheckAsked(at=NOW, by="Acme", role="review")]
    assert kept.status is InvoiceStatus.VERIFIED  # the check itself is stored too
    _, detail = answer(
        review,
        event("GET", f"/common/review/{stored.invoice_key}", as_role("admin")),
        "ReviewFunction",
    )
    assert detail["data"]["rechecks"] == [{"at": NOW.isoformat(), "by": "Acme", "role": "review"}]


def test_a_recheck_refused_for_the_days_limit_keeps_nothing(
    review: ModuleType, world: World
) -> None:
    stored = world.put(
        record(
            "10000001", InvoiceStatus.AWAITING_CHECK, Problem.CHECK_DEFERRED, minutes_ago(9)
        ).model_copy(update={"check_attempts": [minutes_ago(m) for m in range(5)]})
    )
    path = f"/common/review/{stored.invoice_key}/recheck"
    status, _ = answer(review, event("POST", path, as_role("review")), "ReviewFunction")
    assert status == 429
    assert world.get(stored.invoice_key).rechecks_asked == []


# --- the authorizer ----------------------------------------------------------------------


ARN_PREFIX = "arn:aws:execute-api:cn-north-1:123456789012:api1/v1"


class Context:
    function_name = "AuthorizerFunction"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:cn-north-1:123456789012:function:a"
    aws_request_id = "r"


@pytest.mark.parametrize(("stored", "named"), [(Role.REVIEW, "review"), (None, "admin")])
def test_the_authorizer_allows_a_known_key_of_any_role_and_names_the_role(
    stored: Role | None, named: str
) -> None:
    forget_cached_keys()
    key = new_key()
    keys = MemoryApiKeyStore()
    made = {"role": stored} if stored is not None else {}  # None: as a key before roles
    keys.put(
        ApiClient(
            key_hash=hash_key(key),
            client_id="acme",
            name="Acme",
            created_at=dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
            **made,
        )
    )
    module = handler_module("AuthorizerFunction")
    module.deps = lambda: module.Deps(api_keys=keys)
    asked = {
        "type": "REQUEST",
        "methodArn": f"{ARN_PREFIX}/POST/common/invoice/create",
        "resource": "/common/invoice/create",
        "path": "/common/invoice/create",
        "httpMethod": "POST",
        "headers": {"x-api-key": key},
        "requestContext": {},
    }
    allowed = module.lambda_handler(asked, Context())
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["context"]["role"] == named
