"""PDF signatures (issue 15): ``verify_pdf(data)`` says whether a PDF is unchanged since
it was signed.

What the corpus carries, and what this reads:

- ``adbe.pkcs7.detached``: a CMS SignedData over the bytes ``/ByteRange`` covers. Old VAT
  e-invoices: RSA with SHA-1 or SHA-256 (``cryptography``). 12306 rail e-tickets: GM/T
  0010 SignedData (content type 1.2.156.10197.6.1.4.2.2), SM3 digest, SM2 signature
  (1.2.156.10197.1.301.1 or 1.2.156.10197.1.501; ``sm2`` computes Za itself). With
  signed attributes, their messageDigest must equal the digest of the covered bytes and
  the signature is over the DER SET of the attributes; without, over the covered bytes.
- ``adbe.x509.rsa_sha1``: an RSA PKCS#1 v1.5 signature over SHA-1 of the covered bytes,
  the signer's certificate in ``/Cert`` (a string, or an array of them, often indirect
  and inside an object stream).

The signature dictionary is read from the file's bytes, not through PDFium: its
``/Contents`` is the gap of the byte range, so the dictionary is always in the open
(never in a compressed object stream), and reading it needs neither ``PDFIUM_LOCK`` nor a
loaded document. Every read is bounded (signatures per file, nesting, inflated sizes);
malformed input ends in ``unverifiable`` with a reason, never in an exception.

The byte range must be ``[0 a b c]`` with ``a < b``, the gap ``[a, b)`` exactly the
``/Contents`` hex string. Bytes after ``b + c`` (an incremental update, or anything
appended) make a good signature ``modified_after_signing``: what was signed is intact,
the file is not what was signed. With several signatures (incremental signing), the one
covering the most bytes speaks for the file, and a bad signature anywhere is ``tampered``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import zlib

from asn1crypto import cms, core  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from fapiao.model.signature import CheckState, IssuerKind, SignatureCheck
from fapiao.recognize.signatures import certs, sm2

__all__ = ["verify_pdf"]

MAX_SIGNATURES = 8  # signature dictionaries read per file; more are not verified
MAX_BYTE_RANGE_KEYS = 64  # "/ByteRange" occurrences looked at per file
MAX_NESTING = 32  # arrays and dictionaries inside one another
MAX_OBJECT_STREAMS = 64  # object streams searched for an indirect /Cert
MAX_INFLATED_BYTES = 8 * 1024 * 1024  # one object stream, inflated
MAX_CERTIFICATES = 8  # /Cert entries read

PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2"
GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"  # GM/T 0010
ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ATTR_SIGNING_TIME = "1.2.840.113549.1.9.5"

# digest algorithm OID -> (name, cryptography hash)
_DIGESTS: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    "1.3.14.3.2.26": ("SHA1", hashes.SHA1),
    "2.16.840.1.101.3.4.2.1": ("SHA256", hashes.SHA256),
    "2.16.840.1.101.3.4.2.2": ("SHA384", hashes.SHA384),
    "2.16.840.1.101.3.4.2.3": ("SHA512", hashes.SHA512),
    "1.2.156.10197.1.401": ("SM3", hashes.SM3),
}
_RSA_SIGNATURES = frozenset(
    {
        "1.2.840.113549.1.1.1",  # rsaEncryption, the digest named apart
        "1.2.840.113549.1.1.5",  # sha1WithRSAEncryption
        "1.2.840.113549.1.1.11",  # sha256WithRSAEncryption
        "1.2.840.113549.1.1.12",  # sha384WithRSAEncryption
        "1.2.840.113549.1.1.13",  # sha512WithRSAEncryption
    }
)
_SM2_SIGNATURES = frozenset(
    {
        "1.2.156.10197.1.301.1",  # sm2-1 digital signature (12306)
        "1.2.156.10197.1.501",  # SM2 with SM3
        "1.2.156.10197.1.301",  # the SM2 key OID, used as a signature OID by some signers
    }
)

# A PDF date without an offset is read as China Standard Time: every file this hub
# receives is a Chinese invoice, and ``signed_at`` must be aware.
_CHINA = dt.timezone(dt.timedelta(hours=8))

_WHITESPACE = b"\x00\t\n\x0c\r "
_DELIMITERS = b"()<>[]{}/%"
_REFERENCE_REST = re.compile(rb"\s+(\d{1,10})\s+R(?=[\s/<>\[\]()%]|$)")


class _Malformed(Exception):
    """Input this module cannot read; the message is a reason, without file content."""


class _Truncated(Exception):
    """The file ends before its signed byte range does."""


# --- a bounded reader of PDF objects ------------------------------------------------------


class Name(str):
    """A PDF name, without its slash."""


@dataclasses.dataclass(frozen=True)
class PdfString:
    value: bytes
    start: int  # offset of its opening delimiter
    end: int  # offset after its closing delimiter
    is_hex: bool


@dataclasses.dataclass(frozen=True)
class Ref:
    number: int
    generation: int


@dataclasses.dataclass
class _Parser:
    """Reads one PDF object at a time from ``data``; records the offset of every
    ``/ByteRange`` key it meets with the dictionary holding it."""

    data: bytes
    pos: int = 0
    byte_range_dicts: dict[int, dict[str, object]] = dataclasses.field(default_factory=dict)

    def skip_space(self) -> None:
        data, n = self.data, len(self.data)
        while self.pos < n:
            c = data[self.pos]
            if c in _WHITESPACE:
                self.pos += 1
            elif c == 0x25:  # % comment
                while self.pos < n and data[self.pos] not in b"\r\n":
                    self.pos += 1
            else:
                return

    def parse(self, depth: int = 0) -> object:
        if depth > MAX_NESTING:
            raise _Malformed("PDF objects nested too deeply")
        self.skip_space()
        if self.pos >= len(self.data):
            raise _Malformed("PDF object cut short")
        c = self.data[self.pos]
        if self.data.startswith(b"<<", self.pos):
            return self._dict(depth)
        if c == 0x3C:  # <
            return self._hex_string()
        if c == 0x28:  # (
            return self._literal_string()
        if c == 0x5B:  # [
            return self._array(depth)
        if c == 0x2F:  # /
            return self._name()
        return self._number_or_keyword()

    def _dict(self, depth: int) -> dict[str, object]:
        self.pos += 2
        result: dict[str, object] = {}
        while True:
            self.skip_space()
            if self.data.startswith(b">>", self.pos):
                self.pos += 2
                return result
            key_at = self.pos
            key = self.parse(depth + 1)
            if not isinstance(key, Name):
                raise _Malformed("a PDF dictionary key is not a name")
            result[key] = self.parse(depth + 1)
            if key == "ByteRange":
                self.byte_range_dicts[key_at] = result

    def _array(self, depth: int) -> list[object]:
        self.pos += 1
        result: list[object] = []
        while True:
            self.skip_space()
            if self.pos < len(self.data) and self.data[self.pos] == 0x5D:  # ]
                self.pos += 1
                return result
            result.append(self.parse(depth + 1))

    def _name(self) -> Name:
        start = self.pos = self.pos + 1
        data, n = self.data, len(self.data)
        while self.pos < n and data[self.pos] not in _WHITESPACE + _DELIMITERS:
            self.pos += 1
        raw = data[start : self.pos]
        return Name(
            re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes.fromhex(m[1].decode()), raw).decode(
                "latin-1"
            )
        )

    def _hex_string(self) -> PdfString:
        start = self.pos
        end = self.data.find(b">", start)
        if end < 0:
            raise _Malformed("a PDF hex string is not closed")
        digits = re.sub(rb"[\x00\t\n\x0c\r ]", b"", self.data[start + 1 : end])
        if not re.fullmatch(rb"[0-9A-Fa-f]*", digits):
            raise _Malformed("a PDF hex string holds other characters than hex digits")
        if len(digits) % 2:
            digits += b"0"
        self.pos = end + 1
        return PdfString(bytes.fromhex(digits.decode("ascii")), start, self.pos, is_hex=True)

    def _literal_string(self) -> PdfString:
        start = self.pos
        data, n = self.data, len(self.data)
        out = bytearray()
        level, i = 1, start + 1
        while i < n:
            c = data[i]
            if c == 0x5C:  # backslash
                i = self._escape(i + 1, out)
                continue
            if c == 0x28:
                level += 1
            elif c == 0x29:
                level -= 1
                if level == 0:
                    self.pos = i + 1
                    return PdfString(bytes(out), start, self.pos, is_hex=False)
            out.append(c)
            i += 1
        raise _Malformed("a PDF string is not closed")

    def _escape(self, i: int, out: bytearray) -> int:
        data = self.data
        if i >= len(data):
            return i
        c = data[i]
        simple = {0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0C}
        if c in simple:
            out.append(simple[c])
            return i + 1
        if 0x30 <= c <= 0x37:  # up to three octal digits
            j = i
            while j < min(i + 3, len(data)) and 0x30 <= data[j] <= 0x37:
                j += 1
            out.append(int(data[i:j], 8) & 0xFF)
            return j
        if c == 0x0D:  # a line continuation
            return i + 2 if data[i + 1 : i + 2] == b"\n" else i + 1
        if c == 0x0A:
            return i + 1
        out.append(c)  # \( \) \\ and any other character stand for themselves
        return i + 1

    def _number_or_keyword(self) -> object:
        start = self.pos
        data, n = self.data, len(self.data)
        while self.pos < n and data[self.pos] not in _WHITESPACE + _DELIMITERS:
            self.pos += 1
        token = data[start : self.pos]
        if not token:
            raise _Malformed("an unexpected delimiter in a PDF object")
        if re.fullmatch(rb"[+-]?\d{1,19}", token):
            number = int(token)
            return self._maybe_reference(number)
        if re.fullmatch(rb"[+-]?(\d{0,19}\.\d{0,19})", token):
            return float(token)
        keywords: dict[bytes, object] = {b"true": True, b"false": False, b"null": None}
        if token in keywords:
            return keywords[token]
        return token.decode("latin-1")  # R, obj, stream ...: the caller decides

    def _maybe_reference(self, number: int) -> object:
        """``n g R``: a reference, read whole from its first number."""
        match = _REFERENCE_REST.match(self.data, self.pos)
        if match is None:
            return number
        self.pos = match.end()
        return Ref(number, int(match[1]))


# --- finding the signature dictionaries ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _SigDict:
    entries: dict[str, object]
    byte_range: tuple[int, int, int, int]
    contents: PdfString


def _object_header_before(data: bytes, pos: int) -> int:
    """The offset just after ``n g obj`` of the indirect object holding ``pos``."""
    end = pos
    for _ in range(64):
        at = data.rfind(b"obj", 0, end)
        if at < 0:
            break
        if not data[at - 3 : at].endswith(b"end") and re.search(
            rb"\d+\s+\d+\s+$", data[max(0, at - 24) : at]
        ):
            return at + 3
        end = at
    raise _Malformed("a /ByteRange outside any PDF object")


def _signature_dicts(data: bytes) -> list[_SigDict | _Malformed]:
    """Every dictionary holding a /ByteRange key (a /ByteRange elsewhere, in a string or
    a stream, is no signature); one that cannot be read is a ``_Malformed``."""
    found: list[_SigDict | _Malformed] = []
    seen: set[int] = set()
    for looked, match in enumerate(re.finditer(rb"/ByteRange(?=[\s\[])", data)):
        if looked >= MAX_BYTE_RANGE_KEYS or len(found) >= MAX_SIGNATURES:
            break
        if match.start() in seen:
            continue
        try:
            start = _object_header_before(data, match.start())
        except _Malformed:
            continue
        parser = _Parser(data, start)
        try:
            parser.parse()
        except (_Malformed, ValueError, IndexError) as exc:
            reason = str(exc) if isinstance(exc, _Malformed) else "unreadable PDF object"
            found.append(_Malformed(f"an unreadable signature dictionary: {reason}"))
            continue
        seen.update(parser.byte_range_dicts)
        entries = parser.byte_range_dicts.get(match.start())
        if entries is not None:
            found.append(_checked_sig_dict(entries))
    return found


def _checked_sig_dict(entries: dict[str, object]) -> _SigDict | _Malformed:
    try:
        return _sig_dict(entries)
    except _Malformed as exc:
        return exc


def _sig_dict(entries: dict[str, object]) -> _SigDict:
    byte_range = entries.get("ByteRange")
    if not (
        isinstance(byte_range, list)
        and len(byte_range) == 4
        and all(type(n) is int and n >= 0 for n in byte_range)
    ):
        raise _Malformed("/ByteRange is not four non-negative integers (one gap)")
    contents = entries.get("Contents")
    if not isinstance(contents, PdfString):
        raise _Malformed("the signature dictionary has no /Contents string")
    a, b, c, d = (int(n) for n in byte_range)
    return _SigDict(entries, (a, b, c, d), contents)


# --- what the signature says -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Outcome:
    """One signature's check, before its coverage of the file is weighed."""

    state: CheckState
    covered_end: int = 0
    algorithm: str | None = None
    certificate: certs.Certificate | None = None
    signed_at: dt.datetime | None = None
    reason: str | None = None


def verify_pdf(data: bytes) -> SignatureCheck:
    """The signature check of one PDF file (never raises on bad input)."""
    try:
        found = _signature_dicts(data)
    except (_Malformed, ValueError, IndexError):
        return SignatureCheck(state=CheckState.UNVERIFIABLE, reason="unreadable PDF structure")
    if not found:
        return SignatureCheck(state=CheckState.ABSENT)
    outcomes = [_check(data, sig) for sig in found]
    return _file_check(len(data), outcomes)


def _file_check(size: int, outcomes: list[_Outcome]) -> SignatureCheck:
    """A bad signature anywhere is the file's; else the good one covering the most (a
    signature added later that cannot be checked does not hide bytes added after a good
    one); else the first that cannot be checked."""
    tampered = [o for o in outcomes if o.state is CheckState.TAMPERED]
    if tampered:
        return _to_check(tampered[0], CheckState.TAMPERED, tampered[0].reason)
    valid = [o for o in outcomes if o.state is CheckState.VALID]
    if not valid:
        return _to_check(outcomes[0], outcomes[0].state, outcomes[0].reason)
    primary = max(valid, key=lambda o: o.covered_end)
    if primary.covered_end < size:
        reason = f"{size - primary.covered_end} bytes follow the signed byte range"
        return _to_check(primary, CheckState.MODIFIED_AFTER_SIGNING, reason)
    return _to_check(primary, CheckState.VALID, None)


def _to_check(outcome: _Outcome, state: CheckState, reason: str | None) -> SignatureCheck:
    cert = outcome.certificate
    valid_at: bool | None = None
    if cert is not None and outcome.signed_at is not None:
        valid_at = bool(cert.valid_at(outcome.signed_at))
    return SignatureCheck(
        state=state,
        algorithm=outcome.algorithm,
        signer=None if cert is None else cert.subject,
        issuer=None if cert is None else cert.issuer,
        issuer_kind=None if cert is None else IssuerKind(cert.issuer_kind),
        signed_at=outcome.signed_at,
        certificate_valid_at_signing=valid_at,
        reason=reason,
    )


def _check(data: bytes, sig: _SigDict | _Malformed) -> _Outcome:
    if isinstance(sig, _Malformed):
        return _Outcome(CheckState.UNVERIFIABLE, reason=str(sig))
    try:
        covered = _covered_bytes(data, sig)
    except _Malformed as exc:
        return _Outcome(CheckState.UNVERIFIABLE, reason=str(exc))
    except _Truncated as exc:
        return _Outcome(CheckState.TAMPERED, reason=str(exc))
    covered_end = sig.byte_range[2] + sig.byte_range[3]
    signed_at = _pdf_date(sig.entries.get("M"))
    try:
        outcome = _check_signature(data[:covered_end], sig, covered, signed_at)
    except _Malformed as exc:
        return _Outcome(CheckState.UNVERIFIABLE, covered_end, reason=str(exc))
    except Exception as exc:  # hostile DER and keys: any failure is "cannot check"
        reason = f"malformed signature ({type(exc).__name__})"
        return _Outcome(CheckState.UNVERIFIABLE, covered_end, reason=reason)
    return dataclasses.replace(outcome, covered_end=covered_end)


def _covered_bytes(data: bytes, sig: _SigDict) -> bytes:
    a, b, c, d = sig.byte_range
    if a != 0:
        raise _Malformed("the signed byte range does not start at the file's first byte")
    if not b < c:
        raise _Malformed("the signed byte range overlaps itself")
    if c + d > len(data):
        raise _Truncated("the file is shorter than its signed byte range")
    if (sig.contents.start, sig.contents.end) != (b, c) or not sig.contents.is_hex:
        raise _Malformed("the gap of the signed byte range is not exactly /Contents")
    return data[:b] + data[c : c + d]


def _check_signature(
    revision: bytes, sig: _SigDict, covered: bytes, signed_at: dt.datetime | None
) -> _Outcome:
    sub_filter = sig.entries.get("SubFilter")
    contents = sig.contents.value
    if sub_filter in ("adbe.pkcs7.detached", "ETSI.CAdES.detached"):
        return _check_cms(contents, covered, signed_at)
    if sub_filter == "adbe.x509.rsa_sha1":
        return _check_x509_rsa_sha1(revision, sig, covered, signed_at)
    named = sub_filter if isinstance(sub_filter, Name) else "none"
    raise _Malformed(f"signatures of /SubFilter {named[:40]} are not verified")


# --- adbe.pkcs7.detached: CMS SignedData, RSA or GM (SM2/SM3) ----------------------------


def _check_cms(contents: bytes, covered: bytes, signed_at: dt.datetime | None) -> _Outcome:
    info = cms.ContentInfo.load(contents, strict=False)
    content_type = info["content_type"].dotted
    if content_type not in (PKCS7_SIGNED_DATA, GM_SIGNED_DATA):
        raise _Malformed("/Contents is not a CMS SignedData")
    content = info["content"]
    signed_data = content if isinstance(content, cms.SignedData) else content.parse(cms.SignedData)
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise _Malformed("the SignedData does not hold exactly one signer")
    signer = signer_infos[0]
    cert_der = _signer_certificate(signed_data, signer)
    digest_oid = signer["digest_algorithm"]["algorithm"].dotted
    if digest_oid not in _DIGESTS:
        raise _Malformed("the signature's digest algorithm is not supported")
    digest_name, digest_hash = _DIGESTS[digest_oid]
    signature_oid = signer["signature_algorithm"]["algorithm"].dotted
    algorithm = _algorithm(signature_oid, digest_name)
    digest = _digest(digest_hash(), covered)
    attrs = signer["signed_attrs"]
    prehashed: bytes | None = None
    if len(attrs):
        signed_digest, attr_time = _signed_attributes(attrs)
        signed_at = attr_time or signed_at
        if signed_digest != digest:
            return _tampered(
                "the signed message digest does not match the covered bytes",
                cert_der,
                algorithm,
                signed_at,
            )
        message = b"\x31" + attrs.dump()[1:]  # the DER SET, not the [0] IMPLICIT tag
    else:
        message, prehashed = covered, digest
    signed = _Signed(
        signature_oid,
        digest_name,
        message,
        prehashed,
        bytes(signer["signature"].native),
    )
    return _verify_with_certificate(cert_der, signed, signed_at)


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def _signed_attributes(attrs: cms.CMSAttributes) -> tuple[bytes, dt.datetime | None]:
    digest: bytes | None = None
    when: dt.datetime | None = None
    for attr in attrs:
        oid = attr["type"].dotted
        values = attr["values"]
        if oid == ATTR_MESSAGE_DIGEST and len(values) == 1:
            value = values[0]
            raw = (
                value.native
                if isinstance(value, core.OctetString)
                else value.parse(core.OctetString).native
            )
            digest = bytes(raw)
        elif oid == ATTR_SIGNING_TIME and len(values) == 1:
            native = values[0].native
            if isinstance(native, dt.datetime) and native.tzinfo is not None:
                when = native
    if digest is None:
        raise _Malformed("the signed attributes hold no message digest")
    return digest, when


def _signer_certificate(signed_data: cms.SignedData, signer: cms.SignerInfo) -> bytes:
    carried = signed_data["certificates"]
    choices = list(carried) if isinstance(carried, cms.CertificateSet) else []
    certificates = [
        c.chosen for c in choices[:MAX_CERTIFICATES] if isinstance(c.chosen, asn1_x509.Certificate)
    ]
    if not certificates:
        raise _Malformed("the SignedData carries no certificate")
    sid = signer["sid"]
    for cert in certificates:
        tbs = cert["tbs_certificate"]
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                tbs["serial_number"].native == wanted["serial_number"].native
                and tbs["issuer"].dump() == wanted["issuer"].dump()
            ):
                return bytes(cert.dump())
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return bytes(cert.dump())
    if len(certificates) == 1:  # some signers encode the issuer differently; one is enough
        return bytes(certificates[0].dump())
    raise _Malformed("no certificate in the SignedData names the signer")


# --- adbe.x509.rsa_sha1 ----------------------------------------------------------------


def _check_x509_rsa_sha1(
    revision: bytes, sig: _SigDict, covered: bytes, signed_at: dt.datetime | None
) -> _Outcome:
    signature = _x509_signature_value(sig.contents.value)
    cert_der = _x509_certificate(revision, sig.entries.get("Cert"))
    signed = _Signed("1.2.840.113549.1.1.5", "SHA1", covered, None, signature)
    return _verify_with_certificate(cert_der, signed, signed_at)


def _x509_signature_value(contents: bytes) -> bytes:
    """The PKCS#1 signature, a DER OCTET STRING (zero padding after it)."""
    if contents[:1] == b"\x04":
        with contextlib.suppress(ValueError):
            wrapped = core.OctetString.load(contents, strict=False)
            if not contents[len(wrapped.dump()) :].strip(b"\x00"):
                return bytes(wrapped.native)
    raise _Malformed("/Contents is not a DER OCTET STRING of a PKCS#1 signature")


def _x509_certificate(revision: bytes, cert: object) -> bytes:
    """The signer's certificate: /Cert itself, or the first of its array."""
    if isinstance(cert, list):
        if not cert:
            raise _Malformed("/Cert is an empty array")
        cert = cert[0]
    if isinstance(cert, Ref):
        cert = _resolve(revision, cert)
    if not isinstance(cert, PdfString):
        raise _Malformed("/Cert holds no certificate string")
    return cert.value


def _resolve(revision: bytes, ref: Ref) -> object:
    """An indirect object of the signed revision: in the open, or in an object stream."""
    header = re.compile(rb"(?<!\d)%d\s+%d\s+obj" % (ref.number, ref.generation))
    last = None
    for last in header.finditer(revision):  # noqa: B007 - the last definition wins
        pass
    if last is not None:
        return _Parser(revision, last.end()).parse()
    for count, match in enumerate(re.finditer(rb"/Type\s*/ObjStm", revision)):
        if count >= MAX_OBJECT_STREAMS:
            break
        found = _from_object_stream(revision, match.start(), ref.number)
        if found is not None:
            return found
    raise _Malformed("/Cert refers to an object the signed revision does not hold")


def _from_object_stream(revision: bytes, type_at: int, number: int) -> object | None:
    parser = _Parser(revision, _object_header_before(revision, type_at))
    entries = parser.parse()
    if not isinstance(entries, dict):
        return None
    parser.skip_space()
    if not revision.startswith(b"stream", parser.pos):
        return None
    start = parser.pos + len(b"stream")
    start += 2 if revision[start : start + 2] == b"\r\n" else 1
    end = revision.find(b"endstream", start)
    length = entries.get("Length")
    if type(length) is int and start + length <= len(revision):
        end = start + length
    if end < 0 or entries.get("Filter") not in ("FlateDecode", None):
        return None
    inflater = zlib.decompressobj()
    body = inflater.decompress(revision[start:end], MAX_INFLATED_BYTES)
    first, count = entries.get("First"), entries.get("N")
    if type(first) is not int or type(count) is not int:
        return None
    pairs = re.findall(rb"\d+", body[:first])[: 2 * count]
    for i in range(0, len(pairs) - 1, 2):
        if int(pairs[i]) == number:
            return _Parser(body, first + int(pairs[i + 1])).parse()
    return None


# --- the signature itself --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Signed:
    """What one signature is over, and the signature."""

    signature_oid: str
    digest_name: str  # a key of _DIGEST_BY_NAME
    message: bytes  # what was signed: the covered bytes, or the DER SET of attributes
    prehashed: bytes | None  # the digest of ``message`` when already computed
    signature: bytes


def _verify_with_certificate(
    cert_der: bytes, signed: _Signed, signed_at: dt.datetime | None
) -> _Outcome:
    cert = certs.Certificate.load(cert_der)
    algorithm = _algorithm(signed.signature_oid, signed.digest_name)
    if algorithm == "SM2-SM3":
        if cert.key_algorithm != "sm2":
            raise _Malformed("an SM2 signature by a certificate without an SM2 key")
        good = sm2.verify(cert.public_key, signed.message, signed.signature)
    else:
        good = _rsa_verify(cert, signed)
    if not good:
        return _tampered("the signature does not verify", cert_der, algorithm, signed_at, cert)
    return _Outcome(CheckState.VALID, 0, algorithm, cert, signed_at)


def _algorithm(signature_oid: str, digest_name: str) -> str:
    """'SM2-SM3', 'RSA-SHA256' ...; a pair this module does not verify is malformed."""
    if signature_oid in _SM2_SIGNATURES and digest_name == "SM3":
        return "SM2-SM3"
    if signature_oid in _RSA_SIGNATURES and digest_name != "SM3":
        return f"RSA-{digest_name}"
    raise _Malformed("the signature algorithm is not supported")


def _rsa_verify(cert: certs.Certificate, signed: _Signed) -> bool:
    if cert.key_algorithm != "rsa":
        raise _Malformed("the signer certificate holds no RSA key")
    key = serialization.load_der_public_key(cert.public_key)  # the SubjectPublicKeyInfo
    if not isinstance(key, rsa.RSAPublicKey):
        raise _Malformed("the signer certificate holds no RSA key")
    size = (key.key_size + 7) // 8
    signature = signed.signature
    if len(signature) != size:
        raise _Malformed("the RSA signature is not as long as its key")
    algorithm = _DIGEST_BY_NAME[signed.digest_name]()
    try:
        if signed.prehashed is None:
            key.verify(signature, signed.message, padding.PKCS1v15(), algorithm)
        else:
            key.verify(signature, signed.prehashed, padding.PKCS1v15(), utils.Prehashed(algorithm))
    except InvalidSignature:
        return False
    return True


_DIGEST_BY_NAME: dict[str, type[hashes.HashAlgorithm]] = dict(_DIGESTS.values())


def _tampered(
    reason: str,
    cert_der: bytes,
    algorithm: str,
    signed_at: dt.datetime | None,
    cert: certs.Certificate | None = None,
) -> _Outcome:
    if cert is None:
        try:
            cert = certs.Certificate.load(cert_der)
        except Exception:  # the certificate is not what makes it tampered
            cert = None
    return _Outcome(CheckState.TAMPERED, 0, algorithm, cert, signed_at, reason)


def _pdf_date(value: object) -> dt.datetime | None:
    """``D:YYYYMMDDHHmmSSOHH'mm'`` (the /M entry), aware; None when unreadable."""
    if not isinstance(value, PdfString):
        return None
    match = re.fullmatch(
        rb"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
        rb"(?:([Zz+-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?\s*",
        value.value,
    )
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, oh, om = match.groups()
    tz = _CHINA
    if sign in (b"Z", b"z"):
        tz = dt.UTC
    elif sign is not None:
        offset = dt.timedelta(hours=int(oh or 0), minutes=int(om or 0))
        tz = dt.timezone(offset if sign == b"+" else -offset)
    try:
        return dt.datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None
