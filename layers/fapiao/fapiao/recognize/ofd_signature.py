"""The file digests an OFD signature lists, checked: intact, tampered or absent.

Each ``Signature.xml`` lists the files it covers (``References``: a path and a digest,
SM3 by default: OID 1.2.156.10197.1.401). A file whose digest differs, or that is
missing, means the document was changed after it was signed. The SM2 signature over
the signed info itself is not verified here: "intact" says the files are those that
were signed, not who signed them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable

from fapiao.recognize import xml
from fapiao.recognize.result import SignatureState
from fapiao.recognize.safezip import SafeZip, resolve
from fapiao.recognize.signatures.sm2 import sm3

_ROOT = "OFD.xml"


def _hashlib(name: str) -> Callable[[bytes], bytes]:
    return lambda data: hashlib.new(name, data).digest()


_METHODS: dict[str, Callable[[bytes], bytes]] = {
    "1.2.156.10197.1.401": sm3,
    "sm3": sm3,
    "1.3.14.3.2.26": _hashlib("sha1"),
    "sha1": _hashlib("sha1"),
    "2.16.840.1.101.3.4.2.1": _hashlib("sha256"),
    "sha256": _hashlib("sha256"),
}


def check(archive: SafeZip, location: str | None, warnings: list[str]) -> SignatureState:
    """The state of the signatures listed at ``location`` (OFD.xml's ``Signatures``)."""
    if location is None:
        return SignatureState.ABSENT
    listing_path = resolve(_ROOT, location)
    try:
        listing = xml.parse(archive.read(listing_path), listing_path)
    except KeyError:
        warnings.append(f"signature list {location} is missing")
        return SignatureState.TAMPERED
    signatures = [s.get("BaseLoc") for s in xml.descendants(listing, "Signature")]
    if not signatures:
        return SignatureState.ABSENT
    for signature_location in signatures:
        if not signature_location:
            continue
        problem = _check_one(archive, resolve(listing_path, signature_location))
        if problem is not None:
            warnings.append(f"signature {signature_location}: {problem}")
            return SignatureState.TAMPERED
    warnings.append("signature: file digests match; the SM2 signature itself is not verified")
    return SignatureState.INTACT


def _check_one(archive: SafeZip, path: str) -> str | None:
    """What is wrong with one signature's digests, or None when all match."""
    try:
        signature = xml.parse(archive.read(path), path)
    except KeyError:
        return "the signature file is missing"
    references = next(xml.descendants(signature, "References"), None)
    if references is None:
        return "it lists no files"
    method_name = (references.get("CheckMethod") or "1.2.156.10197.1.401").strip().lower()
    method = _METHODS.get(method_name)
    if method is None:
        return f"digest method {method_name!r} is not supported"
    checked = 0
    for reference in xml.children(references, "Reference"):
        file_ref = reference.get("FileRef")
        value = xml.text(xml.child(reference, "CheckValue"))
        if not file_ref or value is None:
            return "a reference has no file or no digest"
        try:
            expected = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return f"the digest of {file_ref} is not base64"
        try:
            data = archive.read(resolve(_ROOT, file_ref))
        except KeyError:
            return f"{file_ref} is missing"
        if method(data) != expected:
            return f"{file_ref} differs from what was signed"
        checked += 1
    return None if checked else "it lists no files"
