"""Shared test fixtures: where the project, its template and the shared specs lie."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import PROJECT_ROOT, SPECS

# As template.yaml's Globals give every function, before any handler module is loaded:
# Powertools keeps one metric set per process and flushes it by itself at 100 metrics,
# which needs a namespace (tests that call handlers in process add up past 100).
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Fapiao")


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def specs_dir() -> Path:
    if not SPECS.is_dir():
        pytest.skip(f"the shared specs are not at {SPECS} (clone with ../shared beside it)")
    return SPECS
