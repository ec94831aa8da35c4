"""Certificates with the GM OIDs, and the issuers the project pins."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import algos, cms, core, keys  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from fapiao.model.signature import IssuerKind
from fapiao.recognize.signatures import certs
from fapiao.recognize.signatures.certs import Certificate, issuer_kind
from support import CORPUS

from .conftest import Sm2Key

UTC = dt.UTC
TAX_KEY_ID = bytes.fromhex("b8b09a6007ea05b7b0b7e7cb42763129971576b3")
TEST_KEY_ID = bytes.fromhex("5eead0da63b35388ab94005379e0a42e8c3d6fc1")
HNCA_KEY_ID = bytes.fromhex("f90a252ff7e3d2557b0371c4ae49916da0144969")


def test_the_gm_oids_are_registered_with_asn1crypto() -> None:
    assert algos.SignedDigestAlgorithmId(certs.SM2_WITH_SM3).native == "sm2sign_with_sm3"
    assert algos.SignedDigestAlgorithmId(certs.SM2_SIGN).native == "sm2sign"
    assert algos.DigestAlgorithmId(certs.SM3).native == "sm3"
    assert keys.NamedCurve(certs.SM2_CURVE).native == "sm2p256v1"
    assert cms.ContentType(certs.GM_SIGNED_DATA).native == "gm_signed_data"
    signed = cms.ContentInfo(
        {
            "content_type": "gm_signed_data",
            "content": cms.SignedData(
                {
                    "version": "v1",
                    "digest_algorithms": [{"algorithm": "sm3"}],
                    "encap_content_info": {"content_type": "gm_data"},
                    "signer_infos": [],
                }
            ),
        }
    ).dump()
    parsed = cms.ContentInfo.load(signed)
    assert parsed["content"]["digest_algorithms"][0]["algorithm"].dotted == certs.SM3


def test_an_sm2_certificate_reads(
    signer_key: Sm2Key, make_certificate: Callable[..., bytes]
) -> None:
    der = make_certificate(signer_key, subject="测试签章人", issuer="Test CA")
    certificate = Certificate.load(der)
    assert certificate.subject == "C=CN, CN=测试签章人"
    assert certificate.issuer == "C=CN, CN=Test CA"
    assert certificate.key_algorithm == "sm2"
    assert certificate.public_key == signer_key.public
    assert certificate.issuer_kind is IssuerKind.UNKNOWN
    assert certificate.not_before == dt.datetime(2020, 1, 1, tzinfo=UTC)
    assert certificate.not_after == dt.datetime(2040, 1, 1, tzinfo=UTC)
    assert certificate.signature_algorithm == certs.SM2_WITH_SM3
    assert certificate.tbs_bytes in der
    assert certificate.valid_at(dt.datetime(2030, 1, 1, tzinfo=UTC))
    assert not certificate.valid_at(dt.datetime(2019, 12, 31, 23, 0, tzinfo=UTC))
    china = dt.timezone(dt.timedelta(hours=8))
    assert certificate.valid_at(dt.datetime(2020, 1, 1, 9, tzinfo=china))
    assert not certificate.valid_at(dt.datetime(2020, 1, 1, 7, tzinfo=china))  # 23:00 UTC
    with pytest.raises(ValueError, match="naive"):
        certificate.valid_at(dt.datetime(2030, 1, 1))


def test_the_certificate_signature_is_sm2_over_tbs(
    ca_key: Sm2Key, signer_key: Sm2Key, make_certificate: Callable[..., bytes]
) -> None:
    from fapiao.recognize.signatures import sm2

    certificate = Certificate.load(make_certificate(signer_key))
    assert sm2.verify(ca_key.public, certificate.tbs_bytes, certificate.signature)


def test_an_rsa_certificate_reads() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "HNCA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HENAN CERTIFICATE AUTHORITY"),
        ]
    )
    built = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "91420100MA4KPBL615")]))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(dt.datetime(2019, 1, 1, tzinfo=UTC))
        .not_valid_after(dt.datetime(2029, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    certificate = Certificate.load(built.public_bytes(serialization.Encoding.DER))
    assert certificate.key_algorithm == "rsa"
    loaded = serialization.load_der_public_key(certificate.public_key)
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert certificate.issuer == "CN=HNCA, O=HENAN CERTIFICATE AUTHORITY"
    assert certificate.issuer_kind is IssuerKind.COMMERCIAL_CA


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"garbage",
        b"\x30\x84\xff\xff\xff\xff",
        b"\x30\x03\x02\x01\x01",
        bytes(100_000),
    ],
)
def test_bad_input_is_a_value_error(der: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Certificate.load(der)


def test_a_truncated_certificate_is_a_value_error(
    signer_key: Sm2Key, make_certificate: Callable[..., bytes]
) -> None:
    der = make_certificate(signer_key)
    for cut in (1, 10, len(der) // 2, len(der) - 1):
        with pytest.raises(ValueError):  # noqa: PT011
            Certificate.load(der[:cut])
    with pytest.raises(ValueError):  # noqa: PT011
        Certificate.load(der + b"\0")


@pytest.mark.parametrize(
    ("names", "key_id", "expected"),
    [
        (["税务电子证书管理中心(SM2)", "国家税务总局"], TAX_KEY_ID, IssuerKind.TAX_BUREAU),
        (["税务电子证书管理中心(SM2)", "国家税务总局"], None, IssuerKind.UNKNOWN),
        (["税务电子证书管理中心(SM2)"], b"\x01" * 20, IssuerKind.UNKNOWN),
        (["Some CA"], TAX_KEY_ID, IssuerKind.UNKNOWN),
        (["税务电子证书管理中心(SM2)测试"], TAX_KEY_ID, IssuerKind.TAX_BUREAU_TEST),
        (["税务电子证书管理中心(SM2)", "Test"], TAX_KEY_ID, IssuerKind.TAX_BUREAU_TEST),
        (["税务测试CA2(SM2)"], TEST_KEY_ID, IssuerKind.TAX_BUREAU_TEST),
        (["税务测试CA2(SM2)"], None, IssuerKind.TAX_BUREAU_TEST),
        (["税务测试CA3(SM2)"], TAX_KEY_ID, IssuerKind.TAX_BUREAU_TEST),
        (["税务电子证书管理中心(SM2)"], TEST_KEY_ID, IssuerKind.TAX_BUREAU_TEST),
        (["NXCA", "CWCA"], None, IssuerKind.COMMERCIAL_CA),
        (["电子发票专用CA", "北京天威诚信电子商务服务有限公司"], None, IssuerKind.COMMERCIAL_CA),
        (["HNCA", "HENAN CERTIFICATE AUTHORITY"], HNCA_KEY_ID, IssuerKind.COMMERCIAL_CA),
        (["Renamed"], HNCA_KEY_ID, IssuerKind.COMMERCIAL_CA),
        (["ShanXi Digital Certificate Authority", "RSA"], None, IssuerKind.COMMERCIAL_CA),
        (["SRCA_SM2", "Sinorail Certification Authority"], None, IssuerKind.COMMERCIAL_CA),
        (["HNCA test"], None, IssuerKind.UNKNOWN),
        (["Test CA"], None, IssuerKind.UNKNOWN),
        ([], None, IssuerKind.UNKNOWN),
    ],
)
def test_issuers_are_recognised_by_the_pins(
    names: list[str], key_id: bytes | None, expected: IssuerKind
) -> None:
    assert issuer_kind(names, key_id) is expected


def test_a_test_ca_is_never_the_tax_bureau(
    signer_key: Sm2Key, make_certificate: Callable[..., bytes]
) -> None:
    for issuer, key_id in (
        ("税务测试CA2(SM2)", TAX_KEY_ID),
        ("税务测试CA2(SM2)", TEST_KEY_ID),
        ("税务电子证书管理中心(SM2)", TEST_KEY_ID),
    ):
        der = make_certificate(signer_key, issuer=issuer, authority_key_id=key_id)
        assert Certificate.load(der).issuer_kind is IssuerKind.TAX_BUREAU_TEST


def test_a_forged_production_name_with_the_pinned_key_id_is_the_tax_bureau(
    signer_key: Sm2Key, make_certificate: Callable[..., bytes]
) -> None:
    """What ``valid`` does not prove: without the CA certificate, the name and key
    identifier are the certificate's word (the model's docstring says so)."""
    der = make_certificate(
        signer_key, issuer="税务电子证书管理中心(SM2)", authority_key_id=TAX_KEY_ID
    )
    assert Certificate.load(der).issuer_kind is IssuerKind.TAX_BUREAU


def _ses_certificates(path: Path) -> list[bytes]:
    """The signer's and the seal maker's certificates inside an OFD's SignedValue.dat."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.lower().endswith("signedvalue.dat"))
        outer = core.Sequence.load(archive.read(name))
    seal = core.Sequence.load(core.Sequence.load(outer[0].dump())[1].dump())
    return [outer[1].native, seal[1].native]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ofdrw__ofdrw__1.ofd", IssuerKind.TAX_BUREAU),
        ("ofdrw__ofdrw__keyword2.ofd", IssuerKind.TAX_BUREAU),
        ("ofdrw__ofdrw__SignScaleError.ofd", IssuerKind.TAX_BUREAU),
        ("ofdrw__ofdrw__999.ofd", IssuerKind.TAX_BUREAU_TEST),
        ("ofdrw__ofdrw__draw_param_ref.ofd", IssuerKind.TAX_BUREAU_TEST),
        ("ofdrw__ofdrw__v4signed.ofd", IssuerKind.TAX_BUREAU_TEST),
    ],
)
def test_the_corpus_ofd_certificates(name: str, expected: IssuerKind) -> None:
    path = CORPUS / "files" / name
    if not path.exists():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    for der in _ses_certificates(path):
        certificate = Certificate.load(der)
        assert certificate.key_algorithm == "sm2"
        assert len(certificate.public_key) == 65
        assert certificate.issuer_kind is expected
        assert certificate.not_before.tzinfo is not None
