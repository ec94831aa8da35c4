"""The company settings read from their SSM parameter (store/company.py), as in AWS, on
the local AWS: the rules' JSON validated, and a burst of first reads on many threads
(the local hub's containers) sharing one Parameters provider instead of making one each."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider

from fapiao import aws
from fapiao.catalogue.errors import HubError, Problem
from fapiao.settings import CompanySettings, HubSettings
from fapiao.store import company
from support import REGION, Session

NAME = "/fapiao-test/company-settings"


@pytest.fixture
def ssm(tables: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The local AWS's SSM, as the hub's own clients (fapiao.aws) reach it."""
    for name, value in {
        "AWS_ENDPOINT_URL": tables.endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(company, "_provider", None)
    aws.client.cache_clear()
    yield tables.client("ssm")
    aws.client.cache_clear()


def settings_naming(name: str) -> HubSettings:
    return HubSettings.from_env({"FAPIAO_COMPANY_PARAMETER": name})


def test_the_settings_are_read_from_the_parameter(ssm: Any) -> None:
    ssm.put_parameter(
        Name=NAME, Type="String", Overwrite=True, Value=json.dumps({"default_currency": "HKD"})
    )

    loaded = company.load_company_settings(settings_naming(NAME))

    assert loaded == CompanySettings(default_currency="HKD")


def test_a_malformed_parameter_is_an_internal_error(ssm: Any) -> None:
    ssm.put_parameter(Name=NAME + "-bad", Type="String", Overwrite=True, Value="{not json")

    with pytest.raises(HubError) as refused:
        company.load_company_settings(settings_naming(NAME + "-bad"))
    assert refused.value.problem is Problem.INTERNAL


def test_a_burst_of_first_reads_makes_one_provider(
    ssm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm.put_parameter(Name=NAME, Type="String", Overwrite=True, Value="{}")
    made: list[int] = []
    real_init = SSMProvider.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(SSMProvider, "__init__", counted)
    start = threading.Barrier(12)
    loaded: list[CompanySettings] = []

    def first_read() -> None:
        start.wait(timeout=10)
        loaded.append(company.load_company_settings(settings_naming(NAME)))

    threads = [threading.Thread(target=first_read) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert loaded == [CompanySettings()] * 12
    assert made == [1]
