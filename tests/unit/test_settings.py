from __future__ import annotations

from pathlib import Path

import pytest

from fapiao.settings import HubSettings, LocalHubSettings, SettingsError


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
