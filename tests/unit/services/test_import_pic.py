"""The Maycur import use case (spec 002) on memory adapters: every 002 error code from a
situation built here, the expense rules, and the answer's mapping.

Files are generated invoices (tests/fixtures/generate.py). "Downloads" go through the
real SafeFetcher over an in-process transport that serves a table of files from a
public address (sockets are disabled); verification is a fake verifier that confirms
what it is asked about, as the tax authority would for a genuine invoice.
"""

from __future__ import annotations

import base64
import datetime as dt
import socket
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from fixtures.generate import InvoiceSpec, invoice_pdf, qr_photo
from fixtures.served import recent_invoice

from fakes.memory import MemoryEmployeeDirectory, MemoryInvoiceStore, MemoryVerificationCache
from fakes.rechecks import MemoryRecheckScheduler
from fapiao.catalogue.errors import Family, HubError, Problem, lookup
from fapiao.dates import SHANGHAI
from fapiao.mapping.maycur import invoice_data_code, to_import_answer
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.parties import Employee
from fapiao.model.stored import ExpenseState, expense_code
from fapiao.ports import VerifyDeps
from fapiao.providers.fetch import SafeFetcher
from fapiao.results import ImportedInvoice, Source, Verification
from fapiao.services.import_pic import (
    MAX_FILE_BYTES,
    ImportCommand,
    ImportDeps,
    decode_base64,
    import_invoice_pic,
)
from fapiao.settings import CompanySettings, FetchSettings
from fapiao.wire.common import load_json

HOST = "files.example.com"
BASE = f"https://{HOST}"
ALICE = Employee(employee_id="MK00001", name="开发员工", user_code="UI2012221C97WQDC")
BOB = Employee(employee_id="MK00002", name="另一员工", user_code="UI2012221C97WQDD")
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # an API Gateway request id: 36 chars

ONE, TWO, THREE, FOUR = (recent_invoice(seed) for seed in (11, 12, 13, 14))
PDF_ONE = invoice_pdf(ONE)
PDF_TWO = invoice_pdf(TWO)
PDF_BOTH = invoice_pdf(THREE, FOUR)  # one file, two invoices
NO_QR_PNG = qr_photo([], fmt="PNG")  # a picture without any invoice on it
# The printed total is 5 yuan more than amount + tax: read, but breaks 001's tax rule.
BROKEN = replace(recent_invoice(15), total_amount=recent_invoice(15).total_amount + 5)


def key_of(spec: InvoiceSpec) -> str:
    """The invoice key a generated invoice is stored under: code + number."""
    return (spec.invoice_code or "") + spec.invoice_number


# --- fakes ------------------------------------------------------------------------------


class Files:
    """The fetch function: the safe fetcher, the files served from a public address."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.asked: list[tuple[str, int]] = []

        def serve(request: httpx.Request) -> httpx.Response:
            body = self.files.get(request.url.path)
            if body is None:
                return httpx.Response(404, content=b"not found")
            return httpx.Response(
                200, headers={"Content-Length": str(len(body))}, stream=httpx.ByteStream(body)
            )

        def resolve(host: str, port: int) -> list[str]:
            if host != HOST:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return ["93.184.215.14"]

        self._fetcher = SafeFetcher(
            FetchSettings(), resolver=resolve, transport=httpx.MockTransport(serve)
        )

    def put(self, path: str, body: bytes) -> str:
        self.files[path] = body
        return BASE + path

    def __call__(self, url: str, max_bytes: int) -> bytes:
        self.asked.append((url, max_bytes))
        return self._fetcher.fetch(url, max_bytes=max_bytes).content


class ConfirmingVerifier:
    """A provider that confirms every invoice it is asked about (result 1)."""

    remote = False

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def verify(self, invoice: Invoice) -> Verification:
        self.asked.append(invoice.invoice_number)
        check = CheckResult(
            success=True,
            message="查验成功",
            checked_at=dt.datetime(2025, 6, 1, 10, 0, tzinfo=SHANGHAI),
            invoice=invoice,
        )
        return Verification(
            invoice_key=invoice.invoice_key,
            status=InvoiceStatus.VERIFIED,
            source=Source.PROVIDER,
            check=check,
        )


class StoredKeys:
    """KnownInvoices over the invoice store, as DynamoKnownInvoices reads the table."""

    def __init__(self, store: MemoryInvoiceStore) -> None:
        self.store = store

    def exists(self, invoice_key: str) -> bool:
        return self.store.get(invoice_key) is not None


@pytest.fixture
def store() -> MemoryInvoiceStore:
    return MemoryInvoiceStore()


@pytest.fixture
def files() -> Files:
    return Files()


@pytest.fixture
def deps(store: MemoryInvoiceStore, files: Files) -> ImportDeps:
    return ImportDeps(
        fetch=files,
        verify=VerifyDeps(
            verifier=ConfirmingVerifier(), cache=MemoryVerificationCache(), known=StoredKeys(store)
        ),
        store=store,
        employees=MemoryEmployeeDirectory((ALICE, BOB)),
        company=CompanySettings,
    )


def by_url(url: str, file_type: str = "PDF", **fields: object) -> ImportCommand:
    options: dict[str, object] = {
        "employee_id": ALICE.employee_id,
        "file_type": file_type,
        "file_url": url,
        "request_id": REQUEST_ID,
        **fields,
    }
    return ImportCommand(**options)  # type: ignore[arg-type]


def by_base64(data: bytes | str, file_type: str = "PDF", **fields: object) -> ImportCommand:
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode("ascii")
    options: dict[str, object] = {
        "employee_id": ALICE.employee_id,
        "file_type": file_type,
        "file_base64": encoded,
        "request_id": REQUEST_ID,
        **fields,
    }
    return ImportCommand(**options)  # type: ignore[arg-type]


def maycur_code(run: Callable[[], object]) -> tuple[str, str]:
    """The 002 errorCode the use case's refusal answers with, and its detail."""
    with pytest.raises(HubError) as refused:
        run()
    return lookup(Family.MAYCUR, refused.value.problem).code, refused.value.detail or ""


def stored(imported: list[ImportedInvoice]) -> list[ImportedInvoice]:
    return [i for i in imported if i.stored]


# --- the error codes of 002 -------------------------------------------------------------


def test_unknown_employee_is_AUTH0007_and_nothing_is_fetched(
    deps: ImportDeps, files: Files
) -> None:
    url = files.put("/one.pdf", PDF_ONE)
    code, detail = maycur_code(lambda: import_invoice_pic(by_url(url, employee_id="MK99999"), deps))
    assert (code, detail) == ("AUTH0007", "employeeId MK99999")
    assert files.asked == []


@pytest.mark.parametrize("expense", ["FD231231", "FD", "231231", "FD12x4", "FD²", "FD" + "9" * 25])
def test_an_expense_code_the_hub_never_issued_is_EXPENSE_ERR_13(
    deps: ImportDeps, files: Files, store: MemoryInvoiceStore, expense: str
) -> None:
    url = files.put("/one.pdf", PDF_ONE)
    code, _ = maycur_code(lambda: import_invoice_pic(by_url(url, expense_code=expense), deps))
    assert code == "EXPENSE_ERR_13"
    assert len(store) == 0
    assert files.asked == []


def test_another_employees_expense_is_EXPENSE_ERR_13(deps: ImportDeps, files: Files) -> None:
    (first,) = import_invoice_pic(by_url(files.put("/one.pdf", PDF_ONE)), deps)
    assert first.outcome is not None and first.outcome.expense_id is not None
    alices = expense_code(first.outcome.expense_id)

    bobs_import = by_url(files.put("/two.pdf", PDF_TWO), employee_id=BOB.employee_id)
    code, detail = maycur_code(
        lambda: import_invoice_pic(replace(bobs_import, expense_code=alices), deps)
    )
    assert code == "EXPENSE_ERR_13"
    assert alices in detail


@pytest.mark.parametrize("state", [ExpenseState.IN_APPROVAL, ExpenseState.COMPLETED])
def test_an_expense_in_approval_or_reimbursed_is_EXPENSE_ERR_58(
    deps: ImportDeps, files: Files, store: MemoryInvoiceStore, state: ExpenseState
) -> None:
    (first,) = import_invoice_pic(by_url(files.put("/one.pdf", PDF_ONE)), deps)
    assert first.outcome is not None and first.outcome.expense_id is not None
    store.set_expense_state(first.outcome.expense_id, state)

    command = by_url(
        files.put("/two.pdf", PDF_TWO), expense_code=expense_code(first.outcome.expense_id)
    )
    code, _ = maycur_code(lambda: import_invoice_pic(command, deps))
    assert code == "EXPENSE_ERR_58"
    assert store.get(key_of(TWO)) is None


def test_an_image_without_a_qr_code_is_INV20006(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    code, _ = maycur_code(lambda: import_invoice_pic(by_base64(NO_QR_PNG, "PNG"), deps))
    assert code == "INV20006"
    assert len(store) == 0


def test_the_same_file_twice_is_INV20002_and_writes_nothing(
    deps: ImportDeps, files: Files, store: MemoryInvoiceStore
) -> None:
    url = files.put("/both.pdf", PDF_BOTH)
    first = import_invoice_pic(by_url(url), deps)
    assert len(stored(first)) == 2
    expenses = {i.outcome.expense_id for i in first if i.outcome is not None}

    code, _ = maycur_code(lambda: import_invoice_pic(by_url(url, request_id="again"), deps))
    assert code == "INV20002"
    assert len(store) == 2
    assert store.get(key_of(THREE)).biz_id == f"{REQUEST_ID[:34]}-0"  # type: ignore[union-attr]
    for expense_id in expenses:
        assert len(store.get_expense(expense_id).invoice_keys) == 1  # type: ignore[arg-type,union-attr]


def test_over_8_mb_by_base64_is_INV30109() -> None:
    exactly = base64.b64encode(b"%PDF-" + bytes(MAX_FILE_BYTES - 5)).decode("ascii")
    assert len(decode_base64(exactly)) == MAX_FILE_BYTES  # 8 MB itself is allowed
    over = base64.b64encode(b"%PDF-" + bytes(MAX_FILE_BYTES - 4)).decode("ascii")
    code, _ = maycur_code(lambda: decode_base64(over))
    assert code == "INV30109"


def test_over_8_mb_through_the_use_case_by_base64_is_INV30109(deps: ImportDeps) -> None:
    over = PDF_ONE + bytes(MAX_FILE_BYTES + 1 - len(PDF_ONE))
    code, _ = maycur_code(lambda: import_invoice_pic(by_base64(over), deps))
    assert code == "INV30109"


def test_over_8_mb_by_url_is_INV30109(deps: ImportDeps, files: Files) -> None:
    url = files.put("/big.pdf", PDF_ONE + bytes(MAX_FILE_BYTES + 1 - len(PDF_ONE)))
    code, _ = maycur_code(lambda: import_invoice_pic(by_url(url), deps))
    assert code == "INV30109"
    assert files.asked == [(url, 8 * 1024 * 1024)]


@pytest.mark.parametrize(
    "url",
    [
        "https://nowhere.example.com/a.pdf",  # does not resolve
        f"{BASE}/missing.pdf",  # 404
        "ftp://files.example.com/a.pdf",
        "http://169.254.169.254/latest/meta-data/",  # refused by the safe fetcher
    ],
)
def test_an_unreachable_url_is_INV30002(deps: ImportDeps, url: str) -> None:
    code, _ = maycur_code(lambda: import_invoice_pic(by_url(url), deps))
    assert code == "INV30002"


@pytest.mark.parametrize("text", ["not base64 at all!", "eyJhbGciOiJIUzI1NiJ9.eyJqdGki", "===="])
def test_invalid_base64_is_INV30002(deps: ImportDeps, text: str) -> None:
    code, _ = maycur_code(lambda: import_invoice_pic(by_base64(text), deps))
    assert code == "INV30002"


def test_png_declared_for_pdf_bytes_is_INV30104(deps: ImportDeps, files: Files) -> None:
    code, detail = maycur_code(lambda: import_invoice_pic(by_base64(PDF_ONE, "PNG"), deps))
    assert code == "INV30104"
    assert "png" in detail and "pdf" in detail
    code, _ = maycur_code(
        lambda: import_invoice_pic(by_url(files.put("/one.pdf", PDF_ONE), "JPG"), deps)
    )
    assert code == "INV30104"


@pytest.mark.parametrize("file_type", ["GIF", "BMP", "", "TIFF"])
def test_a_file_type_002_does_not_list_is_INV30104_before_any_download(
    deps: ImportDeps, files: Files, file_type: str
) -> None:
    url = files.put("/one.pdf", PDF_ONE)
    code, _ = maycur_code(lambda: import_invoice_pic(by_url(url, file_type), deps))
    assert code == "INV30104"
    assert files.asked == []


# --- expenses ---------------------------------------------------------------------------


def test_expense_code_binds_and_a_second_call_adds_never_overwrites(
    deps: ImportDeps, files: Files, store: MemoryInvoiceStore
) -> None:
    (first,) = import_invoice_pic(by_url(files.put("/one.pdf", PDF_ONE)), deps)
    assert first.outcome is not None and first.outcome.expense_id is not None
    expense_id = first.outcome.expense_id
    code = expense_code(expense_id)

    (second,) = import_invoice_pic(by_url(files.put("/two.pdf", PDF_TWO), expense_code=code), deps)
    assert second.outcome is not None and second.outcome.expense_id == expense_id
    both = import_invoice_pic(
        by_url(files.put("/both.pdf", PDF_BOTH), expense_code=code, all_to_one_expense=False),
        deps,
    )
    assert {i.outcome.expense_id for i in both if i.outcome} == {expense_id}  # the flag is moot

    expense = store.get_expense(expense_id)
    assert expense is not None
    assert expense.invoice_keys == [key_of(ONE), key_of(TWO), key_of(THREE), key_of(FOUR)]
    assert store.get(key_of(ONE)).expense_id == expense_id  # type: ignore[union-attr]


def test_all_invoices_bound_to_one_expense_makes_one_expense_for_two_invoices(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    imported = import_invoice_pic(by_base64(PDF_BOTH, all_to_one_expense=True), deps)
    expense_ids = {i.outcome.expense_id for i in imported if i.outcome}
    assert len(stored(imported)) == 2
    assert len(expense_ids) == 1
    expense = store.get_expense(expense_ids.pop())  # type: ignore[arg-type]
    assert expense is not None
    assert expense.invoice_keys == [key_of(THREE), key_of(FOUR)]
    assert expense.user_code == ALICE.user_code


def test_without_binding_to_one_expense_each_invoice_gets_its_own(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    imported = import_invoice_pic(by_base64(PDF_BOTH, all_to_one_expense=False), deps)
    expense_ids = [i.outcome.expense_id for i in imported if i.outcome]
    assert len(set(expense_ids)) == 2
    assert [store.get_expense(e).invoice_keys for e in expense_ids] == [  # type: ignore[arg-type,union-attr]
        [key_of(THREE)],
        [key_of(FOUR)],
    ]


def test_file_url_wins_over_file_base64(deps: ImportDeps, files: Files) -> None:
    url = files.put("/one.pdf", PDF_ONE)
    (imported,) = import_invoice_pic(replace(by_base64(PDF_TWO), file_url=url), deps)
    assert imported.outcome is not None
    assert imported.outcome.invoice_key == key_of(ONE)
    assert files.asked == [(url, MAX_FILE_BYTES)]
    # a fileBase64 that is not base64 at all is not even looked at
    (second,) = import_invoice_pic(by_url(files.put("/two.pdf", PDF_TWO), file_base64="!!"), deps)
    assert second.outcome is not None and second.outcome.invoice_key == key_of(TWO)


def test_a_file_url_over_100_characters_is_refused_unfetched(
    deps: ImportDeps, files: Files
) -> None:
    url = files.put("/" + "a" * (100 - len(BASE) - 5) + ".pdf", PDF_ONE)
    assert len(url) == 100
    assert len(import_invoice_pic(by_url(url), deps)) == 1
    longer = files.put("/" + "b" * (101 - len(BASE) - 5) + ".pdf", PDF_TWO)
    code, detail = maycur_code(lambda: import_invoice_pic(by_url(longer), deps))
    assert code == "HUB40000"
    assert "fileUrl" in detail
    assert [u for u, _ in files.asked] == [url]


def test_a_duplicate_beside_a_new_invoice_is_skipped_not_refused(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    import_invoice_pic(by_base64(invoice_pdf(THREE)), deps)
    imported = import_invoice_pic(by_base64(PDF_BOTH), deps)
    assert [(i.outcome.invoice_key, i.duplicate) for i in imported if i.outcome] == [
        (key_of(THREE), True),
        (key_of(FOUR), False),
    ]
    assert len(store) == 2


# --- the bugs fixed in the use case ----------------------------------------------------


def test_each_invoice_of_a_file_keeps_its_place_in_its_biz_id(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    import_invoice_pic(by_base64(PDF_BOTH), deps)
    biz_ids = [store.get(key_of(spec)).biz_id for spec in (THREE, FOUR)]  # type: ignore[union-attr]
    assert biz_ids == [REQUEST_ID[:34] + "-0", REQUEST_ID[:34] + "-1"]
    assert all(len(b) <= 36 for b in biz_ids)


def test_an_invoice_breaking_a_rule_is_skipped_and_the_rest_of_the_file_is_saved(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    imported = import_invoice_pic(by_base64(invoice_pdf(THREE, BROKEN)), deps)
    assert [(i.stored, i.refused is not None) for i in imported] == [(True, False), (False, True)]
    assert imported[1].refused is not None
    assert imported[1].refused.problem is Problem.TAX_MISMATCH
    assert store.get(key_of(THREE)) is not None
    assert store.get(key_of(BROKEN)) is None


def test_a_file_whose_only_invoice_breaks_a_rule_is_INV20006_and_stores_nothing(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    code, detail = maycur_code(lambda: import_invoice_pic(by_base64(invoice_pdf(BROKEN)), deps))
    assert code == "INV20006"
    assert "total_amount" in detail
    assert len(store) == 0


def test_base64_with_line_breaks_is_read(deps: ImportDeps) -> None:
    wrapped = base64.encodebytes(PDF_ONE).decode("ascii")  # MIME: 76 characters a line
    assert "\n" in wrapped
    (imported,) = import_invoice_pic(by_base64(wrapped), deps)
    assert imported.stored


def test_an_empty_download_is_INV30002(deps: ImportDeps, files: Files) -> None:
    code, _ = maycur_code(lambda: import_invoice_pic(by_url(files.put("/empty.pdf", b"")), deps))
    assert code == "INV30002"


def test_a_blank_expense_code_makes_a_new_expense(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    (imported,) = import_invoice_pic(by_base64(PDF_ONE, expense_code="  "), deps)
    assert imported.outcome is not None and imported.outcome.expense_id is not None
    assert store.get_expense(imported.outcome.expense_id) is not None


# --- the answer -------------------------------------------------------------------------


def test_invoice_data_code_is_unique_and_at_most_25_characters() -> None:
    assert invoice_data_code("03300230061199007885") == "INV03300230061199007885"
    long_keys = ["1" * 22, "1" * 21 + "2", "ABC" * 10]
    codes = [invoice_data_code(k) for k in long_keys]
    assert all(len(c) == 25 and c.startswith("INV") for c in codes)
    assert len(set(codes)) == 3
    assert invoice_data_code("1" * 22) == codes[0]  # deterministic
    assert len(invoice_data_code("1" * 21)) == 24  # the two forms never meet


def test_the_answer_lists_the_saved_invoices_and_counts_the_skipped(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    import_invoice_pic(by_base64(invoice_pdf(THREE)), deps)
    imported = import_invoice_pic(by_base64(invoice_pdf(THREE, FOUR, BROKEN)), deps)
    at = dt.datetime(2025, 6, 1, 10, 0, tzinfo=SHANGHAI)
    wire = load_json(to_import_answer(imported, at).to_json())

    assert (wire["code"], wire["success"], wire["errorCode"]) == ("ACK", True, None)
    assert "1 张发票已导入过" in wire["message"]
    assert "1 张发票无法保存" in wire["message"]
    (dto,) = wire["data"]
    saved = store.get(key_of(FOUR))
    assert saved is not None
    assert dto["invoiceDataCode"] == "INV" + key_of(FOUR)
    assert dto["expenseCode"] == expense_code(saved.expense_id)
    assert dto["userCode"] == ALICE.user_code
    assert dto["invoiceNumber"] == FOUR.invoice_number
    assert dto["totalPriceAndTax"] == FOUR.total_amount
    assert isinstance(dto["totalPriceAndTax"], Decimal)
    assert dto["validateStatus"] == "VALIDATED"
    assert dto["importedAt"] == 1748743200000
    assert dto["importedAtYearMonth"] == "202506"
    assert [line["expenseCode"] for line in dto["lineItems"]] == [dto["expenseCode"]] * len(
        FOUR.items
    )


def test_an_import_with_nothing_skipped_has_no_message(deps: ImportDeps) -> None:
    imported = import_invoice_pic(by_base64(PDF_BOTH), deps)
    answer = to_import_answer(imported, dt.datetime(2025, 6, 1, tzinfo=SHANGHAI))
    assert answer.message is None
    assert [d.invoice_number for d in answer.data or []] == [
        THREE.invoice_number,
        FOUR.invoice_number,
    ]


class BusyVerifier:
    """A provider that stays busy: every verification ends C with its retry time."""

    remote = True

    def verify(self, invoice: Invoice) -> Verification:
        return Verification(
            invoice_key=invoice.invoice_key,
            status=InvoiceStatus.AWAITING_CHECK,
            source=Source.PROVIDER,
            code="4007",
            retry_at=dt.datetime.now(SHANGHAI) + dt.timedelta(seconds=5),
        )


def test_an_invoice_stored_c_by_a_busy_provider_is_scheduled_for_a_recheck(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    scheduler = MemoryRecheckScheduler()
    busy = replace(deps, scheduler=scheduler, verify=replace(deps.verify, verifier=BusyVerifier()))
    (imported,) = import_invoice_pic(by_base64(PDF_ONE), busy)
    assert imported.outcome is not None
    assert imported.outcome.problem is Problem.CHECK_DEFERRED
    stored = store.get(key_of(ONE))
    assert stored is not None and stored.retry_at is not None
    assert scheduler.scheduled == [(key_of(ONE), stored.retry_at)]


def test_an_invoice_verified_at_import_is_not_scheduled(
    deps: ImportDeps, store: MemoryInvoiceStore
) -> None:
    scheduler = MemoryRecheckScheduler()
    (imported,) = import_invoice_pic(by_base64(PDF_ONE), replace(deps, scheduler=scheduler))
    assert imported.outcome is not None and imported.outcome.status is InvoiceStatus.VERIFIED
    assert scheduler.scheduled == []
