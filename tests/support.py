"""Paths the tests share (importable as `support` thanks to pytest's pythonpath)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
SPECS = SHARED / "specs"
CORPUS = SHARED / "corpus"
TEMPLATE = PROJECT_ROOT / "template.yaml"
REGION = "cn-north-1"


class Session:
    """boto3 clients pointed at one local AWS endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
        )

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]
