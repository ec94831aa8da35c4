"""`fapiao webhooks` and `fapiao events`: the ERP's side of a hub (issue 19), through its
HTTP API (``/erp/...``), local or in AWS alike.

Which hub: ``--url URL``, else ``FAPIAO_API_URL``, else the running local hub
(``fapiao.local.locate``: ``--data DIR``'s hub.json). Which key (sent as ``x-api-key``):
``FAPIAO_API_KEY``, else the local hub's development key (``FAPIAO_DEV_API_KEY`` or
``<data>/dev-api-key``). Webhooks need an admin key (or one without a role); the feed an
erp or admin key.

The hub, not this command, judges a URL or an event word: a refusal is printed as the
hub said it (the envelope's ``resMsg`` and ``resCode``) in one line on stderr, exit 2;
so is a hub that does not answer and a refused command line. Never a traceback.

Output (stdout; tab-separated lines unless ``--json``):

- ``webhooks add URL [--events created,duplicate,...] [--owner CODE]``::

      id      wh_...
      secret  whsec_...          (shown once: keep it)

  ``--json``: ``{"id", "url", "secret", "enabled", "events"}``.
- ``webhooks list``: ``<id> <enabled|disabled> <events, or *> <owner, or -> <url>``;
  ``--json``: ``[{"id", "url", "enabled", "events"}, ...]``.
- ``webhooks remove ID``: ``removed <id>``.
- ``webhooks rotate-secret ID``: as ``add``, and ``previous_secret_valid_until <time>``;
  ``--json``: add's object and ``"previous_secret_valid_until"``.
- ``webhooks deliveries [ID] [--failed]``: one line per attempt, newest first::

      <at>  <subscription id>  <event id>  #<attempt>  <HTTP status | error: ...>  <n> ms  <state>

  ``--json``: the API's rows in one array.
- ``webhooks redeliver EVENT_ID | --since TIME``: ``<subscription id> <event id>`` per
  delivery scheduled, then ``scheduled <n>`` on stderr; ``--json``: the API's answer.
- ``events [--after CURSOR] [--follow] [--json] [--cursor-file FILE]``: every event after
  the cursor, oldest first, one line each::

      <timestamp>  <id>  <type>  <invoice key, or the object's key>  <status>  <message>

  ``--json``: each event as one line of compact JSON (JSON Lines), as the feed serves it.
  At the end (with ``--follow``: at Ctrl-C) the cursor to resume from goes to stderr as
  ``next <CURSOR>``; ``--cursor-file`` reads it from FILE when there is one and writes
  it back after every page, so a script resumes exactly where it stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import simplejson

from fapiao.local.locate import (
    CommandError,
    add_hub_flags,
    api_key,
    http_url,
    locate,
    positive_seconds,
    request_hub,
)
from fapiao.settings import LocalHubSettings
from fapiao.wire.common import dump_json

API_URL_VARIABLE = "FAPIAO_API_URL"
API_KEY_VARIABLE = "FAPIAO_API_KEY"
FEED_PAGE = 500  # the feed's largest page
SHANGHAI = ZoneInfo("Asia/Shanghai")
_sleep = time.sleep  # --follow's wait between polls (a test replaces it)

_WHERE = (
    "Talks to the hub at --url, else FAPIAO_API_URL, else the running local hub (its "
    "--data folder's hub.json); sends FAPIAO_API_KEY as x-api-key, else the local hub's "
    "development key. Exit 2 with one line on stderr when the hub refuses (its message) "
    "or does not answer."
)


class _Refused(Exception):
    """The hub answered, and not with success: its message, in one line."""


def add_parser(commands: Any) -> None:
    _add_webhooks(commands)
    _add_events(commands)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=positive_seconds, default=30, help="seconds to wait per request"
    )
    add_hub_flags(parser, url=True)


def _add_webhooks(commands: Any) -> None:
    parser = commands.add_parser(
        "webhooks",
        help="the hub's webhook subscriptions, their deliveries, redeliveries (admin key)",
        description="Signed webhooks (Standard Webhooks) to an ERP. " + _WHERE,
    )
    actions = parser.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="subscribe a URL; prints its id and signing secret (shown once)"
    )
    # dest "target": "url" is --url's, the hub's API
    add.add_argument("target", metavar="URL", help="where events are POSTed (https in AWS)")
    add.add_argument(
        "--events",
        type=_words,
        metavar="WORD,...",
        help="only these events: created, duplicate, rejected, unrecognisable, failed, "
        "identified, awaiting_completion, status_changed (or invoice.<word>); default all",
    )
    add.add_argument("--owner", metavar="CODE", help="only this owner's (user code) events")
    add.add_argument("--json", action="store_true", help='print {"id","url","secret",...}')
    listing = actions.add_parser("list", help="the subscriptions (without secrets)")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    remove = actions.add_parser("remove", help="remove a subscription")
    remove.add_argument("id", metavar="ID", help="the subscription's id (wh_...)")
    rotate = actions.add_parser(
        "rotate-secret", help="a new secret (shown once); the old one signs 24 h more"
    )
    rotate.add_argument("id", metavar="ID", help="the subscription's id (wh_...)")
    rotate.add_argument("--json", action="store_true", help="print one JSON object")
    log = actions.add_parser(
        "deliveries", help="every delivery attempt, newest first: time, event, status, latency"
    )
    log.add_argument("id", metavar="ID", nargs="?", help="only this subscription's")
    log.add_argument("--failed", action="store_true", help="only attempts without a 2xx answer")
    log.add_argument("--json", action="store_true", help="print one JSON array")
    again = actions.add_parser(
        "redeliver", help="send an event again (same webhook-id), or every event since TIME"
    )
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("event_id", metavar="EVENT_ID", nargs="?", help="the event's id (evt_...)")
    which.add_argument(
        "--since",
        type=_time,
        metavar="TIME",
        help="every event at or after TIME (ISO 8601; without an offset: Asia/Shanghai)",
    )
    again.add_argument("--json", action="store_true", help="print the hub's answer as JSON")
    for action in (add, listing, remove, rotate, log, again):
        _common(action)


def _add_events(commands: Any) -> None:
    parser = commands.add_parser(
        "events",
        help="the ERP's event feed, oldest first, from a cursor (erp or admin key)",
        description="Print the hub's ERP events after a cursor (without one: from the oldest "
        "kept), then the cursor to resume from on stderr as 'next CURSOR'. With --json, one "
        "event per line as compact JSON (JSON Lines). " + _WHERE,
    )
    parser.add_argument("--after", metavar="CURSOR", help="the cursor a previous run printed")
    parser.add_argument(
        "--follow",
        action="store_true",
        help="keep polling for new events until Ctrl-C (then print the cursor)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per event line")
    parser.add_argument(
        "--cursor-file",
        type=Path,
        metavar="FILE",
        help="resume from the cursor in FILE (when it exists) and keep the latest one in it",
    )
    parser.add_argument(
        "--interval",
        type=positive_seconds,
        default=2.0,
        help="with --follow: seconds between polls when nothing is new (default 2)",
    )
    _common(parser)


def _words(text: str) -> list[str]:
    words = [word.strip() for word in text.split(",") if word.strip()]
    if not words:
        raise argparse.ArgumentTypeError(f"no event word in {text!r}")
    return words


def _time(text: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (e.g. 2026-03-01T09:00:00+08:00)"
        ) from None
    return at.replace(tzinfo=SHANGHAI) if at.tzinfo is None else at


# --- the hub's API -----------------------------------------------------------------------------


class ErpApi:
    """The hub's ``/erp`` API with one key."""

    def __init__(self, url: str, key: str, timeout: float) -> None:
        self.url = url.rstrip("/")
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
        """The answer's JSON for a 2xx; ``_Refused`` with the hub's message otherwise."""
        status, answer = request_hub(
            self.url, self.key, self.timeout, method, path, body=body, params=params
        )
        if 200 <= status < 300:
            return answer
        raise _Refused(_refusal(answer, status))


def _refusal(answer: Any, status: int) -> str:
    """The envelope's words in one line: ``resMsg (resCode)``."""
    if isinstance(answer, dict):
        said = answer.get("resMsg") or answer.get("message") or answer.get("msg")
        code = answer.get("resCode")
        if said:
            return _line(said) + (f" ({code})" if code is not None else "")
    return f"HTTP {status}: {_line(answer)[:200]}"


def _line(value: Any) -> str:
    return "" if value is None else re.sub(r"\s+", " ", str(value)).strip()


def api_of(args: argparse.Namespace, settings: LocalHubSettings) -> ErpApi:
    """The hub this command talks to (see the module's docstring)."""
    key = (settings.api_key or "").strip()
    url: str | None = args.url
    if url is None and (settings.api_url or "").strip():
        try:
            url = http_url((settings.api_url or "").strip())
        except argparse.ArgumentTypeError as error:
            raise CommandError(f"{API_URL_VARIABLE}: {error}") from None
    if url is None:
        hub = locate(args, settings)
        if hub.url is None:
            raise CommandError(
                f"the hub's API is not known: set {API_URL_VARIABLE}, pass --url URL or --data DIR"
            )
        url = hub.url
    if not key:
        try:
            key = api_key(args, settings)
        except CommandError:
            raise CommandError(
                f"no API key: set {API_KEY_VARIABLE} (or, for a local hub, FAPIAO_DEV_API_KEY "
                "or --data DIR)"
            ) from None
    return ErpApi(url, key, args.timeout)


# --- the commands ------------------------------------------------------------------------------


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    api = api_of(args, settings)
    name = f"fapiao {args.command}"
    if args.command == "webhooks":
        name += f" {args.webhooks_command}"
    try:
        if args.command == "events":
            return events(api, args)
        return webhooks(api, args)
    except _Refused as refused:
        print(f"{name}: {refused}", file=sys.stderr)
        return 2


def _public(shown: dict[str, Any], *, secret: bool) -> dict[str, Any]:
    names = ("id", "url", "secret", "enabled", "events") if secret else ("id", "url", "enabled")
    picked = {name: shown.get(name) for name in names}
    picked["events"] = shown.get("events") or []
    return picked


def _path_of(webhook_id: str, *rest: str) -> str:
    return "/".join(("/erp/webhooks", quote(webhook_id.strip(), safe=""), *rest))


def webhooks(api: ErpApi, args: argparse.Namespace) -> int:
    action = args.webhooks_command
    if action == "add":
        body: dict[str, Any] = {"url": args.target}
        if args.events:
            body["events"] = args.events
        if args.owner:
            body["owner"] = args.owner
        _show_secret(api.call("POST", "/erp/webhooks", body=body), args.json)
    elif action == "list":
        found = api.call("GET", "/erp/webhooks").get("webhooks") or []
        if args.json:
            print(dump_json([_public(shown, secret=False) for shown in found]))
        for shown in [] if args.json else found:
            print(_subscription_line(shown))
    elif action == "remove":
        answer = api.call("DELETE", _path_of(args.id))
        print(f"removed {answer.get('id', args.id)}")
    elif action == "rotate-secret":
        _show_secret(api.call("POST", _path_of(args.id, "rotate-secret")), args.json)
    elif action == "deliveries":
        params: dict[str, Any] = {"failed": "true"} if args.failed else {}
        if args.id:
            params["webhook_id"] = args.id.strip()
        rows = api.call("GET", "/erp/deliveries", params=params).get("attempts") or []
        if args.json:
            print(dump_json(rows))
        for row in [] if args.json else rows:
            print(attempt_line(row))
    else:
        _redeliver(api, args)
    return 0


def _show_secret(shown: dict[str, Any], as_json: bool) -> None:
    until = shown.get("previous_secret_valid_until")
    if as_json:
        picked = _public(shown, secret=True)
        if "previous_secret_valid_until" in shown:
            picked["previous_secret_valid_until"] = until
        print(dump_json(picked))
        return
    print(f"id\t{_line(shown.get('id'))}")
    print(f"secret\t{_line(shown.get('secret'))}")
    if until:
        print(f"previous_secret_valid_until\t{_line(until)}")
    print("the secret is shown only now: keep it where the receiver reads it", file=sys.stderr)


def _subscription_line(shown: dict[str, Any]) -> str:
    return "\t".join(
        (
            _line(shown.get("id")),
            "enabled" if shown.get("enabled") else "disabled",
            ",".join(shown.get("events") or []) or "*",
            _line(shown.get("owner")) or "-",
            _line(shown.get("url")),
        )
    )


def attempt_line(row: dict[str, Any]) -> str:
    """One delivery attempt as a line (see the module's docstring)."""
    status = row.get("status")
    answer = str(status) if status is not None else f"error: {_line(row.get('error'))}"
    return "\t".join(
        (
            _line(row.get("at")),
            _line(row.get("subscription_id")),
            _line(row.get("event_id")),
            f"#{_line(row.get('attempt'))}",
            answer,
            f"{_line(row.get('latency_ms'))} ms",
            _line(row.get("state")),
        )
    )


def _redeliver(api: ErpApi, args: argparse.Namespace) -> None:
    body = (
        {"since": args.since.isoformat()}
        if args.since is not None
        else {"event_id": args.event_id.strip()}
    )
    answer = api.call("POST", "/erp/redeliveries", body=body)
    if args.json:
        print(dump_json(answer))
        return
    for delivery in answer.get("deliveries") or []:
        print(f"{_line(delivery.get('subscription_id'))}\t{_line(delivery.get('event_id'))}")
    print(f"scheduled {answer.get('scheduled', 0)}", file=sys.stderr)


# --- the feed ----------------------------------------------------------------------------------


def event_line(event: dict[str, Any]) -> str:
    """One event as a line (see the module's docstring)."""
    data = event.get("data") or {}
    where = data.get("invoice_key") or (data.get("object") or {}).get("key")
    return "\t".join(
        (
            _line(event.get("timestamp")),
            _line(event.get("id")),
            _line(event.get("type")),
            _line(where),
            _line(data.get("status")),
            _line(data.get("message")),
        )
    )


def _compact(event: Any) -> str:
    text: str = simplejson.dumps(event, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    return text


def pages(api: ErpApi, after: str | None, follow: bool, interval: float) -> Iterator[Any]:
    """Each page of the feed after ``after``: until a short page, or (``follow``) forever,
    waiting ``interval`` seconds after a short one."""
    while True:
        params: dict[str, Any] = {"limit": FEED_PAGE}
        if after:
            params["after"] = after
        page = api.call("GET", "/erp/events", params=params)
        if not isinstance(page, dict) or not isinstance(page.get("next"), str):
            raise CommandError(f"{api.url} answered no feed page: {_line(page)[:200]}")
        yield page
        after = page["next"]
        if len(page.get("events") or []) < FEED_PAGE:
            if not follow:
                return
            _sleep(interval)


def _read_cursor(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    return text or None


def _keep_cursor(path: Path | None, cursor: str) -> None:
    if path is None:
        return
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(cursor + "\n", encoding="utf-8")
        partial.replace(path)  # whole or not at all: a kill never leaves half a cursor
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror}") from None


def events(api: ErpApi, args: argparse.Namespace) -> int:
    if args.after is not None and args.cursor_file is not None:
        raise CommandError("give --after or --cursor-file, not both")
    cursor: str | None = args.after if args.after is not None else _read_cursor(args.cursor_file)
    try:
        for page in pages(api, cursor, args.follow, args.interval):
            for event in page.get("events") or []:
                print(_compact(event) if args.json else event_line(event))
            sys.stdout.flush()
            cursor = page["next"]
            _keep_cursor(args.cursor_file, page["next"])
    except KeyboardInterrupt:
        pass  # --follow's end: the cursor reached is printed below
    if cursor is not None:
        print(f"next {cursor}", file=sys.stderr)
    return 0
