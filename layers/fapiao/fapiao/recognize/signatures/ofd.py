"""An OFD file's signatures verified: GB/T 38540 SES_Signature (v4), and GM/T 0031 v1
recognised by its structure.

For each signature that ``Signatures.xml`` lists (every DocBody's), in this order:
1. the digests in ``Signature.xml`` (``References``, SM3 by default) of the files it
   covers, and that the document (DocRoot) and its pages are among them;
2. ``dataHash`` in the SES structure: the SM3 digest of ``Signature.xml`` itself;
3. the signer's SM2 signature over the DER bytes of ``TBS_Sign``, by the certificate the
   SES structure carries (Za with the default user id);
4. the seal maker's SM2 signature over ``SES_SealInfo`` (v4 writers sign it alone, v1
   writers the SEQUENCE of it, the maker's certificate and the algorithm: both accepted);
5. that the seal lists the signer's certificate (the certificate lies outside TBS_Sign:
   the maker's signature over the seal's list is what binds it);
6. when ``Signature.xml`` names the seal file (``Seal/BaseLoc``), that it is the seal
   inside the SES structure.
A file with several signatures is valid only when all are; the first one's signer is
reported. Nothing here raises: broken input ends in ``unverifiable`` with a reason.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from asn1crypto import core  # type: ignore[import-untyped]

from fapiao.catalogue.errors import HubError
from fapiao.model.signature import CheckState, SignatureCheck
from fapiao.recognize import xml
from fapiao.recognize.safezip import SafeZip, resolve
from fapiao.recognize.signatures import sm2
from fapiao.recognize.signatures.certs import SM2_SIGN, SM2_WITH_SM3, Certificate
from fapiao.recognize.signatures.sm2 import sm3

__all__ = ["ALGORITHM", "verify_ofd"]

ALGORITHM = "SM2-SM3"
MAX_SIGNATURES = 16  # two SM2 verifications each, ~4 ms: a bound on hostile files
_ROOT = "OFD.xml"
_CHINA = dt.timezone(dt.timedelta(hours=8))  # a signing time written without a zone
_SM2_ALGORITHMS = (SM2_WITH_SM3, SM2_SIGN)
_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "1.2.156.10197.1.401": sm3,
    "sm3": sm3,
    "2.16.840.1.101.3.4.2.1": lambda data: hashlib.sha256(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
}


def verify_ofd(archive: SafeZip) -> SignatureCheck:
    """The state of every signature in the OFD ``archive``, as one check."""
    try:
        return _verify(archive)
    except _Failure as failure:
        return failure.check()
    except HubError as error:  # a zip limit, a damaged entry, hostile XML
        return SignatureCheck(state=CheckState.UNVERIFIABLE, reason=str(error))


class _Failure(Exception):
    def __init__(self, state: CheckState, reason: str, signer: Certificate | None = None) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason
        self.signer = signer

    def check(self) -> SignatureCheck:
        signer = self.signer
        return SignatureCheck(
            state=self.state,
            algorithm=ALGORITHM if signer is not None else None,
            signer=None if signer is None else signer.subject,
            issuer=None if signer is None else signer.issuer,
            issuer_kind=None if signer is None else signer.issuer_kind,
            reason=self.reason,
        )


def _tampered(reason: str, signer: Certificate | None = None) -> _Failure:
    return _Failure(CheckState.TAMPERED, reason, signer)


def _unverifiable(reason: str, signer: Certificate | None = None) -> _Failure:
    return _Failure(CheckState.UNVERIFIABLE, reason, signer)


@dataclass(frozen=True)
class _Verified:
    signer: Certificate
    signed_at: dt.datetime | None


def _verify(archive: SafeZip) -> SignatureCheck:
    if not archive.exists(_ROOT):
        return SignatureCheck(state=CheckState.UNVERIFIABLE, reason="a zip without OFD.xml")
    root = xml.parse(archive.read(_ROOT), _ROOT)
    documents: list[tuple[str, list[tuple[str, str]]]] = []  # DocRoot, its signatures
    for body in xml.children(root, "DocBody"):
        document = xml.text(xml.child(body, "DocRoot"))
        listing = xml.text(xml.child(body, "Signatures"))
        if document is not None and listing is not None:
            documents.append((document, _signature_paths(archive, listing)))
    paths = [path for _, signature_paths in documents for path in signature_paths]
    if not paths:
        return SignatureCheck(state=CheckState.ABSENT)
    if len(paths) > MAX_SIGNATURES:
        raise _unverifiable(f"{len(paths)} signatures; at most {MAX_SIGNATURES} are checked")
    failures: list[_Failure] = []
    verified: list[_Verified] = []
    for document, signature_paths in documents:
        covered: set[str] = set()
        for path, location in signature_paths:
            try:
                verified.append(_verify_one(archive, path, location, covered))
            except _Failure as failure:
                failures.append(failure)
        if signature_paths and not failures:
            try:
                _check_coverage(archive, document, covered)
            except _Failure as failure:
                failures.append(failure)
    if failures:
        raise _worst(failures)
    first = verified[0]
    signed_at = first.signed_at
    return SignatureCheck(
        state=CheckState.VALID,
        algorithm=ALGORITHM,
        signer=first.signer.subject,
        issuer=first.signer.issuer,
        issuer_kind=first.signer.issuer_kind,
        signed_at=signed_at,
        certificate_valid_at_signing=None
        if signed_at is None
        else first.signer.valid_at(signed_at),
    )


def _worst(failures: list[_Failure]) -> _Failure:
    order = (CheckState.TAMPERED, CheckState.MODIFIED_AFTER_SIGNING, CheckState.UNVERIFIABLE)
    return min(failures, key=lambda failure: order.index(failure.state))


def _signature_paths(archive: SafeZip, location: str) -> list[tuple[str, str]]:
    """Each listed Signature.xml: its path in the archive, and its location as written."""
    listing_path = resolve(_ROOT, location)
    if not archive.exists(listing_path):
        raise _tampered(f"the signature list {location} is missing")
    listing = xml.parse(archive.read(listing_path), listing_path)
    return [
        (resolve(listing_path, base), base)
        for signature in xml.descendants(listing, "Signature")
        if (base := signature.get("BaseLoc"))
    ]


def _verify_one(archive: SafeZip, path: str, location: str, covered: set[str]) -> _Verified:
    if not archive.exists(path):
        raise _tampered(f"the signature file {location} is missing")
    signature_xml = archive.read(path)
    signature = xml.parse(signature_xml, path)
    try:
        covered.update(_check_references(archive, signature))
    except _Failure as failure:  # an edited file still says who had signed it
        failure.signer = failure.signer or _readable_signer(archive, path, signature)
        raise
    value_location = xml.text(next(xml.descendants(signature, "SignedValue"), None))
    if value_location is None:
        raise _unverifiable(f"{location} names no signed value")
    value_path = resolve(path, value_location)
    if not archive.exists(value_path):
        raise _tampered(f"the signed value {value_location} is missing")
    ses = _parse_ses(archive.read(value_path))
    signer = _certificate(ses.signer_der, "signer")
    if ses.data_hash != sm3(signature_xml):
        raise _tampered(f"{location} differs from what was signed", signer)
    _check_sm2(signer, ses.algorithm, ses.to_sign, ses.signature, "the signer's signature", signer)
    maker = _certificate(ses.maker_der, "seal maker")
    if not any(
        _sm2_matches(maker, ses.maker_algorithm, message, ses.maker_signature)
        for message in ses.maker_messages
    ):
        raise _tampered("the seal maker's signature over SES_SealInfo does not verify", signer)
    if not _listed(ses.signer_der, ses.seal_info):
        raise _tampered("the signer's certificate is not one the seal lists", signer)
    _check_seal_file(archive, path, signature, ses.seal, signer)
    return _Verified(signer, ses.signed_at)


def _readable_signer(archive: SafeZip, path: str, signature: Element) -> Certificate | None:
    """The signer's certificate in the signed value, when it can be read; else None."""
    value_location = xml.text(next(xml.descendants(signature, "SignedValue"), None))
    try:
        if value_location is None:
            return None
        value_path = resolve(path, value_location)
        if not archive.exists(value_path):
            return None
        return _certificate(_parse_ses(archive.read(value_path)).signer_der, "signer")
    except (_Failure, HubError):
        return None


def _check_references(archive: SafeZip, signature: Element) -> set[str]:
    """The paths the signature covers, once each digest matches."""
    references = next(xml.descendants(signature, "References"), None)
    if references is None:
        raise _unverifiable("a signature that lists no files")
    method_name = (references.get("CheckMethod") or "1.2.156.10197.1.401").strip().lower()
    method = _DIGESTS.get(method_name)
    if method is None:
        raise _unverifiable(f"digest method {method_name!r} is not supported")
    covered: set[str] = set()
    for reference in xml.children(references, "Reference"):
        file_ref = reference.get("FileRef")
        value = xml.text(xml.child(reference, "CheckValue"))
        if not file_ref or value is None:
            raise _unverifiable("a reference without a file or a digest")
        try:
            expected = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _unverifiable(f"the digest of {file_ref} is not base64") from None
        target = resolve(_ROOT, file_ref)
        if not archive.exists(target):
            raise _tampered(f"{file_ref} is missing")
        if method(archive.read(target)) != expected:
            raise _tampered(f"{file_ref} differs from what was signed")
        covered.add(target)
    if not covered:
        raise _unverifiable("a signature that lists no files")
    return covered


def _check_coverage(archive: SafeZip, location: str, covered: set[str]) -> None:
    """The document and its pages must be among the signed files: a page added or a
    DocRoot pointed elsewhere after signing is content beyond what was signed."""
    document = resolve(_ROOT, location)
    if document not in covered:
        raise _Failure(CheckState.MODIFIED_AFTER_SIGNING, f"the document {location} is not signed")
    root = xml.parse(archive.read(document), document)
    for page in xml.descendants(root, "Page"):
        base = page.get("BaseLoc")
        if base and resolve(document, base) not in covered:
            raise _Failure(CheckState.MODIFIED_AFTER_SIGNING, f"the page {base} is not signed")


def _certificate(der: bytes, role: str) -> Certificate:
    try:
        return Certificate.load(der)
    except ValueError:
        raise _unverifiable(f"the {role}'s certificate cannot be read") from None


def _listed(certificate: bytes, seal_info: bytes) -> bool:
    """Whether the seal (signed by its maker) lists the signer's certificate: itself
    (certListType 1, and v1's certList) or its digest (certListType 2). This binds the
    certificate, which lies outside TBS_Sign in v4, to a signature: without it, the
    signer's name could be edited while the key stays the same."""
    if certificate in seal_info:
        return True
    digests = (sm3(certificate), hashlib.sha256(certificate).digest())
    return any(digest in seal_info for digest in digests)


def _check_sm2(
    certificate: Certificate,
    algorithm: str,
    message: bytes,
    signature: bytes,
    what: str,
    signer: Certificate,
) -> None:
    if algorithm not in _SM2_ALGORITHMS:
        raise _unverifiable(f"{what} uses algorithm {algorithm}, not SM2", signer)
    if certificate.key_algorithm != "sm2":
        raise _unverifiable(f"{what}: a {certificate.key_algorithm} key, not SM2", signer)
    if not sm2.verify(certificate.public_key, message, signature):
        raise _tampered(f"{what} over TBS_Sign does not verify", signer)


def _sm2_matches(certificate: Certificate, algorithm: str, message: bytes, sig: bytes) -> bool:
    if algorithm not in _SM2_ALGORITHMS or certificate.key_algorithm != "sm2":
        return False
    return sm2.verify(certificate.public_key, message, sig)


def _check_seal_file(
    archive: SafeZip, path: str, signature: Element, seal: bytes, signer: Certificate
) -> None:
    seal_element = next(xml.descendants(signature, "Seal"), None)
    location = None if seal_element is None else seal_element.get("BaseLoc")
    if location is None:
        return
    seal_path = resolve(path, location)
    if not archive.exists(seal_path):
        raise _tampered(f"the seal file {location} is missing", signer)
    if archive.read(seal_path) != seal:
        raise _tampered(f"the seal file {location} is not the seal that signed", signer)


# --- the SES structures --------------------------------------------------------------


class _SealV4(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 (asn1crypto's own convention)
        ("seal_info", core.Any),
        ("cert", core.OctetString),
        ("algorithm", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class _TbsV4(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("eseal", _SealV4),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", core.Any, {"optional": True}),
    ]


class _SignatureV4(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("to_sign", _TbsV4),
        ("cert", core.OctetString),
        ("algorithm", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.Any, {"optional": True}),
    ]


class _SignInfoV1(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("cert", core.OctetString),
        ("algorithm", core.ObjectIdentifier),
        ("sign_data", core.OctetBitString),
    ]


class _SealV1(core.Sequence):  # type: ignore[misc]
    _fields = [("seal_info", core.Any), ("sign_info", _SignInfoV1)]  # noqa: RUF012


class _TbsV1(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("eseal", _SealV1),
        ("time_info", core.OctetBitString),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("cert", core.OctetString),
        ("algorithm", core.ObjectIdentifier),
    ]


class _SignatureV1(core.Sequence):  # type: ignore[misc]
    _fields = [("to_sign", _TbsV1), ("signature", core.OctetBitString)]  # noqa: RUF012


@dataclass(frozen=True)
class _Ses:
    """What the checks need of an SES_Signature, whichever its version."""

    to_sign: bytes  # TBS_Sign, DER as in the file
    signer_der: bytes
    algorithm: str
    signature: bytes
    data_hash: bytes
    signed_at: dt.datetime | None
    seal: bytes  # SESeal, DER as in the file
    seal_info: bytes  # SES_SealInfo, DER as in the file
    maker_der: bytes
    maker_algorithm: str
    maker_signature: bytes
    maker_messages: tuple[bytes, ...]


def _parse_ses(data: bytes) -> _Ses:
    try:
        outer = core.Sequence.load(data, strict=True)
        second = outer[1] if len(outer) > 1 else None
        if isinstance(second, core.OctetString):
            return _v4(_SignatureV4.load(data, strict=True))
        if isinstance(second, core.BitString) and len(outer) == 2:
            return _v1(_SignatureV1.load(data, strict=True))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise _unverifiable("the signed value is not a readable SES_Signature") from None
    raise _unverifiable("the signed value is not an SES_Signature (GB/T 38540 or GM/T 0031)")


def _v4(signature: _SignatureV4) -> _Ses:
    tbs = signature["to_sign"]
    seal = tbs["eseal"]
    seal_info = seal["seal_info"].dump()
    maker_der = seal["cert"].native
    return _Ses(
        to_sign=tbs.dump(),
        signer_der=signature["cert"].native,
        algorithm=signature["algorithm"].dotted,
        signature=signature["signature"].native,
        data_hash=tbs["data_hash"].native,
        signed_at=_aware(tbs["time_info"].native),
        seal=seal.dump(),
        seal_info=seal_info,
        maker_der=maker_der,
        maker_algorithm=seal["algorithm"].dotted,
        maker_signature=seal["signed_value"].native,
        maker_messages=(
            seal_info,
            _sequence(seal_info, seal["cert"].dump(), seal["algorithm"].dump()),
        ),
    )


def _v1(signature: _SignatureV1) -> _Ses:
    tbs = signature["to_sign"]
    seal = tbs["eseal"]
    sign_info = seal["sign_info"]
    seal_info = seal["seal_info"].dump()
    return _Ses(
        to_sign=tbs.dump(),
        signer_der=tbs["cert"].native,
        algorithm=tbs["algorithm"].dotted,
        signature=signature["signature"].native,
        data_hash=tbs["data_hash"].native,
        signed_at=_v1_time(tbs["time_info"].native),
        seal=seal.dump(),
        seal_info=seal_info,
        maker_der=sign_info["cert"].native,
        maker_algorithm=sign_info["algorithm"].dotted,
        maker_signature=sign_info["sign_data"].native,
        maker_messages=(
            _sequence(seal_info, sign_info["cert"].dump(), sign_info["algorithm"].dump()),
            seal_info,
        ),
    )


def _sequence(*parts: bytes) -> bytes:
    """DER SEQUENCE of already-encoded parts."""
    body = b"".join(parts)
    length = len(body)
    if length < 0x80:
        return b"\x30" + bytes([length]) + body
    size = (length.bit_length() + 7) // 8
    return b"\x30" + bytes([0x80 | size]) + length.to_bytes(size, "big") + body


def _aware(value: object) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=_CHINA)


def _v1_time(raw: bytes) -> dt.datetime | None:
    """GM/T 0031's timeInfo: a BIT STRING holding a DER time, or the time as text."""
    try:
        value = core.load(raw, strict=True)
        if isinstance(value, core.UTCTime | core.GeneralizedTime):
            return _aware(value.native)
    except (ValueError, TypeError):
        pass
    text = raw.decode("ascii", "replace").strip()
    for pattern in ("%Y%m%d%H%M%SZ", "%y%m%d%H%M%SZ", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
        try:
            parsed = dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=dt.UTC if text.endswith("Z") else _CHINA)
    return None
