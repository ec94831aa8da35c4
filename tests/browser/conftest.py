"""Headless Chromium against a running hub (`fapiao serve`, a process), as a finance
clerk's browser would meet it.

Chromium is Debian's (``make browser`` installs it): Playwright drives it by its path
and downloads nothing. The browser resolves no name and reaches no host but loopback,
every request a page makes is recorded, and a test fails if one went anywhere but the
hub (``Console.requests``). axe-core comes from npm (tests/browser/package-lock.json,
installed by ``make browser``) and is injected into the page only for its check.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fakes.exocr_server import FakeExocr
from hubprocess import RunningHub, start_hub

CHROMIUM = Path(os.environ.get("FAPIAO_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# Nothing but loopback, whatever a page asks for: no name is resolved.
BROWSER_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def _require(path: Path, how: str) -> None:
    if path.exists():
        return
    message = f"{path} is missing: {how}"
    if os.environ.get("CI"):  # make test installs it: CI must not skip quietly
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        yield fake


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hub's data folder (where `fapiao review` and `fapiao keys` find the hub)."""
    return Path(tmp_path_factory.mktemp("hub")) / "data"


@pytest.fixture(scope="module")
def hub(data: Path, exocr: FakeExocr) -> Iterator[RunningHub]:
    env: dict[str, str | None] = {
        **exocr.hub_settings,
        "FAPIAO_IDENTIFIER": None,  # the embedded engine reads the QR code
    }
    running = start_hub(data, env)
    # The development client's key as the hub keeps it (and `fapiao review` finds it).
    running.api_key = (data / "dev-api-key").read_text(encoding="utf-8").strip()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(hub: RunningHub) -> Iterator[Any]:
    """Chromium, closed before the hub stops (its open connections would hold the hub)."""
    _require(CHROMIUM, "make browser installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield launched
        launched.close()


@dataclass
class Console:
    """One browser tab on the hub's console, and what it did."""

    page: Any
    hub: RunningHub
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: str = "/console/") -> Any:
        return self.page.goto(self.hub.url + path)

    def sign_in(self, key: str | None = None) -> None:
        self.open()
        self.page.fill("input[name=api_key]", key or self.hub.api_key)
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector("table.queue")

    def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        _require(AXE, "make browser installs axe-core (npm ci in tests/browser)")
        self.page.evaluate(AXE.read_text(encoding="utf-8"))  # the DevTools protocol: no CSP
        result = self.page.evaluate("async () => await axe.run(document)")
        return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]

    def screenshot(self, name: str, tmp_path: Path) -> Path:
        """A full-page screenshot: into FAPIAO_SCREENSHOTS (e.g. docs) when set, else
        the test's own folder."""
        folder = Path(os.environ.get("FAPIAO_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def console(browser: Any, hub: RunningHub) -> Iterator[Console]:
    """A fresh tab (its own session storage) on the hub; at the end, every request it
    made went to the hub's origin (or stayed in the page: blob:, data:)."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    tab = Console(page, hub)
    origin = hub.url.rstrip("/") + "/"

    def guard(route: Any) -> None:
        if route.request.url.startswith(origin):
            route.fallback()
        else:
            tab.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("request", lambda request: tab.requests.append(request.url))

    def dialog(opened: Any) -> None:
        tab.dialogs.append(opened.message)
        opened.dismiss()

    page.on("dialog", dialog)
    yield tab
    context.close()
    assert tab.blocked == []
    assert [url for url in tab.requests if not url.startswith((origin, "blob:", "data:"))] == []
