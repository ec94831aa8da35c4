"""Shared test fixtures: where the project, its template and the shared specs lie."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_lambda_powertools.metrics import Metrics

from support import PROJECT_ROOT, SPECS

# As template.yaml's Globals give every function, before any handler module is loaded:
# Powertools keeps one metric set per process and flushes it by itself at 100 metrics,
# which needs a namespace (tests that call handlers in process add up past 100).
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Fapiao")


@pytest.fixture(autouse=True)
def no_metrics_carried_over() -> Iterator[None]:
    """Powertools' one metric set per process, emptied after each test (its testing
    advice): a test that resolves events without ``log_metrics`` leaves its metrics
    behind, and the 100th value of one name prints the set in another test's output."""
    yield
    Metrics().clear_metrics()


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def specs_dir() -> Path:
    if not SPECS.is_dir():
        pytest.skip(f"the shared specs are not at {SPECS} (clone with ../shared beside it)")
    return SPECS
