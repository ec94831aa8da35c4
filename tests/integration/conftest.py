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


@pytest.fixture(scope="module")
def _module_aws(
    tmp_path_factory: pytest.TempPathFactory, template: Template, names: LocalNames
) -> Iterator[Session]:
    aws = LocalAws(tmp_path_factory.mktemp("aws") / "data")
    session = Session(aws.start())
    try:
        provision(template, names, session)
        yield session
    finally:
        aws.stop()


@pytest.fixture
def tables(_module_aws: Session, template: Template, names: LocalNames) -> Session:
    """A local AWS whose tables are empty at the start of each test, shared by a module's
    tests: for tests of DynamoDB adapters alone (the store contracts), which a fresh
    ``local_aws`` per test (its start and provisioning, ~2.5 s) would only slow down.
    Emptied (and provisioned again) before each test, not after: moto's state is one per
    process, so a test that starts a LocalAws of its own leaves its state here."""
    provision(template, names, _module_aws)
    client = _module_aws.client("dynamodb")
    for table in template.tables:
        name = names.ref(table.logical_id)
        schema = client.describe_table(TableName=name)["Table"]["KeySchema"]
        keys = [key["AttributeName"] for key in schema]
        pages = client.get_paginator("scan").paginate(
            TableName=name,
            ProjectionExpression=", ".join(f"#k{i}" for i in range(len(keys))),
            ExpressionAttributeNames={f"#k{i}": key for i, key in enumerate(keys)},
        )
        for page in pages:
            for item in page.get("Items", []):
                client.delete_item(TableName=name, Key=item)
    return _module_aws
