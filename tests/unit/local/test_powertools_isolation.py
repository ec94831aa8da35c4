"""The local hub's containers are threads of one process, and Powertools keeps the event
being resolved in class attributes: ``isolate_router_state`` makes them per thread, so
two containers resolving at once each read their own event (``fapiao.local.powertools``)."""

from __future__ import annotations

import json
import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from fapiao.local.powertools import isolate_router_state


def _event(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource": "/echo",
        "path": "/echo",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"requestId": body["id"], "stage": "v1", "path": "/echo"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _container(entered: threading.Barrier) -> APIGatewayRestResolver:
    """One container's resolver (each of the hub's containers has its module's own)."""
    app = APIGatewayRestResolver()

    @app.post("/echo")
    def echo() -> dict[str, Any]:
        entered.wait(timeout=10)  # both containers are inside a route at once
        body: dict[str, Any] = app.current_event.json_body
        return {"seen": body["id"], "context": app.lambda_context}

    return app


def test_two_containers_resolving_at_once_each_read_their_own_event() -> None:
    isolate_router_state()
    entered = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def run(name: str) -> None:
        app = _container(entered)
        answer = app.resolve(_event({"id": name}), name)  # type: ignore[arg-type]
        answers[name] = json.loads(answer["body"])

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert answers == {
        "first": {"seen": "first", "context": "first"},
        "second": {"seen": "second", "context": "second"},
    }


def test_it_is_idempotent_and_keeps_class_and_instance_access() -> None:
    isolate_router_state()
    isolate_router_state()
    BaseRouter.current_event = "mine"  # type: ignore[assignment]
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(BaseRouter.current_event))
    thread.start()
    thread.join()
    assert BaseRouter.current_event == "mine"
    assert APIGatewayRestResolver().current_event == "mine"
    assert seen == [None]  # another thread has not resolved anything
