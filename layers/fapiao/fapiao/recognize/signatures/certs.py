"""X.509 certificates as e-invoice signatures carry them, with the GM OIDs (SM2, SM3,
GM/T 0010 CMS) registered with asn1crypto, and the issuers the project pins.

The files hold the signer's certificate (and the seal maker's) but no CA certificate,
and the tax CAs are in no public bundle: a certificate's signature cannot be checked
here. ``issuer_kind`` therefore names the issuer by what the certificate says (issuer
name and authority key identifier) against the values pinned below, as seen in the
corpus (``../shared/corpus/files``). A test CA is never the tax bureau: a test name or
a test key identifier wins over anything else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, cms, core, keys, x509  # type: ignore[import-untyped]

from fapiao.model.signature import IssuerKind

__all__ = ["GM_OIDS", "Certificate", "issuer_kind"]

# GM/T 0006 object identifiers, by asn1crypto's name for each.
SM2_CURVE = "1.2.156.10197.1.301"
SM2_SIGN = "1.2.156.10197.1.301.1"
SM3 = "1.2.156.10197.1.401"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
GM_DATA = "1.2.156.10197.6.1.4.2.1"
GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
GM_OIDS = {
    SM2_CURVE: "sm2p256v1",
    SM2_SIGN: "sm2sign",
    SM3: "sm3",
    SM2_WITH_SM3: "sm2sign_with_sm3",
    GM_DATA: "gm_data",
    GM_SIGNED_DATA: "gm_signed_data",
}

_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_RSA = "1.2.840.113549.1.1.1"
_MAX_CERTIFICATE_BYTES = 64 * 1024


def _register(cls: Any, oid: str, name: str) -> None:  # an asn1crypto ObjectIdentifier class
    cls._map[oid] = name
    if cls._reverse_map is not None:
        cls._reverse_map[name] = oid


def _register_gm_oids() -> None:
    """Idempotent: asn1crypto's class-level maps, extended once at import."""
    if SM2_CURVE not in keys.NamedCurve._map:
        keys.NamedCurve.register(GM_OIDS[SM2_CURVE], SM2_CURVE, 32)
    _register(keys.PublicKeyAlgorithmId, SM2_CURVE, "sm2")
    _register(algos.DigestAlgorithmId, SM3, GM_OIDS[SM3])
    _register(algos.SignedDigestAlgorithmId, SM2_SIGN, GM_OIDS[SM2_SIGN])
    _register(algos.SignedDigestAlgorithmId, SM2_WITH_SM3, GM_OIDS[SM2_WITH_SM3])
    _register(cms.ContentType, GM_DATA, GM_OIDS[GM_DATA])
    _register(cms.ContentType, GM_SIGNED_DATA, GM_OIDS[GM_SIGNED_DATA])
    cms.ContentInfo._oid_specs[GM_OIDS[GM_DATA]] = core.OctetString
    cms.ContentInfo._oid_specs[GM_OIDS[GM_SIGNED_DATA]] = cms.SignedData
    cms.EncapsulatedContentInfo._oid_specs[GM_OIDS[GM_DATA]] = core.OctetString


_register_gm_oids()


@dataclass(frozen=True)
class _Pin:
    kind: IssuerKind
    names: tuple[str, ...]  # issuer common names or organisations, matched as substrings
    key_ids: tuple[str, ...]  # authority key identifiers, hex


# The tax CAs: both name and key identifier must match (see ``issuer_kind``).
_TAX_BUREAU = _Pin(
    IssuerKind.TAX_BUREAU,
    # 1.ofd, keyword2.ofd, SignScaleError.ofd: CN=税务电子证书管理中心(SM2), OU=国家税务总局
    ("税务电子证书管理中心",),
    ("b8b09a6007ea05b7b0b7e7cb42763129971576b3",),
)
_TAX_BUREAU_TEST = _Pin(
    IssuerKind.TAX_BUREAU_TEST,
    # 999.ofd, draw_param_ref.ofd, v4signed.ofd: CN=税务测试CA2(SM2)
    ("税务测试CA",),
    ("5eead0da63b35388ab94005379e0a42e8c3d6fc1",),
)
# Commercial CAs: the name or the key identifier.
_COMMERCIAL = (
    # 012001900111_51142414.pdf (JD): CN=NXCA, O=CWCA, Yinchuan, Ningxia
    _Pin(IssuerKind.COMMERCIAL_CA, ("NXCA", "CWCA"), ("487fdd5a634bf9f57e90defd9b0f419664650711",)),
    # 03702170021127209635.pdf: CN=电子发票专用CA, O=北京天威诚信电子商务服务有限公司 (iTrus),
    # no key identifier
    _Pin(IssuerKind.COMMERCIAL_CA, ("天威诚信", "iTrus"), ()),
    # the four 百望 toll PDFs (91420100MA4KPBL615_..., 91421200052621669E_...,
    # 91430600796857412W_..., 91440114755593481G_...): CN=HNCA, O=HENAN CERTIFICATE AUTHORITY
    _Pin(
        IssuerKind.COMMERCIAL_CA,
        ("HNCA", "HENAN CERTIFICATE AUTHORITY"),
        ("f90a252ff7e3d2557b0371c4ae49916da0144969",),
    ),
    # didi.pdf: CN=ShanXi Digital Certificate Authority, OU=RSA
    _Pin(
        IssuerKind.COMMERCIAL_CA,
        ("ShanXi Digital Certificate Authority",),
        ("ca07e1e7421a3c9811ccbfd673f375f94efb6b86",),
    ),
    # the 12306 rail e-ticket PDFs (254291658..., 254491234..., ...): CN=SRCA_SM2,
    # O=Sinorail Certification Authority
    _Pin(
        IssuerKind.COMMERCIAL_CA,
        ("SRCA_SM2", "Sinorail Certification Authority"),
        ("29177ad60503fa702c2f0218c35b2b8a71f976f4",),
    ),
)
_TEST_WORDS = re.compile(r"测试|\btest", re.IGNORECASE)


def issuer_kind(issuer_names: list[str], authority_key_id: bytes | None) -> IssuerKind:
    """The pinned kind of an issuer, by its name values (CN, O, OU) and key identifier.

    Test first: the test tax CA's name or key identifier, or a test word ("测试", "test")
    beside the production tax CA's name or key, is ``TAX_BUREAU_TEST``, never
    ``TAX_BUREAU``. The production tax CA needs both its name and its key identifier
    (one without the other is ``UNKNOWN``). A commercial CA is recognised by either; an
    issuer with a test word is never commercial.
    """
    key_id = None if authority_key_id is None else authority_key_id.hex()
    joined = "\n".join(issuer_names)
    looks_test = _TEST_WORDS.search(joined) is not None
    if key_id in _TAX_BUREAU_TEST.key_ids or _matches_name(_TAX_BUREAU_TEST, joined):
        return IssuerKind.TAX_BUREAU_TEST
    if _matches_name(_TAX_BUREAU, joined) or key_id in _TAX_BUREAU.key_ids:
        if looks_test:
            return IssuerKind.TAX_BUREAU_TEST
        if _matches_name(_TAX_BUREAU, joined) and key_id in _TAX_BUREAU.key_ids:
            return IssuerKind.TAX_BUREAU
        return IssuerKind.UNKNOWN
    if looks_test:
        return IssuerKind.UNKNOWN
    for pin in _COMMERCIAL:
        if (key_id is not None and key_id in pin.key_ids) or _matches_name(pin, joined):
            return pin.kind
    return IssuerKind.UNKNOWN


def _matches_name(pin: _Pin, joined: str) -> bool:
    return any(name.lower() in joined.lower() for name in pin.names)


_SHORT_NAMES = {
    "common_name": "CN",
    "organizational_unit_name": "OU",
    "organization_name": "O",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "country_name": "C",
    "serial_number": "serialNumber",
    "email_address": "emailAddress",
    "street_address": "street",
}
_NAME_PARTS_IN_PINS = ("common_name", "organization_name", "organizational_unit_name")


class Certificate:
    """One X.509 certificate, parsed eagerly: ``load`` raises ValueError on bad input."""

    def __init__(
        self, parsed: x509.Certificate, der: bytes, names: tuple[str, str, list[str]]
    ) -> None:
        self._parsed = parsed
        self.der = der
        self.subject, self.issuer, issuer_parts = names
        tbs = parsed["tbs_certificate"]
        validity = tbs["validity"]
        self.not_before: dt.datetime = _aware(validity["not_before"].native)
        self.not_after: dt.datetime = _aware(validity["not_after"].native)
        self.key_algorithm, self.public_key = _public_key(tbs["subject_public_key_info"])
        self.key_identifier: bytes | None = parsed.key_identifier
        self.authority_key_identifier: bytes | None = parsed.authority_key_identifier
        self.issuer_kind = issuer_kind(issuer_parts, self.authority_key_identifier)
        self.tbs_bytes: bytes = tbs.dump()
        self.signature_algorithm: str = parsed["signature_algorithm"]["algorithm"].dotted
        self.signature: bytes = parsed["signature_value"].native

    @classmethod
    def load(cls, der: bytes) -> Certificate:
        if not der or len(der) > _MAX_CERTIFICATE_BYTES:
            raise ValueError(f"a certificate of {len(der)} bytes")
        try:
            parsed = x509.Certificate.load(der, strict=True)
            subject = _text(parsed.subject)
            issuer = _text(parsed.issuer)
            issuer_parts = _values(parsed.issuer, _NAME_PARTS_IN_PINS)
            return cls(parsed, der, (subject, issuer, issuer_parts))
        except ValueError:
            raise
        except (TypeError, KeyError, IndexError, AttributeError, OverflowError) as error:
            raise ValueError(f"not an X.509 certificate ({error!r})") from None

    def valid_at(self, when: dt.datetime) -> bool:
        """Whether ``when`` (timezone-aware) lies in the certificate's validity."""
        if when.tzinfo is None:
            raise ValueError("a naive datetime: give its time zone")
        return self.not_before <= when <= self.not_after


def _aware(value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValueError(f"a validity time that is not a time ({value!r})")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _public_key(info: keys.PublicKeyInfo) -> tuple[str, bytes]:
    """("sm2", the point 04||X||Y) | ("rsa", the SubjectPublicKeyInfo DER) | (name, DER)."""
    algorithm = info["algorithm"]["algorithm"].dotted
    if algorithm in (_EC_PUBLIC_KEY, SM2_CURVE):
        parameters = info["algorithm"]["parameters"]
        curve = parameters.chosen.dotted if parameters.name == "named" else None
        point = bytes(info["public_key"].contents[1:])  # a BIT STRING with 0 unused bits
        if algorithm == SM2_CURVE or curve == SM2_CURVE:
            return "sm2", point
        return "ec", info.dump()
    if algorithm == _RSA:
        return "rsa", info.dump()
    return str(info["algorithm"]["algorithm"].native), info.dump()


def _attributes(name: x509.Name) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for rdn in name.chosen:
        for attribute in rdn:
            kind = attribute["type"].native
            value = attribute["value"].native
            found.append((str(kind), value if isinstance(value, str) else str(value)))
    return found


def _text(name: x509.Name) -> str:
    """'CN=税务电子证书管理中心(SM2), OU=国家税务总局, C=CN', in the certificate's order."""
    return ", ".join(f"{_SHORT_NAMES.get(kind, kind)}={value}" for kind, value in _attributes(name))


def _values(name: x509.Name, kinds: tuple[str, ...]) -> list[str]:
    return [value for kind, value in _attributes(name) if kind in kinds]
