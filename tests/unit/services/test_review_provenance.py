"""The enriched review detail (issue 18), through the review API's handler as API Gateway
calls it: where each field came from (``sources``, by 001's names, a correction by hand
first) and where the readings disagreed, every verification of the invoice (``checks``:
when, what, who decided, paid or not), the file's signature and whether a re-check by
hand can be asked now (``recheck``).

The records are made the way the hub makes them: ocrSync reading a generated PDF or OFD
(fixtures.generate), create_command with a Verification, the pipeline's recognize,
poll and create steps; re-checks go through the review API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from fixtures.generate import InvoiceSpec, invoice_ofd, invoice_pdf, qr_photo, rail_spec
from fixtures.served import recent_invoice

from fakes.memory import (
    MemoryFileStore,
    MemoryKnownInvoices,
    MemoryVerificationCache,
)
from fapiao.catalogue.errors import Problem, invoice_message
from fapiao.catalogue.types import InvoiceType
from fapiao.mapping.invoice_create import OCR_NAMES
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Found, Recognized
from fapiao.model.review import review_id
from fapiao.model.stored import Provenance, StoredInvoice
from fapiao.ports import VerifyDeps
from fapiao.providers.identifier import Poll, PollState
from fapiao.providers.offline import OfflineVerifier
from fapiao.recognize import recognize_with_signatures
from fapiao.results import Source, Verification
from fapiao.services.create_invoice import create_invoice
from fapiao.services.ocr_sync import OcrSyncCommand, OcrSyncDeps, ocr_sync
from fapiao.services.pipeline import create_from_object, poll_pending, provided, recognize_object
from fapiao.services.process_file import create_command
from fapiao.services.recheck import DAILY_CHECKS
from fapiao.settings import CompanySettings, IdentifierSettings
from unit.services.test_create_invoice import command as request_command
from unit.services.test_create_invoice import taxi_command
from unit.services.test_review import NOW, OWNER, World, minutes_ago, refused, unread
from unit.services.test_review_api import DROP_BUCKET, call, load, review_deps

Y, C, F, U = (
    InvoiceStatus.VERIFIED,
    InvoiceStatus.AWAITING_CHECK,
    InvoiceStatus.CHECK_FAILED,
    InvoiceStatus.UNRECOGNISABLE,
)
SETTINGS = IdentifierSettings(
    identify_poll_attempts=4, identify_first_wait_seconds=2, identify_max_wait_seconds=10
)
LIMIT_MESSAGE = invoice_message(Problem.DAILY_CHECK_LIMIT)[1]


def printed(seed: int) -> InvoiceSpec:
    """A generated invoice that passes the offline checks on the world's day (NOW)."""
    return replace(recent_invoice(seed), receipt_date=NOW.date() - dt.timedelta(days=12))


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def review(monkeypatch: pytest.MonkeyPatch, world: World) -> ModuleType:
    module = load("ReviewFunction", monkeypatch)
    deps = review_deps(module, world)
    monkeypatch.setattr(module, "deps", lambda: deps)
    return module


def synced(world: World, name: str, data: bytes) -> StoredInvoice:
    """The one invoice of ``data`` as ocrSync creates it (the offline verifier: C)."""
    deps = OcrSyncDeps(
        fetch=lambda url, max_bytes: b"",
        files=MemoryFileStore({name: data}),
        verify=VerifyDeps(
            verifier=OfflineVerifier(),
            cache=MemoryVerificationCache(),
            known=MemoryKnownInvoices(),
            clock=world.clock,
        ),
        store=world.store,
        company=CompanySettings,
    )
    (result,) = ocr_sync(OcrSyncCommand("biz-1", name, True, OWNER), deps)
    assert result.created is not None
    return world.get(result.created.invoice_key)


def detail(review: ModuleType, name: str) -> dict[str, Any]:
    status, body = call(review, "GET", f"/common/review/{name}")
    assert (status, body["resCode"]) == (200, 200000), body
    data: dict[str, Any] = body["data"]
    return data


def provider_verified(asked: Invoice, calls: int = 1) -> Verification:
    check = CheckResult(success=True, message="查验成功", invoice=asked)
    return Verification(
        invoice_key=asked.invoice_key,
        status=Y,
        source=Source.PROVIDER,
        check=check,
        code="1",
        provider_calls=calls,
    )


# --- sources and disagreements --------------------------------------------------------------


def test_the_detail_says_where_each_field_of_a_pdf_came_from(
    review: ModuleType, world: World
) -> None:
    spec = printed(31)
    stored = synced(world, "acme/a.pdf", invoice_pdf(spec))

    seen = detail(review, stored.invoice_key)

    sources = seen["sources"]
    assert sources["invoice_number"] == ["text_layer", "qr"]
    assert sources["receipt_date"] == ["text_layer", "qr"]
    assert sources["seller_name"] == ["text_layer"]
    assert sources["buyer_tax_code"] == ["text_layer"]
    assert all(found and "correction" not in found for found in sources.values())
    assert seen["disagreements"] == []
    assert stored.provenance is not None  # what the detail shows is what was stored
    assert set(sources) == {OCR_NAMES.get(n, n) for n in stored.provenance.sources}
    # 001 calls the buyer's bank and account buyer_bank
    assert sources["buyer_bank"] == stored.provenance.sources["buyer_account"]
    assert "buyer_account" not in sources


def test_a_qr_code_that_disagrees_with_the_text_is_in_the_detail(
    review: ModuleType, world: World
) -> None:
    spec = printed(32)
    forged = spec.qr_payload().replace(f",{spec.amount},", ",1.00,")
    stored = synced(world, "acme/forged.pdf", invoice_pdf(spec, qr_payloads={0: forged}))

    seen = detail(review, stored.invoice_key)

    assert seen["disagreements"] == [
        {"field": "amount", "readings": {"text_layer": str(spec.amount), "qr": "1.00"}}
    ]
    assert seen["fields"]["amount"] == spec.amount  # the text stands


def test_sources_are_named_as_001_names_the_fields(review: ModuleType, world: World) -> None:
    """A rail ticket's passenger is ``passenger_name`` inside the hub, ``name`` in 001."""
    stored = synced(world, "acme/rail.pdf", invoice_pdf(rail_spec(3)))
    assert stored.provenance is not None
    assert "passenger_name" in stored.provenance.sources

    seen = detail(review, stored.invoice_key)

    assert seen["sources"]["name"] == stored.provenance.sources["passenger_name"]
    assert "passenger_name" not in seen["sources"]


def test_a_field_corrected_by_hand_says_correction_first(review: ModuleType, world: World) -> None:
    stored = synced(world, "acme/b.pdf", invoice_pdf(printed(33)))
    fixed = {"seller_name": "杭州某某有限公司", "remark": "改过"}

    status, _ = call(review, "POST", f"/common/review/{stored.invoice_key}/fix", {"set": fixed})
    seen = detail(review, stored.invoice_key)

    assert status == 200
    assert seen["sources"]["seller_name"] == ["correction", "text_layer"]
    assert seen["sources"]["remark"][0] == "correction"  # read from nowhere before
    assert seen["sources"]["invoice_number"] == ["text_layer", "qr"]  # untouched
    assert [c["field"] for c in seen["corrections"]] == ["seller_name", "remark"]


def test_correcting_twice_names_correction_once(review: ModuleType, world: World) -> None:
    stored = synced(world, "acme/c.pdf", invoice_pdf(printed(34)))
    world.verifier.answer = refused  # F: it may be corrected again
    for name in ("甲公司", "乙公司"):
        fix = {"set": {"seller_name": name}}
        status, body = call(review, "POST", f"/common/review/{stored.invoice_key}/fix", fix)
        assert (status, body["data"]["status"]) == (200, "F")

    seen = detail(review, stored.invoice_key)

    assert seen["sources"]["seller_name"] == ["correction", "text_layer"]
    assert len(seen["corrections"]) == 2


def test_an_invoice_told_by_a_client_has_no_sources(review: ModuleType, world: World) -> None:
    outcome = create_invoice(request_command(), world.store, CompanySettings(), world.clock)

    seen = detail(review, outcome.invoice_key)

    assert (seen["sources"], seen["disagreements"]) == ({}, [])


# --- the checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verification", "checked_by", "paid"),
    [
        (None, None, False),
        (Verification(invoice_key=None, status=C, source=Source.NO_PROVIDER), "no_provider", False),
        (Verification(invoice_key=None, status=Y, source=Source.CACHE), "cache", False),
        (
            Verification(invoice_key=None, status=Y, source=Source.PROVIDER, provider_calls=2),
            "provider",
            True,
        ),
    ],
    ids=["none", "no-provider", "cache", "provider"],
)
def test_the_create_command_names_who_checked_and_whether_it_was_paid(
    verification: Verification | None, checked_by: str | None, paid: bool
) -> None:
    (found,) = recognize_with_signatures(invoice_pdf(printed(35)))
    assert found.invoice is not None

    command = create_command(
        found.invoice,
        verification,
        biz_id="biz-35",
        user_code=OWNER,
        attachment_url="acme/35.pdf",
        provenance=found.provenance(),
    )

    assert (command.checked_by, command.paid) == (checked_by, paid)
    assert command.provenance == found.provenance()


def created_verified(world: World, seed: int, calls: int = 1) -> StoredInvoice:
    (found,) = recognize_with_signatures(invoice_pdf(printed(seed)))
    assert found.invoice is not None
    verification = provider_verified(found.invoice, calls)
    command = create_command(
        found.invoice,
        verification,
        biz_id=f"biz-{seed}",
        user_code=OWNER,
        attachment_url=f"acme/{seed}.pdf",
        provenance=found.provenance(),
    )
    outcome = create_invoice(command, world.store, CompanySettings(), world.clock)
    return world.get(outcome.invoice_key)


def test_the_check_history_begins_with_the_paid_verification_of_the_create(
    review: ModuleType, world: World
) -> None:
    stored = created_verified(world, 36)

    seen = detail(review, stored.invoice_key)

    assert seen["status"] == "Y"
    assert seen["checks"] == [
        {
            "at": NOW.isoformat(),
            "status": "Y",
            "message_code": None,
            "message": None,
            "source": "provider",
            "paid": True,
        }
    ]


def test_a_verification_no_provider_was_asked_for_is_unpaid(
    review: ModuleType, world: World
) -> None:
    stored = created_verified(world, 37, calls=0)

    (check,) = detail(review, stored.invoice_key)["checks"]

    assert (check["source"], check["paid"]) == ("provider", False)


def test_ocr_sync_with_no_provider_records_who_decided(review: ModuleType, world: World) -> None:
    stored = synced(world, "acme/e.pdf", invoice_pdf(printed(38)))

    (check,) = detail(review, stored.invoice_key)["checks"]

    assert (check["status"], check["paid"]) == ("C", False)
    assert check["source"] == Source.NO_PROVIDER.value
    assert check["message_code"] == int(stored.message_code or 0)
    assert check["message"] == stored.message


def test_each_recheck_appends_a_check_paid_or_from_the_cache(
    review: ModuleType, world: World
) -> None:
    stored = created_verified(world, 39)
    world.verifier.answer = provider_verified
    later = [NOW + dt.timedelta(minutes=m) for m in (1, 2)]

    for at in later:
        world.clock.now = at
        status, body = call(review, "POST", f"/common/review/{stored.invoice_key}/recheck")
        assert (status, body["data"]["status"]) == (200, "Y")
    checks = detail(review, stored.invoice_key)["checks"]

    assert [(c["at"], c["source"], c["paid"]) for c in checks] == [
        (NOW.isoformat(), "provider", True),  # the create's
        (later[0].isoformat(), "provider", True),  # asked the provider
        (later[1].isoformat(), "cache", False),  # its answer, remembered
    ]
    assert len(world.verifier.calls) == 1


def test_a_recheck_that_fails_records_its_answer(review: ModuleType, world: World) -> None:
    stored = created_verified(world, 40)

    def paid_refusal(asked: Invoice) -> Verification:
        return refused(asked).model_copy(update={"provider_calls": 1})

    world.verifier.answer = paid_refusal
    call(review, "POST", f"/common/review/{stored.invoice_key}/recheck")
    first, second = detail(review, stored.invoice_key)["checks"]

    assert first["status"] == "Y"
    assert (second["status"], second["source"], second["paid"]) == ("F", "provider", True)
    assert second["message_code"] == int(world.get(stored.invoice_key).message_code or 0)
    assert second["message"] and "查无此票" in second["message"]


def test_a_clients_receipt_check_is_the_clients_check(review: ModuleType, world: World) -> None:
    outcome = create_invoice(request_command(), world.store, CompanySettings(), world.clock)

    (check,) = detail(review, outcome.invoice_key)["checks"]

    assert (check["status"], check["source"], check["paid"]) == ("Y", "client", False)
    assert check["at"] == NOW.isoformat()


def test_a_client_without_a_receipt_check_has_no_checks(review: ModuleType, world: World) -> None:
    outcome = create_invoice(taxi_command(), world.store, CompanySettings(), world.clock)

    assert detail(review, outcome.invoice_key)["checks"] == []


# --- may it be re-checked now ---------------------------------------------------------------


def test_a_stored_invoice_may_be_rechecked(review: ModuleType, world: World) -> None:
    stored = created_verified(world, 41)

    assert detail(review, stored.invoice_key)["recheck"] == {"allowed": True, "reason": None}


def test_after_the_days_checks_a_recheck_is_not_allowed_and_says_why(
    review: ModuleType, world: World
) -> None:
    stored = created_verified(world, 42)
    world.verifier.answer = provider_verified
    for _ in range(DAILY_CHECKS - 1):
        assert call(review, "POST", f"/common/review/{stored.invoice_key}/recheck")[0] == 200
    assert detail(review, stored.invoice_key)["recheck"]["allowed"] is True

    assert call(review, "POST", f"/common/review/{stored.invoice_key}/recheck")[0] == 200
    state = detail(review, stored.invoice_key)["recheck"]

    assert DAILY_CHECKS == 5
    assert state == {"allowed": False, "reason": LIMIT_MESSAGE}
    assert call(review, "POST", f"/common/review/{stored.invoice_key}/recheck")[0] == 429


def test_checks_of_yesterday_do_not_count_today(review: ModuleType, world: World) -> None:
    yesterday = NOW - dt.timedelta(days=1)
    stored = created_verified(world, 43)
    world.store.replace(
        world.get(stored.invoice_key).model_copy(
            update={"check_attempts": [yesterday] * DAILY_CHECKS}
        )
    )

    assert detail(review, stored.invoice_key)["recheck"] == {"allowed": True, "reason": None}


def test_a_file_never_stored_cannot_be_rechecked(review: ModuleType, world: World) -> None:
    entry = world.queue.attend(unread("a.png", minutes_ago(20)))

    seen = detail(review, review_id(entry))

    assert seen["status"] == "U"
    assert seen["recheck"]["allowed"] is False
    assert seen["recheck"]["reason"]
    assert (seen["sources"], seen["checks"]) == ({}, [])


# --- the file's signature ------------------------------------------------------------------


def test_the_signature_of_a_signed_ofd_is_in_the_detail(review: ModuleType, world: World) -> None:
    spec = printed(44)
    stored = synced(world, "acme/x.ofd", invoice_ofd(spec))

    seen = detail(review, stored.invoice_key)

    signature = seen["signature"]
    assert signature is not None
    assert signature["state"] == "valid"
    assert signature["algorithm"] == "SM2-SM3"
    assert signature["signer"] and "Test Signer" in signature["signer"]
    assert stored.signature is not None
    assert signature["issuer"] == stored.signature.issuer
    assert dt.datetime.fromisoformat(signature["signed_at"]) == stored.signature.signed_at
    assert "ofd_xml" in {s for found in seen["sources"].values() for s in found}


def test_a_pdf_without_a_signature_says_absent(review: ModuleType, world: World) -> None:
    stored = synced(world, "acme/f.pdf", invoice_pdf(printed(46)))

    assert detail(review, stored.invoice_key)["signature"]["state"] == "absent"


# --- the pipeline ----------------------------------------------------------------------------


def dropped(key: str) -> DroppedObject:
    return DroppedObject(bucket=DROP_BUCKET, key=key, etag="e1")


def test_the_pipeline_keeps_the_embedded_engines_provenance(
    review: ModuleType, world: World
) -> None:
    obj = dropped("acme/2024/05/a.pdf")
    spec = printed(47)
    forged = spec.qr_payload().replace(f",{spec.amount},", ",2.00,")
    files = MemoryFileStore({obj.key: invoice_pdf(spec, qr_payloads={0: forged})})

    state = recognize_object(obj, files, None, SETTINGS)
    (found,) = state.invoices
    assert found.provenance is not None
    assert found.provenance.sources["invoice_number"] == ["text_layer", "qr"]
    assert [d.field for d in found.provenance.disagreements] == ["amount"]
    # the state machine passes it on as JSON
    again = Recognized.model_validate_json(state.model_dump_json())
    assert again.invoices[0].provenance == found.provenance

    outcome = create_from_object(
        obj, 0, again.invoices[0], None, world.store, CompanySettings(), world.clock
    )
    assert outcome.invoice_key is not None
    assert world.get(outcome.invoice_key).provenance == found.provenance
    seen = detail(review, outcome.invoice_key)
    assert seen["sources"]["invoice_number"] == ["text_layer", "qr"]
    assert seen["disagreements"] == [
        {"field": "amount", "readings": {"text_layer": str(spec.amount), "qr": "2.00"}}
    ]


def test_what_the_engine_cannot_read_has_no_provenance() -> None:
    obj = dropped("acme/blank.png")
    files = MemoryFileStore({obj.key: qr_photo([], size=(400, 300), fmt="PNG")})

    (found,) = recognize_object(obj, files, None, SETTINGS).invoices

    assert found.status is U
    assert found.provenance is None


def test_provided_names_the_provider_for_every_field_it_gave() -> None:
    invoice = Invoice(
        invoice_type=InvoiceType.VAT_ELECTRONIC_NORMAL,
        invoice_code="033022100211",
        invoice_number="12345678",
        receipt_date=dt.date(2024, 5, 6),
        total_amount=Decimal("113.00"),
        seller_name="某某公司",
        attachment_url="s3://x/y.png",
        items=[],
    )

    seen = provided(invoice)

    assert seen.disagreements == []
    assert set(seen.sources) >= {
        "invoice_type",
        "invoice_code",
        "invoice_number",
        "receipt_date",
        "total_amount",
        "seller_name",
    }
    assert {"attachment_url", "items", "buyer_name", "amount"}.isdisjoint(seen.sources)
    assert all(found == ["provider"] for found in seen.sources.values())


def test_an_invoice_the_provider_read_is_stored_as_the_providers(
    review: ModuleType, world: World
) -> None:
    (read,) = recognize_with_signatures(invoice_pdf(printed(48)))
    assert read.invoice is not None
    obj = dropped("acme/photo.jpg")
    pending = Recognized(
        object=obj,
        invoices=[Found(status=InvoiceStatus.RECOGNIZING, identify_id="id-1")],
        pending_count=1,
        polls=0,
        wait_seconds=SETTINGS.wait_seconds(1),
    )

    class Done:
        def poll(self, identify_id: str) -> Poll:
            return Poll(state=PollState.DONE, invoice=read.invoice)

    state = poll_pending(pending, Done(), SETTINGS)  # type: ignore[arg-type]
    (found,) = state.invoices
    assert found.status is InvoiceStatus.RECOGNIZED
    assert found.provenance == provided(read.invoice)
    assert found.provenance is not None and found.provenance.sources

    outcome = create_from_object(obj, 0, found, None, world.store, CompanySettings(), world.clock)
    assert outcome.invoice_key is not None
    stored = world.get(outcome.invoice_key)
    assert stored.provenance == found.provenance
    sources = detail(review, outcome.invoice_key)["sources"]
    assert sources["invoice_number"] == ["provider"]
    assert all(found == ["provider"] for found in sources.values())


def test_a_stored_provenance_is_the_recognitions(world: World) -> None:
    (found,) = recognize_with_signatures(invoice_pdf(printed(49)))

    provenance = found.provenance()

    assert isinstance(provenance, Provenance)
    assert provenance.sources == {
        name: [s.value for s in sources] for name, sources in found.sources.items()
    }
    assert provenance.disagreements == []
