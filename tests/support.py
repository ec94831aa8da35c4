"""Paths the tests share (importable as `support` thanks to pytest's pythonpath)."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from fapiao.local.apigw import load_module
from fapiao.local.template import Template

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
SPECS = SHARED / "specs"
CORPUS = SHARED / "corpus"
TEMPLATE = PROJECT_ROOT / "template.yaml"
REGION = "cn-north-1"

_cold_starts = itertools.count()


def handler_module(function: str) -> ModuleType:
    """The module holding template.yaml's ``function`` (a logical id such as
    "VerifyFunction"), found by its CodeUri and Handler and imported afresh, as a Lambda
    cold start imports it: module state of its own, environment read from now on. The
    local hub's own loader, so a test, the hub and Lambda find a handler the same way."""
    template = Template(TEMPLATE)
    (found,) = [f for f in template.functions if f.logical_id == function]
    return load_module(template, found, f"test{next(_cold_starts)}")


class Session:
    """boto3 clients pointed at one local AWS endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
        )

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]
