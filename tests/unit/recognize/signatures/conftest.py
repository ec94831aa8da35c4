"""SM2 key pairs and certificates made by the tests themselves (``fixtures.signing``),
for the SM2, certificate and OFD signature tests: fresh keys per session."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fixtures.signing import Sm2Key, new_key, sm2_certificate

__all__ = ["Sm2Key", "new_key", "sm2_certificate"]  # the tests import them from here too


@pytest.fixture(scope="session")
def ca_key() -> Sm2Key:
    return new_key()


@pytest.fixture(scope="session")
def signer_key() -> Sm2Key:
    return new_key()


@pytest.fixture(scope="session")
def maker_key() -> Sm2Key:
    return new_key()


@pytest.fixture(scope="session")
def make_certificate(ca_key: Sm2Key) -> Callable[..., bytes]:
    def make(key: Sm2Key, **options: object) -> bytes:
        return sm2_certificate(key, ca_key, **options)  # type: ignore[arg-type]

    return make
