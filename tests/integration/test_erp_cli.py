"""`fapiao events` and `fapiao webhooks` (local/erp_cli.py) against a local hub in this
process, over HTTP on loopback, with keys made by `fapiao keys create --role`: the feed
read and resumed from the printed cursor, --follow, the hub found by FAPIAO_API_URL or
by its data folder, the hub's refusals and an absent hub as one line and exit 2, and
/openapi.json's reference to the events' schema."""

from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from inprocess import local_hub

from fapiao.local import cli, erp_cli
from fapiao.local.hub import LocalHub
from fapiao.model.erp import ErpEvent
from fapiao.store.events import DynamoEventFeed
from integration.test_erp_api import RECEIVER, outcome_event

pytestmark = pytest.mark.slow


@dataclass
class Hub:
    hub: LocalHub
    keys: dict[str, str]  # role -> a key of that role, made by the CLI
    feed: DynamoEventFeed
    serial: list[int]

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def data(self) -> Path:
        return self.hub.config.data_dir

    def append(self, count: int) -> list[ErpEvent]:
        """``count`` new events, stored as the pipeline stores them."""
        made = []
        for _ in range(count):
            self.serial[0] += 1
            event = outcome_event(self.serial[0])
            self.feed.append(event)
            made.append(event)
        return made


def make_key(data_dir: Path, name: str, role: str) -> str:
    printed = io.StringIO()
    with redirect_stdout(printed):
        code = cli.main(["keys", "create", name, "--role", role, "--json", "--data", str(data_dir)])
    assert code == 0
    return str(json.loads(printed.getvalue())["api_key"])


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    folder = tmp_path_factory.mktemp("erp-cli")
    env = {"FAPIAO_ALLOW_LOOPBACK_FETCH": "1", "FAPIAO_DEV_API_KEY": None}
    with local_hub(folder, env=env, recognition_workers=1) as hub:
        yield hub


@pytest.fixture(scope="module")
def hub(running: LocalHub) -> Hub:
    keys = {
        role: make_key(running.config.data_dir, f"{role} client", role)
        for role in ("admin", "erp", "review")
    }
    feed = DynamoEventFeed(running.names.ref("EventsTable"))
    return Hub(running, keys, feed, [1000])


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def fapiao(hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `fapiao ...` as a user with FAPIAO_API_URL and FAPIAO_API_KEY (an admin key
    unless ``role`` says otherwise, none for ``role=None``)."""

    def run(*argv: str, role: str | None = "admin", url: str | None = "hub") -> Ran:
        capsys.readouterr()
        if url is None:
            monkeypatch.delenv(erp_cli.API_URL_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(erp_cli.API_URL_VARIABLE, hub.url if url == "hub" else url)
        if role is None:
            monkeypatch.delenv(erp_cli.API_KEY_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(erp_cli.API_KEY_VARIABLE, hub.keys[role])
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def the_end(fapiao: Any) -> str:
    """The feed's cursor after every event stored so far (read through the CLI)."""
    ran = fapiao("events", "--json")
    assert ran.code == 0, ran.err
    return cursor_of(ran)


def cursor_of(ran: Ran) -> str:
    last = ran.err.strip().splitlines()[-1]
    word, cursor = last.split(" ")
    assert word == "next" and cursor
    return cursor


def one_line_refusal(ran: Ran, *words: str) -> None:
    assert ran.code == 2
    assert ran.out == ""
    assert len(ran.err.strip().splitlines()) == 1, ran.err
    assert "Traceback" not in ran.err
    for word in words:
        assert word in ran.err


# --- fapiao events -----------------------------------------------------------------------------


def test_events_prints_each_new_event_as_json_lines_and_the_cursor_to_resume_from(
    hub: Hub, fapiao: Any
) -> None:
    start = the_end(fapiao)
    events = hub.append(3)
    ran = fapiao("events", "--after", start, "--json")
    assert ran.code == 0, ran.err
    assert [json.loads(line) for line in ran.lines] == [json.loads(e.body()) for e in events]
    resumed = fapiao("events", "--after", cursor_of(ran), "--json")
    assert (resumed.code, resumed.out) == (0, "")
    assert cursor_of(resumed) == cursor_of(ran)  # nothing new: the same place


def test_events_lines_are_tab_separated_time_id_type_key_status(hub: Hub, fapiao: Any) -> None:
    start = the_end(fapiao)
    (event,) = hub.append(1)
    ran = fapiao("events", "--after", start, role="erp")  # an erp key reads the feed
    assert ran.code == 0, ran.err
    (line,) = ran.lines
    fields = line.split("\t")
    assert fields[:5] == [
        event.timestamp.isoformat(),
        event.id,
        "invoice.created",
        event.data.invoice_key,
        "Y",
    ]


def test_a_page_boundary_neither_loses_nor_repeats_an_event(
    hub: Hub, fapiao: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(erp_cli, "FEED_PAGE", 2)  # 5 events: pages of 2, 2, 1
    start = the_end(fapiao)
    events = hub.append(5)
    ran = fapiao("events", "--after", start, "--json")
    assert [json.loads(line)["id"] for line in ran.lines] == [event.id for event in events]


def test_a_cursor_file_resumes_where_the_last_run_stopped(
    hub: Hub, fapiao: Any, tmp_path: Path
) -> None:
    kept = tmp_path / "erp.cursor"
    kept.write_text(the_end(fapiao) + "\n", encoding="utf-8")
    first = hub.append(2)
    ran = fapiao("events", "--json", "--cursor-file", str(kept))
    assert [json.loads(line)["id"] for line in ran.lines] == [e.id for e in first]
    assert kept.read_text(encoding="utf-8").strip() == cursor_of(ran)
    second = hub.append(1)
    ran = fapiao("events", "--json", "--cursor-file", str(kept))
    assert [json.loads(line)["id"] for line in ran.lines] == [e.id for e in second]


def test_follow_keeps_polling_and_prints_the_cursor_at_ctrl_c(
    hub: Hub, fapiao: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = the_end(fapiao)
    before = hub.append(1)
    later: list[ErpEvent] = []
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            later.extend(hub.append(2))  # while the reader waits, two events come in
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(erp_cli, "_sleep", wait)
    ran = fapiao("events", "--after", start, "--follow", "--json", "--interval", "0.5")
    assert ran.code == 0, ran.err
    assert [json.loads(line)["id"] for line in ran.lines] == [e.id for e in before + later]
    assert waits == [0.5, 0.5]
    after = fapiao("events", "--after", cursor_of(ran), "--json")
    assert after.out == ""


def test_without_fapiao_api_url_the_running_local_hub_and_its_dev_key_are_used(
    hub: Hub, fapiao: Any
) -> None:
    start = the_end(fapiao)
    (event,) = hub.append(1)
    ran = fapiao("events", "--after", start, "--json", "--data", str(hub.data), role=None, url=None)
    assert ran.code == 0, ran.err
    assert [json.loads(line)["id"] for line in ran.lines] == [event.id]


def test_a_bad_cursor_is_the_hubs_refusal_in_one_line(fapiao: Any) -> None:
    one_line_refusal(fapiao("events", "--after", "not-a-cursor"), "请求参数错误", "(400000)")


def test_a_review_key_may_not_read_the_feed(fapiao: Any) -> None:
    one_line_refusal(fapiao("events", role="review"), "fapiao events:", "无权调用该接口", "403000")


def test_an_unreachable_hub_is_one_line_and_exit_2(fapiao: Any) -> None:
    one_line_refusal(fapiao("events", url="http://127.0.0.1:9"), "no hub at http://127.0.0.1:9")
    one_line_refusal(fapiao("webhooks", "list", url="ftp://x"), "FAPIAO_API_URL")


@pytest.mark.parametrize(
    "argv",
    [
        ["webhooks", "redeliver"],
        ["webhooks", "redeliver", "evt_x", "--since", "2026-12-01T09:00:00+08:00"],
        ["webhooks", "redeliver", "--since", "yesterday"],
        ["webhooks", "add"],
        ["webhooks", "add", RECEIVER, "--events", ","],
        ["events", "--after", "x", "--cursor-file", "f"],
        ["events", "--interval", "0"],
    ],
)
def test_a_refused_command_line_is_one_line_and_exit_2(fapiao: Any, argv: list[str]) -> None:
    one_line_refusal(fapiao(*argv))


def test_openapi_json_of_the_running_hub_references_the_events_schema(hub: Hub) -> None:
    with urllib.request.urlopen(hub.url + "/openapi.json", timeout=30) as response:
        document = json.loads(response.read())
    page = document["paths"]["/erp/events"]["get"]["responses"]["200"]
    items = page["content"]["application/json"]["schema"]["properties"]["events"]["items"]
    assert items == {"$ref": "/erp/schema.json"}
    request = urllib.request.Request(hub.url + "/erp/schema.json")
    request.add_header("x-api-key", hub.keys["erp"])
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["$id"] == "/erp/schema.json"


# --- fapiao webhooks (fapiao.services.webhooks behind the API) ---------------------------------


def listed(fapiao: Any) -> list[dict[str, Any]]:
    ran = fapiao("webhooks", "list", "--json")
    assert ran.code == 0, ran.err
    found: list[dict[str, Any]] = json.loads(ran.out)
    return found


def test_webhooks_add_prints_the_id_and_the_secret_once(fapiao: Any) -> None:
    ran = fapiao("webhooks", "add", RECEIVER + "/text", "--events", "created,duplicate")
    assert ran.code == 0, ran.err
    first, second = ran.lines
    assert first.startswith("id\twh_") and second.startswith("secret\twhsec_")
    webhook_id = first.split("\t")[1]
    (shown,) = [found for found in listed(fapiao) if found["id"] == webhook_id]
    assert shown == {
        "id": webhook_id,
        "url": RECEIVER + "/text",
        "enabled": True,
        "events": ["invoice.created", "invoice.duplicate"],
    }
    text = fapiao("webhooks", "list")
    (line,) = [line for line in text.lines if line.startswith(webhook_id)]
    assert line.split("\t") == [
        webhook_id,
        "enabled",
        "invoice.created,invoice.duplicate",
        "-",
        RECEIVER + "/text",
    ]
    assert second.split("\t")[1] not in text.out


def test_webhooks_add_json_then_rotate_then_remove(fapiao: Any) -> None:
    ran = fapiao("webhooks", "add", RECEIVER + "/json", "--owner", "acme", "--json")
    assert ran.code == 0, ran.err
    added = json.loads(ran.out)
    assert set(added) == {"id", "url", "secret", "enabled", "events"}
    assert (added["url"], added["enabled"], added["events"]) == (RECEIVER + "/json", True, [])
    assert added["secret"].startswith("whsec_")
    rotated = fapiao("webhooks", "rotate-secret", added["id"], "--json")
    assert rotated.code == 0, rotated.err
    answer = json.loads(rotated.out)
    assert answer["id"] == added["id"]
    assert answer["secret"].startswith("whsec_") and answer["secret"] != added["secret"]
    assert answer["previous_secret_valid_until"]
    removed = fapiao("webhooks", "remove", added["id"])
    assert (removed.code, removed.out) == (0, f"removed {added['id']}\n")
    assert added["id"] not in [found["id"] for found in listed(fapiao)]
    one_line_refusal(fapiao("webhooks", "remove", added["id"]), "记录不存在", "(404000)")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "file:///etc/passwd",
        "ftp://127.0.0.1/",
    ],
)
def test_webhooks_add_refuses_an_unsafe_url_with_the_hubs_words(fapiao: Any, url: str) -> None:
    one_line_refusal(fapiao("webhooks", "add", url), "fapiao webhooks add:", "回调地址不可用")
    assert url not in [found["url"] for found in listed(fapiao)]


def test_webhooks_add_refuses_an_unknown_event_word(fapiao: Any) -> None:
    one_line_refusal(fapiao("webhooks", "add", RECEIVER, "--events", "nonsense"), "400000")


def test_an_erp_key_may_not_manage_webhooks(fapiao: Any) -> None:
    one_line_refusal(fapiao("webhooks", "list", role="erp"), "无权调用该接口", "403000")
    one_line_refusal(fapiao("webhooks", "add", RECEIVER, role="erp"), "403000")


def test_webhooks_redeliver_schedules_the_event_and_deliveries_lists_attempts(
    hub: Hub, fapiao: Any
) -> None:
    ran = fapiao("webhooks", "add", RECEIVER + "/redeliver", "--json")
    webhook_id = json.loads(ran.out)["id"]
    (event,) = hub.append(1)
    again = fapiao("webhooks", "redeliver", event.id)
    assert again.code == 0, again.err
    assert f"{webhook_id}\t{event.id}" in again.lines
    assert again.err.strip().splitlines()[-1].startswith("scheduled ")
    since = fapiao("webhooks", "redeliver", "--since", event.timestamp.isoformat(), "--json")
    assert since.code == 0, since.err
    assert {"subscription_id": webhook_id, "event_id": event.id} in json.loads(since.out)[
        "deliveries"
    ]
    one_line_refusal(fapiao("webhooks", "redeliver", "evt_nobody"), "(404000)")
    log = fapiao("webhooks", "deliveries", webhook_id, "--json")
    assert log.code == 0, log.err
    rows = json.loads(log.out)
    assert isinstance(rows, list)
    for row in rows:  # the receiver on port 9 refuses: any attempt made failed
        assert row["subscription_id"] == webhook_id
        assert row["status"] is None or not 200 <= row["status"] < 300
    text = fapiao("webhooks", "deliveries", webhook_id, "--failed")
    assert text.code == 0 and len(text.lines) >= len(rows)  # attempts go on meanwhile
    one_line_refusal(fapiao("webhooks", "deliveries", "wh_nobody"), "(404000)")
