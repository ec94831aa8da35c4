"""What API Gateway does between an HTTP client and a Lambda handler, done locally.

An HTTP request becomes a REST API (v1) proxy event, the handler's answer becomes the
HTTP response, and API Gateway's own refusals keep their shape: 413 for a body over
10 MiB, 502 when the handler raises, 404 for a route the template does not declare.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from fapiao.local.template import FunctionDef, Route, Template

logger = logging.getLogger("fapiao-local")
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
STAGE = "v1"
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "+json")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Loader = Callable[[FunctionDef, int], Handler]  # (function, container number) -> handler


@dataclass
class LambdaContext:
    """The fields of Lambda's context object that Powertools and handlers read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 29
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = (
            f"arn:aws:lambda:local:123456789012:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def json(cls, status: int, payload: object) -> HttpResponse:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, [("Content-Type", "application/json")], body)


def _is_text(content_type: str) -> bool:
    return any(marker in content_type.lower() for marker in _TEXT_TYPES)


def to_event(
    request: HttpRequest, route: Route, path_parameters: Mapping[str, str]
) -> dict[str, Any]:
    """The REST API proxy event API Gateway would give the function for ``request``."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query_pairs = parse_qsl(request.query, keep_blank_values=True)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
    body: str | None
    if not request.body:
        body, is_base64 = None, False
    elif _is_text(content_type):
        try:
            body, is_base64 = request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
    else:
        body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
    now = time.time()
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "resourcePath": route.path,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": headers.get("User-Agent") or headers.get("user-agent"),
            },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def from_result(result: Any) -> HttpResponse:
    """The HTTP response for a proxy integration result (502 if it is malformed)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return HttpResponse.json(502, {"message": "Internal server error"})
    headers: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    seen = {name.lower() for name, _ in headers}
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return HttpResponse(result["statusCode"], headers, raw)


def load_module(template: Template, function: FunctionDef, instance: str) -> ModuleType:
    module_name = function.handler.rpartition(".")[0]
    source = (template.root / function.code_uri / f"{module_name.replace('.', '/')}.py").resolve()
    spec = importlib.util.spec_from_file_location(
        f"fapiao_function_{function.logical_id}_{instance}", source
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {function.handler} from {source}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def openapi_document(template: Template) -> dict[str, Any]:
    """One OpenAPI document for the template's routes, merged from each function's
    Powertools resolver (``app``), with the x-api-key scheme every route but /health uses."""
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "fapiao invoice hub", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
    }
    functions = {f.logical_id: f for f in template.functions}
    secured = {(r.path, r.method.lower()) for r in template.routes if r.authorizer}
    for name in sorted({r.function for r in template.routes}):
        app = getattr(load_module(template, functions[name], "openapi"), "app", None)
        if app is None or not hasattr(app, "get_openapi_schema"):
            continue
        schema = app.get_openapi_schema(openapi_version="3.0.3").model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if (path, method) in secured:
                    operation["security"] = [{"apiKey": []}]
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    return document


def load_handler(template: Template, function: FunctionDef, instance: int = 0) -> Handler:
    """Import the handler that template.yaml names, as a new Lambda container would:
    each instance is a fresh copy of the module, with module state of its own."""
    module = load_module(template, function, str(instance))
    handler: Handler = getattr(module, function.handler.rpartition(".")[2])
    return handler


class TokenBucket:
    """API Gateway's throttle: ``rate`` requests a second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


class FunctionPool:
    """Lambda's concurrency model: one event at a time per container, more containers
    (fresh module copies) while all are busy, up to ``limit``; then requests wait."""

    def __init__(self, function: FunctionDef, loader: Loader, limit: int = 16) -> None:
        self.function = function
        self._loader = loader
        self._limit = limit
        self._idle: list[Handler] = [loader(function, 0)]  # the first one loads at start
        self._count = 1
        self._available = threading.Condition()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        handler = self._acquire()
        try:
            return handler(event, LambdaContext(self.function.logical_id))
        finally:
            with self._available:
                self._idle.append(handler)
                self._available.notify()

    def _acquire(self) -> Handler:
        with self._available:
            while not self._idle and self._count >= self._limit:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
            instance = self._count - 1
        return self._loader(self.function, instance)  # a cold start, outside the lock


class Router:
    """The template's routes, each bound to its function's pool of handlers."""

    def __init__(self, template: Template, loader: Loader) -> None:
        functions = {f.logical_id: f for f in template.functions}
        self._functions = functions
        self._loader = loader
        self.routes = template.routes
        needed = {r.function for r in self.routes} | {r.authorizer for r in self.routes}
        self._pools = {
            name: FunctionPool(functions[name], loader) for name in needed if name is not None
        }
        self._patterns = [(r, r.pattern) for r in self.routes]
        self.template = template
        self._openapi: str | None = None
        self._access_denied = template.gateway_response("ACCESS_DENIED")
        self._throttled = template.gateway_response("THROTTLED")
        self._throttles = template.throttles
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._buckets_lock = threading.Lock()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self._patterns:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def _authorize(self, route: Route, event: dict[str, Any]) -> HttpResponse | None:
        """API Gateway's REQUEST authorizer step: None to go on, or the refusal.

        An Allow puts the authorizer's context on ``requestContext.authorizer``; a Deny
        answers the template's ACCESS_DENIED gateway response, ``$context.authorizer.*``
        substituted; an authorizer that fails is API Gateway's 500.
        """
        assert route.authorizer is not None
        method_arn = (
            f"arn:aws:execute-api:local:123456789012:local/{STAGE}/{event['httpMethod']}"
            f"{event['path']}"
        )
        forwarded = (
            "resource",
            "path",
            "httpMethod",
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "pathParameters",
            "stageVariables",
            "requestContext",
        )
        authorizer_event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            **{k: event[k] for k in forwarded},
        }
        try:
            answer = self._pools[route.authorizer].invoke(authorizer_event)
            statement = answer["policyDocument"]["Statement"][0]
            allowed = statement["Effect"] == "Allow"
            context = {str(k): v for k, v in (answer.get("context") or {}).items()}
        except Exception:
            logger.exception("authorizer %s failed", route.authorizer)
            return HttpResponse.json(500, {"message": None})
        if allowed:
            event["requestContext"]["authorizer"] = {
                **context,
                "principalId": answer.get("principalId"),
            }
            return None
        default = (403, '{"message": "User is not authorized"}')
        return _gateway_response(self._access_denied or default, context)

    def _throttle(self, route: Route, event: dict[str, Any]) -> HttpResponse | None:
        """The usage plan's method throttle, per client (API Gateway: per API key)."""
        limit = self._throttles.get((route.path, route.method))
        if limit is None:
            return None
        context = event["requestContext"].get("authorizer") or {}
        key = (str(context.get("principalId")), route.path, route.method)
        with self._buckets_lock:
            bucket = self._buckets.setdefault(key, TokenBucket(*limit))
        if bucket.take():
            return None
        default = (429, '{"message": "Too Many Requests"}')
        return _gateway_response(self._throttled or default, context)

    def invoke_function(self, name: str, payload: bytes) -> tuple[bytes, str | None]:
        """Lambda's Invoke of a template function by name or ARN: (result, error type)."""
        logical_id = name.split(":function:", 1)[-1].split(":", 1)[0]
        pool = self._pools.get(logical_id)
        if pool is None:
            function = self._functions.get(logical_id)
            if function is None:
                body = {"errorMessage": f"no function {logical_id}", "errorType": "NotFound"}
                return json.dumps(body).encode(), "ResourceNotFoundException"
            pool = self._pools.setdefault(logical_id, FunctionPool(function, self._loader))
        try:
            result = pool.invoke(json.loads(payload or b"{}"))
        except Exception as error:  # Lambda reports a handler's exception, not its trace
            logger.exception("function %s raised", logical_id)
            body = {"errorMessage": str(error)[:1000], "errorType": type(error).__name__}
            return json.dumps(body, ensure_ascii=False).encode(), type(error).__name__
        return json.dumps(result, ensure_ascii=False, default=str).encode(), None

    def path_known(self, path: str) -> bool:
        return any(pattern.match(path) for _, pattern in self._patterns)

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.path == "/openapi.json" and self.template:
            if self._openapi is None:
                self._openapi = json.dumps(openapi_document(self.template), ensure_ascii=False)
            return HttpResponse(200, [("Content-Type", "application/json")], self._openapi.encode())
        if len(request.body) > MAX_BODY_BYTES:
            return HttpResponse.json(413, {"message": "Request Too Long"})
        matched = self.match(request.method, request.path)
        if matched is None:
            if self.path_known(request.path):
                return HttpResponse.json(405, {"message": "Method Not Allowed"})
            return HttpResponse.json(404, {"message": "Not Found"})
        route, parameters = matched
        event = to_event(request, route, parameters)
        if route.authorizer is not None:
            refused = self._authorize(route, event) or self._throttle(route, event)
            if refused is not None:
                return refused
        try:
            result = self._pools[route.function].invoke(event)
        except Exception:  # API Gateway answers a failed invocation with 502
            logger.exception("handler %s raised", route.function)
            return HttpResponse.json(502, {"message": "Internal server error"})
        return from_result(result)


def _gateway_response(response: tuple[int, str], context: dict[str, Any]) -> HttpResponse:
    """A gateway response of the template, ``$context.authorizer.*`` substituted."""
    status, body = response
    for name, value in context.items():
        body = body.replace(f"$context.authorizer.{name}", str(value))
    return HttpResponse(status, [("Content-Type", "application/json")], body.encode("utf-8"))


def default_loader(template: Template) -> Loader:
    return lambda function, instance: load_handler(template, function, instance)


__all__ = [
    "MAX_BODY_BYTES",
    "HttpRequest",
    "HttpResponse",
    "LambdaContext",
    "Router",
    "default_loader",
    "from_result",
    "load_handler",
    "to_event",
]
