"""The ocrSync use case (spec 000) with in-memory adapters and the offline verifier."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from fixtures.generate import invoice_pdf, qr_photo
from fixtures.served import recent_invoice

from fakes.memory import (
    MemoryFileStore,
    MemoryInvoiceStore,
    MemoryKnownInvoices,
    MemoryVerificationCache,
)
from fakes.rechecks import MemoryRecheckScheduler
from fapiao.catalogue.errors import HubError, Problem
from fapiao.dates import now_in_shanghai
from fapiao.mapping.ocr_sync import to_ocr_sync_response
from fapiao.model import Invoice, InvoiceStatus
from fapiao.ports import VerifyDeps
from fapiao.providers.offline import OfflineVerifier
from fapiao.results import Source, Verification
from fapiao.services.ocr_sync import OcrSyncCommand, OcrSyncDeps, ocr_sync
from fapiao.settings import CompanySettings

SPEC = recent_invoice(21)


def deps(files: dict[str, bytes], fetched: dict[str, bytes] | None = None) -> OcrSyncDeps:
    store = MemoryInvoiceStore()

    def fetch(url: str, max_bytes: int) -> bytes:
        if fetched is None or url not in fetched:
            raise HubError(Problem.FILE_UNREACHABLE, "nothing there")
        return fetched[url]

    return OcrSyncDeps(
        fetch=fetch,
        files=MemoryFileStore(files),
        verify=VerifyDeps(
            verifier=OfflineVerifier(),
            cache=MemoryVerificationCache(),
            known=MemoryKnownInvoices(),
        ),
        store=store,
        company=CompanySettings,
    )


def command(url: str, create: bool, user_code: str | None = "u1", biz: str = "b1") -> Any:
    return OcrSyncCommand(
        biz_id=biz, attachment_url=url, create_expense=create, user_code=user_code
    )


def test_a_key_reads_the_drop_bucket_and_a_url_the_fetcher() -> None:
    pdf = invoice_pdf(SPEC)
    from_bucket = ocr_sync(command("acme/a.pdf", False), deps({"acme/a.pdf": pdf}))
    from_url = ocr_sync(
        command("https://files.example/a.pdf", False),
        deps({}, {"https://files.example/a.pdf": pdf}),
    )
    for results in (from_bucket, from_url):
        (result,) = results
        assert result.item.recognized.invoice is not None
        assert result.item.recognized.invoice.invoice_number == SPEC.invoice_number
        # no provider configured: awaiting its check, never claimed verified
        assert result.item.status is InvoiceStatus.AWAITING_CHECK
        assert result.created is None


def test_create_expense_stores_an_unchecked_vat_invoice_as_awaiting_check() -> None:
    used = deps({"a.pdf": invoice_pdf(SPEC)})
    (result,) = ocr_sync(command("a.pdf", True), used)
    assert result.created is not None
    assert result.created.status is InvoiceStatus.AWAITING_CHECK
    stored = used.store.get(result.created.invoice_key)
    assert stored is not None
    assert stored.status is InvoiceStatus.AWAITING_CHECK
    assert stored.invoice.attachment_url == "a.pdf"
    (again,) = ocr_sync(command("a.pdf", True, biz="b2"), used)
    assert again.created is not None
    assert again.created.problem is Problem.DUPLICATE_INVOICE
    assert again.created.expense_id == result.created.expense_id


def test_several_invoices_in_one_file_give_several_elements() -> None:
    other = recent_invoice(22)
    results = ocr_sync(command("two.pdf", True), deps({"two.pdf": invoice_pdf(SPEC, other)}))
    assert len(results) == 2
    response = to_ocr_sync_response("b1", results, create_expense=True)
    assert response.data is not None
    expense_ids = {element.expense_id for element in response.data}  # type: ignore[union-attr]
    assert len(expense_ids) == 2


def test_an_image_without_a_readable_code_is_u_and_creates_nothing() -> None:
    used = deps({"blank.png": qr_photo([], fmt="PNG")})
    (result,) = ocr_sync(command("blank.png", True), used)
    assert result.item.status is InvoiceStatus.UNRECOGNISABLE
    assert result.created is None
    response = to_ocr_sync_response("b1", [result], create_expense=True).to_wire()
    assert response["data"][0]["invoice_status"] == "U"
    assert response["data"][0]["invoice_message_code"] == 907006
    assert len(used.store) == 0  # type: ignore[arg-type]


def test_user_code_is_required_to_create_an_expense() -> None:
    with pytest.raises(HubError) as refused:
        ocr_sync(command("a.pdf", True, user_code=" "), deps({"a.pdf": b""}))
    assert refused.value.problem is Problem.INVALID_REQUEST
    assert "user_code" in str(refused.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x/1", "missing.pdf", " "])
def test_other_schemes_and_missing_keys_are_unreachable_or_invalid(url: str) -> None:
    with pytest.raises(HubError) as refused:
        ocr_sync(command(url, False), deps({}))
    assert refused.value.problem in (Problem.FILE_UNREACHABLE, Problem.INVALID_REQUEST)


class BusyVerifier:
    """A provider that stays busy: every verification ends C with its retry time."""

    remote = True

    def verify(self, invoice: Invoice) -> Verification:
        return Verification(
            invoice_key=invoice.invoice_key,
            status=InvoiceStatus.AWAITING_CHECK,
            source=Source.PROVIDER,
            code="4007",
            retry_at=now_in_shanghai() + dt.timedelta(seconds=5),
        )


def test_an_invoice_stored_c_by_a_busy_provider_is_scheduled_for_a_recheck() -> None:
    scheduler = MemoryRecheckScheduler()
    used = replace(
        deps({"a.pdf": invoice_pdf(SPEC)}),
        scheduler=scheduler,
    )
    used = replace(used, verify=replace(used.verify, verifier=BusyVerifier()))
    (result,) = ocr_sync(command("a.pdf", True), used)
    assert result.created is not None
    assert result.created.problem is Problem.CHECK_DEFERRED
    stored = used.store.get(result.created.invoice_key)
    assert stored is not None and stored.retry_at is not None
    assert scheduler.scheduled == [(stored.invoice_key, stored.retry_at)]


def test_an_invoice_no_verifier_can_check_is_not_scheduled() -> None:
    scheduler = MemoryRecheckScheduler()
    used = replace(deps({"a.pdf": invoice_pdf(SPEC)}), scheduler=scheduler)
    (result,) = ocr_sync(command("a.pdf", True), used)
    assert result.created is not None
    assert result.created.problem is Problem.NO_VERIFIER
    assert scheduler.scheduled == []
