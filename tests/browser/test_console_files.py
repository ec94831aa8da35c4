"""The console's static files through the local gateway and the template's routes, in
process (no browser): each file with its type and the headers that keep the page to
itself, nothing outside ``static/`` ever, and a page that cannot run injected markup
(no inline script, no HTML built from strings)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fapiao.local.apigw import HttpRequest, HttpResponse, Router, load_handler
from fapiao.local.template import FunctionDef, Template
from support import TEMPLATE

STATIC = TEMPLATE.parent / "functions" / "console" / "static"
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


@pytest.fixture(scope="module")
def router() -> Router:
    """The template's routes; the console's own handler, every other function a stub."""
    template = Template(TEMPLATE)
    console = load_handler(
        template, next(f for f in template.functions if f.logical_id == "ConsoleFunction")
    )

    def stub(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "body": "stub"}

    def loader(function: FunctionDef, instance: int) -> Any:
        return console if function.logical_id == "ConsoleFunction" else stub

    return Router(template, loader)


def get(router: Router, path: str, *headers: tuple[str, str]) -> HttpResponse:
    return router.handle(HttpRequest("GET", path, "", list(headers), b""))


def header(response: HttpResponse, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name.lower()), None)


def test_console_routes_need_no_key(router: Router) -> None:
    routes = [r for r in router.routes if r.function == "ConsoleFunction"]
    assert {(r.method, r.path) for r in routes} == {
        ("GET", "/console"),
        ("GET", "/console/{proxy+}"),
    }
    assert all(r.authorizer is None for r in routes)


def test_console_sends_the_browser_to_console_slash_which_is_the_page(router: Router) -> None:
    moved = get(router, "/console")
    assert (moved.status, header(moved, "Location")) == (308, "console/")
    page = get(router, "/console/")
    assert page.status == 200
    assert page.body == (STATIC / "index.html").read_bytes()


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC.iterdir() if p.suffix in TYPES))
def test_each_file_has_its_type_and_the_headers_that_keep_the_page_to_itself(
    router: Router, name: str
) -> None:
    response = get(router, f"/console/{name}")

    assert response.status == 200
    assert response.body == (STATIC / name).read_bytes()
    assert (header(response, "Content-Type") or "").startswith(TYPES[Path(name).suffix])
    policy = header(response, "Content-Security-Policy") or ""
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert header(response, "X-Content-Type-Options") == "nosniff"
    assert header(response, "Referrer-Policy") == "no-referrer"
    assert header(response, "Cache-Control") == "no-cache"


def test_an_unchanged_file_costs_a_304(router: Router) -> None:
    first = get(router, "/console/app.js")
    etag = header(first, "ETag")
    assert etag

    again = get(router, "/console/app.js", ("If-None-Match", etag))

    assert (again.status, again.body) == (304, b"")
    assert get(router, "/console/app.js", ("If-None-Match", '"other"')).status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/console/app.py",
        "/console/../app.py",
        "/console/%2e%2e/app.py",
        "/console/..%2fapp.py",
        "/console/%2e%2e%2fapp.py",
        "/console/..%5capp.py",
        "/console/static/index.html",
        "/console/./index.html",
        "/console/index.html/",
        "/console//index.html",
        "/console/%2fetc%2fpasswd",
        "/console/...",
        "/console/nothing.js",
        "/console/items/0330221002112025001",
    ],
)
def test_no_path_reaches_anything_but_a_file_of_static(router: Router, path: str) -> None:
    response = get(router, path)
    assert response.status == 404
    assert response.body == b"Not Found"
    assert header(response, "X-Content-Type-Options") == "nosniff"


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("an inline script")
        if tag == "style" or "style" in names:
            self.found.append("an inline style")
        self.found.extend(f"handler {n}" for n in names if n.startswith("on"))
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"(?i)(https?:)?//", value):
                self.found.append(f"another origin: {value}")


def test_the_page_has_nothing_inline_and_nothing_from_another_origin() -> None:
    parser = _Markup()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    assert parser.found == []
    assert '<html lang="zh-CN">' in (STATIC / "index.html").read_text(encoding="utf-8")


# What turns text into markup or code: the page never does it, so a value from a file or a
# client can only ever be text.
_UNSAFE = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"setTimeout\(\s*['\"`]|https?://(?!www\.w3\.org/2000/svg)|@import|url\("
)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in STATIC.iterdir() if p.suffix in (".js", ".css"))
)
def test_no_module_builds_markup_from_text_or_loads_from_elsewhere(name: str) -> None:
    source = (STATIC / name).read_text(encoding="utf-8")
    assert _UNSAFE.findall(source) == []
