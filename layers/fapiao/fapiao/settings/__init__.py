"""Every FAPIAO_* setting: one frozen dataclass per concern, each in its own module.

==================  =============  =====================================================
model               module         read by
==================  =============  =====================================================
HubSettings         hub.py         every function: the resources template.yaml creates
VerifierSettings    verifier.py    verification (exocr or offline): verify, ocrSync, 002
IdentifierSettings  identifier.py  the pipeline's recognition (embedded, yipiaoyun)
FetchSettings       fetch.py       the safe fetcher (files that clients name by URL)
ErpSettings         erp.py         the ERP's event feed and webhooks
LocalHubSettings    local.py       the local hub and command line, never Lambda
CompanySettings     company.py     spec 001's rules; JSON in SSM or a file, not variables
==================  =============  =====================================================

``limits.py`` holds every file-size limit. ``Model.from_env(env)`` validates a mapping
(os.environ by default) on every call; ``Model.current()`` is this process's settings,
read once; ``reset_settings()`` forgets them. The README's settings table is generated
from ``ALL_SETTINGS`` (``python -m fapiao.settings`` prints it; a test keeps them equal).

Nothing here imports the rest of ``fapiao``, so any module may import it. Nor pydantic
(``base.py`` validates): the authorizer and health handlers read ``HubSettings`` at cold
start without it (issue 13). ``CompanySettings`` is a JSON document validated by pydantic,
so ``company.py`` is imported only when a name of it is first asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from fapiao.settings import limits
from fapiao.settings.base import EnvSettings, Secret, SettingsError, reset_settings
from fapiao.settings.limits import (
    API_GATEWAY_MAX_BODY_BYTES,
    IDENTIFY_MAX_UPLOAD_BYTES,
    MAX_DOWNLOAD_BYTES,
    MAX_FILE_BYTES,
    MAYCUR_MAX_FILE_BYTES,
    YIPIAOYUN_MAX_UPLOAD_BYTES,
)

if TYPE_CHECKING:
    from fapiao.settings.company import CompanySettings, CompanyTitle
    from fapiao.settings.erp import ErpSettings
    from fapiao.settings.fetch import FetchSettings
    from fapiao.settings.hub import HubSettings
    from fapiao.settings.identifier import IdentifierKind, IdentifierSettings
    from fapiao.settings.local import LocalHubSettings
    from fapiao.settings.verifier import VerifierKind, VerifierSettings

    ALL_SETTINGS: tuple[type[EnvSettings], ...]
else:
    # Each group's module is imported when a name of it is first asked for: a function
    # loads the groups it reads (the authorizer: HubSettings), and ``company.py`` brings
    # pydantic (issue 13).
    _MODULES = {
        "CompanySettings": "company",
        "CompanyTitle": "company",
        "ErpSettings": "erp",
        "FetchSettings": "fetch",
        "HubSettings": "hub",
        "IdentifierKind": "identifier",
        "IdentifierSettings": "identifier",
        "LocalHubSettings": "local",
        "VerifierKind": "verifier",
        "VerifierSettings": "verifier",
    }

    def __getattr__(name: str) -> object:
        if name == "ALL_SETTINGS":
            value = _all_settings()
        elif name in _MODULES:
            module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
            value = getattr(module, name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value


__all__ = [
    "ALL_SETTINGS",
    "API_GATEWAY_MAX_BODY_BYTES",
    "IDENTIFY_MAX_UPLOAD_BYTES",
    "MAX_DOWNLOAD_BYTES",
    "MAX_FILE_BYTES",
    "MAYCUR_MAX_FILE_BYTES",
    "YIPIAOYUN_MAX_UPLOAD_BYTES",
    "CompanySettings",
    "CompanyTitle",
    "EnvSettings",
    "ErpSettings",
    "FetchSettings",
    "HubSettings",
    "IdentifierKind",
    "IdentifierSettings",
    "LocalHubSettings",
    "Secret",
    "SettingsError",
    "VerifierKind",
    "VerifierSettings",
    "limits",
    "markdown_table",
    "reset_settings",
]


def _all_settings() -> tuple[type[EnvSettings], ...]:
    """Every group of environment variables, in the README table's order."""
    from fapiao.settings.erp import ErpSettings
    from fapiao.settings.fetch import FetchSettings
    from fapiao.settings.hub import HubSettings
    from fapiao.settings.identifier import IdentifierSettings
    from fapiao.settings.local import LocalHubSettings
    from fapiao.settings.verifier import VerifierSettings

    return (
        HubSettings,
        LocalHubSettings,
        VerifierSettings,
        IdentifierSettings,
        FetchSettings,
        ErpSettings,
    )


def markdown_table() -> str:
    """The README's settings table: every variable of every group in ``ALL_SETTINGS``."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for model in _all_settings():
        for field in model.settings_fields():
            lines.append(f"| `{field.alias}` | `{field.default}` | {field.description} |")
    return "\n".join(lines)
