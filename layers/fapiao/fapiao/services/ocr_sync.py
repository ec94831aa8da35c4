"""Use case (spec 000 票据识别与查验同步): a file in, each invoice recognized and verified,
and, when asked (create_expense Y), created through the same use case as 001."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fapiao.catalogue.errors import HubError, Problem
from fapiao.ports import FileLoader, FileStore, InvoiceStore, RecheckScheduler, VerifyDeps
from fapiao.results import OcrSyncResult
from fapiao.rules import create as rules
from fapiao.services.create_invoice import create_invoice
from fapiao.services.process_file import create_command, load_file, recognize_and_verify
from fapiao.services.recheck import schedule_created
from fapiao.settings import CompanySettings
from fapiao.settings.limits import MAX_DOWNLOAD_BYTES as MAX_FILE_BYTES


@dataclass(frozen=True)
class OcrSyncCommand:
    biz_id: str
    attachment_url: str
    create_expense: bool
    user_code: str | None
    purchase_invoice: bool = False


@dataclass(frozen=True)
class OcrSyncDeps:
    fetch: FileLoader
    files: FileStore
    verify: VerifyDeps
    store: InvoiceStore
    company: Callable[[], CompanySettings]
    scheduler: RecheckScheduler | None = None  # None: an invoice stored C is not re-checked


def require_user_code(command: OcrSyncCommand) -> str | None:
    """000: user_code 工号 — 当create_expense为Y时必传."""
    if command.create_expense and not (command.user_code or "").strip():
        raise HubError(Problem.INVALID_REQUEST, "user_code: required when create_expense is Y")
    return command.user_code


def ocr_sync(command: OcrSyncCommand, deps: OcrSyncDeps) -> list[OcrSyncResult]:
    rules.require_biz_id(command.biz_id)
    user_code = require_user_code(command)
    data = load_file(command.attachment_url, MAX_FILE_BYTES, deps.fetch, deps.files)
    company = deps.company()
    found = recognize_and_verify(
        data, deps.verify, verify_file_signatures=company.verify_file_signatures
    )
    for item in found:  # every answer names the file the invoice came from
        if item.recognized.invoice is not None:
            item.recognized.invoice = item.recognized.invoice.model_copy(
                update={"attachment_url": command.attachment_url}
            )
    if not command.create_expense:
        return [OcrSyncResult(item) for item in found]
    assert user_code is not None
    results = []
    for item in found:
        if item.recognized.invoice is None:
            results.append(OcrSyncResult(item))
            continue
        invoice_command = create_command(
            item.recognized.invoice,
            item.verification,
            biz_id=command.biz_id,
            user_code=user_code,
            attachment_url=command.attachment_url,
            signature=item.recognized.signature,
            provenance=item.recognized.provenance(),
        )
        created = create_invoice(invoice_command, deps.store, company)
        schedule_created(
            created,
            item.verification,
            deps.store,
            deps.scheduler,
            now=deps.verify.clock(),
            first_wait=deps.verify.retry_after,
        )
        results.append(OcrSyncResult(item, created))
    return results
