"""What API Gateway does between an HTTP client and a Lambda handler, done locally.

An HTTP request becomes a REST API (v1) proxy event, the handler's answer becomes the
HTTP response, and API Gateway's own refusals keep their shape: 413 for a body over
10 MiB, 502 when the handler raises, 404 for a route the template does not declare.
Where template.yaml customises a refusal (its gateway responses), the hub renders that
template: one source for AWS and the laptop.

Lambda's concurrency is bounded as a function's reserved concurrency bounds it: at most
``concurrency`` containers of one function at once. Lambda refuses a synchronous call
past that at once; the hub lets ``queue_depth`` API requests wait per function first,
then answers the template's INTEGRATION_FAILURE response (503 in the route's envelope,
which the authorizer put in its context). Invocations from inside the hub (Step
Functions tasks, queue pollers) are never refused: they wait for a container.
"""

from __future__ import annotations

import base64
import fnmatch
import importlib.util
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from fapiao.local.powertools import discard_unpublished_metrics, isolate_router_state
from fapiao.local.template import FunctionDef, Route, Template, TemplateError
from fapiao.local.usage import Usage
from fapiao.settings.limits import API_GATEWAY_MAX_BODY_BYTES as MAX_BODY_BYTES
from fapiao.settings.local import DEFAULT_QUEUE_DEPTH

logger = logging.getLogger("fapiao-local")
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


def from_result(result: Any, *, binary: bool = True) -> HttpResponse:
    """The HTTP response for a proxy integration result (502 if it is malformed).

    A body the function base64-encoded (``isBase64Encoded``) goes out as its bytes when
    ``binary`` (the request accepts one of the API's binary media types, see
    ``accepts_binary``), else as the base64 text, as API Gateway sends it."""
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
    if result.get("isBase64Encoded") and binary:
        raw = base64.b64decode(body)
    else:  # a lone surrogate cannot be UTF-8: written as "?", as API Gateway's Java does
        raw = str(body).encode("utf-8", errors="replace")
    return HttpResponse(result["statusCode"], headers, raw)


def accepts_binary(request: HttpRequest, binary_media_types: tuple[str, ...]) -> bool:
    """Whether API Gateway returns a base64-encoded body as bytes: the first media type of
    the request's Accept header is one of the API's binary media types (``*`` matching
    any part, as in ``image/*``). Without such an Accept header a client gets the text."""
    accept = next((v for k, v in request.headers if k.lower() == "accept"), "")
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return bool(first) and any(
        fnmatch.fnmatchcase(first, media_type.lower()) for media_type in binary_media_types
    )


def route_specificity(route: Route) -> tuple[int, ...]:
    """How API Gateway chooses among the routes that match a path: segment by segment,
    a literal before a ``{param}``, a ``{param}`` before a greedy ``{proxy+}``. Sorting
    by this puts the route it picks first, whatever the template's order."""
    kinds = []
    for segment in route.path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            kinds.append(2)
        elif segment.startswith("{"):
            kinds.append(1)
        else:
            kinds.append(0)
    return tuple(kinds)


def load_module(template: Template, function: FunctionDef, instance: str) -> ModuleType:
    """A fresh copy of the function's handler module (``instance`` tells copies apart in
    nothing but their objects). Every copy has the same module name, as every Lambda
    container of a function has: Powertools Idempotency keys records by the handler's
    module and name, so a bizId replayed on another container finds its first answer."""
    isolate_router_state()  # containers are threads here: each resolves its own event
    module_name = function.handler.rpartition(".")[0]
    source = (template.root / function.code_uri / f"{module_name.replace('.', '/')}.py").resolve()
    spec = importlib.util.spec_from_file_location(f"fapiao_function_{function.logical_id}", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {function.handler} from {source}")
    module = importlib.util.module_from_spec(spec)
    # While it runs, the module is sys.modules' under its name, as an import makes it:
    # a dataclass with string annotations (``from __future__ import annotations``)
    # looks its module up there. Then the name goes back to what it named before.
    with _LOADING:
        before = sys.modules.get(spec.name)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            if before is None:
                del sys.modules[spec.name]
            else:
                sys.modules[spec.name] = before
    return module


_LOADING = threading.Lock()  # one handler module executes at a time (sys.modules above)


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
        module = load_module(template, functions[name], "openapi")
        # A function's resolver, or one built to describe a route its handler answers
        # without a resolver (health: its cold start)
        app = (
            module.openapi_app() if hasattr(module, "openapi_app") else getattr(module, "app", None)
        )
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


class FunctionBusy(Exception):
    """Every container of the function is busy and its API queue is full (Lambda's 429)."""


@dataclass
class _Waiter:
    from_api: bool
    ready: threading.Event = field(default_factory=threading.Event)
    handler: Handler | None = None  # the container handed over; None: start a new one


class FunctionPool:
    """Lambda's concurrency model for one function: one event at a time per container,
    a new container (a fresh module copy) while all are busy, at most ``concurrency``.

    Past that, events wait in arrival order and a freed container goes to the first of
    them. At most ``queue_depth`` of the waiting events may come from the API: one more
    raises ``FunctionBusy`` at once. Events from inside the hub always wait.
    """

    def __init__(
        self,
        function: FunctionDef,
        loader: Loader,
        concurrency: int = 4,
        queue_depth: int = DEFAULT_QUEUE_DEPTH,
        on_invoked: Callable[[str, float], None] | None = None,
    ) -> None:
        if concurrency < 1 or queue_depth < 0:
            raise ValueError("concurrency must be at least 1 and queue_depth at least 0")
        self.function = function
        self.concurrency = concurrency
        self.queue_depth = queue_depth
        self._loader = loader
        self._lock = threading.Lock()
        self._idle: list[Handler] = [loader(function, 0)]  # the first one loads at start
        self._started = 1  # containers started so far: the next one's instance number
        self._running = 0  # events in a container now (or in its cold start)
        self._waiting: deque[_Waiter] = deque()
        self._api_waiting = 0
        # (function, seconds) after each handler call: Lambda's billed duration, here
        # the handler's wall time (a cold start's import and the wait are not in it)
        self._on_invoked = on_invoked

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def invoke(self, event: dict[str, Any], *, from_api: bool = False) -> dict[str, Any]:
        """The handler's result for ``event``; ``FunctionBusy`` for an API event that
        finds every container busy and ``queue_depth`` API events waiting already."""
        handler = self._acquire(from_api)
        started = time.perf_counter()
        try:
            return handler(event, LambdaContext(self.function.logical_id))
        finally:
            discard_unpublished_metrics()
            if self._on_invoked is not None:
                self._on_invoked(self.function.logical_id, time.perf_counter() - started)
            self._release(handler)

    def _acquire(self, from_api: bool) -> Handler:
        with self._lock:
            if self._running < self.concurrency and not self._waiting:
                self._running += 1
                if self._idle:
                    return self._idle.pop()
                waiter = None
            elif from_api and self._api_waiting >= self.queue_depth:
                raise FunctionBusy(self.function.logical_id)
            else:
                waiter = _Waiter(from_api)
                self._waiting.append(waiter)
                self._api_waiting += from_api
        if waiter is not None:
            waiter.ready.wait()
            if waiter.handler is not None:
                return waiter.handler
        return self._cold_start()

    def _cold_start(self) -> Handler:
        """A new container in the slot the caller holds, loaded outside the lock."""
        with self._lock:
            instance = self._started
            self._started += 1
        try:
            return self._loader(self.function, instance)
        except BaseException:
            self._release(None)  # the slot passes on; the caller hears the import error
            raise

    def _release(self, handler: Handler | None) -> None:
        with self._lock:
            if self._waiting:  # the slot, and the container if any, go to the first waiter
                waiter = self._waiting.popleft()
                self._api_waiting -= waiter.from_api
                waiter.handler = handler
                waiter.ready.set()
                return
            self._running -= 1
            if handler is not None:
                self._idle.append(handler)


class Router:
    """The template's routes, each bound to its function's pool of handlers."""

    def __init__(
        self,
        template: Template,
        loader: Loader,
        *,
        concurrency: int = 4,
        queue_depth: int = DEFAULT_QUEUE_DEPTH,
        usage: Usage | None = None,
    ) -> None:
        # every invocation of every function, timed (the hub passes its local AWS's)
        self.usage = usage
        functions = {f.logical_id: f for f in template.functions}
        self._functions = functions
        self._loader = loader
        self.concurrency = concurrency
        self.queue_depth = queue_depth
        self.routes = template.routes
        needed = {r.function for r in self.routes} | {r.authorizer for r in self.routes}
        self._pools = {name: self._pool(functions[name]) for name in needed if name is not None}
        ordered = sorted(self.routes, key=route_specificity)  # stable: template order next
        self._patterns = [(r, r.pattern) for r in ordered]
        self.template = template
        self._openapi: str | None = None
        self._access_denied = template.gateway_response("ACCESS_DENIED")
        self._throttled = template.gateway_response("THROTTLED")
        self._too_large = template.gateway_response("REQUEST_TOO_LARGE")
        self._busy = template.gateway_response("INTEGRATION_FAILURE")
        self._throttles = template.throttles
        self._binary_media_types = template.binary_media_types
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._buckets_lock = threading.Lock()

    def _pool(self, function: FunctionDef) -> FunctionPool:
        return FunctionPool(
            function, self._loader, self.concurrency, self.queue_depth, self._invoked
        )

    def _invoked(self, function: str, seconds: float) -> None:
        if self.usage is not None:
            self.usage.invoked(function, seconds)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route API Gateway picks for ``method`` on ``path``: the most specific
        resource that matches (``route_specificity``), then its method (or ANY). As in
        API Gateway's REST APIs, a trailing slash is no resource of its own: /console/
        is /console's when no route takes it as it is."""
        for candidate in dict.fromkeys((path, path.rstrip("/") or "/")):
            resource = next((r.path for r, p in self._patterns if p.match(candidate)), None)
            if resource is None:
                continue
            for route, pattern in self._patterns:
                found = pattern.match(candidate)
                if route.path == resource and found and route.method in (method, "ANY"):
                    return route, found.groupdict()
            return None
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
            # The authorizer answers in milliseconds: API events wait for it, and the
            # bound applies at the route's function, whose 503 the authorizer shapes.
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
        return _gateway_response(self._access_denied or default, event, context)

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
        return _gateway_response(self._throttled or default, event, context)

    def invoke_function(self, name: str, payload: bytes) -> tuple[bytes, str | None]:
        """Lambda's Invoke of a template function by name or ARN: (result, error type)."""
        logical_id = name.split(":function:", 1)[-1].split(":", 1)[0]
        pool = self._pools.get(logical_id)
        if pool is None:
            function = self._functions.get(logical_id)
            if function is None:
                body = {"errorMessage": f"no function {logical_id}", "errorType": "NotFound"}
                return json.dumps(body).encode(), "ResourceNotFoundException"
            pool = self._pools.setdefault(logical_id, self._pool(function))
        try:
            result = pool.invoke(json.loads(payload or b"{}"))
        except Exception as error:  # Lambda reports a handler's exception, not its trace
            logger.exception("function %s raised", logical_id)
            body = {"errorMessage": str(error)[:1000], "errorType": type(error).__name__}
            return json.dumps(body, ensure_ascii=False).encode(), type(error).__name__
        return json.dumps(result, ensure_ascii=False, default=str).encode(), None

    def path_known(self, path: str) -> bool:
        candidates = {path, path.rstrip("/") or "/"}
        return any(pattern.match(c) for _, pattern in self._patterns for c in candidates)

    def too_large(self, method: str, path: str) -> HttpResponse:
        """API Gateway's refusal of a body over 10 MiB: the template's REQUEST_TOO_LARGE
        response, rendered for the route's resource path (the family's envelope)."""
        matched = self.match(method, path)
        event = {"resource": matched[0].path if matched else path, "requestContext": {}}
        default = (413, '{"message": "Request Too Long"}')
        return _gateway_response(self._too_large or default, event, {})

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.path == "/openapi.json" and self.template:
            if self._openapi is None:
                self._openapi = json.dumps(openapi_document(self.template), ensure_ascii=False)
            return HttpResponse(200, [("Content-Type", "application/json")], self._openapi.encode())
        if len(request.body) > MAX_BODY_BYTES:
            return self.too_large(request.method, request.path)
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
            result = self._pools[route.function].invoke(event, from_api=True)
        except FunctionBusy:
            return self._refuse_busy(route, event)
        except Exception:  # API Gateway answers a failed invocation with 502
            logger.exception("handler %s raised", route.function)
            return HttpResponse.json(502, {"message": "Internal server error"})
        return from_result(result, binary=accepts_binary(request, self._binary_media_types))

    def _refuse_busy(self, route: Route, event: dict[str, Any]) -> HttpResponse:
        """Lambda's refusal of a call past the function's concurrency, as the template's
        INTEGRATION_FAILURE response renders it: the route's 503 envelope from the
        authorizer's context; a plain JSON message on a route without an authorizer."""
        logger.warning("%s busy: %s API requests waiting", route.function, self.queue_depth)
        context = event["requestContext"].get("authorizer") or {}
        if route.authorizer is None or self._busy is None or "busy" not in context:
            return HttpResponse.json(503, {"message": "Service Unavailable"})
        return _gateway_response(self._busy, event, context)


_DIRECTIVE = re.compile(r"^\s*#(if|elseif|else|end|set|foreach)\b", re.MULTILINE)
_VARIABLE = re.compile(r"\$context\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


def render_gateway_template(template: str, variables: Mapping[str, str]) -> str:
    """A gateway response's mapping template as API Gateway renders it: plain
    ``$context.*`` substitution (the longest dotted name that is known; an unknown one is
    empty). API Gateway runs no VTL there, so a directive is an error, not a guess."""
    if _DIRECTIVE.search(template):
        raise TemplateError("a gateway response template is not VTL: no #if, #set, ...")

    def value(found: re.Match[str]) -> str:
        parts = found.group(1).split(".")
        for end in range(len(parts), 0, -1):
            name = ".".join(parts[:end])
            if name in variables:
                return variables[name] + found.group(1)[len(name) :]
        return ""

    return _VARIABLE.sub(value, template)


def _gateway_response(
    response: tuple[int, str], event: Mapping[str, Any], authorizer: Mapping[str, Any]
) -> HttpResponse:
    """A gateway response of the template, rendered with the request's ``$context``:
    ``resourcePath``, ``requestId`` and the authorizer's context (``authorizer.*``)."""
    status, template = response
    request_context = event.get("requestContext") or {}
    variables = {
        "resourcePath": str(event.get("resource") or ""),
        "requestId": str(request_context.get("requestId") or ""),
        **{f"authorizer.{name}": str(value) for name, value in authorizer.items()},
    }
    body = render_gateway_template(template, variables)
    return HttpResponse(status, [("Content-Type", "application/json")], body.encode("utf-8"))


def default_loader(template: Template) -> Loader:
    return lambda function, instance: load_handler(template, function, instance)


__all__ = [
    "MAX_BODY_BYTES",
    "FunctionBusy",
    "FunctionPool",
    "HttpRequest",
    "HttpResponse",
    "LambdaContext",
    "Router",
    "accepts_binary",
    "default_loader",
    "from_result",
    "load_handler",
    "render_gateway_template",
    "route_specificity",
    "to_event",
]
