"""A hostile JSON body is the caller's fault: 400 in the route family's envelope, never a
500. Huge integers, huge exponents, deep nesting and lone surrogates are refused by the
one reader of request bodies (fapiao/api/json_body.py), before any handler code runs."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
import simplejson

from fapiao.api.envelopes import problem_envelope
from fapiao.api.json_body import MAX_DEPTH, MAX_NUMBER_LENGTH, load_json_body
from fapiao.catalogue.errors import Family, HubError, Problem
from fapiao.local.apigw import HttpRequest, LambdaContext, to_event
from fapiao.local.template import Route, Template
from support import TEMPLATE, handler_module

HOSTILE = {
    "5000_digit_integer": '{"bizId": "x", "n": %s}' % ("7" * 5000),
    "5000_digit_integer_inside": '{"data": {"items": [1, 2, -%s]}}' % ("7" * 5000),
    "huge_exponent": '{"bizId": "x", "timestamp": 1e999999999}',
    "zero_with_huge_exponent": '{"total_amount": 0e999999999}',
    "nested_100000_deep": "[" * 100_000 + "]" * 100_000,
    "nested_100000_deep_inside": '{"bizId": "x", "data": %s}'
    % ('{"a":' * 100_000 + "1" + "}" * 100_000),
    "lone_surrogate": '{"bizId": "\\ud800", "identifyId": "\\udfff"}',
    "lone_surrogate_key": '{"\\udc00": 1}',
}


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_the_body_reader_refuses_it_as_an_invalid_request(body: str) -> None:
    with pytest.raises(HubError) as refused:
        load_json_body(body)
    assert refused.value.problem is Problem.INVALID_REQUEST
    assert refused.value.detail


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ('{"total": 996.00}', {"total": Decimal("996.00")}),  # the scale is kept
        ('{"expense_id": 382670770965217430}', {"expense_id": 382670770965217430}),
        ('{"n": %s}' % ("9" * MAX_NUMBER_LENGTH), {"n": int("9" * MAX_NUMBER_LENGTH)}),
        ('{"n": 1e64, "m": -1e-64}', {"n": Decimal("1e64"), "m": Decimal("-1e-64")}),
        ('{"s": "[[[[{{{{\\"]]]]"}', {"s": '[[[[{{{{"]]]]'}),  # brackets in strings
        ('{"s": "\\ud83d\\ude00 \\\\ud800"}', {"s": "\U0001f600 \\ud800"}),  # a pair; no escape
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, simplejson.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)),
    ],
)
def test_ordinary_bodies_read_as_before(body: str, value: Any) -> None:
    assert load_json_body(body) == value


@pytest.mark.parametrize(
    "body",
    [
        '{"n": %s}' % ("9" * (MAX_NUMBER_LENGTH + 1)),
        '{"n": 1e65}',
        '{"n": 1e-65}',
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        "{" + '"a": {' * MAX_DEPTH + "}" * (MAX_DEPTH + 1),
        "{",
        '{"n": NaN}',
        b"\xff\xfe{}",
    ],
)
def test_just_past_each_bound_is_refused(body: str | bytes) -> None:
    with pytest.raises(HubError):
        load_json_body(body)


# --- each family's handlers, in process, as Lambda would run them ----------------------

JSON_ROUTES = {
    "/common/invoice/create": Family.PLATFORM,
    "/common/InvoiceOCR/ocrSync": Family.PLATFORM,
    "/api/openapi/invoice/import-invoice-pic": Family.MAYCUR,
    "/openapi/identify/sendByImageUrl": Family.YIPIAOYUN,
    "/openapi/identify/result": Family.YIPIAOYUN,
    "/data/v1/verify_invoice": Family.EXOCR,  # a form API: JSON is refused as a whole
}


@pytest.fixture(scope="module")
def handlers() -> Iterator[dict[str, tuple[Route, ModuleType]]]:
    template = Template(TEMPLATE)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "cn-north-1")
        env.setenv("AWS_ACCESS_KEY_ID", "unit")
        env.setenv("AWS_SECRET_ACCESS_KEY", "unit")
        env.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        yield {
            route.path: (route, handler_module(route.function))
            for route in template.routes
            if route.path in JSON_ROUTES
        }


def answer(
    handlers: dict[str, tuple[Route, ModuleType]], path: str, body: bytes, content_type: str
) -> tuple[int, Any]:
    route, module = handlers[path]
    request = HttpRequest("POST", path, "", [("Content-Type", content_type)], body)
    result = module.app.resolve(to_event(request, route, {}), LambdaContext(route.function))
    return result["statusCode"], simplejson.loads(result["body"])


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("path", list(JSON_ROUTES))
def test_each_family_answers_a_hostile_body_400_in_its_envelope(
    handlers: dict[str, tuple[Route, ModuleType]], path: str, kind: str
) -> None:
    status, body = answer(handlers, path, HOSTILE[kind].encode(), "application/json")
    family = JSON_ROUTES[path]
    expected_status, expected = problem_envelope(family, Problem.INVALID_REQUEST)
    assert status == expected_status == 400
    code = {"resCode", "errorCode", "error_code", "code"} & set(expected)
    assert {k: body[k] for k in code} == {k: expected[k] for k in code}


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_verify_answers_a_body_that_is_not_utf8_with_4001(
    handlers: dict[str, tuple[Route, ModuleType]], content_type: str
) -> None:
    status, body = answer(handlers, "/data/v1/verify_invoice", b"\xff\xfe=\xff", content_type)
    assert (status, body["error_code"]) == (400, 4001)


def test_platform_error_envelopes_do_not_echo_a_boolean_biz_id(
    handlers: dict[str, tuple[Route, ModuleType]],
) -> None:
    status, body = answer(
        handlers, "/common/invoice/create", b'{"bizId": true}', "application/json"
    )
    assert (status, body["resCode"], body["bizId"]) == (400, 400000, None)
