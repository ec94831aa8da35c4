"""The README's webhook receiver (20 lines with the `standardwebhooks` package) runs as
written and accepts what the hub signs: a real request of the hub's own signing verifies,
the same webhook-id twice is handled once, and a body changed in transit is refused."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fapiao.dates import SHANGHAI
from fapiao.model import InvoiceStatus
from fapiao.model.erp import event_of_outcome
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.webhooks import WebhookSubscription
from fapiao.services.webhooks import new_secret
from fapiao.services.webhooks import webhook_headers as signed_headers


def readme_receiver(project_root: Path) -> str:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- receiver:start -->\n```python\n(.*?)```\n<!-- receiver:end -->", readme, re.S
    )
    assert block, "the README's receiver is between <!-- receiver:start/end --> markers"
    code = block.group(1)
    lines = [line for line in code.splitlines() if line.strip()]
    assert len(lines) <= 22  # "a receiver of about 20 lines"
    return code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_receiver_verifies_the_hubs_signature(
    project_root: Path, tmp_path: Path
) -> None:
    script = tmp_path / "receiver.py"
    script.write_text(readme_receiver(project_root), encoding="utf-8")
    secret, port = new_secret(), free_port()
    env = {**os.environ, "FAPIAO_WEBHOOK_SECRET": secret, "HOST": "127.0.0.1", "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        event = event_of_outcome(
            Outcome(
                outcome=OutcomeKind.CREATED,
                object=DroppedObject(bucket="fapiao-drop", key="acme/inbox/a.pdf", etag="e1"),
                owner="acme",
                invoice_key="03302210021168552329",
                status=InvoiceStatus.VERIFIED,
                at=dt.datetime.now(SHANGHAI),
            )
        )
        subscription = WebhookSubscription(
            id="wh_test",
            url=f"http://127.0.0.1:{port}/",
            secret=secret,
            created_at=dt.datetime.now(SHANGHAI),
        )
        body = event.body()
        headers = signed_headers(subscription, event.id, body, dt.datetime.now(SHANGHAI))
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 20
        while True:
            try:
                first = httpx.post(url, content=body, headers=headers, timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, (
                    process.stderr.read() if process.poll() is not None else ""
                )
                time.sleep(0.1)
        assert first.status_code == 204
        again = httpx.post(url, content=body, headers=headers, timeout=5)
        assert again.status_code == 204
        tampered = body.replace(b'"Y"', b'"F"')
        assert tampered != body
        assert httpx.post(url, content=tampered, headers=headers, timeout=5).status_code == 401
        other = WebhookSubscription(
            id="wh_other", url=url, secret=new_secret(), created_at=dt.datetime.now(SHANGHAI)
        )
        foreign = signed_headers(other, event.id, body, dt.datetime.now(SHANGHAI))
        assert httpx.post(url, content=body, headers=foreign, timeout=5).status_code == 401
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert out.splitlines() == ["invoice.created 03302210021168552329 Y"]  # once
