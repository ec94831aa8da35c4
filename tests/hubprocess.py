"""Start `fapiao serve` as a separate process, as a user would, and talk to it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import PROJECT_ROOT


@dataclass
class RunningHub:
    process: subprocess.Popen[str]
    url: str
    aws: str
    replayed: int
    api_key: str
    output: list[str] = field(default_factory=list)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def start_hub(data: Path, env: Mapping[str, str | None] | None = None) -> RunningHub:
    """`fapiao serve` on free ports with ``data`` as its data folder; ``env`` changes the
    process's environment (None unsets a name), leaving the test's own untouched."""
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fapiao.local.cli",
            "serve",
            "--port",
            "0",
            "--aws-port",
            "0",
            "--data",
            str(data),
            "--inbox",
            str(data.parent / "inbox"),
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    url = aws = None
    api_key = ""
    replayed = -1
    timer = threading.Timer(60, process.kill)  # a hub that never starts fails the test
    timer.start()
    try:
        for line in process.stdout:
            lines.append(line)
            if found := re.search(r"listening on (http://\S+)", line):
                url = found.group(1)
            if found := re.search(r"local AWS\s+(http://\S+) .* (\d+) log entries replayed", line):
                aws, replayed = found.group(1), int(found.group(2))
            if found := re.search(r"API key\s+(\S+)", line):
                api_key = found.group(1)
            if "Ctrl-C stops it." in line:
                break
    finally:
        timer.cancel()
    assert url, "".join(lines)
    assert aws, "".join(lines)
    # keep draining output so the hub never blocks on a full pipe
    threading.Thread(target=lambda: [lines.append(x) for x in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    global _api_key
    _api_key = api_key
    return RunningHub(process, url, aws, replayed, api_key, lines)


def get(url: str) -> tuple[int, Any]:
    return call("GET", url)


_api_key = ""  # the key the last started hub printed; calls send it unless told otherwise


def call(
    method: str,
    url: str,
    body: bytes | None = None,
    content_type: str = "application/json",
    api_key: str | None = None,
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method)
    key = _api_key if api_key is None else api_key
    if key:
        request.add_header("x-api-key", key)
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
