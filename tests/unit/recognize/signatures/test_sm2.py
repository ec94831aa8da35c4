"""SM2 verification (GB/T 32918.2) against a published example and against gmalg."""

from __future__ import annotations

import gmalg  # type: ignore[import-untyped]
import pytest
from asn1crypto import algos  # type: ignore[import-untyped]

from fapiao.recognize.signatures import sm2

from .conftest import new_key

# GM/T 0003.5-2012 (GB/T 32918.5) sign/verify example on the recommended curve, with the
# default user id, as gmalg's own tests.py (test_sign2) reproduces it.
VECTOR_SECRET = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
VECTOR_PUBLIC = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
VECTOR_K = 0x59276E27_D506861A_16680F3A_D9C02DCC_EF3CC1FA_3CDBE4CE_6D54B80D_EAC1BC21
VECTOR_R = bytes.fromhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
VECTOR_S = bytes.fromhex("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
MESSAGE = b"message digest"


def _der(r: bytes, s: bytes) -> bytes:
    return algos.DSASignature({"r": int.from_bytes(r, "big"), "s": int.from_bytes(s, "big")}).dump()


def test_the_published_example_verifies_raw_and_der() -> None:
    assert sm2.verify(VECTOR_PUBLIC, MESSAGE, VECTOR_R + VECTOR_S)
    assert sm2.verify(VECTOR_PUBLIC, MESSAGE, _der(VECTOR_R, VECTOR_S))
    assert sm2.verify(VECTOR_PUBLIC[1:], MESSAGE, VECTOR_R + VECTOR_S)  # X||Y


def test_the_published_example_is_what_gmalg_signs_with_that_k() -> None:
    signer = gmalg.SM2(VECTOR_SECRET, sm2.DEFAULT_USER_ID, VECTOR_PUBLIC, rnd_fn=lambda _: VECTOR_K)
    assert signer.sign(MESSAGE) == (VECTOR_R, VECTOR_S)


@pytest.mark.parametrize(
    ("message", "signature", "user_id"),
    [
        (b"message digesT", VECTOR_R + VECTOR_S, sm2.DEFAULT_USER_ID),
        (MESSAGE, VECTOR_S + VECTOR_R, sm2.DEFAULT_USER_ID),
        (MESSAGE, VECTOR_R + VECTOR_S, b"ALICE123@YAHOO.COM"),
        (MESSAGE, VECTOR_R[:-1] + b"\0" + VECTOR_S, sm2.DEFAULT_USER_ID),
    ],
    ids=["message", "r-s-swapped", "user-id", "r-altered"],
)
def test_anything_changed_does_not_verify(message: bytes, signature: bytes, user_id: bytes) -> None:
    assert not sm2.verify(VECTOR_PUBLIC, message, signature, user_id)


def test_gmalg_signatures_verify_and_altered_ones_do_not() -> None:
    for size in (0, 1, 55, 56, 64, 1000, 5000):
        key = new_key()
        message = bytes(range(256)) * (size // 256) + bytes(size % 256)
        signature = key.sign(message)
        assert sm2.verify(key.public, message, signature), size
        assert sm2.verify(key.public, message, key.sign_raw(message)), size
        assert not sm2.verify(key.public, message + b"\0", signature), size
        assert not sm2.verify(new_key().public, message, signature), size


def test_a_user_id_other_than_the_default() -> None:
    key = new_key()
    signature = key.sign(MESSAGE, user_id=b"ALICE123@YAHOO.COM")
    assert sm2.verify(key.public, MESSAGE, signature, b"ALICE123@YAHOO.COM")
    assert not sm2.verify(key.public, MESSAGE, signature)


N = 0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_7203DF6B_21C6052B_53BBF409_39D54123


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        (b"", VECTOR_R + VECTOR_S),
        (VECTOR_PUBLIC[:-1], VECTOR_R + VECTOR_S),
        (VECTOR_PUBLIC[:-1] + bytes([VECTOR_PUBLIC[-1] ^ 1]), VECTOR_R + VECTOR_S),  # off curve
        (b"\x02" + VECTOR_PUBLIC[1:33], VECTOR_R + VECTOR_S),  # compressed
        (b"\x04" + b"\xff" * 64, VECTOR_R + VECTOR_S),  # coordinates past p
        (VECTOR_PUBLIC, b""),
        (VECTOR_PUBLIC, b"\x30"),
        (VECTOR_PUBLIC, b"\x30\x84\xff\xff\xff\xff" + b"\0" * 70),  # a huge DER length
        (VECTOR_PUBLIC, _der(VECTOR_R, VECTOR_S)[:-3]),  # truncated DER
        (VECTOR_PUBLIC, _der(VECTOR_R, VECTOR_S) + b"\0"),  # trailing bytes
        (VECTOR_PUBLIC, VECTOR_R + VECTOR_S + b"\0"),  # 65 raw bytes
        (VECTOR_PUBLIC, bytes(64)),  # r = s = 0
        (VECTOR_PUBLIC, N.to_bytes(32, "big") + VECTOR_S),  # r = n
        (VECTOR_PUBLIC, _der(VECTOR_R, b"\x00")),
        (VECTOR_PUBLIC, b"\x30\x06\x02\x01\xff\x02\x01\xff"),  # negative r, s
        (VECTOR_PUBLIC, b"garbage" * 20),
    ],
)
def test_malformed_input_is_false_not_an_exception(public_key: bytes, signature: bytes) -> None:
    assert sm2.verify(public_key, MESSAGE, signature) is False


def test_an_overlong_user_id_is_false() -> None:
    assert sm2.verify(VECTOR_PUBLIC, MESSAGE, VECTOR_R + VECTOR_S, b"x" * 8192) is False
