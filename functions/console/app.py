"""The review console (GET /console/...): the static files of a page that finance staff
open in a browser. They need no key; every piece of data the page shows comes from the
API with the reviewer's key (x-api-key), fetched by the page itself.

The files are this folder's ``static/``: plain ES modules and one style sheet, no build
step and nothing from another origin. Only the files found there at the cold start are
served (a name is looked up, never joined to a path), each with its content type and
the headers that keep the page to itself: a Content-Security-Policy without inline
scripts that no other site may frame, ``nosniff`` and no referrer. The item page is
``/console/#/items/<review id>``: the id stays in the browser, so one index.html serves
every page. ``/console`` sends the browser to ``/console/``, whose relative links (the
modules, and the API at ``../common/review``) then resolve under the stage's path too.
"""

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.logs import hub_logger, hub_tracer

logger = hub_logger()
tracer = hub_tracer()
app = APIGatewayRestResolver()

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page's own origin only; blob: for the pictures it fetches with the key.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# No names with a version in them (no build step): the browser asks again each time and
# an unchanged file costs a 304.
CACHE_CONTROL = "no-cache"

FILES: dict[str, Path] = {
    path.relative_to(STATIC).as_posix(): path
    for path in sorted(STATIC.rglob("*"))
    if path.is_file() and path.suffix in CONTENT_TYPES
}


@cache
def _read(name: str) -> tuple[str, str]:
    """A static file's text and its entity tag (read once per container)."""
    text = FILES[name].read_text(encoding="utf-8")
    return text, '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'


def _answer(status: int, content_type: str, body: str, **headers: str) -> Response[Any]:
    return Response(status, content_type, body, {**SECURITY_HEADERS, **headers})


def _file(name: str) -> Response[Any]:
    if name not in FILES:
        return _answer(
            404, "text/plain; charset=utf-8", "Not Found", **{"Cache-Control": "no-store"}
        )
    text, etag = _read(name)
    cached = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if etag in (app.current_event.headers.get("if-none-match") or "").split(", "):
        return _answer(304, CONTENT_TYPES[FILES[name].suffix], "", **cached)
    return _answer(200, CONTENT_TYPES[FILES[name].suffix], text, **cached)


@app.get("/console", include_in_schema=False)  # the resolver takes /console/ here too
def index() -> Response[Any]:
    if not app.current_event.path.endswith("/"):
        location = {"Location": "console/", "Cache-Control": "no-store"}
        return _answer(308, "text/plain; charset=utf-8", "", **location)
    return _file("index.html")


@app.get("/console/.+", include_in_schema=False)  # template.yaml: /console/{proxy+}
def static_file() -> Response[Any]:
    name = (app.current_event.path_parameters or {}).get("proxy")
    if name is None:  # a gateway that names no proxy parameter: the path says it
        name = app.current_event.path.partition("/console/")[2]
    return _file(name)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
