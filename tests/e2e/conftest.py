"""What the end-to-end tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubprocess import RunningHub


@pytest.fixture
def hubs() -> Iterator[list[RunningHub]]:
    """The hubs a test starts (append each): killed at its end if still running."""
    started: list[RunningHub] = []
    yield started
    for hub in started:
        if hub.process.poll() is None:
            hub.process.kill()
            hub.process.wait(timeout=30)
