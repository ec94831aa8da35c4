"""A request to the local AWS as the gateway saw it: what the write-ahead log keeps of a
request that is replayed as sent, and what an earlier version's journal held."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

logger = logging.getLogger("fapiao-local.aws")

# Requests whose action starts with one of these only read state; they are not logged.
_READ_ACTIONS = (
    "Get",
    "List",
    "Describe",
    "Query",
    "Scan",
    "BatchGet",
    "TransactGet",
    "Receive",
    "Head",
    "Test",
)


@dataclass(frozen=True)
class Recorded:
    """One request as sent to moto."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recorded:
        return cls(
            data["method"],
            data["path"],
            [(str(k), str(v)) for k, v in data["headers"]],
            base64.b64decode(data["body"]),
        )

    def to_line(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=True)

    @classmethod
    def from_line(cls, line: str) -> Recorded:
        return cls.from_dict(json.loads(line))

    def action(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "x-amz-target":
                return value.rsplit(".", 1)[-1]
        if b"Action=" in self.body[:200]:
            actions = parse_qs(self.body.decode("utf-8", "replace")).get("Action")
            if actions:
                return actions[0]
        return None

    def service(self) -> str | None:
        """The AWS service the request is signed for (its SigV4 credential scope)."""
        for name, value in self.headers:
            if name.lower() == "authorization" and "Credential=" in value:
                scope = value.split("Credential=", 1)[1].split(",", 1)[0].split("/")
                if len(scope) >= 4:
                    return scope[3]
        return None

    def changes_state(self) -> bool:
        if self.method in ("GET", "HEAD", "OPTIONS"):
            return False
        action = self.action()
        return not (action and action.startswith(_READ_ACTIONS))


def read_journal(path: Path) -> Iterator[Recorded]:
    """The requests of an earlier version's journal (one JSON line each), up to the
    first unreadable line: a line cut short by a crash is the last one."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield Recorded.from_line(line)
            except (ValueError, KeyError) as error:
                logger.warning("journal line %d unreadable (%s); stopping replay", number, error)
                return
