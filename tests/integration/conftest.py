"""Integration tests start what they need on loopback: the local AWS from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fapiao.local.aws import LocalAws
from fapiao.local.resources import LocalNames, provision
from fapiao.local.template import Template
from support import REGION, TEMPLATE, Session


@pytest.fixture(scope="session")
def template() -> Template:
    return Template(TEMPLATE)


@pytest.fixture(scope="session")
def names(template: Template) -> LocalNames:
    return LocalNames(template, REGION)


@pytest.fixture
def local_aws(tmp_path: Path, template: Template, names: LocalNames) -> Iterator[Session]:
    aws = LocalAws(tmp_path / "data")
    session = Session(aws.start())
    try:
        provision(template, names, session)
        yield session
    finally:
        aws.stop()
