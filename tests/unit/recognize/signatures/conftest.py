"""SM2 key pairs and certificates made by the tests themselves (gmalg signs, asn1crypto
builds), for the SM2, certificate and OFD signature tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import gmalg  # type: ignore[import-untyped]
import pytest
from asn1crypto import algos, x509  # type: ignore[import-untyped]

from fapiao.recognize.signatures import certs, sm2

UTC = dt.UTC


@dataclass(frozen=True)
class Sm2Key:
    secret: bytes
    public: bytes  # 04 || X || Y

    def sign(self, message: bytes, user_id: bytes = sm2.DEFAULT_USER_ID) -> bytes:
        """DER SEQUENCE of r, s, as e-invoice writers store SM2 signatures."""
        r, s = gmalg.SM2(self.secret, user_id, self.public).sign(message)
        return algos.DSASignature(
            {"r": int.from_bytes(r, "big"), "s": int.from_bytes(s, "big")}
        ).dump()

    def sign_raw(self, message: bytes, user_id: bytes = sm2.DEFAULT_USER_ID) -> bytes:
        r, s = gmalg.SM2(self.secret, user_id, self.public).sign(message)
        return r.rjust(32, b"\0") + s.rjust(32, b"\0")


def new_key() -> Sm2Key:
    secret, public = gmalg.SM2().generate_keypair()
    return Sm2Key(secret.rjust(32, b"\0"), public)


def sm2_certificate(
    key: Sm2Key,
    issuer_key: Sm2Key,
    *,
    subject: str = "Test Signer",
    issuer: str = "Test CA",
    not_before: dt.datetime = dt.datetime(2020, 1, 1, tzinfo=UTC),
    not_after: dt.datetime = dt.datetime(2040, 1, 1, tzinfo=UTC),
    authority_key_id: bytes | None = None,
) -> bytes:
    """A DER X.509 certificate for ``key``'s SM2 public key, signed SM2-with-SM3."""
    extensions = []
    if authority_key_id is not None:
        extensions.append(
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": authority_key_id},
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": 0x1234,
            "signature": {"algorithm": certs.SM2_WITH_SM3},
            "issuer": x509.Name.build({"country_name": "CN", "common_name": issuer}),
            "validity": {
                "not_before": x509.Time({"utc_time": not_before}),
                "not_after": x509.Time({"utc_time": not_after}),
            },
            "subject": x509.Name.build({"country_name": "CN", "common_name": subject}),
            "subject_public_key_info": {
                "algorithm": {"algorithm": "ec", "parameters": ("named", certs.SM2_CURVE)},
                "public_key": key.public,
            },
            "extensions": extensions or None,
        }
    )
    signature = issuer_key.sign(tbs.dump())
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": certs.SM2_WITH_SM3},
            "signature_value": signature,
        }
    ).dump()


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
