"""Unit tests run with sockets disabled: anything that reaches for the network fails."""

from __future__ import annotations

from collections.abc import Iterator

import aws_xray_sdk.core  # noqa: F401
import pytest
from pytest_socket import disable_socket, enable_socket

# Powertools' Tracer, in every handler module, makes the X-Ray SDK's recorder when that
# SDK is first imported, and the recorder opens a UDP socket (it sends nothing). Imported
# here, before any test disables sockets, so a unit test that loads a handler passes
# alone as it does after others.


@pytest.fixture(autouse=True)
def _no_sockets() -> Iterator[None]:
    disable_socket(allow_unix_socket=False)
    yield
    enable_socket()
