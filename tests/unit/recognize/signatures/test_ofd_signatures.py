"""OFD signatures: the corpus's signed files, tampered copies of them, and SES v4 and v1
structures the tests sign themselves (a test SM2 key pair, a "Test CA" certificate)."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable

import pytest
from asn1crypto import core  # type: ignore[import-untyped]
from fixtures.generate import zip_files
from fixtures.signing import SIGNED_AT, Sm2Key, base_files, new_key, ses_v1, ses_v4, signed_ofd

from fapiao.model.signature import CheckState, IssuerKind, SignatureCheck
from fapiao.recognize.safezip import SafeZip
from fapiao.recognize.signatures import certs
from fapiao.recognize.signatures.ofd import MAX_SIGNATURES, verify_ofd
from support import CORPUS

UTC = dt.UTC
SIGNED_CORPUS = {
    "ofdrw__ofdrw__1.ofd": IssuerKind.TAX_BUREAU,
    "ofdrw__ofdrw__keyword2.ofd": IssuerKind.TAX_BUREAU,
    "ofdrw__ofdrw__SignScaleError.ofd": IssuerKind.TAX_BUREAU,
    "ofdrw__ofdrw__999.ofd": IssuerKind.TAX_BUREAU_TEST,
    "ofdrw__ofdrw__draw_param_ref.ofd": IssuerKind.TAX_BUREAU_TEST,
    "ofdrw__ofdrw__v4signed.ofd": IssuerKind.TAX_BUREAU_TEST,
}
UNSIGNED_CORPUS = ("ofdrw__ofdrw__20240531141733.ofd", "ofdrw__ofdrw__no_page_container.ofd")
SIGNED_VALUE = "Doc_0/Signs/Sign_0/SignedValue.dat"
SIGNATURE_XML = "Doc_0/Signs/Sign_0/Signature.xml"
PAGE = "Doc_0/Pages/Page_0/Content.xml"
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
XML = '<?xml version="1.0" encoding="UTF-8"?>'


def _check(data: bytes) -> SignatureCheck:
    return verify_ofd(SafeZip(data))


def _corpus(name: str) -> bytes:
    path = CORPUS / "files" / name
    if not path.exists():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    return path.read_bytes()


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()
        }


def _changed(data: bytes, path: str, change: Callable[[bytes], bytes]) -> bytes:
    files = _files(data)
    (name,) = (n for n in files if n.lstrip("/").lower() == path.lower())
    files[name] = change(files[name])
    return zip_files(files)


def _flip(offset: int) -> Callable[[bytes], bytes]:
    def flip(data: bytes) -> bytes:
        at = offset % len(data)
        return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]

    return flip


# --- SES structures, built by the test (fixtures.signing) -----------------------------


@pytest.fixture(scope="module")
def signer(signer_key: Sm2Key, make_certificate: Callable[..., bytes]) -> tuple[Sm2Key, bytes]:
    return signer_key, make_certificate(signer_key, subject="Test Signer")


@pytest.fixture(scope="module")
def maker(maker_key: Sm2Key, make_certificate: Callable[..., bytes]) -> tuple[Sm2Key, bytes]:
    return maker_key, make_certificate(maker_key, subject="Test Seal Maker")


@pytest.fixture(scope="module")
def v4_ofd(signer: tuple[Sm2Key, bytes], maker: tuple[Sm2Key, bytes]) -> bytes:
    return signed_ofd(lambda xml: ses_v4(xml, signer, maker))


@pytest.fixture(scope="module")
def v1_ofd(signer: tuple[Sm2Key, bytes], maker: tuple[Sm2Key, bytes]) -> bytes:
    return signed_ofd(lambda xml: ses_v1(xml, signer, maker))


# --- the corpus ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind"), SIGNED_CORPUS.items())
def test_every_signed_corpus_ofd_is_valid(name: str, kind: IssuerKind) -> None:
    check = _check(_corpus(name))
    assert check.state is CheckState.VALID, check.reason
    assert check.issuer_kind is kind
    assert check.algorithm == "SM2-SM3"
    assert check.signer and check.issuer
    assert ("税务测试CA" in check.issuer) is (kind is IssuerKind.TAX_BUREAU_TEST)
    assert check.signed_at is not None and check.signed_at.tzinfo is not None
    assert check.certificate_valid_at_signing is True
    assert check.reason is None


def test_a_corpus_signing_time_and_signer() -> None:
    check = _check(_corpus("ofdrw__ofdrw__999.ofd"))
    assert check.signed_at == dt.datetime(2020, 8, 17, 11, 13, 29, tzinfo=UTC)
    assert check.issuer == "C=CN, CN=税务测试CA2(SM2)"
    assert check.signer is not None and "重庆市税务局" in check.signer


@pytest.mark.parametrize("name", UNSIGNED_CORPUS)
def test_unsigned_corpus_ofds_are_absent(name: str) -> None:
    assert _check(_corpus(name)).state is CheckState.ABSENT


def _first_page(data: bytes) -> str:
    return next(n for n in _files(data) if "/pages/page_0/content.xml" in n.lower())


@pytest.mark.parametrize("name", SIGNED_CORPUS)
def test_one_byte_changed_in_a_corpus_page_is_tampered(name: str) -> None:
    data = _corpus(name)
    valid = _check(data)
    page = _first_page(data)
    for offset in (0, 200, -2):
        check = _check(_changed(data, page, _flip(offset)))
        assert check.state is CheckState.TAMPERED, offset
        assert check.reason is not None and "Content.xml" in check.reason
        # the edited file still says who had signed it, and under which CA
        assert (check.signer, check.issuer_kind) == (valid.signer, valid.issuer_kind), offset


@pytest.mark.parametrize("name", SIGNED_CORPUS)
def test_an_edited_corpus_signature_xml_is_tampered(name: str) -> None:
    data = _corpus(name)
    check = _check(_changed(data, SIGNATURE_XML, lambda xml: xml.replace(b"?>", b"?> ", 1)))
    assert check.state is CheckState.TAMPERED
    assert check.reason is not None and "Signature.xml differs" in check.reason
    assert check.issuer_kind is SIGNED_CORPUS[name]  # who signed what is now altered


@pytest.mark.parametrize("name", SIGNED_CORPUS)
def test_an_altered_corpus_signature_value_is_tampered(name: str) -> None:
    data = _corpus(name)
    for offset in (-1, -10):  # inside s, inside r
        check = _check(_changed(data, SIGNED_VALUE, _flip(offset)))
        assert check.state is CheckState.TAMPERED, offset
        assert check.reason is not None and "signer's signature" in check.reason


@pytest.mark.parametrize("name", SIGNED_CORPUS)
def test_an_altered_corpus_seal_is_never_valid(name: str) -> None:
    data = _corpus(name)
    value = _files(data)[SIGNED_VALUE]
    seal_info = core.Sequence.load(core.Sequence.load(value)[0].dump())[1]
    # one byte inside SES_SealInfo (its picture), then the DER still reads
    offset = value.index(seal_info.dump()) + 600
    check = _check(_changed(data, SIGNED_VALUE, _flip(offset)))
    assert check.state is CheckState.TAMPERED


@pytest.mark.parametrize("name", SIGNED_CORPUS)
def test_a_corpus_page_removed_is_tampered(name: str) -> None:
    data = _corpus(name)
    files = _files(data)
    del files[_first_page(data)]
    check = _check(zip_files(files))
    assert check.state is CheckState.TAMPERED
    assert check.reason is not None and "missing" in check.reason


# --- SES v4 and v1 made by the test ------------------------------------------------------


@pytest.mark.parametrize("version", ["v4", "v1"])
def test_a_generated_signature_is_valid_and_its_issuer_unknown(
    version: str, request: pytest.FixtureRequest
) -> None:
    check = _check(request.getfixturevalue(f"{version}_ofd"))
    assert check == SignatureCheck(
        state=CheckState.VALID,
        algorithm="SM2-SM3",
        signer="C=CN, CN=Test Signer",
        issuer="C=CN, CN=Test CA",
        issuer_kind=IssuerKind.UNKNOWN,
        signed_at=SIGNED_AT,
        certificate_valid_at_signing=True,
    )
    assert check.to_json()["state"] == "valid"


@pytest.mark.parametrize("version", ["v4", "v1"])
@pytest.mark.parametrize(
    ("path", "change", "words"),
    [
        (PAGE, _flip(100), "Content.xml differs"),
        (
            "Doc_0/Document.xml",
            lambda data: data.replace(b"<ofd:Pages>", b"<ofd:Pages> "),
            "Document",
        ),
        (
            SIGNATURE_XML,
            lambda data: data.replace(b"fapiao-tests", b"fapiao-Tests"),
            "Signature.xml",
        ),
        (SIGNED_VALUE, _flip(-1), "signer's signature"),
        (SIGNED_VALUE, _flip(-20), "signer's signature"),
    ],
    ids=["page-byte", "document", "signature-xml", "signature-s", "signature-r"],
)
def test_a_generated_signature_altered_is_tampered(
    version: str,
    path: str,
    change: Callable[[bytes], bytes],
    words: str,
    request: pytest.FixtureRequest,
) -> None:
    data = request.getfixturevalue(f"{version}_ofd")
    check = _check(_changed(data, path, change))
    assert check.state is CheckState.TAMPERED
    assert check.reason is not None and words in check.reason


def test_tbs_signed_by_another_key_is_tampered(
    signer: tuple[Sm2Key, bytes], maker: tuple[Sm2Key, bytes]
) -> None:
    data = signed_ofd(lambda xml: ses_v4(xml, signer, maker, signer_signs=new_key()))
    check = _check(data)
    assert check.state is CheckState.TAMPERED
    assert check.signer == "C=CN, CN=Test Signer"


def test_a_seal_signed_by_another_key_is_tampered(
    signer: tuple[Sm2Key, bytes], maker: tuple[Sm2Key, bytes]
) -> None:
    data = signed_ofd(lambda xml: ses_v4(xml, signer, maker, maker_signs=new_key()))
    check = _check(data)
    assert check.state is CheckState.TAMPERED
    assert check.reason is not None and "seal maker" in check.reason


def test_a_signer_certificate_swapped_for_another_name_is_tampered(
    signer: tuple[Sm2Key, bytes],
    maker: tuple[Sm2Key, bytes],
    make_certificate: Callable[..., bytes],
) -> None:
    """Same key, another subject: v4 keeps the certificate outside TBS_Sign, so only the
    seal's certificate list (signed by the maker) catches it."""
    key, certificate = signer
    renamed = b""
    while len(renamed) != len(certificate):  # DER signatures vary by a byte or two
        renamed = make_certificate(key, subject="Evil Signer")  # as long as "Test Signer"
    data = signed_ofd(lambda xml: ses_v4(xml, signer, maker))

    def swap(value: bytes) -> bytes:  # the SES_Signature's copy, not the seal's list
        at = value.rindex(certificate)
        return value[:at] + renamed + value[at + len(certificate) :]

    check = _check(_changed(data, SIGNED_VALUE, swap))
    assert check.state is CheckState.TAMPERED
    assert check.reason is not None and "certificate is not one the seal lists" in check.reason


@pytest.mark.parametrize("name", ["ofdrw__ofdrw__999.ofd", "ofdrw__ofdrw__1.ofd"])
def test_random_byte_changes_in_a_signed_value_are_never_valid(name: str) -> None:
    data = _corpus(name)
    value = _files(data)[next(n for n in _files(data) if n.lower() == SIGNED_VALUE.lower())]
    generator = random.Random(15)
    states = set()
    for _ in range(60):
        offset = generator.randrange(len(value))
        check = _check(_changed(data, SIGNED_VALUE, _flip(offset)))
        assert check.state is not CheckState.VALID, offset
        states.add(check.state)
    assert states <= {CheckState.TAMPERED, CheckState.UNVERIFIABLE}


def test_v1_with_a_raw_signature_is_valid(
    signer: tuple[Sm2Key, bytes], maker: tuple[Sm2Key, bytes]
) -> None:
    check = _check(signed_ofd(lambda xml: ses_v1(xml, signer, maker, raw_signature=True)))
    assert check.state is CheckState.VALID, check.reason


def test_a_certificate_expired_at_signing_is_said(
    signer_key: Sm2Key,
    maker: tuple[Sm2Key, bytes],
    make_certificate: Callable[..., bytes],
) -> None:
    expired = make_certificate(
        signer_key, not_after=dt.datetime(2021, 1, 1, tzinfo=UTC), subject="Test Signer"
    )
    check = _check(signed_ofd(lambda xml: ses_v4(xml, (signer_key, expired), maker)))
    assert check.state is CheckState.VALID
    assert check.certificate_valid_at_signing is False


def test_a_test_tax_ca_signature_is_tax_bureau_test(
    signer_key: Sm2Key,
    maker: tuple[Sm2Key, bytes],
    make_certificate: Callable[..., bytes],
) -> None:
    certificate = make_certificate(
        signer_key,
        issuer="税务测试CA2(SM2)",
        authority_key_id=bytes.fromhex("b8b09a6007ea05b7b0b7e7cb42763129971576b3"),
    )
    check = _check(signed_ofd(lambda xml: ses_v4(xml, (signer_key, certificate), maker)))
    assert check.state is CheckState.VALID
    assert check.issuer_kind is IssuerKind.TAX_BUREAU_TEST


def test_all_of_several_signatures_must_be_valid(
    signer: tuple[Sm2Key, bytes], maker: tuple[Sm2Key, bytes]
) -> None:
    data = signed_ofd(lambda xml: ses_v4(xml, signer, maker), signatures=2)
    check = _check(data)
    assert check.state is CheckState.VALID
    assert check.signer == "C=CN, CN=Test Signer"
    broken = _changed(data, "Doc_0/Signs/Sign_1/SignedValue.dat", _flip(-1))
    assert _check(broken).state is CheckState.TAMPERED


def test_a_page_added_after_signing_is_modified_after_signing(v4_ofd: bytes) -> None:
    extra = base_files(pages=2)
    files = _files(v4_ofd)
    files["Doc_0/Document.xml"] = extra["Doc_0/Document.xml"]
    files["Doc_0/Pages/Page_1/Content.xml"] = extra["Doc_0/Pages/Page_1/Content.xml"]
    assert _check(zip_files(files)).state is CheckState.TAMPERED  # Document.xml was signed
    files = _files(v4_ofd)  # the signed document intact, OFD.xml pointing elsewhere
    files["Doc_0/Unsigned.xml"] = extra["Doc_0/Document.xml"]
    files["Doc_0/Pages/Page_1/Content.xml"] = extra["Doc_0/Pages/Page_1/Content.xml"]
    files["OFD.xml"] = files["OFD.xml"].replace(b"Document.xml", b"Unsigned.xml")
    check = _check(zip_files(files))
    assert check.state is CheckState.MODIFIED_AFTER_SIGNING
    assert check.reason is not None and "Unsigned.xml is not signed" in check.reason


def test_a_page_not_covered_is_modified_after_signing(
    signer: tuple[Sm2Key, bytes], maker: tuple[Sm2Key, bytes]
) -> None:
    files = base_files(pages=2)
    data = signed_ofd(lambda xml: ses_v4(xml, signer, maker), files=files)
    signature_xml = _files(data)[SIGNATURE_XML]
    # a signer that left page 2 out, honestly signed: what page 2 shows was never signed
    files_without = dict(files)
    page_2 = files_without.pop("Doc_0/Pages/Page_1/Content.xml")
    data = signed_ofd(lambda xml: ses_v4(xml, signer, maker), files=files_without)
    assert b"Page_1" not in _files(data)[SIGNATURE_XML] and b"Page_1" in signature_xml
    added = _files(data)
    added["Doc_0/Pages/Page_1/Content.xml"] = page_2
    check = _check(zip_files(added))
    assert check.state is CheckState.MODIFIED_AFTER_SIGNING
    assert check.reason is not None and "Page_1" in check.reason


# --- absent and unverifiable --------------------------------------------------------------


def test_no_signatures_is_absent(v4_ofd: bytes) -> None:
    files = _files(v4_ofd)
    files["OFD.xml"] = base_files()["OFD.xml"].replace(
        b"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>", b""
    )
    assert _check(zip_files(files)).state is CheckState.ABSENT
    files = _files(v4_ofd)
    files["Doc_0/Signs/Signatures.xml"] = f"{XML}<ofd:Signatures {NS}/>".encode()
    assert _check(zip_files(files)).state is CheckState.ABSENT


def test_a_missing_signature_list_is_tampered(v4_ofd: bytes) -> None:
    files = _files(v4_ofd)
    del files["Doc_0/Signs/Signatures.xml"]
    assert _check(zip_files(files)).state is CheckState.TAMPERED


@pytest.mark.parametrize(
    "change",
    [
        lambda value: b"",
        lambda value: value[: len(value) // 2],
        lambda value: value[:-1],
        lambda value: b"garbage" * 100,
        lambda value: b"\x30\x84\xff\xff\xff\xff" + value,
        lambda value: value + b"\0",
        lambda value: value.replace(
            core.ObjectIdentifier(certs.SM2_WITH_SM3).dump(),
            core.ObjectIdentifier("1.2.840.113549.1.1.11").dump(),
        ),
    ],
    ids=["empty", "half", "truncated", "garbage", "huge-length", "trailing", "rsa-oid"],
)
def test_an_unreadable_signed_value_is_unverifiable(
    v4_ofd: bytes, change: Callable[[bytes], bytes]
) -> None:
    check = _check(_changed(v4_ofd, SIGNED_VALUE, change))
    assert check.state is CheckState.UNVERIFIABLE
    assert check.reason


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda xml: xml.replace(b"1.2.156.10197.1.401", b"1.2.3.4", 1), "digest method"),
        (
            lambda xml: xml.replace(b"<ofd:SignedValue>", b"<ofd:Other>").replace(
                b"</ofd:SignedValue>", b"</ofd:Other>"
            ),
            "signed value",
        ),
        (lambda xml: b'<!DOCTYPE x [<!ENTITY a "b">]>' + xml[len(XML) :], "DTD"),
        (lambda xml: xml.replace(b"<ofd:CheckValue>", b"<ofd:CheckValue>%", 1), "base64"),
    ],
    ids=["digest-method", "no-signed-value", "dtd", "not-base64"],
)
def test_a_signature_xml_that_cannot_be_checked_is_unverifiable(
    v4_ofd: bytes, change: Callable[[bytes], bytes], words: str
) -> None:
    check = _check(_changed(v4_ofd, SIGNATURE_XML, change))
    assert check.state is CheckState.UNVERIFIABLE
    assert check.reason is not None and words in check.reason


def test_too_many_signatures_are_unverifiable(v4_ofd: bytes) -> None:
    files = _files(v4_ofd)
    entries = "".join(
        f'<ofd:Signature ID="{n}" BaseLoc="Sign_0/Signature.xml"/>'
        for n in range(MAX_SIGNATURES + 1)
    )
    files["Doc_0/Signs/Signatures.xml"] = (
        f"{XML}<ofd:Signatures {NS}>{entries}</ofd:Signatures>"
    ).encode()
    check = _check(zip_files(files))
    assert check.state is CheckState.UNVERIFIABLE


def test_a_damaged_zip_entry_is_unverifiable(v4_ofd: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path, data in _files(v4_ofd).items():
            archive.writestr(path, data)
    data = buffer.getvalue()
    at = data.index("价税合计".encode())  # the page, stored: its CRC no longer matches
    check = _check(data[:at] + b"X" + data[at + 1 :])
    assert check.state is CheckState.UNVERIFIABLE
    assert check.reason is not None and "damaged" in check.reason
