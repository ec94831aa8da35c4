"""PDF signatures (issue 15): the corpus's signed PDFs verify, unsigned ones are absent,
and tampered copies, PDFs the tests sign themselves and junk never pass for valid."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from fapiao.model.signature import CheckState, IssuerKind, SignatureCheck
from fapiao.recognize import native
from fapiao.recognize.signatures.pdf import verify_pdf
from support import CORPUS

from .conftest import Sm2Key

FILES = CORPUS / "files"
PREFIX_12306 = "coneskiplight__seek_insight__25"
OLD_VAT_RSA = {
    "yooongchun__Invoice2Excel__012001900111_51142414.pdf": "RSA-SHA256",
    "yooongchun__Invoice2Excel__03702170021127209635.pdf": "RSA-SHA1",
    "yooongchun__Invoice2Excel__91420100MA4KPBL615_b076f3dbe31343379d6f9f37395f74fb.pdf": (
        "RSA-SHA1"
    ),
    "yooongchun__Invoice2Excel__91421200052621669E_da5e0e2e7a9e469b94864ffc9cc7dc1c.pdf": (
        "RSA-SHA1"
    ),
    "yooongchun__Invoice2Excel__91430600796857412W_dfeafefde38e4cb1b616bb598487e6e8.pdf": (
        "RSA-SHA1"
    ),
    "yooongchun__Invoice2Excel__91440114755593481G_e2aff9af2e9b4d03a7309bdcb8169d42.pdf": (
        "RSA-SHA1"
    ),
}
DIDI = "yooongchun__Invoice2Excel__didi.pdf"
RAIL_12306 = [
    f"{PREFIX_12306}429165818000921016.pdf",
    f"{PREFIX_12306}429165848001394838.pdf",
    f"{PREFIX_12306}449123475000052507.pdf",
    f"{PREFIX_12306}449165860000808261.pdf",
]
SIGNED = {**OLD_VAT_RSA, **dict.fromkeys(RAIL_12306, "SM2-SM3")}
UNSIGNED = [
    "coneskiplight__seek_insight__fapiao.pdf",  # 数电 普票
    "wanglia101511__tools__发票.pdf",  # 数电 专票
    "yooongchun__Invoice2Excel__012001900211-61876678(1).pdf",  # old e-invoice, unsigned
]


def corpus(name: str) -> bytes:
    path = FILES / name
    if not path.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    return path.read_bytes()


def byte_range(data: bytes) -> tuple[int, int, int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", data)
    assert match is not None
    a, b, c, d = (int(n) for n in match.groups())
    return a, b, c, d


def with_byte(data: bytes, at: int, value: int | None = None) -> bytes:
    changed = bytearray(data)
    changed[at] = (changed[at] ^ 0x01) if value is None else value
    return bytes(changed)


def with_contents(data: bytes, contents: bytes) -> bytes:
    """``data`` with its /Contents replaced by ``contents`` (hex, zero-padded in place)."""
    _, b, c, _ = byte_range(data)
    digits = contents.hex().upper().encode()
    assert len(digits) <= c - b - 2
    return data[: b + 1] + digits.ljust(c - b - 2, b"0") + data[c - 1 :]


def contents_of(data: bytes) -> bytes:
    _, b, c, _ = byte_range(data)
    return bytes.fromhex(re.sub(rb"\s", b"", data[b + 1 : c - 1]).decode())


def signature_altered(data: bytes) -> bytes:
    """The signature value inside /Contents with one bit flipped (same length)."""
    contents = contents_of(data)
    if contents[:1] == b"\x04":  # adbe.x509.rsa_sha1: an OCTET STRING
        value = core.OctetString.load(contents, strict=False).native
    else:
        info = cms.ContentInfo.load(contents, strict=False)
        content = info["content"]
        signed = content if isinstance(content, cms.SignedData) else content.parse(cms.SignedData)
        value = signed["signer_infos"][0]["signature"].native
    at = contents.index(value) + len(value) // 2
    return with_contents(data, with_byte(contents, at))


# --- the corpus ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_signed_corpus_pdf_is_valid_with_its_issuer(name: str) -> None:
    check = verify_pdf(corpus(name))
    assert check.state is CheckState.VALID, check.reason
    assert check.algorithm == SIGNED[name]
    assert check.issuer_kind is IssuerKind.COMMERCIAL_CA
    assert check.signer and check.issuer
    assert check.signed_at is not None and check.signed_at.tzinfo is not None
    assert check.certificate_valid_at_signing is True
    assert check.reason is None


def test_12306_tickets_are_signed_by_srca_with_sm2() -> None:
    check = verify_pdf(corpus(RAIL_12306[0]))
    assert check.algorithm == "SM2-SM3"
    assert check.issuer is not None and "SRCA_SM2" in check.issuer
    assert check.signer is not None and "12306" in check.signer


def test_didi_pdf_was_modified_after_signing() -> None:
    check = verify_pdf(corpus(DIDI))
    assert check.state is CheckState.MODIFIED_AFTER_SIGNING
    assert check.reason == "711 bytes follow the signed byte range"
    assert check.algorithm == "RSA-SHA1"
    assert check.issuer_kind is IssuerKind.COMMERCIAL_CA
    assert check.signed_at == dt.datetime(2018, 9, 21, 16, 0, 40, tzinfo=_CHINA)


@pytest.mark.parametrize("name", UNSIGNED)
def test_unsigned_corpus_pdf_is_absent(name: str) -> None:
    assert verify_pdf(corpus(name)) == SignatureCheck(state=CheckState.ABSENT)


@pytest.mark.parametrize("name", [*sorted(SIGNED), DIDI, *UNSIGNED])
def test_signatures_found_are_those_pdfium_finds(name: str) -> None:
    data = corpus(name)
    with native.PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            count = pdfium_c.FPDF_GetSignatureCount(document.raw)
        finally:
            document.close()
    assert (verify_pdf(data).state is CheckState.ABSENT) == (count == 0)


# --- tampered copies -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_a_byte_changed_in_the_signed_range_is_tampered(name: str) -> None:
    data = corpus(name)
    _, _, c, d = byte_range(data)
    check = verify_pdf(with_byte(data, c + d // 2))
    assert check.state is CheckState.TAMPERED
    assert check.signer is not None  # who signed what is now changed


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_bytes_appended_after_signing_are_modified_after_signing(name: str) -> None:
    check = verify_pdf(corpus(name) + b"\n% appended\n")
    assert check.state is CheckState.MODIFIED_AFTER_SIGNING
    assert check.reason == "12 bytes follow the signed byte range"


@pytest.mark.parametrize("name", [*sorted(SIGNED), DIDI])
def test_an_altered_signature_value_is_tampered(name: str) -> None:
    check = verify_pdf(signature_altered(corpus(name)))
    assert check.state is CheckState.TAMPERED
    assert check.reason == "the signature does not verify"


@pytest.mark.parametrize(
    "name",
    [next(iter(OLD_VAT_RSA)), RAIL_12306[0], "yooongchun__Invoice2Excel__03702170021127209635.pdf"],
)
def test_no_byte_changed_in_the_signed_range_passes(name: str) -> None:
    """Any covered byte, the signature dictionary's own included: never valid, never raises."""
    data = corpus(name)
    _, b, c, d = byte_range(data)
    rng = random.Random(15)
    positions = [*range(min(b, 400)), *rng.sample(range(b), 40), *rng.sample(range(c, c + d), 40)]
    for at in positions:
        for value in (None, rng.randrange(256)):
            changed = with_byte(data, at, value)
            if changed == data:
                continue
            assert verify_pdf(changed).state is not CheckState.VALID, at


def test_a_truncated_signed_pdf_is_not_valid() -> None:
    data = corpus(next(iter(OLD_VAT_RSA)))
    for size in (len(data) - 1, len(data) // 2, 200, 0):
        assert verify_pdf(data[:size]).state is not CheckState.VALID


def test_a_signed_message_digest_that_does_not_match_is_tampered() -> None:
    """The 12306 signature over its attributes still verifies; the covered bytes do not."""
    data = corpus(RAIL_12306[0])
    _, b, _, _ = byte_range(data)
    check = verify_pdf(with_byte(data, b - 20))  # inside the signature dictionary
    assert check.state is CheckState.TAMPERED
    assert check.reason == "the signed message digest does not match the covered bytes"


# --- junk ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "contents",
    [
        b"",
        b"\x00" * 64,
        b"\x30\x84\x7f\xff\xff\xff",  # a huge length
        b"\x30\x80" + b"\x06\x09" * 50,  # indefinite, never ended
        bytes(range(100)),
        cms.ContentInfo({"content_type": "data", "content": b"no signature"}).dump(),
    ],
)
def test_junk_in_contents_is_unverifiable(contents: bytes) -> None:
    for name in (next(iter(OLD_VAT_RSA)), RAIL_12306[0], DIDI):
        check = verify_pdf(with_contents(corpus(name), contents))
        assert check.state is CheckState.UNVERIFIABLE, name
        assert check.reason


def test_truncated_signed_data_is_never_valid() -> None:
    """Cut short, zero-padded as a signer pads it: a broken structure or a wrong value."""
    data = corpus(RAIL_12306[0])
    contents = contents_of(data).rstrip(b"\x00")
    for cut in (1, 10, len(contents) // 3, len(contents) // 2, len(contents) - 5):
        check = verify_pdf(with_contents(data, contents[:cut]))
        assert check.state in (CheckState.UNVERIFIABLE, CheckState.TAMPERED)
        assert check.reason


def test_non_hex_contents_are_unverifiable() -> None:
    data = corpus(next(iter(OLD_VAT_RSA)))
    _, b, _, _ = byte_range(data)
    check = verify_pdf(with_byte(data, b + 10, ord("Z")))
    assert check.state is CheckState.UNVERIFIABLE


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"%PDF-1.7\n/ByteRange",
        b"%PDF-1.7\n1 0 obj\n<</ByteRange [0 10 20 30]",
        b"%PDF-1.7\n1 0 obj\n<</ByteRange [0 10 20 30]/Contents <00>>>\nendobj\n",
        b"%PDF-1.7\n1 0 obj\n<</ByteRange [0 a b c]/Contents <00>>>\nendobj\n",
        b"%PDF-1.7\n1 0 obj\n" + b"[" * 10_000 + b"/ByteRange",
        b"%PDF-1.7\n1 0 obj\n<</A " + b"[" * 10_000 + b"]>>/ByteRange [0 1 2 3]",
        b"%PDF-1.7\n1 0 obj\n<</ByteRange [0 10 20 30]/Contents (" + b"\\" * 5000,
        b"%PDF-1.7\n1 0 obj\n<</ByteRange [0 10 20 30]/Contents <0G>>>\nendobj\n",
        bytes(random.Random(1).randrange(256) for _ in range(4096)) + b"/ByteRange [",
    ],
)
def test_garbage_never_raises_and_is_never_valid(junk: bytes) -> None:
    check = verify_pdf(junk)
    assert check.state in (CheckState.ABSENT, CheckState.UNVERIFIABLE, CheckState.TAMPERED)


# --- PDFs the tests sign themselves ----------------------------------------------------

_CHINA = dt.timezone(dt.timedelta(hours=8))
_SIGNED_AT = dt.datetime(2025, 5, 1, 12, 30, tzinfo=_CHINA)
_CONTENTS_BYTES = 4096


@pytest.fixture(scope="module")
def signer() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "测试签章"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fapiao tests"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(15)
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.DER)


def build_signed_pdf(
    sub_filter: bytes,
    sign: Callable[[bytes], bytes],
    extra: bytes = b"",
    when: bytes = b"D:20250501123000+08'00'",
) -> bytes:
    """A one-page PDF with one signature field whose /Contents is ``sign(covered bytes)``."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]/SigFlags 3>>>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Annots[4 0 R]>>",
        b"<</FT/Sig/T(Signature1)/Type/Annot/Subtype/Widget/Rect[0 0 0 0]/P 3 0 R/V 5 0 R>>",
        _signature_dictionary(sub_filter, extra, when),
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return _fill(out, sign)


def append_signature(data: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    """``data`` with an incremental update holding a second signature over the whole file."""
    out = bytearray(data)
    offset = len(out)
    out += (
        b"6 0 obj\n"
        + _signature_dictionary(b"adbe.pkcs7.detached", b"", b"D:20250502")
        + (b"\nendobj\n")
    )
    xref = len(out)
    out += b"xref\n6 1\n%010d 00000 n \n" % offset
    out += b"trailer\n<</Size 7/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref
    return _fill(out, sign)


def _signature_dictionary(sub_filter: bytes, extra: bytes, when: bytes) -> bytes:
    return (
        b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/"
        + sub_filter
        + extra
        + b"/M("
        + when
        + b")/ByteRange [0 ########## ########## ##########]"
        + b"/Contents <"
        + b"0" * (2 * _CONTENTS_BYTES)
        + b">>>"
    )


def _fill(out: bytearray, sign: Callable[[bytes], bytes]) -> bytes:
    """The last signature dictionary's byte range and /Contents filled in."""
    b = out.rindex(b"/Contents <") + len(b"/Contents ")
    c = b + 2 * _CONTENTS_BYTES + 2
    numbers = b"%10d %10d %10d" % (b, c, len(out) - c)
    placeholder = out.rindex(b"########## ########## ##########")
    out[placeholder : placeholder + len(numbers)] = numbers
    signature = sign(bytes(out[:b] + out[c:]))
    out[b + 1 : b + 1 + 2 * len(signature)] = signature.hex().upper().encode()
    return bytes(out)


def signed_data(
    cert: asn1_x509.Certificate,
    covered: bytes,
    *,
    digest: type[hashes.HashAlgorithm],
    digest_algorithm: str,
    signature_algorithm: str,
    data_type: str,
    sign: Callable[[bytes], bytes],
    with_attributes: bool,
) -> cms.SignedData:
    """A detached CMS SignedData over ``covered`` by ``cert``'s key (``sign``), with the
    signed attributes (content type, signing time, message digest) or without."""
    hashed = hashes.Hash(digest())
    hashed.update(covered)
    signer_info: dict[str, object] = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                }
            }
        ),
        "digest_algorithm": {"algorithm": digest_algorithm},
        "signature_algorithm": {"algorithm": signature_algorithm},
    }
    signed = covered
    if with_attributes:
        attributes = cms.CMSAttributes(
            [
                {"type": "content_type", "values": [data_type]},
                {"type": "signing_time", "values": [cms.Time({"utc_time": _SIGNED_AT})]},
                {"type": "message_digest", "values": [hashed.finalize()]},
            ]
        )
        signer_info["signed_attrs"] = attributes
        signed = attributes.dump()
    signer_info["signature"] = sign(signed)
    return cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_algorithm}],
            "encap_content_info": {"content_type": data_type},
            "certificates": [cert],
            "signer_infos": [cms.SignerInfo(signer_info)],
        }
    )


def cms_signer(
    key: rsa.RSAPrivateKey, cert_der: bytes, *, with_attributes: bool
) -> Callable[[bytes], bytes]:
    cert = asn1_x509.Certificate.load(cert_der)

    def sign(covered: bytes) -> bytes:
        data = signed_data(
            cert,
            covered,
            digest=hashes.SHA256,
            digest_algorithm="sha256",
            signature_algorithm="rsassa_pkcs1v15",
            data_type="data",
            sign=lambda signed: key.sign(signed, padding.PKCS1v15(), hashes.SHA256()),
            with_attributes=with_attributes,
        )
        return bytes(cms.ContentInfo({"content_type": "signed_data", "content": data}).dump())

    return sign


@pytest.mark.parametrize("with_attributes", [True, False])
def test_a_pdf_signed_here_with_cms_is_valid_then_tampered(
    signer: tuple[rsa.RSAPrivateKey, bytes], with_attributes: bool
) -> None:
    key, cert_der = signer
    data = build_signed_pdf(
        b"adbe.pkcs7.detached", cms_signer(key, cert_der, with_attributes=with_attributes)
    )
    check = verify_pdf(data)
    assert check.state is CheckState.VALID, check.reason
    assert check.algorithm == "RSA-SHA256"
    assert check.signer == check.issuer and check.signer is not None and "测试签章" in check.signer
    assert check.issuer_kind is not IssuerKind.TAX_BUREAU
    assert check.signed_at == _SIGNED_AT
    assert check.certificate_valid_at_signing is True

    page = data.index(b"MediaBox[0 0 200 200]")
    assert verify_pdf(data.replace(b"200 200", b"200 201", 1)).state is CheckState.TAMPERED
    assert verify_pdf(with_byte(data, page)).state is CheckState.TAMPERED
    assert verify_pdf(data + b"1 0 obj\n<<>>\nendobj\n").state is (
        CheckState.MODIFIED_AFTER_SIGNING
    )
    assert verify_pdf(signature_altered(data)).state is CheckState.TAMPERED


def test_a_pdf_signed_here_with_x509_rsa_sha1_is_valid_then_tampered(
    signer: tuple[rsa.RSAPrivateKey, bytes],
) -> None:
    key, cert_der = signer

    def sign(covered: bytes) -> bytes:
        signature = key.sign(covered, padding.PKCS1v15(), hashes.SHA1())
        return bytes(core.OctetString(signature).dump())

    data = build_signed_pdf(
        b"adbe.x509.rsa_sha1", sign, b"/Cert <" + cert_der.hex().encode() + b">"
    )
    check = verify_pdf(data)
    assert check.state is CheckState.VALID, check.reason
    assert check.algorithm == "RSA-SHA1"
    assert check.signed_at == _SIGNED_AT
    assert verify_pdf(data.replace(b"200 200", b"200 201", 1)).state is CheckState.TAMPERED
    assert verify_pdf(signature_altered(data)).state is CheckState.TAMPERED


@pytest.mark.parametrize(
    ("when", "signed_at", "valid_then"),
    [
        (b"D:20270501123000Z", dt.datetime(2027, 5, 1, 12, 30, tzinfo=dt.UTC), False),
        (b"D:20250501", dt.datetime(2025, 5, 1, tzinfo=_CHINA), True),  # no offset: +08:00
        (b"not a date", None, None),
    ],
)
def test_signed_at_comes_from_m_without_a_signing_time(
    signer: tuple[rsa.RSAPrivateKey, bytes],
    when: bytes,
    signed_at: dt.datetime | None,
    valid_then: bool | None,
) -> None:
    key, cert_der = signer
    sign = cms_signer(key, cert_der, with_attributes=False)
    check = verify_pdf(build_signed_pdf(b"adbe.pkcs7.detached", sign, when=when))
    assert check.state is CheckState.VALID
    assert check.signed_at == signed_at
    assert check.certificate_valid_at_signing is valid_then


def test_a_byte_range_whose_gap_is_not_contents_is_unverifiable(
    signer: tuple[rsa.RSAPrivateKey, bytes],
) -> None:
    key, cert_der = signer
    sign = cms_signer(key, cert_der, with_attributes=True)
    data = build_signed_pdf(b"adbe.pkcs7.detached", sign)
    _, b, c, d = byte_range(data)
    for wrong in ((1, b, c, d - 1), (0, b + 2, c, d), (0, b, c - 1, d + 1), (0, c, b, d)):
        moved = data.replace(b"%10d %10d %10d" % (b, c, d), b"%10d %10d %10d" % wrong[1:], 1)
        if wrong[0]:
            moved = moved.replace(b"/ByteRange [0 ", b"/ByteRange [1 ", 1)
        check = verify_pdf(moved)
        assert check.state is CheckState.UNVERIFIABLE, wrong
        assert check.reason


def test_an_unknown_sub_filter_is_unverifiable(signer: tuple[rsa.RSAPrivateKey, bytes]) -> None:
    key, cert_der = signer
    data = build_signed_pdf(b"ETSI.RFC3161", cms_signer(key, cert_der, with_attributes=True))
    check = verify_pdf(data)
    assert check.state is CheckState.UNVERIFIABLE
    assert check.reason == "signatures of /SubFilter ETSI.RFC3161 are not verified"


def test_a_second_signature_over_the_whole_file_speaks_for_it(
    signer: tuple[rsa.RSAPrivateKey, bytes],
) -> None:
    """Incremental signing: the first signature covers a prefix, the last the file."""
    key, cert_der = signer
    sign = cms_signer(key, cert_der, with_attributes=True)
    first = build_signed_pdf(b"adbe.pkcs7.detached", sign)
    both = append_signature(first, sign)
    assert verify_pdf(both).state is CheckState.VALID
    assert verify_pdf(both + b"\n").state is CheckState.MODIFIED_AFTER_SIGNING
    assert verify_pdf(signature_altered(both)).state is CheckState.TAMPERED
    first_altered = signature_altered(first) + both[len(first) :]
    assert verify_pdf(first_altered).state is CheckState.TAMPERED  # the second no longer holds


def test_every_corpus_pdf_has_its_expectation_here() -> None:
    if not FILES.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    unexpected = {p.name for p in FILES.glob("*.pdf")} - set(SIGNED) - {DIDI} - set(UNSIGNED)
    assert unexpected == set()


# --- GM/T 0010 SignedData (SM2/SM3) made here -----------------------------------------

GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
GM_DATA = "1.2.156.10197.6.1.4.2.1"
SM3 = "1.2.156.10197.1.401"


def tlv(tag: int, body: bytes) -> bytes:
    """One DER element."""
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def gm_signer(
    key: Sm2Key, cert_der: bytes, *, with_attributes: bool, signature_oid: str
) -> Callable[[bytes], bytes]:
    cert = asn1_x509.Certificate.load(cert_der)

    def sign(covered: bytes) -> bytes:
        data = signed_data(
            cert,
            covered,
            digest=hashes.SM3,
            digest_algorithm=SM3,
            signature_algorithm=signature_oid,
            data_type=GM_DATA,
            sign=key.sign,
            with_attributes=with_attributes,
        )
        content_type = core.ObjectIdentifier(GM_SIGNED_DATA).dump()
        return tlv(0x30, content_type + tlv(0xA0, data.dump()))  # ContentInfo

    return sign


@pytest.mark.parametrize(
    ("with_attributes", "signature_oid"),
    [(True, "1.2.156.10197.1.301.1"), (False, "1.2.156.10197.1.501")],
)
def test_a_pdf_signed_here_with_sm2_is_valid_then_tampered(
    signer_key: Sm2Key,
    make_certificate: Callable[..., bytes],
    with_attributes: bool,
    signature_oid: str,
) -> None:
    cert_der = make_certificate(signer_key, subject="测试 12306 signer")
    sign = gm_signer(
        signer_key, cert_der, with_attributes=with_attributes, signature_oid=signature_oid
    )
    data = build_signed_pdf(b"adbe.pkcs7.detached", sign)
    check = verify_pdf(data)
    assert check.state is CheckState.VALID, check.reason
    assert check.algorithm == "SM2-SM3"
    assert check.signer is not None and "测试 12306 signer" in check.signer
    assert check.issuer_kind is not IssuerKind.TAX_BUREAU
    assert check.signed_at == _SIGNED_AT
    assert check.certificate_valid_at_signing is True
    assert verify_pdf(data.replace(b"200 200", b"200 201", 1)).state is CheckState.TAMPERED
    assert verify_pdf(data + b"\n").state is CheckState.MODIFIED_AFTER_SIGNING
    assert verify_pdf(signature_altered(data)).state is CheckState.TAMPERED


def test_an_sm2_signature_by_another_key_is_tampered(
    signer_key: Sm2Key, maker_key: Sm2Key, make_certificate: Callable[..., bytes]
) -> None:
    cert_der = make_certificate(signer_key)
    sign = gm_signer(
        maker_key, cert_der, with_attributes=True, signature_oid="1.2.156.10197.1.301.1"
    )
    check = verify_pdf(build_signed_pdf(b"adbe.pkcs7.detached", sign))
    assert check.state is CheckState.TAMPERED
    assert check.reason == "the signature does not verify"
