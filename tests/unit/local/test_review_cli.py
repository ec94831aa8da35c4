"""`fapiao review` (local/review_cli.py): its command line, every page of the list, its
lines and JSON, and a refusal's exit code. The hub's API is a fake here; tests/e2e
drives a real hub."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

import pytest

from fapiao.local import review_cli
from fapiao.local.locate import CommandError
from fapiao.settings import LocalHubSettings
from fapiao.wire.common import load_json


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fapiao")
    review_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["review", *argv])


ENTRY = {
    "id": "03302210021168552329",
    "status": "C",
    "message_code": 907010,
    "message": "发票信息不全,补全后查验: total_amount",
    "key": "local.user/ingest/qr.png",
    "index": None,
    "invoice_key": "03302210021168552329",
    "fields": {"invoice_type": "10", "amount": Decimal("100.00")},
    "owner": "local.user",
    "changed_at": "2024-06-01T10:30:00+08:00",
}


class FakeApi:
    """Answers pages of ``items`` two at a time, as the hub's cursor does."""

    def __init__(self, items: list[dict[str, Any]], refuse: bool = False) -> None:
        self.items = items
        self.refuse = refuse
        self.calls: list[tuple[str, str, Any, Any]] = []

    def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        self.calls.append((method, path, body, dict(params or {})))
        if self.refuse:
            raise review_cli.Refused(400000, "请求参数错误: unknown field bogus")
        if method == "POST":
            return {
                "id": path.split("/")[3],
                "status": "Y",
                "message_code": None,
                "message": None,
                "invoice_key": path.split("/")[3],
                "expense_id": 7,
            }
        start = int((params or {}).get("cursor") or 0)
        page = self.items[start : start + 2]
        more = start + 2 < len(self.items)
        return {"items": page, "cursor": str(start + 2) if more else None}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi([{**ENTRY, "id": str(n)} for n in range(5)])
    monkeypatch.setattr(review_cli, "_api", lambda args, settings: fake)
    return fake


def run(*argv: str) -> int:
    return review_cli.run(parse(*argv), LocalHubSettings())


def test_list_json_is_every_entry_of_every_page(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("list", "--json", "--status", "C", "--owner", "local.user") == 0

    printed = load_json(capsys.readouterr().out)
    assert [entry["id"] for entry in printed] == ["0", "1", "2", "3", "4"]
    assert printed[0]["fields"]["amount"] == Decimal("100.00")  # exactly as the hub said
    assert {
        "id",
        "status",
        "message_code",
        "message",
        "key",
        "index",
        "invoice_key",
        "fields",
    } <= set(printed[0])
    assert [params for _, _, _, params in api.calls] == [
        {"limit": 200, "status": "C", "owner": "local.user"},
        {"limit": 200, "status": "C", "owner": "local.user", "cursor": "2"},
        {"limit": 200, "status": "C", "owner": "local.user", "cursor": "4"},
    ]


def test_list_prints_a_line_per_entry(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.items = [ENTRY, {**ENTRY, "id": "U-abc.2", "status": "U", "index": 2}]
    assert run("list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "03302210021168552329\tC\t907010\t发票信息不全,补全后查验: total_amount\t"
        "local.user/ingest/qr.png\tlocal.user\t2024-06-01T10:30:00+08:00",
        "U-abc.2\tU\t907010\t发票信息不全,补全后查验: total_amount\t"
        "local.user/ingest/qr.png#2\tlocal.user\t2024-06-01T10:30:00+08:00",
    ]


def test_fix_sends_the_fields_by_001_names(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run("fix", "03302210021168552329", "--set", "total_amount=113.00", "--set", "remark=")

    assert code == 0
    assert api.calls == [
        (
            "POST",
            "/common/review/03302210021168552329/fix",
            {"set": {"total_amount": "113.00", "remark": None}},
            {},
        )
    ]
    assert capsys.readouterr().out == ("03302210021168552329\tY\t\t\t03302210021168552329\t7\n")


def test_recheck_prints_the_outcome_as_json(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("recheck", "03302210021168552329", "--json") == 0
    assert api.calls[0][:2] == ("POST", "/common/review/03302210021168552329/recheck")
    assert load_json(capsys.readouterr().out)["status"] == "Y"


def test_a_refusal_exits_1_with_its_code(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.refuse = True
    assert run("fix", "X1", "--set", "bogus=1") == 1
    assert "400000: 请求参数错误: unknown field bogus" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["total_amount", "=1", "Total=1", "a b=1"])
def test_set_needs_field_equals_value(value: str) -> None:
    with pytest.raises(SystemExit):
        parse("fix", "X1", "--set", value)


def test_a_field_set_twice_is_a_mistake(api: FakeApi) -> None:
    with pytest.raises(CommandError, match="twice"):
        run("fix", "X1", "--set", "amount=1", "--set", "amount=2")
    assert api.calls == []
