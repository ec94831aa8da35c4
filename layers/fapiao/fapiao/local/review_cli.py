"""`fapiao review`: the running hub's review queue, through its HTTP API (``/common/review``),
with the development client's API key (``fapiao.local.locate.api_key``).

- ``fapiao review list [--status U|F|C] [--owner CODE] [--json]``: what needs attention,
  newest first, every page. One line per entry, tab-separated::

      <id>  <status>  <message_code>  <message>  <key>[#<index>]  <owner>  <changed_at>

  With ``--json``, one JSON array for scripts, an element per entry as the API gives it
  (these names are a contract)::

      {"id", "status": "U" | "F" | "C", "message_code": int | null, "message",
       "key": the dropped object's key | null, "index": the invoice's place in it | null,
       "invoice_key": str | null, "fields": {001 receipt_ocr.invoices[] name: value},
       "owner", "changed_at"}

- ``fapiao review fix ID --set FIELD=VALUE [--set ...] [--json]``: correct or complete
  fields (001's names; ``FIELD=`` clears one), then verify and store as the pipeline
  does; prints the new outcome::

      <id>  <status>  <message_code>  <message>  <invoice_key>  <expense_id>

- ``fapiao review recheck ID [--json]``: check the invoice again now (at most 5 checks of
  an invoice a day); prints the new outcome as ``fix`` does.

Exit 0 when the hub answered ``resCode`` 200000; 1 when it refused (its ``resCode`` and
``resMsg`` on stderr); 2 for a user's mistake or a hub that is not there.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any
from urllib.parse import quote

from fapiao.local.locate import (
    CommandError,
    add_hub_flags,
    api_key,
    locate,
    positive_seconds,
    request_hub,
)
from fapiao.settings import LocalHubSettings
from fapiao.wire.common import dump_json

REVIEW_PATH = "/common/review"
SUCCESS = 200000
PAGE_SIZE = 200  # the API's largest page


class Refused(Exception):
    """The hub answered, and not with success."""

    def __init__(self, code: object, message: object) -> None:
        super().__init__(f"{code}: {message}")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "review",
        help="what needs attention: list it, fix fields, check again",
        description="The running hub's review queue (its HTTP API): unrecognisable files (U), "
        "refused invoices (F) and invoices not checked yet (C). Exit code 1 when the hub "
        "refuses.",
    )
    actions = parser.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="what needs attention, newest first")
    listing.add_argument("--status", choices=("U", "F", "C"), help="only this status")
    listing.add_argument("--owner", metavar="CODE", help="only this owner's (user code)")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    fix = actions.add_parser(
        "fix", help="correct or complete fields (001 names), then verify and store"
    )
    fix.add_argument("id", metavar="ID", help="the entry's id (from fapiao review list)")
    fix.add_argument(
        "--set",
        dest="values",
        action="append",
        required=True,
        type=_assignment,
        metavar="FIELD=VALUE",
        help="a 001 receipt_ocr.invoices[] field, e.g. total_amount=113.00 (FIELD= clears it)",
    )
    fix.add_argument("--json", action="store_true", help="print the outcome as JSON")
    recheck = actions.add_parser("recheck", help="check an invoice again now (5 a day at most)")
    recheck.add_argument("id", metavar="ID", help="the invoice's id (its key)")
    recheck.add_argument("--json", action="store_true", help="print the outcome as JSON")
    for action in (listing, fix, recheck):
        action.add_argument(
            "--timeout", type=positive_seconds, default=60, help="seconds to wait per request"
        )
        add_hub_flags(action, url=True)


def _assignment(text: str) -> tuple[str, str | None]:
    field, equals, value = text.partition("=")
    field = field.strip()
    if not equals or not re.fullmatch(r"[a-z_]+", field):
        raise argparse.ArgumentTypeError(f"not FIELD=VALUE: {text!r}")
    return field, value if value else None


class _Api:
    """The hub's HTTP API, as the development client."""

    def __init__(self, url: str, key: str, timeout: float) -> None:
        self.url = url
        self.key = key
        self.timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """``data`` of the hub's success answer; ``Refused`` otherwise."""
        status, answer = request_hub(
            self.url, self.key, self.timeout, method, path, body=body, params=params
        )
        if not isinstance(answer, dict) or answer.get("resCode") != SUCCESS:
            raise _refusal(answer, status)
        return answer.get("data")


def _refusal(answer: Any, status: int) -> Refused:
    if not isinstance(answer, dict):
        return Refused(f"HTTP {status}", answer)
    code = answer.get("resCode")
    said = answer.get("resMsg") or answer.get("message")
    return Refused(code if code is not None else f"HTTP {status}", said)


def _api(args: argparse.Namespace, settings: LocalHubSettings) -> _Api:
    hub = locate(args, settings)
    if hub.url is None:
        raise CommandError("the hub's API is not known: pass --url URL or --data DIR")
    return _Api(hub.url, api_key(args, settings), args.timeout)


def entries(api: _Api, status: str | None, owner: str | None) -> list[dict[str, Any]]:
    """Every entry of the queue, page after page (the API's cursor)."""
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    if status is not None:
        params["status"] = status
    if owner is not None:
        params["owner"] = owner
    found: list[dict[str, Any]] = []
    while True:
        data = api.call("GET", REVIEW_PATH, params=params)
        found += data.get("items") or []
        cursor = data.get("cursor")
        if not cursor:
            return found
        params["cursor"] = cursor


def _text(value: Any) -> str:
    return "" if value is None else re.sub(r"[\t\r\n]+", " ", str(value)).strip()


def entry_line(entry: dict[str, Any]) -> str:
    """One entry as a line (see the module's docstring)."""
    where = _text(entry.get("key"))
    if where and entry.get("index") is not None:
        where += f"#{entry['index']}"
    return "\t".join(
        (
            _text(entry.get("id")),
            _text(entry.get("status")),
            _text(entry.get("message_code")),
            _text(entry.get("message")),
            where,
            _text(entry.get("owner")),
            _text(entry.get("changed_at")),
        )
    )


def outcome_line(outcome: dict[str, Any]) -> str:
    """What a fix or a re-check ended in, as a line (see the module's docstring)."""
    names = ("id", "status", "message_code", "message", "invoice_key", "expense_id")
    return "\t".join(_text(outcome.get(name)) for name in names)


def _entry_path(entry_id: str, action: str) -> str:
    return f"{REVIEW_PATH}/{quote(entry_id.strip(), safe='')}/{action}"


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    api = _api(args, settings)
    try:
        if args.review_command == "list":
            found = entries(api, args.status, args.owner)
            if args.json:
                print(dump_json(found))
            else:
                for entry in found:
                    print(entry_line(entry))
            return 0
        if args.review_command == "fix":
            values = dict(args.values)
            if len(values) < len(args.values):
                raise CommandError("a field is --set twice")
            outcome = api.call("POST", _entry_path(args.id, "fix"), body={"set": values})
        else:
            outcome = api.call("POST", _entry_path(args.id, "recheck"))
    except Refused as refused:
        print(f"fapiao review {args.review_command}: {refused}", file=sys.stderr)
        return 1
    print(dump_json(outcome) if args.json else outcome_line(outcome))
    return 0
