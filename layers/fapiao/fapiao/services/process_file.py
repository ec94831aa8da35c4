"""Use case shared by the one-call endpoints and the pipeline: a file in, its invoices
recognized (embedded engine) and verified (the configured verifier), in file order."""

from __future__ import annotations

from fapiao.catalogue.errors import HubError, Problem
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.create import CreateCommand
from fapiao.model.signature import SignatureCheck
from fapiao.model.stored import Provenance
from fapiao.ports import FileLoader, FileStore, VerifyDeps
from fapiao.recognize import recognize_with_signatures
from fapiao.results import FileInvoice, Source, Verification
from fapiao.rules.file_signatures import SignatureRefusal, signature_refusal
from fapiao.services.verify import verify_invoice


def load_file(reference: str, max_bytes: int, fetch: FileLoader, files: FileStore) -> bytes:
    """An http(s) URL goes through the safe fetcher; anything else is a key in the drop
    bucket (001's example attachment_url, "22067/2022/07-22/receipt/....jpg", is one)."""
    reference = reference.strip()
    if not reference:
        raise HubError(Problem.INVALID_REQUEST, "attachment_url: empty")
    scheme = reference.split(":", 1)[0].lower() if ":" in reference else ""
    if scheme in ("http", "https"):
        return fetch(reference, max_bytes)
    if scheme:
        raise HubError(Problem.FILE_UNREACHABLE, f"{scheme}: URLs are not fetched")
    return files.get(reference.lstrip("/"), max_bytes)


def recognize_and_verify(
    data: bytes, verify: VerifyDeps, *, verify_file_signatures: bool = False
) -> list[FileInvoice]:
    """The file's invoices, each verified; with ``verify_file_signatures`` an invoice of a
    file whose signature refuses it is F without a paid check (``rules.file_signatures``)."""
    found: list[FileInvoice] = []
    for recognized in recognize_with_signatures(data):
        if recognized.invoice is None:
            found.append(FileInvoice(recognized, None))
            continue
        refusal = signature_refusal(recognized.signature, verify_file_signatures)
        if refusal is not None:
            found.append(FileInvoice(recognized, refused_file(recognized.invoice, refusal)))
            continue
        found.append(FileInvoice(recognized, verify_invoice(recognized.invoice, verify)))
    return found


def refused_file(invoice: Invoice, refusal: SignatureRefusal) -> Verification:
    """The verification of an invoice whose file's signature refuses it: F, unpaid."""
    return Verification(
        invoice_key=invoice.invoice_key,
        status=InvoiceStatus.CHECK_FAILED,
        source=Source.FILE_SIGNATURE,
        problem=refusal.problem,
        reason=refusal.detail,
    )


def create_command(
    invoice: Invoice,
    verification: Verification | None,
    *,
    biz_id: str,
    user_code: str,
    attachment_url: str,
    bind_to: int | None = None,
    employee_id: str | None = None,
    signature: SignatureCheck | None = None,
    provenance: Provenance | None = None,
) -> CreateCommand:
    """The create_invoice command for one recognized and verified invoice."""
    check = None if verification is None else verification.check
    # F and C say why in the catalogue's words (a mismatch, too old, incomplete ...).
    cause = None
    if verification is not None and verification.status in (
        InvoiceStatus.CHECK_FAILED,
        InvoiceStatus.AWAITING_CHECK,
    ):
        cause = verification
    return CreateCommand(
        biz_id=biz_id,
        user_code=user_code,
        recognition_result=1,
        invoices=[invoice.model_copy(update={"attachment_url": attachment_url})],
        check=check,
        awaiting_check=True,
        cause=None if cause is None else cause.cause,
        cause_detail=None if cause is None else cause.detail,
        bind_to=bind_to,
        employee_id=employee_id,
        signature=signature,
        provenance=provenance,
        checked_by=None if verification is None else verification.source.value,
        paid=verification is not None and verification.provider_calls > 0,
    )
