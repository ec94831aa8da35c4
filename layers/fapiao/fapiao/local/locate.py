"""Where a command finds the running local hub, and the files it was given.

While ``fapiao serve`` runs, ``<data>/hub.json`` says where it is::

    {"url": "http://127.0.0.1:3000", "aws": "http://127.0.0.1:4566", "region": "cn-north-1",
     "template": "/abs/template.yaml", "inbox": "/abs/inbox", "pid": 12345}

A clean stop removes it; a hub killed outright leaves it behind, naming a process that is
gone or a URL where nothing answers. The commands that talk to a hub (``ingest``,
``outcomes``, ``keys``, ``ocr``) take ``--data DIR`` (default ``FAPIAO_DATA_DIR``, ``.fapiao``)
and resolve each value the same way: the flag (``--aws``, ``--template``, ``--region``,
``--url``), else hub.json, else the settings. So they work from any folder. A command
that calls the hub's HTTP API sends the development client's key (``api_key``).

A user's mistake or a hub that is not there is a ``CommandError`` of one line:
``fapiao.local.cli.main`` prints it on stderr and exits 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fapiao.local.resources import LocalNames
from fapiao.local.template import Template, TemplateError
from fapiao.settings import LocalHubSettings

HUB_FILE = "hub.json"

# A local AWS that refuses a connection is gone: fail in seconds, not after five retries.
_LOCAL_CLIENT = Config(
    connect_timeout=3, read_timeout=60, retries={"mode": "standard", "total_max_attempts": 2}
)


class CommandError(Exception):
    """What went wrong, in one line a user can act on (no traceback is printed)."""


class HubFile(BaseModel):
    """``<data>/hub.json``: where a running hub serves, written by ``fapiao serve``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str
    aws: str
    region: str
    template: Path
    inbox: Path | None = None
    pid: int = Field(gt=0)  # 0 or less would name a process group to os.kill

    @classmethod
    def read(cls, data: Path) -> HubFile | None:
        """The hub file in ``data``; None when there is none."""
        path = data / HUB_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        try:
            return cls.model_validate_json(text)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the file"
            raise CommandError(f"{path} is not a hub file: {where}: {first['msg']}") from None

    def running(self) -> bool:
        """The process that wrote it is alive and its URL answers."""
        return pid_alive(self.pid) and answers(self.url)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    except (OverflowError, ValueError):
        return False
    return True


def answers(url: str, timeout: float = 2.0) -> bool:
    """Something accepts connections at the URL's host and port."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Hub:
    """What a command needs to reach a hub's local AWS."""

    aws: str
    region: str
    template: Path
    url: str | None = None  # the hub's HTTP API, when known

    @cached_property
    def names(self) -> LocalNames:
        """The template's names in the local stack."""
        try:
            return LocalNames(Template(self.template), self.region)
        except TemplateError as error:
            raise CommandError(f"{error} (pass --template FILE or --data DIR)") from None

    def ref(self, logical_id: str) -> str:
        """The local name of one of the template's resources."""
        try:
            return self.names.ref(logical_id)
        except TemplateError as error:
            raise CommandError(f"{self.template}: {error}") from None

    def client(self, service: str) -> Any:
        """A boto3 client of the local AWS (local credentials; moto takes any)."""
        from fapiao.local.aws import local_session

        return local_session(self.region).client(  # type: ignore[call-overload]
            service, endpoint_url=self.aws, config=_LOCAL_CLIENT
        )

    @contextmanager
    def talking(self) -> Iterator[None]:
        """Turn the local AWS's failures into one line each."""
        where = f"{self.url} (its local AWS {self.aws} does not answer)" if self.url else self.aws
        try:
            yield
        except EndpointConnectionError:
            raise CommandError(f"no hub at {where}") from None
        except ClientError as error:
            raise CommandError(f"the local AWS at {self.aws} refused: {_said(error)}") from None
        except BotoCoreError as error:
            raise CommandError(f"the local AWS at {self.aws} failed: {error}") from None


def _said(error: ClientError) -> str:
    detail = error.response.get("Error", {})
    return f"{detail.get('Code', 'error')}: {detail.get('Message', '')}".rstrip(": ")


def hub_url(settings: LocalHubSettings) -> str:
    """Where ``fapiao serve`` listens by default."""
    return f"http://{settings.host}:{settings.port}"


def data_folder(args: argparse.Namespace, settings: LocalHubSettings) -> Path:
    """``--data``, else the settings' folder. A folder named with --data must exist."""
    if args.data is None:
        return settings.data_dir
    if not args.data.is_dir():
        raise CommandError(f"no data folder {args.data} (the --data folder of fapiao serve)")
    return Path(args.data)


def hub_file(data: Path) -> HubFile | None:
    """The hub file of a data folder, running or not; None when there is none."""
    return HubFile.read(data) if data.is_dir() else None


def running_hub(data: Path, url: str | None, settings: LocalHubSettings) -> HubFile:
    """The hub of the data folder, which must be running, else "no hub at URL". ``url``
    (``--url``) wins over the one hub.json names."""
    found = hub_file(data)
    if found is None:
        raise CommandError(
            f"no hub at {url or hub_url(settings)} (no {data / HUB_FILE}: start one with "
            "fapiao serve, or pass --data DIR)"
        )
    url = url or found.url
    if not pid_alive(found.pid):
        raise CommandError(
            f"no hub at {url} ({data / HUB_FILE} is left from process {found.pid}, which has ended)"
        )
    if not answers(url):
        raise CommandError(f"no hub at {url} (nothing answers there)")
    return found


def locate(args: argparse.Namespace, settings: LocalHubSettings) -> Hub:
    """The hub a command talks to: each flag given wins, then hub.json, then settings.

    Without ``--aws`` the data folder's hub must be running; with it, hub.json (if any)
    only fills in the region and the template.
    """
    data = data_folder(args, settings)
    url: str | None = getattr(args, "url", None)
    found: HubFile | None
    if args.aws is None:
        found = running_hub(data, url, settings)
        aws = found.aws
    else:
        found, aws = hub_file(data), args.aws
        if url is not None and not answers(url):
            raise CommandError(f"no hub at {url} (nothing answers there)")
    return Hub(
        aws=aws,
        region=args.region or (found.region if found else settings.region),
        template=args.template or (found.template if found else settings.template),
        url=url or (found.url if found else None),
    )


def add_hub_flags(parser: argparse.ArgumentParser, *, url: bool = False) -> None:
    """``--data``, ``--aws``, ``--region``, ``--template`` (and ``--url``): one meaning
    for every command. Each defaults to None so that hub.json can fill it in."""
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="the hub's data folder, where it keeps hub.json (default: FAPIAO_DATA_DIR, .fapiao)",
    )
    parser.add_argument(
        "--aws", type=http_url, metavar="URL", help="the hub's local AWS (default: from hub.json)"
    )
    parser.add_argument(
        "--region",
        type=region_name,
        help="the region (default: from hub.json, else FAPIAO_REGION)",
    )
    parser.add_argument(
        "--template",
        type=Path,
        metavar="FILE",
        help="the hub's SAM template (default: from hub.json)",
    )
    if url:
        parser.add_argument(
            "--url",
            type=http_url,
            help="the hub's API, checked before anything is sent (default: from hub.json)",
        )


def http_url(text: str) -> str:
    """argparse type: an http(s) URL with a host."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    try:
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in {text!r}") from None
    return text.rstrip("/")


_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def region_name(text: str) -> str:
    """argparse type: an AWS region name such as cn-north-1."""
    if not _REGION.match(text):
        raise argparse.ArgumentTypeError(f"not a region name: {text!r} (e.g. cn-north-1)")
    return text


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def files_of(path: Path) -> list[Path]:
    """A folder's regular files, all the way down, sorted; hidden ones (``.name``, like
    the inbox's ``.sent/``) are left out. Any other path is itself."""
    if not path.is_dir():
        return [path]

    def refuse(error: OSError) -> None:
        raise CommandError(f"cannot read the folder {error.filename}: {error.strerror}")

    found = []
    for folder, subfolders, names in os.walk(path, onerror=refuse):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            candidate = Path(folder, name)
            if not name.startswith(".") and candidate.is_file():
                found.append(candidate)
    return sorted(found)


def read_file(path: Path) -> bytes:
    """A regular file's bytes; a missing, special or unreadable one is a CommandError."""
    check_readable(path)
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"{path}: cannot read: {error.strerror}") from None


def check_readable(path: Path) -> None:
    """Refuse early what ``read_file`` would refuse (a FIFO is never opened: it blocks)."""
    try:
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        if not path.is_file():
            raise CommandError(f"{path}: not a regular file")
        with path.open("rb"):
            pass
    except OSError as error:
        raise CommandError(f"{path}: cannot read: {error.strerror}") from None


DEV_KEY_FILE = "dev-api-key"


def api_key(args: argparse.Namespace, settings: LocalHubSettings) -> str:
    """The key a command sends as ``x-api-key`` to the hub's HTTP API: the development
    client's, found as ``fapiao serve`` finds it (``FAPIAO_DEV_API_KEY``, else the key it
    keeps in ``<data>/dev-api-key``)."""
    if settings.dev_api_key:
        return settings.dev_api_key
    path = data_folder(args, settings) / DEV_KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    if not key:
        raise CommandError(
            f"no API key: set FAPIAO_DEV_API_KEY as the hub has it, or pass the hub's --data "
            f"DIR (its {DEV_KEY_FILE} file)"
        )
    return key


def request_hub(
    url: str,
    key: str,
    timeout: float,
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    """One request to a hub's HTTP API with the key ``key``: the HTTP status and the
    answer's JSON. ``CommandError`` when no answer comes or it is not JSON; what the
    answer means is the caller's to say."""
    import httpx

    from fapiao.wire.common import WireError, dump_json, load_json

    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    try:
        response = httpx.request(
            method,
            url + path,
            content=None if body is None else dump_json(body).encode("utf-8"),
            params=params,
            headers={"x-api-key": key, "Content-Type": "application/json"},
            timeout=timeout,
        )
    except httpx.TimeoutException:
        raise CommandError(f"no answer from {url} within {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise CommandError(f"no hub at {url} ({error})") from None
    try:
        return response.status_code, load_json(response.content)
    except WireError:
        raise CommandError(
            f"{url} answered HTTP {response.status_code}, not JSON: {response.text[:200]!r}"
        ) from None
