"""Shared test fixtures: where the project, its template and the shared specs lie."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import PROJECT_ROOT, SPECS


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def specs_dir() -> Path:
    if not SPECS.is_dir():
        pytest.skip(f"the shared specs are not at {SPECS} (clone with ../shared beside it)")
    return SPECS
