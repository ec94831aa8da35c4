from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import fapiao.settings
from fapiao.local.template import Template
from fapiao.settings import (
    ALL_SETTINGS,
    EnvSettings,
    HubSettings,
    LocalHubSettings,
    SettingsError,
    markdown_table,
    reset_settings,
)
from support import TEMPLATE


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    reset_settings()
    yield
    reset_settings()


def test_defaults_serve_the_local_hub_on_port_3000() -> None:
    settings = LocalHubSettings.from_env({})
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 3000, Path(".fapiao"))


def test_environment_overrides_defaults() -> None:
    settings = HubSettings.from_env({"FAPIAO_INVOICES_TABLE": "prod-invoices", "OTHER": "x"})
    assert settings.invoices_table == "prod-invoices"
    assert settings.drop_bucket == "fapiao-drop"


def test_empty_variable_means_default() -> None:
    assert LocalHubSettings.from_env({"FAPIAO_PORT": ""}).port == 3000


@pytest.mark.parametrize("port", ["abc", "70000", "-1"])
def test_malformed_setting_names_the_variable(port: str) -> None:
    with pytest.raises(SettingsError, match="FAPIAO_PORT"):
        LocalHubSettings.from_env({"FAPIAO_PORT": port})


def test_current_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAPIAO_INVOICES_TABLE", "prod-invoices")
    first = HubSettings.current()
    assert first.invoices_table == "prod-invoices"
    assert HubSettings.current() is first


def test_current_settings_follow_a_changed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAPIAO_INVOICES_TABLE", "prod-invoices")
    first = HubSettings.current()
    monkeypatch.setenv("FAPIAO_INVOICES_TABLE", "test-invoices")
    assert HubSettings.current().invoices_table == "test-invoices"
    monkeypatch.setenv("OTHER_VARIABLE", "x")  # not one of the model's: nothing is read again
    assert HubSettings.current() is HubSettings.current()
    assert HubSettings.current() is not first


def test_reset_settings_forgets_what_was_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAPIAO_PORT", raising=False)
    first = LocalHubSettings.current()
    reset_settings()
    again = LocalHubSettings.current()
    assert again is not first
    assert again == first


def test_current_settings_refuse_a_malformed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAPIAO_PORT", "abc")
    with pytest.raises(SettingsError, match="FAPIAO_PORT"):
        LocalHubSettings.current()


def _models(base: type[EnvSettings]) -> set[type[EnvSettings]]:
    found = set()
    for model in base.__subclasses__():
        found |= {model, *_models(model)}
    return found


def test_every_settings_model_is_in_the_readme_table() -> None:
    assert set(ALL_SETTINGS) == _models(EnvSettings)
    table = markdown_table()
    for model in ALL_SETTINGS:
        for field in model.settings_fields():
            assert field.alias.startswith("FAPIAO_")
            assert f"| `{field.alias}` |" in table
            assert field.description


def test_no_variable_belongs_to_two_models() -> None:
    aliases = [f.alias for model in ALL_SETTINGS for f in model.settings_fields()]
    assert len(aliases) == len(set(aliases))


def test_every_variable_template_yaml_sets_is_a_setting() -> None:
    known = {f.alias for model in ALL_SETTINGS for f in model.settings_fields()}
    given = {
        name
        for function in Template(TEMPLATE).functions
        for name in function.environment
        if name.startswith("FAPIAO_")
    }
    assert given, "template.yaml gives its functions FAPIAO_* variables"
    assert given <= known


def test_settings_import_nothing_else_of_fapiao() -> None:
    """Anything may import the settings: they import nothing of fapiao but themselves."""
    package = Path(fapiao.settings.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name == "fapiao" or name.startswith("fapiao."):
                    assert name.startswith("fapiao.settings"), f"{source.name} imports {name}"
