"""The local hub hands handlers the event API Gateway would, and answers as it would."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from fapiao.local.apigw import (
    MAX_BODY_BYTES,
    FunctionBusy,
    FunctionPool,
    HttpRequest,
    Router,
    accepts_binary,
    from_result,
    route_specificity,
    to_event,
)
from fapiao.local.template import FunctionDef, Route, Template

TEMPLATE = """
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: app.lambda_handler
      Events:
        Post:
          Type: Api
          Properties: {Path: "/items/{item_id}", Method: post}
        Files:
          Type: Api
          Properties: {Path: "/files/{proxy+}", Method: get}
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/broken/
      Handler: app.lambda_handler
      Events:
        Get:
          Type: Api
          Properties: {Path: /broken, Method: get}
"""


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 201,
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"path": event["pathParameters"], "fn": context.function_name}),
        "isBase64Encoded": False,
    }


def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("secret stack detail")


@pytest.fixture
def router(tmp_path: Path) -> Router:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    handlers = {"EchoFunction": echo, "BrokenFunction": broken}
    return Router(Template(path), lambda function, instance: handlers[function.logical_id])


def request(method: str, path: str, body: bytes = b"", query: str = "") -> HttpRequest:
    return HttpRequest(method, path, query, [("Content-Type", "application/json")], body)


def test_event_is_what_powertools_reads_as_an_api_gateway_event() -> None:
    route = Route("POST", "/items/{item_id}", "EchoFunction")
    raw = to_event(
        HttpRequest(
            "POST",
            "/items/7",
            "a=1&a=2&b=x",
            [("Content-Type", "application/json"), ("x-api-key", "k")],
            b'{"n": 1}',
        ),
        route,
        {"item_id": "7"},
    )
    event = APIGatewayProxyEvent(raw)
    assert event.http_method == "POST"
    assert event.path == "/items/7"
    assert event.resource == "/items/{item_id}"
    assert event.path_parameters == {"item_id": "7"}
    assert event.query_string_parameters == {"a": "2", "b": "x"}
    assert event.multi_value_query_string_parameters == {"a": ["1", "2"], "b": ["x"]}
    assert event.headers["x-api-key"] == "k"
    assert event.json_body == {"n": 1}
    assert event.request_context.stage == "v1"


def test_binary_bodies_arrive_base64_encoded() -> None:
    route = Route("POST", "/f", "F")
    pdf = b"%PDF-1.7\x00\xff"
    raw = to_event(
        HttpRequest("POST", "/f", "", [("Content-Type", "application/pdf")], pdf), route, {}
    )
    assert raw["isBase64Encoded"] is True
    assert base64.b64decode(raw["body"]) == pdf


def test_result_headers_and_base64_bodies_become_the_http_response() -> None:
    response = from_result(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "multiValueHeaders": {"X-A": ["1", "2"]},
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.body == b"\x89PNG"
    assert [v for k, v in response.headers if k == "X-A"] == ["1", "2"]


def test_a_malformed_result_is_a_502() -> None:
    assert from_result({"body": "no status"}).status == 502
    assert from_result(None).status == 502


def test_route_with_path_parameter_reaches_its_handler(router: Router) -> None:
    response = router.handle(request("POST", "/items/42", b"{}"))
    assert response.status == 201
    assert json.loads(response.body) == {"path": {"item_id": "42"}, "fn": "EchoFunction"}


def test_greedy_path_parameter_takes_the_rest(router: Router) -> None:
    route, params = router.match("GET", "/files/a/b/c.pdf")  # type: ignore[misc]
    assert route.function == "EchoFunction"
    assert params == {"proxy": "a/b/c.pdf"}


def test_unknown_path_is_404_and_wrong_method_405(router: Router) -> None:
    assert router.handle(request("GET", "/nowhere")).status == 404
    assert router.handle(request("GET", "/items/1")).status == 405


def test_a_raising_handler_is_a_502_without_its_details(router: Router) -> None:
    response = router.handle(request("GET", "/broken"))
    assert response.status == 502
    assert b"secret" not in response.body
    assert json.loads(response.body) == {"message": "Internal server error"}


def test_body_over_api_gateway_limit_is_413(router: Router) -> None:
    response = router.handle(request("POST", "/items/1", b"x" * (MAX_BODY_BYTES + 1)))
    assert response.status == 413


def test_concurrent_events_go_to_separate_containers_up_to_the_limit() -> None:
    loaded: list[int] = []
    inside = threading.Barrier(4)  # three events and this test
    release = threading.Event()
    seen: list[int] = []

    def loader(function: FunctionDef, instance: int) -> Any:
        loaded.append(instance)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            seen.append(instance)
            if event.get("hold"):
                inside.wait(timeout=5)
                release.wait(timeout=5)
            return {"statusCode": 200}

        return handler

    pool = FunctionPool(FunctionDef("F", Path("."), "app.handler"), loader, concurrency=3)
    threads = [threading.Thread(target=pool.invoke, args=({"hold": True},)) for _ in range(3)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=5)  # three events inside at once: three containers
    release.set()
    for thread in threads:
        thread.join(timeout=5)
    assert sorted(loaded) == [0, 1, 2]
    pool.invoke({})  # an idle container is reused, none is created
    assert sorted(loaded) == [0, 1, 2]
    assert len(seen) == 4


# --- concurrency: at most N containers, a bounded API queue, internal calls wait ----------


class Gate:
    """A handler that holds each event until released, and counts who is inside."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.loaded: list[int] = []
        self.order: list[Any] = []

    def loader(self, function: FunctionDef, instance: int) -> Any:
        self.loaded.append(instance)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            with self.lock:
                self.inside += 1
                self.most_inside = max(self.most_inside, self.inside)
                self.order.append(event.get("n"))
            self.entered.release()
            self.release.wait(timeout=10)
            with self.lock:
                self.inside -= 1
            return {"statusCode": 200, "body": "{}"}

        return handler

    def wait_inside(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=5), "an event never reached the handler"


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.005)


def start(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


FUNCTION = FunctionDef("F", Path("."), "app.handler")


def test_a_blocking_function_runs_in_at_most_concurrency_containers() -> None:
    gate = Gate()
    pool = FunctionPool(FUNCTION, gate.loader, concurrency=2, queue_depth=10)
    threads = [start(pool.invoke, {"n": n}) for n in range(5)]
    gate.wait_inside(2)
    wait_until(lambda: pool.waiting == 3)
    assert (gate.inside, pool.running, sorted(gate.loaded)) == (2, 2, [0, 1])
    gate.release.set()
    for thread in threads:
        thread.join(timeout=5)
    assert gate.most_inside == 2
    assert sorted(gate.loaded) == [0, 1]  # the waiting events reused the two containers
    assert (pool.running, pool.waiting) == (0, 0)


def test_queued_requests_run_in_arrival_order_when_a_container_frees() -> None:
    gate = Gate()
    pool = FunctionPool(FUNCTION, gate.loader, concurrency=1, queue_depth=2)
    threads = [start(lambda: pool.invoke({"n": 0}, from_api=True))]
    gate.wait_inside(1)
    for n in (1, 2):
        threads.append(start(lambda n=n: pool.invoke({"n": n}, from_api=True)))
        wait_until(lambda n=n: pool.waiting == n)
    gate.release.set()
    for thread in threads:
        thread.join(timeout=5)
    assert gate.order == [0, 1, 2]
    assert gate.loaded == [0]


def test_an_api_request_past_the_queue_is_refused_at_once_an_internal_one_waits() -> None:
    gate = Gate()
    pool = FunctionPool(FUNCTION, gate.loader, concurrency=1, queue_depth=1)
    results: list[Any] = []
    start(lambda: results.append(pool.invoke({"n": "api-1"}, from_api=True)))
    gate.wait_inside(1)
    start(lambda: results.append(pool.invoke({"n": "api-2"}, from_api=True)))
    wait_until(lambda: pool.waiting == 1)
    started = time.monotonic()
    with pytest.raises(FunctionBusy):
        pool.invoke({"n": "api-3"}, from_api=True)
    assert time.monotonic() - started < 0.5
    internal = [start(lambda n=n: results.append(pool.invoke({"n": n}))) for n in ("sfn", "sqs")]
    wait_until(lambda: pool.waiting == 3)  # the API queue is full; internal calls still wait
    gate.release.set()
    for thread in internal:
        thread.join(timeout=5)
    wait_until(lambda: len(results) == 4)
    assert gate.order == ["api-1", "api-2", "sfn", "sqs"]


def test_a_failed_cold_start_frees_its_slot() -> None:
    gate = Gate()
    broken = {"next": True}

    def loader(function: FunctionDef, instance: int) -> Any:
        if instance == 1 and broken.pop("next", False):
            raise ImportError("the module does not import")
        return gate.loader(function, instance)

    pool = FunctionPool(FUNCTION, loader, concurrency=2, queue_depth=0)
    holder = start(pool.invoke, {"n": 0})
    gate.wait_inside(1)
    with pytest.raises(ImportError):
        pool.invoke({"n": 1}, from_api=True)
    assert pool.running == 1
    second = start(pool.invoke, {"n": 2})  # the slot is free again: a new container starts
    gate.wait_inside(1)
    gate.release.set()
    holder.join(timeout=5)
    second.join(timeout=5)
    assert sorted(gate.loaded) == [0, 2]


def test_pool_bounds_must_make_sense() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        FunctionPool(FUNCTION, lambda f, i: echo, concurrency=0)
    with pytest.raises(ValueError, match="queue_depth"):
        FunctionPool(FUNCTION, lambda f, i: echo, queue_depth=-1)


def test_router_takes_concurrency_and_queue_depth(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    gate = Gate()
    router = Router(Template(path), gate.loader, concurrency=1, queue_depth=0)
    first = start(router.handle, request("POST", "/items/1", b"{}"))
    gate.wait_inside(1)
    refused = router.handle(request("POST", "/items/2", b"{}"))
    assert refused.status == 503  # no authorizer on this route: a plain JSON message
    assert json.loads(refused.body) == {"message": "Service Unavailable"}
    internal = start(router.invoke_function, "EchoFunction", b'{"n": "task"}')
    wait_until(lambda: router._pools["EchoFunction"].waiting == 1)
    gate.release.set()
    first.join(timeout=5)
    internal.join(timeout=5)
    assert gate.order == [None, "task"]


# --- which route answers a path, and in which form a binary body goes out -----------------

# The greedy route and the parameter come first in the template; API Gateway still picks
# the most specific resource, segment by segment.
PRECEDENCE = """
Resources:
  HubApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      BinaryMediaTypes: [multipart~1form-data, image~1png, image~1jpeg]
  PagesFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/pages/
      Handler: app.lambda_handler
      Events:
        Root: {Type: Api, Properties: {Path: /console, Method: get}}
        Files: {Type: Api, Properties: {Path: "/console/{proxy+}", Method: get}}
        Item: {Type: Api, Properties: {Path: "/console/api/items/{item_id}", Method: get}}
  DataFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/data/
      Handler: app.lambda_handler
      Events:
        Overview: {Type: Api, Properties: {Path: /console/api/overview, Method: get}}
        Latest: {Type: Api, Properties: {Path: /console/api/items/latest, Method: get}}
        File: {Type: Api, Properties: {Path: "/console/api/items/{item_id}/file", Method: get}}
"""


def picture(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png", "X-Route": event["resource"]},
        "body": base64.b64encode(b"\x89PNG\r\n").decode(),
        "isBase64Encoded": True,
    }


@pytest.fixture
def gateway(tmp_path: Path) -> Router:
    path = tmp_path / "template.yaml"
    path.write_text(PRECEDENCE, encoding="utf-8")
    return Router(Template(path), lambda function, instance: picture)


@pytest.mark.parametrize(
    ("path", "resource", "parameters"),
    [
        ("/console/api/overview", "/console/api/overview", {}),
        ("/console/api/items/latest", "/console/api/items/latest", {}),
        ("/console/api/items/7", "/console/api/items/{item_id}", {"item_id": "7"}),
        ("/console/api/items/7/file", "/console/api/items/{item_id}/file", {"item_id": "7"}),
        ("/console/api/items/7/other", "/console/{proxy+}", {"proxy": "api/items/7/other"}),
        ("/console/app.js", "/console/{proxy+}", {"proxy": "app.js"}),
        ("/console", "/console", {}),
        ("/console/", "/console", {}),  # a trailing slash is no resource of its own
    ],
)
def test_the_most_specific_route_answers_whatever_the_templates_order(
    gateway: Router, path: str, resource: str, parameters: dict[str, str]
) -> None:
    route, found = gateway.match("GET", path)  # type: ignore[misc]
    assert (route.path, found) == (resource, parameters)
    response = gateway.handle(request("GET", path))
    assert dict(response.headers)["X-Route"] == resource


def test_a_path_keeps_its_trailing_slash_in_the_event(gateway: Router) -> None:
    route, parameters = gateway.match("GET", "/console/")  # type: ignore[misc]
    event = to_event(request("GET", "/console/"), route, parameters)
    assert (event["resource"], event["path"]) == ("/console", "/console/")


def test_a_literal_route_with_another_method_is_405_not_the_greedy_one(gateway: Router) -> None:
    assert gateway.match("POST", "/console/api/overview") is None
    assert gateway.handle(request("POST", "/console/api/overview", b"{}")).status == 405


def test_route_specificity_orders_literal_parameter_greedy() -> None:
    routes = [
        Route("GET", "/a/{proxy+}", "F"),
        Route("GET", "/a/{x}/c", "F"),
        Route("GET", "/a/b/{proxy+}", "F"),
        Route("GET", "/a/b/c", "F"),
    ]
    assert [r.path for r in sorted(routes, key=route_specificity)] == [
        "/a/b/c",
        "/a/b/{proxy+}",
        "/a/{x}/c",
        "/a/{proxy+}",
    ]


def test_the_templates_binary_media_types_are_read_as_media_types(gateway: Router) -> None:
    assert gateway.template.binary_media_types == ("multipart/form-data", "image/png", "image/jpeg")


@pytest.mark.parametrize(
    ("accept", "binary"),
    [
        ("image/png", True),
        ("image/jpeg;q=0.9", True),
        ("image/png, image/jpeg;q=0.9", True),
        ("IMAGE/PNG", True),
        ("application/json, image/png", False),  # API Gateway reads the first type only
        ("*/*", False),
        ("", False),
    ],
)
def test_a_base64_body_goes_out_as_bytes_only_to_an_accept_of_a_binary_type(
    gateway: Router, accept: str, binary: bool
) -> None:
    headers = [("Accept", accept)] if accept else []
    response = gateway.handle(HttpRequest("GET", "/console/api/items/7/file", "", headers, b""))
    expected = b"\x89PNG\r\n" if binary else base64.b64encode(b"\x89PNG\r\n")
    assert response.body == expected
    assert accepts_binary(HttpRequest("GET", "/", "", headers, b""), ("image/*",)) == (
        accept.lower().startswith("image/")
    )


def test_the_hubs_template_returns_the_consoles_pictures_as_bytes() -> None:
    from support import TEMPLATE as HUB_TEMPLATE

    types = Template(HUB_TEMPLATE).binary_media_types
    assert {"image/png", "image/jpeg"} <= set(types)


def test_metrics_of_a_hub_that_publishes_none_never_reach_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Powertools, with metrics disabled, keeps what log_metrics would have flushed and
    prints the set by itself at a metric's 100th value: 150 refusals printed a line."""
    from aws_lambda_powertools.metrics import Metrics, MetricUnit

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics = Metrics(namespace="Fapiao")

    @metrics.log_metrics
    def refuse(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return {}

    pool = FunctionPool(FUNCTION, lambda function, instance: refuse, concurrency=1)
    for _ in range(150):
        pool.invoke({})
    assert capsys.readouterr().out == ""
