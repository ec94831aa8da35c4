"""Company settings (titles, currencies): loaded from a file, refused when malformed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from fapiao.catalogue.errors import Family, HubError, Problem
from fapiao.settings import CompanySettings, CompanyTitle, HubSettings
from fapiao.store.company import load_company_settings

MEIKE = {"name": "杭州每刻科技有限公司", "tax_code": "91330108341927699X"}


def from_file(path: Path) -> CompanySettings:
    return load_company_settings(HubSettings.from_env({"FAPIAO_COMPANY_FILE": str(path)}))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "company.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_readme_example_file_is_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"titles": [MEIKE], "default_currency": "CNY"}))
    company = from_file(path)
    assert company.titles == (CompanyTitle(name=MEIKE["name"], tax_code=MEIKE["tax_code"]),)
    assert company.default_currency == "CNY"
    assert "CNY" in company.currencies


def test_file_sets_the_currencies(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"currencies": ["CNY", "USD"], "default_currency": "USD"}))
    company = from_file(path)
    assert company.currencies == frozenset({"CNY", "USD"})
    assert company.default_currency == "USD"
    assert company.titles == ()


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"titles": [{"name": "缺税号"}]}),
        json.dumps({"titels": []}),  # a misspelt key is refused, not ignored
        json.dumps({"default_currency": "XYZ"}),
    ],
    ids=["not_json", "not_an_object", "title_without_tax_code", "unknown_key", "bad_default"],
)
def test_malformed_file_is_an_internal_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(HubError) as caught:
        from_file(write(tmp_path, text))
    assert caught.value.problem is Problem.INTERNAL
    assert caught.value.entry(Family.PLATFORM).code == "500000"
    assert str(caught.value).startswith("company settings unusable")


def test_missing_file_is_an_internal_error(tmp_path: Path) -> None:
    with pytest.raises(HubError) as caught:
        from_file(tmp_path / "absent.json")
    assert caught.value.problem is Problem.INTERNAL


def test_default_currency_not_among_the_currencies_is_refused() -> None:
    with pytest.raises(ValidationError, match="default_currency"):
        CompanySettings(currencies=frozenset({"CNY", "USD"}), default_currency="HKD")
    assert CompanySettings(currencies=frozenset({"HKD"}), default_currency="HKD")


def test_no_source_gives_the_defaults() -> None:
    company = load_company_settings(HubSettings.from_env({}))
    assert company == CompanySettings()
    assert company.titles == ()  # the buyer-title check is off
    assert company.default_currency is None  # 3.默认CNY applies
    assert "CNY" in company.currencies
    assert company.verify_file_signatures is False
