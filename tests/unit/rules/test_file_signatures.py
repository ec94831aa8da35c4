"""The company's ``verify_file_signatures`` rule (rules/file_signatures.py, issue 15):
which signature checks refuse a file's invoices, with which catalogue row and detail."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from fapiao.catalogue.errors import Family, Problem, invoice_message, lookup
from fapiao.model.signature import CheckState, IssuerKind, SignatureCheck
from fapiao.rules.file_signatures import SIGNATURE_PROBLEMS, SignatureRefusal, signature_refusal

S, K = CheckState, IssuerKind
TEST_CA = "C=CN, CN=税务测试CA2(SM2)"
# Every issuer kind a check can name, and none (a tampered file may not say who signed).
KINDS: tuple[IssuerKind | None, ...] = (*IssuerKind, None)


def check(state: CheckState, kind: IssuerKind | None = None, **fields: object) -> SignatureCheck:
    base: dict[str, object] = {"state": state, "issuer_kind": kind}
    if state is S.VALID:
        base.update(
            algorithm="SM2-SM3",
            signer="C=CN, CN=Test Signer",
            issuer=TEST_CA if kind is K.TAX_BUREAU_TEST else "C=CN, CN=Some CA",
            signed_at=dt.datetime(2024, 5, 31, 6, 17, 33, tzinfo=dt.UTC),
            certificate_valid_at_signing=True,
        )
    base.update(fields)
    return SignatureCheck.model_validate(base)


def expected(state: CheckState, kind: IssuerKind | None) -> Problem | None:
    """The table the rule enforces (README: File signatures)."""
    if state is S.TAMPERED:
        return Problem.FILE_TAMPERED
    if state is S.MODIFIED_AFTER_SIGNING:
        return Problem.FILE_MODIFIED_AFTER_SIGNING
    if state is S.VALID and kind is K.TAX_BUREAU_TEST:
        return Problem.FILE_SIGNED_BY_TEST_CA
    return None


def _table() -> list[object]:
    cases: list[object] = []
    for state, kind in itertools.product(CheckState, KINDS):
        ids = f"{state}-{'none' if kind is None else kind}"
        cases.append(pytest.param(state, kind, id=ids))
    return cases


@pytest.mark.parametrize(("state", "kind"), _table())
def test_each_state_and_issuer_kind_is_refused_as_the_table_says(
    state: CheckState, kind: IssuerKind | None
) -> None:
    signature = check(state, kind, reason="why" if state is not S.VALID else None)
    refusal = signature_refusal(signature, True)
    problem = expected(state, kind)
    assert (None if refusal is None else refusal.problem) is problem
    # with the setting off nothing is ever refused, whatever the check says
    assert signature_refusal(signature, False) is None


def test_no_check_at_all_is_never_refused() -> None:
    """An invoice that came without its file (001's own request) has no check."""
    assert signature_refusal(None, True) is None
    assert signature_refusal(None, False) is None


@pytest.mark.parametrize(
    "kind",
    [pytest.param(kind, id=str(kind)) for kind in KINDS],
)
def test_absent_and_unverifiable_are_never_refused(kind: IssuerKind | None) -> None:
    for state in (S.ABSENT, S.UNVERIFIABLE):
        assert signature_refusal(check(state, kind, reason="no signature"), True) is None


def test_an_unverifiable_check_without_an_issuer_passes() -> None:
    """What the verifiers answer for an unreadable signature: no certificate, no kind."""
    unreadable = check(S.UNVERIFIABLE, reason="the signed value is not a readable SES_Signature")
    assert signature_refusal(unreadable, True) is None


def test_a_valid_signature_of_the_tax_bureau_or_a_commercial_ca_passes() -> None:
    for kind in (K.TAX_BUREAU, K.COMMERCIAL_CA, K.UNKNOWN):
        assert signature_refusal(check(S.VALID, kind), True) is None


def test_tampered_wins_over_a_test_ca() -> None:
    tampered = check(
        S.TAMPERED,
        K.TAX_BUREAU_TEST,
        issuer=TEST_CA,
        reason="/Doc_0/Pages/Page_0/Content.xml differs from what was signed",
    )
    assert signature_refusal(tampered, True) == SignatureRefusal(
        Problem.FILE_TAMPERED, "/Doc_0/Pages/Page_0/Content.xml differs from what was signed"
    )
    modified = check(S.MODIFIED_AFTER_SIGNING, K.TAX_BUREAU_TEST, reason="711 bytes after")
    assert signature_refusal(modified, True) == SignatureRefusal(
        Problem.FILE_MODIFIED_AFTER_SIGNING, "711 bytes after"
    )


def test_the_detail_is_the_checks_reason_or_says_what_was_found() -> None:
    assert signature_refusal(check(S.TAMPERED, reason="SignedValue.dat: bad"), True) == (
        SignatureRefusal(Problem.FILE_TAMPERED, "SignedValue.dat: bad")
    )
    without_reason = signature_refusal(check(S.TAMPERED), True)
    assert without_reason is not None and without_reason.detail
    modified = signature_refusal(check(S.MODIFIED_AFTER_SIGNING), True)
    assert modified is not None and modified.detail
    test_ca = signature_refusal(check(S.VALID, K.TAX_BUREAU_TEST), True)
    assert test_ca == SignatureRefusal(Problem.FILE_SIGNED_BY_TEST_CA, f"issuer {TEST_CA}")
    nameless = signature_refusal(check(S.VALID, K.TAX_BUREAU_TEST, issuer=None), True)
    assert nameless is not None and nameless.detail


@pytest.mark.parametrize(
    ("problem", "code", "message"),
    [
        (Problem.FILE_TAMPERED, 907016, "发票文件签名验证失败,文件已被篡改"),
        (Problem.FILE_MODIFIED_AFTER_SIGNING, 907017, "发票文件签名后被修改"),
        (Problem.FILE_SIGNED_BY_TEST_CA, 907018, "发票文件由税务测试证书签名,不是正式发票"),
    ],
)
def test_each_refusal_is_a_row_of_the_invoice_catalogue(
    problem: Problem, code: int, message: str
) -> None:
    entry = lookup(Family.PLATFORM_INVOICE, problem)
    assert (entry.code, entry.message, entry.http_status, entry.retryable) == (
        str(code),
        message,
        200,
        False,
    )
    assert invoice_message(problem, "the detail") == (code, f"{message}: the detail")
    assert problem in SIGNATURE_PROBLEMS


def test_the_signature_problems_are_exactly_the_three_refusals() -> None:
    assert {
        Problem.FILE_TAMPERED,
        Problem.FILE_MODIFIED_AFTER_SIGNING,
        Problem.FILE_SIGNED_BY_TEST_CA,
    } == SIGNATURE_PROBLEMS
