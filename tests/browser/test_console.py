"""The review console in headless Chromium against `fapiao serve`, as finance staff use
it: sign in with a key, find a dropped file in the queue, complete what was not read and
save until the invoice is verified, all without leaving the page; a seller name that is
HTML is shown as text; nothing is fetched from another host; axe-core finds no serious
or critical violation. The overview and the file's pictures are the hub's own
(GET /console/api/overview, GET /console/api/items/{id}/file).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

from browser import hubdata
from browser.conftest import Console
from fakes.exocr_server import FakeExocr
from fapiao.local import review_cli
from fapiao.settings import LocalHubSettings
from fapiao.wire.common import load_json
from hubprocess import RunningHub, call
from support import PROJECT_ROOT

# alone: Chromium's processes beside the parallel run starved the hubs of other tests
# (a Ctrl-C stop past 30 s); with nothing beside them both sides keep their timing.
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.alone]


def review_list(data: Path) -> list[dict[str, Any]]:
    """`fapiao review list --json`, as a user runs it against the hub."""
    import argparse

    parser = argparse.ArgumentParser(prog="fapiao")
    review_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["review", "list", "--json", "--data", str(data)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert review_cli.run(args, LocalHubSettings.from_env()) == 0
    return load_json(out.getvalue())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def qr_only(hub: RunningHub, exocr: FakeExocr, data: Path) -> dict[str, Any]:
    """A photo of just the QR code of an e-invoice, dropped as a phone would: its entry of
    `fapiao review list --json` (C 907010, the total to complete)."""
    hubdata.script(exocr)
    key = hubdata.drop_qr_only_photo(hub)
    hubdata.queued(hub, lambda entry: entry["key"] == key)
    (entry,) = [entry for entry in review_list(data) if entry["key"] == key]
    return entry


@pytest.fixture(scope="module")
def hostile(hub: RunningHub) -> dict[str, Any]:
    """An invoice that invoice/create stored F (its check says 250, it was read as 240),
    sold by ``<img src=x onerror=alert(1)>``: its queue entry."""
    if not hubdata.specs_present():
        pytest.skip("the shared specs (spec 001's example) are not beside the project")
    request = hubdata.create_contradicted(hub)
    number = request["receipt_ocr"]["invoices"][0]["invoice_number"]
    return hubdata.queued(hub, lambda entry: entry["fields"].get("invoice_number") == number)


def status_of(console: Console) -> str:
    value = console.page.get_attribute("[data-role=status]", "data-status")
    assert value is not None
    return value


def wait_status(console: Console, status: str) -> None:
    console.page.wait_for_selector(f"[data-role=status][data-status='{status}']")


def test_the_page_comes_with_headers_that_keep_it_to_itself(console: Console) -> None:
    response = console.open()
    console.page.wait_for_selector("input[name=api_key]")

    headers = response.headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    # The policy holds in the browser: a script put into the page does not run.
    console.page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }"""
    )
    assert console.page.evaluate("() => window.injected === undefined") is True
    for module in ("app.js", "item.js", "console.css"):
        answer = console.page.request.get(f"{console.hub.url}/console/{module}")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-type"].startswith(("text/javascript", "text/css"))


# --- signing in ------------------------------------------------------------------------------


def test_a_wrong_key_stays_on_the_form_with_the_catalogues_words(
    console: Console, hub: RunningHub
) -> None:
    _, refusal = call("GET", f"{hub.url}/common/review?limit=1", api_key="not-a-key")

    console.open()
    console.page.fill("input[name=api_key]", "not-a-key")
    console.page.get_by_role("button", name="登录").click()
    console.page.locator("#signin-error:not(:empty)").wait_for()

    assert console.page.text_content("#signin-error") == refusal["resMsg"]
    assert console.page.is_visible("input[name=api_key]")
    assert console.page.evaluate("sessionStorage.length") == 0
    assert not any("not-a-key" in url for url in console.requests)


def make_key(data: Path, name: str, role: str) -> str:
    """A new key of ``role`` in the hub whose data folder is ``data``, as a user makes
    one (`fapiao keys create NAME --role ROLE --json --data DIR`)."""
    made = subprocess.run(
        [
            *(sys.executable, "-m", "fapiao.local.cli", "keys", "create", name),
            *("--role", role, "--json", "--data", str(data)),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    answer = json.loads(made.stdout)
    assert answer["role"] == role
    return str(answer["api_key"])


def test_a_key_of_another_role_is_told_so_and_stays_on_the_form(
    console: Console, hub: RunningHub, data: Path
) -> None:
    key = make_key(data, "Expense platform", "submit")
    status, refusal = call("GET", f"{hub.url}/common/review?limit=1", api_key=key)
    assert status == 403

    console.open()
    console.page.fill("input[name=api_key]", key)
    console.page.keyboard.press("Enter")
    console.page.locator("#signin-error:not(:empty)").wait_for()

    told = console.page.text_content("#signin-error") or ""
    assert told.startswith(refusal["resMsg"])
    assert "没有复核权限" in told
    assert console.page.is_visible("input[name=api_key]")
    assert console.page.evaluate("sessionStorage.length") == 0


def test_the_dev_key_signs_in_and_out_and_never_shows_in_a_url(
    console: Console, hub: RunningHub
) -> None:
    console.sign_in()

    stored = "sessionStorage.getItem('fapiao.console.api_key')"
    assert console.page.evaluate(stored) == hub.api_key
    assert not any(hub.api_key in url for url in console.requests)
    console.page.get_by_role("button", name="退出").click()
    console.page.wait_for_selector("input[name=api_key]")
    assert console.page.evaluate("sessionStorage.length") == 0


# --- the start page ---------------------------------------------------------------------------


def test_the_overview_shows_counts_and_a_chart_of_30_days(
    console: Console, qr_only: dict[str, Any], tmp_path: Path
) -> None:
    answers: list[Any] = []
    console.page.on(
        "response", lambda r: answers.append(r) if r.url.endswith("/console/api/overview") else None
    )

    console.sign_in()
    console.page.wait_for_selector("svg.chart rect")

    overview = answers[0].json()["data"]
    values = console.page.locator(".stat .stat-value").all_text_contents()
    states = overview["states"]
    assert values == [
        str(states["U"]),
        str(states["F"]),
        str(states["C"]),
        str(overview["paid_checks_today"]),
    ]
    assert console.page.locator("svg.chart g.day").count() == 30  # a bar a day
    kinds = ("created", "duplicate", "rejected", "unrecognisable")
    drawn = sum(1 for day in overview["outcomes"] for kind in kinds if day[kind])
    assert console.page.locator("svg.chart rect").count() == drawn
    assert console.page.locator(".chart-data tbody tr").count() == 30
    assert console.axe_violations() == []
    console.screenshot("console-start.png", tmp_path)


def test_the_overview_answering_404_leaves_the_queue_working(
    console: Console, qr_only: dict[str, Any]
) -> None:
    console.page.route(
        "**/console/api/overview",
        lambda route: route.fulfill(status=404, body=b'{"message": "Not Found"}'),
    )
    console.sign_in()

    console.page.wait_for_selector(f"tr[data-id='{qr_only['id']}']")
    assert "概览暂不可用" in (console.page.text_content(".overview") or "")


def test_the_filters_go_to_the_api_as_its_query(console: Console, qr_only: dict[str, Any]) -> None:
    console.sign_in()
    console.page.wait_for_selector(f"tr[data-id='{qr_only['id']}']")

    console.page.select_option("#filter-status", "C")
    console.page.fill("#filter-owner", "nobody.here")
    console.page.fill("#filter-date_from", "2025-01-01")
    console.page.fill("#filter-date_to", "2025-01-31")
    console.page.get_by_role("button", name="筛选").click()

    console.page.locator("td.empty").wait_for()
    asked = [url for url in console.requests if "/common/review?" in url][-1]
    assert parse_qs(urlsplit(asked).query) == {
        "limit": ["20"],
        "status": ["C"],
        "owner": ["nobody.here"],
        "date_from": ["2025-01-01"],
        "date_to": ["2025-01-31"],
    }
    assert console.page.locator("tr[data-id]").count() == 0


# --- an item ------------------------------------------------------------------------------------


def test_a_qr_only_photo_is_completed_in_the_browser_until_it_is_verified(
    console: Console, hub: RunningHub, qr_only: dict[str, Any], tmp_path: Path, data: Path
) -> None:
    spec = hubdata.QR_ONLY
    console.sign_in(make_key(data, "Finance reviewer", "review"))
    row = console.page.locator(f"tr[data-id='{qr_only['id']}']")
    row.wait_for()
    assert qr_only["status"] == "C"
    assert console.axe_violations() == []

    row.locator("td.message").click()  # anywhere on the row

    wait_status(console, "C")
    assert console.page.url.endswith(f"/console/#/items/{qr_only['id']}")
    assert console.page.input_value("input[name=invoice_number]") == spec.invoice_number
    assert console.page.input_value("input[name=invoice_code]") == spec.invoice_code
    assert console.page.input_value("input[name=total_amount]") == ""
    picture = console.page.locator("img[data-role=invoice-file]")
    picture.wait_for()
    assert (picture.get_attribute("src") or "").startswith("blob:")
    console.page.wait_for_function(  # a function: the page's CSP refuses eval of a string
        "() => document.querySelector('img[data-role=invoice-file]').naturalWidth > 0"
    )
    console.page.keyboard.press("e")  # to the field the message asks for
    assert console.page.evaluate("document.activeElement.name") == "total_amount"
    assert console.axe_violations() == []
    console.screenshot("console-item.png", tmp_path)
    console.page.evaluate("window.sameDocument = true")

    console.page.keyboard.type(str(spec.total_amount))
    console.page.get_by_role("button", name="保存并查验").click()

    wait_status(console, "Y")
    assert console.page.evaluate("window.sameDocument") is True  # no reload
    assert console.page.url.endswith(f"/console/#/items/{qr_only['id']}")
    corrections = console.page.locator("table.data", has_text="价税合计")
    corrections.wait_for()
    assert str(spec.total_amount) in (corrections.text_content() or "")
    query = urlencode({"invoice_code": spec.invoice_code, "invoice_number": spec.invoice_number})
    status, detail = call("GET", f"{hub.url}/common/invoice/detail?{query}", api_key=hub.api_key)
    assert status == 200
    (stored,) = detail["data"]
    assert stored["ocrResult"]["invoice_status"] == "Y"
    (correction,) = stored["corrections"]
    assert (correction["field"], correction["old"], correction["new"]) == (
        "total_amount",
        None,
        str(spec.total_amount),
    )
    assert (correction["by"], correction["role"]) == ("Finance reviewer", "review")


def test_an_unreadable_file_becomes_an_invoice_and_the_page_follows_its_new_id(
    console: Console, hub: RunningHub, exocr: FakeExocr
) -> None:
    hubdata.script(exocr)
    key = hubdata.drop_unreadable_file(hub)
    entry = hubdata.queued(hub, lambda e: e["key"] == key, "&status=U")
    spec = hubdata.UNREAD
    console.sign_in()
    console.page.locator(f"tr[data-id='{entry['id']}']").click()
    wait_status(console, "U")
    console.page.evaluate("window.sameDocument = true")

    for name, value in {
        "invoice_type": "10",
        "invoice_code": spec.invoice_code,
        "invoice_number": spec.invoice_number,
        "receipt_date": spec.receipt_date.strftime("%Y%m%d"),
        "amount": str(spec.amount),
        "total_amount": str(spec.total_amount),
        "check_code": spec.check_code,
    }.items():
        console.page.fill(f"[name={name}]", value or "")
    console.page.get_by_role("button", name="保存并查验").click()

    wait_status(console, "Y")
    invoice_key = f"{spec.invoice_code}{spec.invoice_number}"
    assert console.page.url.endswith(f"/console/#/items/{invoice_key}")
    assert console.page.evaluate("window.sameDocument") is True
    status, created = call("GET", f"{hub.url}/common/review/{invoice_key}", api_key=hub.api_key)
    assert (status, created["data"]["owner"]) == (200, hubdata.OWNER)


def test_a_seller_name_that_is_html_is_shown_as_text_and_never_runs(
    console: Console, hostile: dict[str, Any]
) -> None:
    console.sign_in()
    console.page.locator(f"tr[data-id='{hostile['id']}']").click()
    wait_status(console, "F")

    assert console.page.input_value("input[name=seller_name]") == hubdata.HOSTILE_NAME
    head = console.page.text_content(".item-head") or ""
    assert hubdata.HOSTILE_NAME in head
    console.page.locator(".file-missing").wait_for()  # the last thing the page fetches
    assert "没有保存" in (console.page.text_content(".file-pane") or "")
    assert console.page.locator("img[data-role=invoice-file]").count() == 0  # no file kept
    assert console.page.locator("img[src='x']").count() == 0
    assert not any(url.endswith("/x") for url in console.requests)  # no <img src=x> loaded
    assert console.dialogs == []


def test_a_refused_value_is_told_beside_its_field_and_a_recheck_answers(
    console: Console, hostile: dict[str, Any]
) -> None:
    console.open(f"/console/#/items/{hostile['id']}")
    console.page.fill("input[name=api_key]", console.hub.api_key)
    console.page.keyboard.press("Enter")
    wait_status(console, "F")  # signed in, straight to the bookmarked item

    console.page.fill("input[name=total_amount]", "abc")
    console.page.keyboard.press("Control+Enter")

    error = console.page.locator("#field-total_amount-error")
    error.wait_for()
    assert re.match(r"请求参数错误: total_amount", error.text_content() or "")
    assert console.page.get_attribute("input[name=total_amount]", "aria-invalid") == "true"
    assert status_of(console) == "F"

    console.page.fill("input[name=total_amount]", "240")
    console.page.get_by_role("button", name="重新查验").click()
    console.page.wait_for_function(
        "() => document.querySelector('.form-status').textContent.startsWith('已查验')"
    )
    assert status_of(console) in ("Y", "F", "C")


def test_recheck_is_disabled_with_the_reason_when_the_api_says_so(
    console: Console, hostile: dict[str, Any]
) -> None:
    reason = "今天已查验 5 次,明天再试"

    def limited(route: Any) -> None:  # the detail as the API gives it, with `recheck`
        response = route.fetch()
        body = response.json()
        body["data"]["recheck"] = {"allowed": False, "reason": reason}
        route.fulfill(response=response, json=body)

    console.page.route(f"**/common/review/{hostile['id']}", limited)
    console.sign_in()
    console.page.locator(f"tr[data-id='{hostile['id']}']").click()
    console.page.locator("#recheck-reason:not(:empty)").wait_for()

    button = console.page.get_by_role("button", name="重新查验")
    assert button.is_disabled()
    assert console.page.text_content("#recheck-reason") == reason
    assert button.get_attribute("aria-describedby") == "recheck-reason"


def test_j_and_k_walk_the_queue_from_an_item(console: Console, hub: RunningHub) -> None:
    if not hubdata.specs_present():
        pytest.skip("the shared specs (spec 001's example) are not beside the project")
    for number in ("20250101", "20250102"):
        hubdata.create_contradicted(hub, number)
    console.sign_in()
    console.page.wait_for_selector("tr[data-id] >> nth=1")
    console.page.locator("tr[data-id]").first.click()
    console.page.wait_for_selector("[data-role=status]")
    # The queue as the page last showed it (entries change state in the background).
    shown = console.page.evaluate(
        "() => JSON.parse(sessionStorage.getItem('fapiao.console.order'))"
    )
    first = unquote(console.page.url.rpartition("#/items/")[2])
    at = shown.index(first)

    def at_item(review_id: str) -> re.Pattern[str]:
        return re.compile(re.escape(f"#/items/{quote(review_id, safe='')}") + "$")

    console.page.keyboard.press("j")
    second = shown[at + 1]
    console.page.wait_for_url(at_item(second))
    # k goes back to the entry before this one in the queue as the page shows it now:
    # the hub may have moved entries meanwhile (a C entry it re-checked by itself).
    console.page.wait_for_selector("[data-role=status]")
    now = console.page.evaluate("() => JSON.parse(sessionStorage.getItem('fapiao.console.order'))")
    before = now[now.index(second) - 1] if now.index(second) > 0 else second
    console.page.keyboard.press("k")
    console.page.wait_for_url(at_item(before))
