"""The company's ``verify_file_signatures`` on every path (issue 15): create_invoice, the
verification of a refused file, recognize_and_verify (no paid check for a refused file),
ocrSync, the Maycur import, the S3 drop pipeline's tasks, re-checks and the detail query.

Files are generated (``fixtures.generate.invoice_ofd`` signs with the tests' own SM2
identities: an unknown "Test CA" or the test tax CA by name) and recent, so that an
invoice nothing refuses does reach the verifier. The helpers that make tampered copies
(``with_a_printed_digit_changed``, ``with_an_unsigned_document``) are used by the
integration and e2e tests too.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zipfile
from dataclasses import replace

import pytest
from fixtures.generate import invoice_ofd, invoice_pdf, zip_files
from fixtures.served import recent_invoice

from fakes.memory import (
    MemoryEmployeeDirectory,
    MemoryFileStore,
    MemoryInvoiceStore,
    MemoryVerificationCache,
)
from fapiao.catalogue.errors import HubError, Problem, invoice_message
from fapiao.dates import SHANGHAI
from fapiao.mapping.maycur import to_import_answer
from fapiao.mapping.ocr_sync import to_ocr_sync_response
from fapiao.mapping.review import invoice_detail_item
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.create import CreateCommand
from fapiao.model.parties import Employee
from fapiao.model.pipeline import DroppedObject, Found, Outcome, OutcomeKind
from fapiao.model.signature import CheckState, IssuerKind, SignatureCheck
from fapiao.model.stored import Transition
from fapiao.ports import VerifyDeps
from fapiao.recognize import recognize_with_signatures
from fapiao.results import Source, Verification
from fapiao.rules.file_signatures import SignatureRefusal, signature_refusal
from fapiao.services.create_invoice import create_invoice
from fapiao.services.import_pic import ImportCommand, ImportDeps, import_invoice_pic
from fapiao.services.ocr_sync import OcrSyncCommand, OcrSyncDeps, ocr_sync
from fapiao.services.pipeline import create_from_object, failure_outcome, recognize_object
from fapiao.services.process_file import create_command, recognize_and_verify, refused_file
from fapiao.services.recheck import check_again
from fapiao.settings import CompanySettings, IdentifierSettings
from fapiao.wire.common import load_json
from fapiao.wire.review import InvoiceDetailResponse
from support import CORPUS
from unit.services.test_create_invoice import KEY as EXAMPLE_KEY
from unit.services.test_create_invoice import command as example_command
from unit.services.test_recheck import ScriptedVerifier, World, stored_c, verified

C, Y, F, READ = (
    InvoiceStatus.AWAITING_CHECK,
    InvoiceStatus.VERIFIED,
    InvoiceStatus.CHECK_FAILED,
    InvoiceStatus.RECOGNIZED,
)
ON = CompanySettings(verify_file_signatures=True)
OFF = CompanySettings()
NOW = dt.datetime(2024, 5, 1, 10, 30, tzinfo=SHANGHAI)
SIGNED_AT = dt.datetime(2024, 5, 31, 6, 17, 33, tzinfo=dt.UTC)
TEST_CA = "C=CN, CN=税务测试CA2(SM2)"
TAMPERED_MESSAGE = "发票文件签名验证失败,文件已被篡改"
MODIFIED_MESSAGE = "发票文件签名后被修改"
TEST_CA_MESSAGE = "发票文件由税务测试证书签名,不是正式发票"
ALICE = Employee(employee_id="MK00001", name="开发员工", user_code="UI2012221C97WQDC")
SETTINGS = IdentifierSettings(
    identify_poll_attempts=4, identify_first_wait_seconds=2, identify_max_wait_seconds=10
)


# --- helpers the integration and e2e tests share ---------------------------------------


def corpus_file(name: str) -> bytes:
    path = CORPUS / "files" / name
    if not path.exists():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    return path.read_bytes()


def ofd_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


_PRINTED_DIGIT = re.compile(rb"<ofd:TextCode[^>]*>[^<]*?(\d)[^<\d]*</ofd:TextCode>")
_BOUNDARY_DIGIT = re.compile(rb'Boundary="[^"]*?(\d)')


def with_a_printed_digit_changed(data: bytes) -> bytes:
    """A signed OFD with one digit changed on its first page: the last digit of the last
    printed value that has one (else of a text's position), so the XML stays valid and
    the invoice is still read, from a file that is no longer the one signed."""
    files = ofd_files(data)
    page = min(n for n in files if re.search(r"/Pages/Page_\d+/Content\.xml$", n))
    content = files[page]
    found = list(_PRINTED_DIGIT.finditer(content)) or list(_BOUNDARY_DIGIT.finditer(content))
    at = found[-1].start(1)
    digit = str((int(content[at : at + 1]) + 1) % 10).encode()
    files[page] = content[:at] + digit + content[at + 1 :]
    return zip_files(files)


def with_an_unsigned_document(data: bytes) -> bytes:
    """A signed OFD whose OFD.xml now names a copy of its signed Document.xml: the same
    invoice, read from a document its signature does not cover (modified after signing)."""
    files = ofd_files(data)
    files["Doc_0/Unsigned.xml"] = files["Doc_0/Document.xml"]
    files["OFD.xml"] = files["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_0/Unsigned.xml")
    return zip_files(files)


def refusing_files(seed: int) -> dict[Problem, bytes]:
    """A recent generated invoice per refusal, each a different invoice (seed, seed+1, ...)."""
    return {
        Problem.FILE_TAMPERED: with_a_printed_digit_changed(invoice_ofd(recent_invoice(seed))),
        Problem.FILE_MODIFIED_AFTER_SIGNING: with_an_unsigned_document(
            invoice_ofd(recent_invoice(seed + 1))
        ),
        Problem.FILE_SIGNED_BY_TEST_CA: invoice_ofd(
            recent_invoice(seed + 2), signed_by="tax_bureau_test"
        ),
    }


STATE_OF = {
    Problem.FILE_TAMPERED: CheckState.TAMPERED,
    Problem.FILE_MODIFIED_AFTER_SIGNING: CheckState.MODIFIED_AFTER_SIGNING,
    Problem.FILE_SIGNED_BY_TEST_CA: CheckState.VALID,
}
CODE_OF = {
    Problem.FILE_TAMPERED: 907016,
    Problem.FILE_MODIFIED_AFTER_SIGNING: 907017,
    Problem.FILE_SIGNED_BY_TEST_CA: 907018,
}
MESSAGE_OF = {
    Problem.FILE_TAMPERED: TAMPERED_MESSAGE,
    Problem.FILE_MODIFIED_AFTER_SIGNING: MODIFIED_MESSAGE,
    Problem.FILE_SIGNED_BY_TEST_CA: TEST_CA_MESSAGE,
}
REFUSALS = list(CODE_OF)


# --- fakes ----------------------------------------------------------------------------


class CountingVerifier:
    """A provider that confirms every invoice it is asked about, and counts the asks."""

    remote = False

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def verify(self, invoice: Invoice) -> Verification:
        self.asked.append(invoice.invoice_number)
        check = CheckResult(success=True, message="查验成功", checked_at=NOW, invoice=invoice)
        return Verification(
            invoice_key=invoice.invoice_key, status=Y, source=Source.PROVIDER, check=check
        )


def verify_deps(verifier: CountingVerifier) -> VerifyDeps:
    return VerifyDeps(verifier=verifier, cache=MemoryVerificationCache(), known=None)


def signature(
    state: CheckState, kind: IssuerKind | None = None, **fields: object
) -> SignatureCheck:
    base: dict[str, object] = {"state": state, "issuer_kind": kind}
    if state is CheckState.VALID:
        base.update(
            algorithm="SM2-SM3",
            signer="C=CN, CN=Test Signer",
            issuer=TEST_CA if kind is IssuerKind.TAX_BUREAU_TEST else "C=CN, CN=Test CA",
            signed_at=SIGNED_AT,
            certificate_valid_at_signing=True,
        )
    return SignatureCheck.model_validate(base | fields)


TAMPERED = signature(CheckState.TAMPERED, reason="/Doc_0/Pages/Page_0/Content.xml differs")
MODIFIED = signature(
    CheckState.MODIFIED_AFTER_SIGNING,
    IssuerKind.COMMERCIAL_CA,
    reason="711 bytes follow the signed byte range",
)
BY_TEST_CA = signature(CheckState.VALID, IssuerKind.TAX_BUREAU_TEST)
BY_TAX_BUREAU = signature(CheckState.VALID, IssuerKind.TAX_BUREAU)
SIGNATURE_OF = {
    Problem.FILE_TAMPERED: TAMPERED,
    Problem.FILE_MODIFIED_AFTER_SIGNING: MODIFIED,
    Problem.FILE_SIGNED_BY_TEST_CA: BY_TEST_CA,
}
DETAIL_OF = {
    Problem.FILE_TAMPERED: "/Doc_0/Pages/Page_0/Content.xml differs",
    Problem.FILE_MODIFIED_AFTER_SIGNING: "711 bytes follow the signed byte range",
    Problem.FILE_SIGNED_BY_TEST_CA: f"issuer {TEST_CA}",
}


def signed(cmd: CreateCommand, check: SignatureCheck | None) -> CreateCommand:
    return replace(cmd, signature=check)


# --- create_invoice ---------------------------------------------------------------------


@pytest.mark.parametrize("problem", REFUSALS)
def test_create_with_a_refusing_signature_and_the_setting_on_stores_f_with_its_code(
    problem: Problem,
) -> None:
    store = MemoryInvoiceStore()
    check = SIGNATURE_OF[problem]

    # 001's example carries a successful receipt_check: the file's signature still wins
    outcome = create_invoice(signed(example_command(), check), store, ON, lambda: NOW)

    assert (outcome.status, outcome.problem) == (F, problem)
    assert outcome.message_code == str(CODE_OF[problem])
    assert outcome.message == f"{MESSAGE_OF[problem]}: {DETAIL_OF[problem]}"
    assert outcome.message == invoice_message(problem, DETAIL_OF[problem])[1]
    stored = store.get(EXAMPLE_KEY)
    assert stored is not None
    assert (stored.status, stored.message_code, stored.message) == (
        F,
        str(CODE_OF[problem]),
        outcome.message,
    )
    assert stored.signature == check
    assert stored.transitions == [
        Transition(status=F, at=NOW, reason=outcome.message, message_code=str(CODE_OF[problem]))
    ]


@pytest.mark.parametrize("problem", REFUSALS)
def test_create_with_the_setting_off_is_not_refused_but_keeps_the_signature(
    problem: Problem,
) -> None:
    store = MemoryInvoiceStore()
    check = SIGNATURE_OF[problem]

    outcome = create_invoice(signed(example_command(), check), store, OFF, lambda: NOW)

    assert (outcome.status, outcome.problem, outcome.message_code) == (Y, None, None)
    stored = store.get(EXAMPLE_KEY)
    assert stored is not None and stored.status is Y
    assert stored.signature == check


@pytest.mark.parametrize(
    "check",
    [
        None,
        BY_TAX_BUREAU,
        signature(CheckState.VALID, IssuerKind.COMMERCIAL_CA),
        signature(CheckState.ABSENT),
        signature(CheckState.UNVERIFIABLE, reason="digest method '1.2.3.4' is not supported"),
    ],
    ids=["none", "tax-bureau", "commercial-ca", "absent", "unverifiable"],
)
def test_create_with_a_signature_nothing_refuses_is_as_without_the_setting(
    check: SignatureCheck | None,
) -> None:
    store = MemoryInvoiceStore()
    outcome = create_invoice(signed(example_command(), check), store, ON, lambda: NOW)
    assert (outcome.status, outcome.problem) == (Y, None)
    stored = store.get(EXAMPLE_KEY)
    assert stored is not None and stored.signature == check


# --- the verification of a refused file -------------------------------------------------


@pytest.mark.parametrize("problem", REFUSALS)
def test_the_verification_of_a_refused_file_is_f_unpaid_with_the_signatures_problem(
    problem: Problem,
) -> None:
    invoice = example_command().invoices[0]
    refusal = signature_refusal(SIGNATURE_OF[problem], True)
    assert refusal == SignatureRefusal(problem, DETAIL_OF[problem])

    verification = refused_file(invoice, refusal)

    assert (verification.status, verification.source) == (F, Source.FILE_SIGNATURE)
    assert verification.invoice_key == invoice.invoice_key == EXAMPLE_KEY
    assert (verification.cause, verification.detail) == (problem, DETAIL_OF[problem])
    assert verification.check is None and verification.provider_calls == 0
    assert verification.final
    # what create_command makes of it: the same cause and detail, the check absent
    command = create_command(
        invoice,
        verification,
        biz_id="b1",
        user_code="u1",
        attachment_url="a.ofd",
        signature=SIGNATURE_OF[problem],
    )
    assert (command.cause, command.cause_detail, command.check) == (
        problem,
        DETAIL_OF[problem],
        None,
    )
    assert command.signature == SIGNATURE_OF[problem]


def test_a_refused_verification_round_trips_as_json() -> None:
    refusal = SignatureRefusal(Problem.FILE_SIGNED_BY_TEST_CA, f"issuer {TEST_CA}")
    verification = refused_file(example_command().invoices[0], refusal)
    again = Verification.model_validate_json(verification.model_dump_json())
    assert again == verification
    assert again.cause is Problem.FILE_SIGNED_BY_TEST_CA


# --- recognize_and_verify: no paid check for a refused file ----------------------------


@pytest.mark.parametrize("problem", REFUSALS)
def test_a_refused_file_is_f_and_the_verifier_is_never_asked(problem: Problem) -> None:
    data = refusing_files(1500)[problem]
    verifier = CountingVerifier()

    (item,) = recognize_and_verify(data, verify_deps(verifier), verify_file_signatures=True)

    assert verifier.asked == []
    assert item.recognized.invoice is not None
    assert item.recognized.signature is not None
    assert item.recognized.signature.state is STATE_OF[problem]
    assert item.verification is not None
    assert (item.status, item.verification.source) == (F, Source.FILE_SIGNATURE)
    assert item.verification.cause is problem
    refusal = signature_refusal(item.recognized.signature, True)
    assert refusal is not None and item.verification.detail == refusal.detail


@pytest.mark.parametrize("problem", REFUSALS)
def test_with_the_setting_off_the_same_file_is_verified(problem: Problem) -> None:
    data = refusing_files(1500)[problem]
    verifier = CountingVerifier()

    (item,) = recognize_and_verify(data, verify_deps(verifier))
    (again,) = recognize_and_verify(data, verify_deps(verifier), verify_file_signatures=False)

    assert item.recognized.invoice is not None
    assert verifier.asked == [item.recognized.invoice.invoice_number] * 2
    assert item.status is Y and again.status is Y
    assert item.recognized.signature is not None  # checked and kept, not enforced
    assert item.recognized.signature.state is STATE_OF[problem]


def test_tampered_wins_over_the_test_ca() -> None:
    data = with_a_printed_digit_changed(
        invoice_ofd(recent_invoice(1510), signed_by="tax_bureau_test")
    )
    verifier = CountingVerifier()
    (item,) = recognize_and_verify(data, verify_deps(verifier), verify_file_signatures=True)
    assert item.verification is not None
    assert item.verification.cause is Problem.FILE_TAMPERED
    assert verifier.asked == []


@pytest.mark.parametrize(
    ("data", "state"),
    [
        (invoice_ofd(recent_invoice(1520)), CheckState.VALID),  # an unknown "Test CA"
        (invoice_ofd(recent_invoice(1521), signed=False), CheckState.ABSENT),
        (invoice_pdf(recent_invoice(1522)), CheckState.ABSENT),  # as 数电 PDFs are
    ],
    ids=["valid-unknown-issuer", "unsigned-ofd", "unsigned-pdf"],
)
def test_files_nothing_refuses_are_verified_with_the_setting_on(
    data: bytes, state: CheckState
) -> None:
    verifier = CountingVerifier()
    (item,) = recognize_and_verify(data, verify_deps(verifier), verify_file_signatures=True)
    assert item.recognized.signature is not None
    assert item.recognized.signature.state is state
    assert len(verifier.asked) == 1
    assert item.status is Y


def test_every_invoice_of_an_unsigned_file_is_verified_with_the_setting_on() -> None:
    data = invoice_pdf(recent_invoice(1530), recent_invoice(1531))
    verifier = CountingVerifier()
    assert all(
        i.status is Y
        for i in recognize_and_verify(data, verify_deps(verifier), verify_file_signatures=True)
    )
    assert len(verifier.asked) == 2


def test_the_corpus_didi_pdf_is_refused_as_modified_after_signing() -> None:
    data = corpus_file("yooongchun__Invoice2Excel__didi.pdf")
    verifier = CountingVerifier()
    (on,) = recognize_and_verify(data, verify_deps(verifier), verify_file_signatures=True)
    (off,) = recognize_and_verify(data, verify_deps(verifier))
    assert on.verification is not None and off.verification is not None
    assert on.verification.cause is Problem.FILE_MODIFIED_AFTER_SIGNING
    assert on.verification.detail and "bytes" in on.verification.detail
    assert off.verification.cause is Problem.TOO_OLD_TO_CHECK  # 2018: decided offline
    assert verifier.asked == []


# --- ocrSync and the Maycur import ------------------------------------------------------


def ocr_deps(
    files: dict[str, bytes], verifier: CountingVerifier, company: CompanySettings
) -> OcrSyncDeps:
    def fetch(url: str, max_bytes: int) -> bytes:
        raise HubError(Problem.FILE_UNREACHABLE, "nothing there")

    return OcrSyncDeps(
        fetch=fetch,
        files=MemoryFileStore(files),
        verify=verify_deps(verifier),
        store=MemoryInvoiceStore(),
        company=lambda: company,
    )


@pytest.mark.parametrize("problem", REFUSALS)
@pytest.mark.parametrize("create", [False, True], ids=["N", "Y"])
def test_ocr_sync_with_the_setting_on_answers_f_with_the_signatures_code(
    problem: Problem, create: bool
) -> None:
    verifier = CountingVerifier()
    used = ocr_deps({"a.ofd": refusing_files(1540)[problem]}, verifier, ON)

    results = ocr_sync(
        OcrSyncCommand(biz_id="b1", attachment_url="a.ofd", create_expense=create, user_code="u1"),
        used,
    )

    assert verifier.asked == []
    wire = to_ocr_sync_response("b1", results, create_expense=create).to_wire()
    (element,) = wire["data"]
    assert element["invoice_message_code"] == CODE_OF[problem]
    assert element["invoice_message"].startswith(MESSAGE_OF[problem] + ": ")
    if not create:
        assert element["ocrResult"]["invoice_status"] == "F"
        return
    assert element["invoice_status"] == "F"
    (result,) = results
    assert result.created is not None
    stored = used.store.get(result.created.invoice_key)
    assert stored is not None
    assert (stored.status, stored.message_code) == (F, str(CODE_OF[problem]))
    assert stored.signature == result.item.recognized.signature
    assert stored.signature is not None and stored.signature.state is STATE_OF[problem]


def test_ocr_sync_with_the_setting_off_verifies_and_stores_the_signature() -> None:
    verifier = CountingVerifier()
    data = refusing_files(1550)[Problem.FILE_SIGNED_BY_TEST_CA]
    used = ocr_deps({"a.ofd": data}, verifier, OFF)

    (result,) = ocr_sync(
        OcrSyncCommand(biz_id="b1", attachment_url="a.ofd", create_expense=True, user_code="u1"),
        used,
    )

    assert len(verifier.asked) == 1
    assert result.created is not None and result.created.status is Y
    stored = used.store.get(result.created.invoice_key)
    assert stored is not None and stored.signature is not None
    assert stored.signature.issuer_kind is IssuerKind.TAX_BUREAU_TEST


def test_a_maycur_import_with_the_setting_on_stores_the_refused_invoice_failed() -> None:
    verifier = CountingVerifier()
    store = MemoryInvoiceStore()

    def fetch(url: str, max_bytes: int) -> bytes:
        raise HubError(Problem.FILE_UNREACHABLE, "nothing there")

    deps = ImportDeps(
        fetch=fetch,
        verify=verify_deps(verifier),
        store=store,
        employees=MemoryEmployeeDirectory((ALICE,)),
        company=lambda: ON,
    )
    data = refusing_files(1560)[Problem.FILE_SIGNED_BY_TEST_CA]
    command = ImportCommand(
        employee_id=ALICE.employee_id,
        file_type="OFD",
        file_base64=base64.b64encode(data).decode("ascii"),
        request_id="import-1",
    )

    imported = import_invoice_pic(command, deps)

    assert verifier.asked == []
    (one,) = imported
    assert one.stored and one.outcome is not None
    assert (one.outcome.status, one.outcome.problem) == (F, Problem.FILE_SIGNED_BY_TEST_CA)
    (dto,) = load_json(to_import_answer(imported, NOW).to_json())["data"]
    assert (dto["validateStatus"], dto["errorCode"]) == ("VALIDATION_FAILED", "907018")
    assert dto["remark"] == dto["errorMessage"] == f"{TEST_CA_MESSAGE}: issuer {TEST_CA}"
    stored = store.get(one.outcome.invoice_key)
    assert stored is not None and stored.signature is not None
    assert stored.signature.issuer_kind is IssuerKind.TAX_BUREAU_TEST


# --- the S3 drop pipeline's tasks -------------------------------------------------------


def dropped(key: str = "acme/2024/05/a.ofd") -> DroppedObject:
    return DroppedObject(bucket="fapiao-drop", key=key, etag="e1")


class Company:
    """The company settings as the pipeline reads them: counted, or unusable."""

    def __init__(self, settings: CompanySettings | None) -> None:
        self.settings = settings
        self.reads = 0

    def __call__(self) -> CompanySettings:
        self.reads += 1
        if self.settings is None:
            raise HubError(Problem.INTERNAL, "company settings unusable: {not json")
        return self.settings


@pytest.mark.parametrize("problem", REFUSALS)
def test_recognize_marks_a_refused_invoice_f_with_its_reason(problem: Problem) -> None:
    obj = dropped()
    files = MemoryFileStore({obj.key: refusing_files(1570)[problem]})

    state = recognize_object(obj, files, None, SETTINGS, company=Company(ON))

    (found,) = state.invoices
    assert found.status is F
    assert found.signature is not None and found.signature.state is STATE_OF[problem]
    refusal = signature_refusal(found.signature, True)
    assert refusal is not None and refusal.problem is problem
    assert found.reason == refusal.detail
    assert Found.model_validate(found.model_dump(mode="json")) == found  # the task's JSON


@pytest.mark.parametrize(
    "company", [Company(OFF), None, Company(None)], ids=["off", "no-company", "unusable"]
)
def test_recognize_without_the_setting_leaves_the_invoice_to_verify(
    company: Company | None,
) -> None:
    obj = dropped()
    data = refusing_files(1570)[Problem.FILE_SIGNED_BY_TEST_CA]

    state = recognize_object(obj, MemoryFileStore({obj.key: data}), None, SETTINGS, company=company)

    (found,) = state.invoices
    assert found.status is READ and found.reason is None
    assert found.signature is not None
    assert found.signature.issuer_kind is IssuerKind.TAX_BUREAU_TEST


def test_recognize_reads_the_settings_only_for_a_file_they_could_refuse() -> None:
    obj = dropped("acme/a.pdf")
    company = Company(ON)
    files = MemoryFileStore({obj.key: invoice_pdf(recent_invoice(1580))})
    (found,) = recognize_object(obj, files, None, SETTINGS, company=company).invoices
    assert found.status is READ
    assert found.signature is not None and found.signature.state is CheckState.ABSENT
    assert company.reads == 0


def test_the_identify_api_only_recognizes_and_never_refuses() -> None:
    obj = dropped("identify/abc/a.ofd")
    data = refusing_files(1570)[Problem.FILE_SIGNED_BY_TEST_CA]
    state = recognize_object(
        obj, MemoryFileStore({obj.key: data}), None, SETTINGS, company=Company(ON)
    )
    assert state.mode == "identify"
    (found,) = state.invoices
    assert found.status is READ
    assert found.signature is not None  # still said


@pytest.mark.parametrize("problem", REFUSALS)
def test_create_of_a_refused_invoice_is_rejected_with_the_signature_on_the_outcome(
    problem: Problem,
) -> None:
    obj = dropped()
    store = MemoryInvoiceStore()
    files = MemoryFileStore({obj.key: refusing_files(1590)[problem]})
    (found,) = recognize_object(obj, files, None, SETTINGS, company=Company(ON)).invoices
    assert found.invoice is not None and found.signature is not None

    # the state machine sends an F straight to Create: no verification at all
    outcome = create_from_object(obj, 0, found, None, store, ON, lambda: NOW)

    assert (outcome.outcome, outcome.status) == (OutcomeKind.REJECTED, F)
    assert outcome.message_code == CODE_OF[problem]
    assert outcome.message == f"{MESSAGE_OF[problem]}: {found.reason}"
    assert outcome.signature == found.signature
    detail = load_json(outcome.model_dump_json())
    assert detail["signature"] == found.signature.to_json()
    assert detail["signature"]["state"] == STATE_OF[problem].value
    assert Outcome.model_validate(detail) == outcome
    stored = store.get(found.invoice.invoice_key or "")
    assert stored is not None
    assert (stored.status, stored.message_code) == (F, str(CODE_OF[problem]))
    assert stored.signature == found.signature


def test_a_normal_drops_outcome_carries_its_signature_too() -> None:
    obj = dropped()
    store = MemoryInvoiceStore()
    files = MemoryFileStore({obj.key: invoice_ofd(recent_invoice(1600))})
    (found,) = recognize_object(obj, files, None, SETTINGS, company=Company(ON)).invoices
    assert found.status is READ

    outcome = create_from_object(obj, 0, found, None, store, ON, lambda: NOW)

    assert outcome.outcome is OutcomeKind.CREATED
    assert outcome.signature is not None and outcome.signature.state is CheckState.VALID
    assert outcome.signature.issuer_kind is IssuerKind.UNKNOWN
    assert load_json(outcome.model_dump_json())["signature"]["issuer"] == "C=CN, CN=Test CA"


def test_an_outcome_of_an_unread_or_failed_invoice_carries_the_files_signature() -> None:
    found = Found(status=InvoiceStatus.UNRECOGNISABLE, reason="nothing read", signature=TAMPERED)
    unread = failure_outcome(
        dropped(), kind=OutcomeKind.UNRECOGNISABLE, found=found, now=lambda: NOW
    )
    assert unread.signature == TAMPERED
    failed = failure_outcome(dropped(), error={"Error": "X", "Cause": "y"}, now=lambda: NOW)
    assert failed.signature is None
    assert load_json(failed.model_dump_json())["signature"] is None


# --- re-checks ---------------------------------------------------------------------------


def test_a_recheck_by_hand_keeps_a_refused_record_f() -> None:
    world = World(ScriptedVerifier(verified), ON)
    code, message = invoice_message(Problem.FILE_SIGNED_BY_TEST_CA, f"issuer {TEST_CA}")
    at = world.clock() - dt.timedelta(days=1)
    world.put(
        stored_c(
            status=F,
            message=message,
            message_code=str(code),
            signature=BY_TEST_CA,
            transitions=[Transition(status=F, at=at, reason=message)],
        )
    )

    after = check_again(world.record(), world.deps, by_hand=True)

    assert (after.status, after.message_code, after.message) == (F, "907018", message)
    assert after.signature == BY_TEST_CA
    assert world.bus.changes == []  # F before, F after: nothing to tell
    assert world.verifier.calls == []  # nothing paid for a file its signature refuses


def test_an_automatic_recheck_refuses_a_record_once_the_setting_is_on() -> None:
    """Stored C while the setting was off; the company turned it on since."""
    world = World(ScriptedVerifier(verified), ON)
    world.put(stored_c(retry_at=world.clock(), signature=TAMPERED))

    after = check_again(world.record(), world.deps)

    assert (after.status, after.message_code) == (F, "907016")
    assert after.message == f"{TAMPERED_MESSAGE}: {DETAIL_OF[Problem.FILE_TAMPERED]}"
    (change,) = world.bus.changes
    assert (change.previous_status, change.status, change.message_code) == (C, F, 907016)
    assert world.verifier.calls == []


def test_an_automatic_recheck_with_the_setting_off_verifies_as_ever() -> None:
    world = World(ScriptedVerifier(verified), OFF)
    world.put(stored_c(retry_at=world.clock(), signature=TAMPERED))
    after = check_again(world.record(), world.deps)
    assert (after.status, after.message_code) == (Y, None)
    assert after.signature == TAMPERED
    assert len(world.verifier.calls) == 1


# --- the detail query --------------------------------------------------------------------


def test_the_detail_item_carries_the_stored_signature() -> None:
    store = MemoryInvoiceStore()
    create_invoice(signed(example_command(), BY_TEST_CA), store, OFF, lambda: NOW)
    record = store.get(EXAMPLE_KEY)
    assert record is not None

    item = invoice_detail_item(record)

    assert item.signature == BY_TEST_CA
    response = InvoiceDetailResponse(res_code=200000, res_msg="success", data=[item])
    (wire,) = load_json(response.to_json())["data"]
    answered = wire["signature"]
    assert answered["state"] == "valid"
    assert answered["issuer_kind"] == "tax_bureau_test"
    assert answered["issuer"] == TEST_CA
    assert answered["signer"] == "C=CN, CN=Test Signer"
    assert answered["algorithm"] == "SM2-SM3"
    assert answered["certificate_valid_at_signing"] is True
    assert dt.datetime.fromisoformat(answered["signed_at"]) == SIGNED_AT
    assert SignatureCheck.model_validate(answered) == BY_TEST_CA


def test_the_detail_item_of_an_invoice_without_a_file_has_no_signature() -> None:
    store = MemoryInvoiceStore()
    create_invoice(example_command(), store, ON, lambda: NOW)
    record = store.get(EXAMPLE_KEY)
    assert record is not None and record.signature is None
    response = InvoiceDetailResponse(res_code=200000, data=[invoice_detail_item(record)])
    assert load_json(response.to_json())["data"][0]["signature"] is None


def test_what_the_engine_reads_is_the_signature_the_services_store() -> None:
    """The services' reading (``recognize_with_signatures``) gives every invoice of a
    file the file's one check."""
    data = refusing_files(1610)[Problem.FILE_SIGNED_BY_TEST_CA]
    (found,) = recognize_with_signatures(data)
    assert found.signature is not None
    assert found.signature.to_json() == {
        "state": "valid",
        "algorithm": "SM2-SM3",
        "signer": "C=CN, CN=Test Signer",
        "issuer": TEST_CA,
        "issuer_kind": "tax_bureau_test",
        "signed_at": found.signature.to_json()["signed_at"],
        "certificate_valid_at_signing": True,
        "reason": None,
    }
