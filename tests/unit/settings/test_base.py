"""How a settings group reads and checks its values, without pydantic (issue 13)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fapiao.settings
from fapiao.settings import (
    FetchSettings,
    HubSettings,
    IdentifierKind,
    IdentifierSettings,
    LocalHubSettings,
    Secret,
    SettingsError,
    VerifierSettings,
)


def run_fresh(code: str) -> str:
    """What ``code`` prints in a new interpreter, without this process's FAPIAO_* variables."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FAPIAO_")}
    env["FAPIAO_IDEMPOTENCY_SECONDS"] = "120"  # one variable read, to parse one
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_settings_are_read_without_importing_pydantic() -> None:
    code = (
        "import sys\n"
        "from fapiao.settings import ALL_SETTINGS, HubSettings\n"
        "assert HubSettings.from_env().idempotency_seconds == 120\n"
        "for model in ALL_SETTINGS: model.from_env()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'pydantic'))"
    )
    assert run_fresh(code) == "[]"


def test_company_settings_import_pydantic_when_first_asked_for() -> None:
    code = (
        "import sys\n"
        "import fapiao.settings\n"
        "before = 'pydantic' in sys.modules\n"
        "from fapiao.settings import CompanySettings\n"
        "from fapiao.settings.company import CompanySettings as Defined\n"
        "print(before, 'pydantic' in sys.modules, CompanySettings is Defined)"
    )
    assert run_fresh(code) == "False True True"


def test_an_unknown_name_of_the_package_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Companysettings"):
        _ = fapiao.settings.Companysettings  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["1", "true", "True", "YES", "y", "on", "t"])
def test_pydantics_spellings_of_true(text: str) -> None:
    assert FetchSettings.from_env({"FAPIAO_ALLOW_LOOPBACK_FETCH": text}).allow_loopback is True


@pytest.mark.parametrize("text", ["0", "false", "FALSE", "no", "n", "off", "f"])
def test_pydantics_spellings_of_false(text: str) -> None:
    assert FetchSettings.from_env({"FAPIAO_ALLOW_LOOPBACK_FETCH": text}).allow_loopback is False


@pytest.mark.parametrize("text", ["maybe", "2", " on "])
def test_other_spellings_of_a_flag_are_refused(text: str) -> None:
    with pytest.raises(SettingsError, match="FAPIAO_ALLOW_LOOPBACK_FETCH: Input should be a valid"):
        FetchSettings.from_env({"FAPIAO_ALLOW_LOOPBACK_FETCH": text})


@pytest.mark.parametrize(("text", "port"), [("3001", 3001), (" 3001 ", 3001), ("3001.0", 3001)])
def test_integers_are_read_as_pydantic_read_them(text: str, port: int) -> None:
    assert LocalHubSettings.from_env({"FAPIAO_PORT": text}).port == port


@pytest.mark.parametrize("text", ["3001.5", "1e3", "٣"])
def test_what_is_not_a_whole_number_is_refused(text: str) -> None:
    with pytest.raises(SettingsError, match="FAPIAO_PORT: Input should be a valid integer"):
        LocalHubSettings.from_env({"FAPIAO_PORT": text})


@pytest.mark.parametrize("text", ["nan", "inf", "soon"])
def test_a_number_of_seconds_is_a_finite_number(text: str) -> None:
    with pytest.raises(SettingsError, match="FAPIAO_FETCH_TIMEOUT_SECONDS"):
        FetchSettings.from_env({"FAPIAO_FETCH_TIMEOUT_SECONDS": text})


def test_bounds_are_checked_and_named() -> None:
    with pytest.raises(SettingsError) as caught:
        LocalHubSettings.from_env({"FAPIAO_PORT": "70000", "FAPIAO_RECOGNITION_TIMEOUT": "0"})
    assert str(caught.value) == (
        "invalid settings: FAPIAO_PORT: Input should be less than or equal to 65535; "
        "FAPIAO_RECOGNITION_TIMEOUT: Input should be greater than 0"
    )
    with pytest.raises(SettingsError, match="FAPIAO_DEV_API_KEY: String should have at least 16"):
        LocalHubSettings.from_env({"FAPIAO_DEV_API_KEY": "short"})


def test_an_enum_is_read_by_its_value() -> None:
    settings = IdentifierSettings.from_env(
        {"FAPIAO_IDENTIFIER": "yipiaoyun", "FAPIAO_YIPIAOYUN_URL": "http://y.example"}
    )
    assert settings.identifier is IdentifierKind.YIPIAOYUN
    with pytest.raises(SettingsError, match="Input should be 'embedded' or 'yipiaoyun'"):
        IdentifierSettings.from_env({"FAPIAO_IDENTIFIER": "Yipiaoyun"})


def test_a_path_or_none() -> None:
    assert HubSettings.from_env({}).company_file is None
    given = HubSettings.from_env({"FAPIAO_COMPANY_FILE": "conf/company.json"})
    assert given.company_file == Path("conf/company.json")


def test_a_rule_across_fields_runs_once_each_field_is_valid() -> None:
    with pytest.raises(SettingsError) as caught:
        IdentifierSettings.from_env({"FAPIAO_IDENTIFIER": "yipiaoyun"})
    assert str(caught.value) == (
        "invalid settings: FAPIAO_IDENTIFIER=yipiaoyun needs FAPIAO_YIPIAOYUN_URL"
    )


def test_construction_in_code_is_validated_the_same_way() -> None:
    assert FetchSettings(max_bytes=10).max_bytes == 10
    with pytest.raises(SettingsError, match="FAPIAO_FETCH_MAX_BYTES"):
        FetchSettings(max_bytes=0)
    with pytest.raises(SettingsError, match="needs FAPIAO_YIPIAOYUN_URL"):
        IdentifierSettings(identifier=IdentifierKind.YIPIAOYUN)
    with pytest.raises(TypeError):
        FetchSettings(max_byte=10)  # type: ignore[call-arg]


def test_settings_are_frozen_values() -> None:
    settings = HubSettings.from_env({"FAPIAO_INVOICES_TABLE": "prod-invoices"})
    assert settings == HubSettings(invoices_table="prod-invoices")
    assert hash(settings) == hash(HubSettings(invoices_table="prod-invoices"))
    assert settings != HubSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.invoices_table = "other"  # type: ignore[misc]


def test_a_secret_is_never_shown() -> None:
    settings = VerifierSettings.from_env(
        {"FAPIAO_EXOCR_APP_KEY": "key-0123456789", "FAPIAO_EXOCR_APP_SECRET": "s3cr3t-value"}
    )
    assert settings.exocr_app_secret == Secret("s3cr3t-value")
    assert settings.exocr_app_secret.get_secret_value() == "s3cr3t-value"
    assert str(settings.exocr_app_secret) == "**********"
    assert "exocr_app_secret=Secret('**********')" in repr(settings)
    assert "s3cr3t-value" not in repr(settings) + str(dataclasses.asdict(settings))


def test_fields_are_listed_with_variable_default_and_description() -> None:
    first = HubSettings.settings_fields()[0]
    assert (first.name, first.alias, first.default) == (
        "invoices_table",
        "FAPIAO_INVOICES_TABLE",
        "fapiao-invoices",
    )
    assert first.description.startswith("DynamoDB table of invoices")
    assert [f.name for f in HubSettings.settings_fields()] == [
        f.name for f in dataclasses.fields(HubSettings)
    ]
