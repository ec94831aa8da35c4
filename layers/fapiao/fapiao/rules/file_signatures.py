"""The company's ``verify_file_signatures`` rule (issue 15): a file whose signature says it
is not the file that was issued is refused, before anything is paid to verify it.

With the setting on, an invoice is F when its file's signature check is
- ``tampered``: a signed digest or signature does not match (907016);
- ``modified_after_signing``: bytes were added after the signature (907017);
- ``valid`` and signed under a tax test CA (``tax_bureau_test``): a vendor's test file,
  not an invoice the tax bureau issued (907018).
``absent`` passes (数电 PDFs and photos carry no signature), and so does
``unverifiable``: a signature the hub cannot check (an algorithm it does not know) is not
evidence of an edit. The check itself stays on the record and the outcome either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from fapiao.catalogue.errors import Problem
from fapiao.model.signature import CheckState, IssuerKind, SignatureCheck

__all__ = ["SIGNATURE_PROBLEMS", "SignatureRefusal", "signature_refusal"]

SIGNATURE_PROBLEMS = frozenset(
    {Problem.FILE_TAMPERED, Problem.FILE_MODIFIED_AFTER_SIGNING, Problem.FILE_SIGNED_BY_TEST_CA}
)


@dataclass(frozen=True)
class SignatureRefusal:
    problem: Problem  # the catalogue's row: its code and Chinese message
    detail: str  # what the check found, after the message


def signature_refusal(
    signature: SignatureCheck | None, verify_file_signatures: bool
) -> SignatureRefusal | None:
    """Why the file's invoices are refused, or None when they are not (see the module)."""
    if not verify_file_signatures or signature is None:
        return None
    if signature.state is CheckState.TAMPERED:
        return SignatureRefusal(Problem.FILE_TAMPERED, signature.reason or "the signature differs")
    if signature.state is CheckState.MODIFIED_AFTER_SIGNING:
        return SignatureRefusal(
            Problem.FILE_MODIFIED_AFTER_SIGNING,
            signature.reason or "the file has bytes its signature does not cover",
        )
    if signature.state is CheckState.VALID and signature.issuer_kind is IssuerKind.TAX_BUREAU_TEST:
        return SignatureRefusal(
            Problem.FILE_SIGNED_BY_TEST_CA, f"issuer {signature.issuer or 'a tax test CA'}"
        )
    return None
