"""The verify use case: offline checks, cache, duplicates, then at most one payment.

The provider is the fake exocr of tests/fakes served in process (an httpx transport,
no socket): it speaks spec 003 and counts the calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fakes.exocr_server import APP_KEY, APP_SECRET, FakeExocr, error, result, vat_data
from fakes.memory import MemoryKnownInvoices, MemoryVerificationCache
from fapiao.catalogue.errors import Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.mapping.exocr import to_exocr_response
from fapiao.model import Invoice, InvoiceStatus
from fapiao.ports import VerifyDeps
from fapiao.providers.exocr import ExocrVerifier, static_credentials
from fapiao.providers.offline import OfflineVerifier
from fapiao.results import Source, Verification
from fapiao.rules.offline_checks import Outcome, QrFields
from fapiao.services.verify import answer_check, verify_invoice
from fapiao.settings import SettingsError, VerifierKind, VerifierSettings

T = InvoiceType
D = Decimal
NUMBER = "12345678"
KEY = "3100231130" + NUMBER


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI))


@pytest.fixture
def exocr() -> FakeExocr:
    return FakeExocr()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def verifier(exocr: FakeExocr, clock: Clock, sleeps: list[float]) -> Iterator[ExocrVerifier]:
    client = httpx.Client(transport=exocr.transport())
    yield ExocrVerifier(
        "http://exocr.test/data/v1/verify_invoice",
        static_credentials(APP_KEY, APP_SECRET),
        client=client,
        clock=clock,
        sleep=sleeps.append,
        jitter=lambda: 0.5,
    )
    client.close()


@pytest.fixture
def cache() -> MemoryVerificationCache:
    return MemoryVerificationCache()


@pytest.fixture
def known() -> MemoryKnownInvoices:
    return MemoryKnownInvoices()


@pytest.fixture
def deps(
    verifier: ExocrVerifier,
    cache: MemoryVerificationCache,
    known: MemoryKnownInvoices,
    clock: Clock,
) -> VerifyDeps:
    return VerifyDeps(verifier=verifier, cache=cache, known=known, clock=clock)


def invoice(**fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": T.VAT_SPECIAL,
        "invoice_code": "3100231130",
        "invoice_number": NUMBER,
        "receipt_date": dt.date(2024, 5, 6),
        "amount": D("100.00"),
        "tax_amount": D("13.00"),
        "total_amount": D("113.00"),
        "seller_tax_code": "91110000600037341L",
    }
    base.update(fields)
    return Invoice(**base)


# --- one payment per invoice ------------------------------------------------------------


def test_verifying_the_same_invoice_twice_makes_one_provider_call(
    deps: VerifyDeps, exocr: FakeExocr
) -> None:
    first = verify_invoice(invoice(), deps)
    second = verify_invoice(invoice(), deps)
    assert exocr.calls_for(NUMBER) == 1
    assert (first.status, first.source, first.provider_calls) == ("Y", Source.PROVIDER, 1)
    assert (second.status, second.source, second.provider_calls) == ("Y", Source.CACHE, 0)
    assert second.check == first.check


def test_a_duplicate_is_refused_without_asking(
    deps: VerifyDeps, exocr: FakeExocr, known: MemoryKnownInvoices
) -> None:
    known.keys.add(KEY)
    outcome = verify_invoice(invoice(), deps)
    assert len(exocr.calls) == 0
    assert outcome.status is InvoiceStatus.CHECK_FAILED
    assert (outcome.source, outcome.problem) == (Source.STORE, Problem.DUPLICATE_INVOICE)
    assert outcome.reason == "发票已导入"


def test_an_invoice_failing_an_offline_check_is_never_sent(
    deps: VerifyDeps, exocr: FakeExocr, cache: MemoryVerificationCache
) -> None:
    outcome = verify_invoice(invoice(total_amount=D("113.10")), deps)
    assert len(exocr.calls) == 0
    assert cache.requests == 0
    assert (outcome.status, outcome.source, outcome.code) == ("F", Source.OFFLINE_CHECKS, "105")
    failed = [f.check for f in outcome.findings if f.outcome is Outcome.FAILED]
    assert failed == ["amounts_add_up"]  # the rule's name stays in the findings (logs)
    # What is said names the amounts, in the catalogue's words, never the rule.
    assert (outcome.cause, outcome.detail) == (
        Problem.INVOICE_IRREGULAR,
        "amount 100.00 + tax 13.00 = 113.00, not the total 113.10",
    )
    assert outcome.reason == outcome.detail
    assert "amounts_add_up" not in (outcome.reason or "")


def test_a_qr_code_that_disagrees_stops_the_payment(deps: VerifyDeps, exocr: FakeExocr) -> None:
    qr = QrFields(invoice_number="87654321")
    outcome = verify_invoice(invoice(), deps, qr=qr)
    assert (outcome.status, len(exocr.calls)) == ("F", 0)
    assert (outcome.cause, outcome.detail) == (
        Problem.INVOICE_IRREGULAR,
        "QR code disagrees: number 87654321 vs 12345678",
    )
    assert "qr_agrees_with_printed_fields" not in (outcome.reason or "")


def test_a_qr_only_reading_waits_for_completion_naming_the_missing_field(
    deps: VerifyDeps, exocr: FakeExocr, cache: MemoryVerificationCache
) -> None:
    # A photo's QR code gives type, code, number, date, the pre-tax amount and the check
    # code; an electronic ordinary invoice (type 10) is checked on its 价税合计.
    qr_only = Invoice(
        invoice_type=T.VAT_ELECTRONIC_NORMAL,
        invoice_code="033022100211",
        invoice_number="68552329",
        receipt_date=dt.date(2024, 5, 6),
        amount=D("100.00"),
        check_code="58053893572132760108",
    )
    outcome = verify_invoice(qr_only, deps)
    assert (len(exocr.calls), cache.requests) == (0, 0)
    assert (outcome.status, outcome.source) == (InvoiceStatus.AWAITING_CHECK, Source.OFFLINE_CHECKS)
    assert (outcome.cause, outcome.detail) == (Problem.AWAITING_COMPLETION, "total_amount")
    assert outcome.retry_at is None  # asking again cannot help: it waits to be completed
    assert not outcome.final


def test_an_invoice_over_five_years_old_is_f_too_old_to_check(
    deps: VerifyDeps, exocr: FakeExocr, clock: Clock
) -> None:
    # Today is 2024-06-01: the tax authority answers for invoices from 2019-06-01 on.
    outcome = verify_invoice(invoice(receipt_date=dt.date(2019, 5, 31)), deps)
    assert (outcome.status, len(exocr.calls)) == (InvoiceStatus.CHECK_FAILED, 0)
    assert (outcome.source, outcome.code) == (Source.OFFLINE_CHECKS, "3207")
    assert outcome.cause is Problem.TOO_OLD_TO_CHECK
    assert outcome.detail is not None
    assert "2019-05-31" in outcome.detail
    assert "receipt_date_is_within_five_years" not in outcome.detail
    within = verify_invoice(invoice(receipt_date=dt.date(2019, 6, 1)), deps)
    assert (within.status, within.cause) == (InvoiceStatus.VERIFIED, None)


def test_a_same_day_invoice_waits_until_midnight_shanghai(
    deps: VerifyDeps, exocr: FakeExocr, clock: Clock
) -> None:
    outcome = verify_invoice(invoice(receipt_date=dt.date(2024, 6, 1)), deps)
    assert len(exocr.calls) == 0
    assert outcome.status is InvoiceStatus.AWAITING_CHECK
    assert outcome.retry_at == dt.datetime(2024, 6, 2, tzinfo=SHANGHAI)


def test_shanghai_date_decides_same_day_not_utc(deps: VerifyDeps, clock: Clock) -> None:
    clock.now = dt.datetime(2024, 6, 1, 23, 30, tzinfo=dt.UTC)  # 07:30 on 2 June in Shanghai
    outcome = verify_invoice(invoice(receipt_date=dt.date(2024, 6, 2)), deps)
    assert outcome.status is InvoiceStatus.AWAITING_CHECK
    assert outcome.source is Source.OFFLINE_CHECKS


def test_a_type_the_tax_authority_does_not_verify_stays_recognized(
    deps: VerifyDeps, exocr: FakeExocr
) -> None:
    taxi = Invoice(invoice_type=T.TAXI, invoice_number="00123456", total_amount=D("35.00"))
    outcome = verify_invoice(taxi, deps)
    assert (outcome.status, len(exocr.calls)) == (InvoiceStatus.RECOGNIZED, 0)


def test_without_a_provider_the_answer_is_c_with_the_findings(
    cache: MemoryVerificationCache, clock: Clock
) -> None:
    deps = VerifyDeps(verifier=OfflineVerifier(clock), cache=cache, clock=clock)
    outcome = verify_invoice(invoice(), deps)
    assert outcome.status is InvoiceStatus.AWAITING_CHECK
    assert outcome.check is None  # never a tax-authority result
    assert (outcome.source, outcome.retry_at) == (Source.NO_PROVIDER, None)
    assert {f.check for f in outcome.findings} >= {"seller_tax_id_is_valid", "amounts_add_up"}
    assert cache.requests == 0


# --- what the cache remembers -------------------------------------------------------------


def test_a_cached_verification_asked_with_another_amount_is_6_without_paying(
    deps: VerifyDeps, exocr: FakeExocr
) -> None:
    verify_invoice(invoice(), deps)
    wrong = verify_invoice(
        invoice(amount=D("90.00"), tax_amount=D("11.70"), total_amount=D("101.70")), deps
    )
    assert exocr.calls_for(NUMBER) == 1
    assert (wrong.status, wrong.code, wrong.source) == ("F", "6", Source.CACHE)
    assert wrong.check is not None and not wrong.check.success
    assert wrong.check.invoice.amount == D("100.00")  # the tax authority's data


def test_daily_cap_defers_to_the_next_shanghai_day_then_asks_again(
    deps: VerifyDeps, exocr: FakeExocr, clock: Clock, sleeps: list[float]
) -> None:
    exocr.script(NUMBER, result(2), result(1, vat_data({"invoice_no": NUMBER})))
    capped = verify_invoice(invoice(), deps)
    assert (capped.status, capped.code, sleeps) == ("C", "2", [])  # no retry today
    assert capped.retry_at == dt.datetime(2024, 6, 2, tzinfo=SHANGHAI)
    clock.advance(hours=12)  # 22:30: still 1 June
    assert verify_invoice(invoice(), deps).source is Source.CACHE
    assert exocr.calls_for(NUMBER) == 1
    clock.advance(hours=2)  # 00:30 on 2 June
    assert verify_invoice(invoice(), deps).status is InvoiceStatus.VERIFIED
    assert exocr.calls_for(NUMBER) == 2


def test_a_final_answer_without_data_is_reused_only_for_the_same_question(
    deps: VerifyDeps, exocr: FakeExocr
) -> None:
    exocr.script(NUMBER, result(9), result(1))
    assert verify_invoice(invoice(), deps).code == "9"
    again = verify_invoice(invoice(), deps)
    assert (again.status, again.code, again.source) == ("F", "9", Source.CACHE)
    assert exocr.calls_for(NUMBER) == 1
    corrected = verify_invoice(invoice(receipt_date=dt.date(2024, 5, 7)), deps)
    assert exocr.calls_for(NUMBER) == 2
    assert corrected.status is InvoiceStatus.VERIFIED


def test_refused_credentials_are_not_remembered_against_the_invoice(
    deps: VerifyDeps, exocr: FakeExocr, cache: MemoryVerificationCache
) -> None:
    exocr.script(NUMBER, error(4002), result(1))
    refused = verify_invoice(invoice(), deps)
    assert (refused.status, refused.problem, refused.code) == ("C", Problem.INTERNAL, "4002")
    assert len(cache) == 0
    assert verify_invoice(invoice(), deps).status is InvoiceStatus.VERIFIED


def test_a_concurrent_verification_does_not_pay_again(
    deps: VerifyDeps, exocr: FakeExocr, cache: MemoryVerificationCache, clock: Clock
) -> None:
    assert cache.claim(KEY, clock(), clock() + dt.timedelta(seconds=60)) is not None
    busy = verify_invoice(invoice(), deps)
    assert (busy.status, busy.problem, len(exocr.calls)) == ("C", Problem.RATE_LIMITED, 0)
    assert busy.retry_at is not None and busy.retry_at > clock()
    clock.advance(seconds=61)  # the holder died: its lease expired
    assert verify_invoice(invoice(), deps).status is InvoiceStatus.VERIFIED


class BrokenCache(MemoryVerificationCache):
    def __init__(self, *, broken: set[str]) -> None:
        super().__init__()
        self.broken = broken

    def get(self, invoice_key: str) -> Any:
        if "get" in self.broken:
            raise ConnectionError("dynamodb down")
        return super().get(invoice_key)

    def put(self, record: Any) -> None:
        if "put" in self.broken:
            raise ConnectionError("dynamodb down")
        super().put(record)


def test_an_unavailable_cache_defers_instead_of_paying(
    verifier: ExocrVerifier, exocr: FakeExocr, clock: Clock
) -> None:
    deps = VerifyDeps(verifier=verifier, cache=BrokenCache(broken={"get"}), clock=clock)
    outcome = verify_invoice(invoice(), deps)
    assert (outcome.status, outcome.problem, len(exocr.calls)) == ("C", Problem.INTERNAL, 0)
    assert outcome.retry_at == clock() + dt.timedelta(minutes=5)


def test_an_answer_paid_for_is_returned_even_when_it_cannot_be_cached(
    verifier: ExocrVerifier, exocr: FakeExocr, clock: Clock
) -> None:
    cache = BrokenCache(broken={"put"})
    deps = VerifyDeps(verifier=verifier, cache=cache, clock=clock)
    outcome = verify_invoice(invoice(), deps)
    assert (outcome.status, outcome.provider_calls) == ("Y", 1)
    assert cache.claim(KEY, clock(), clock()) is not None  # the lease was given back


# --- answering in exocr's shape ----------------------------------------------------------


def _answer(verification: Verification) -> Any:
    return to_exocr_response(answer_check(verification, invoice()), request_id="R")


@pytest.mark.parametrize(
    ("outcome", "error_code", "result_code"),
    [
        ({"status": "C", "problem": Problem.UPSTREAM_UNAVAILABLE}, 3202, None),  # timeouts
        ({"status": "C", "problem": Problem.INTERNAL, "code": "4002"}, 4007, None),
        ({"status": "C", "problem": Problem.RATE_LIMITED}, 4290, None),
        ({"status": "F", "code": "3204"}, 3204, None),
        ({"status": "F", "code": "105"}, 0, 105),
        ({"status": "C", "code": "3213"}, 3213, None),
    ],
)
def test_every_outcome_answers_a_catalogue_code(
    outcome: dict[str, Any], error_code: int, result_code: int | None
) -> None:
    verification = Verification(invoice_key=KEY, source=Source.HUB, reason="why", **outcome)
    response = _answer(verification)
    assert response.error_code == error_code
    got = response.result.result_code if response.result is not None else None
    assert got == result_code


def test_a_verified_outcome_answers_result_1_with_the_authority_data(deps: VerifyDeps) -> None:
    response = _answer(verify_invoice(invoice(), deps))
    assert (response.error_code, response.result.result_code) == (0, 1)
    assert response.result.data.invoice_no == NUMBER


def test_retry_at_is_written_in_utc_for_step_functions(deps: VerifyDeps) -> None:
    outcome = verify_invoice(invoice(receipt_date=dt.date(2024, 6, 1)), deps)
    assert outcome.model_dump(mode="json")["retry_at"] == "2024-06-01T16:00:00.000Z"
    assert Verification.model_validate(outcome.model_dump(mode="json")) == outcome


# --- settings ------------------------------------------------------------------------------


def test_exocr_needs_credentials_and_masks_them() -> None:
    with pytest.raises(SettingsError, match="FAPIAO_EXOCR_SECRET_NAME"):
        VerifierSettings.from_env({"FAPIAO_VERIFIER": "exocr"})
    settings = VerifierSettings.from_env(
        {
            "FAPIAO_VERIFIER": "exocr",
            "FAPIAO_EXOCR_URL": "https://exocr.example/",
            "FAPIAO_EXOCR_APP_KEY": APP_KEY,
            "FAPIAO_EXOCR_APP_SECRET": APP_SECRET,
        }
    )
    assert settings.verify_url == "https://exocr.example/data/v1/verify_invoice"
    assert APP_SECRET not in repr(settings) and APP_SECRET not in str(dataclasses.asdict(settings))
    verifier = ExocrVerifier.from_settings(settings)
    assert APP_SECRET not in repr(verifier)
    verifier.close()


def test_offline_is_the_default_verifier() -> None:
    settings = VerifierSettings.from_env({})
    assert settings.verifier is VerifierKind.OFFLINE
    assert (settings.exocr_connect_timeout, settings.exocr_read_timeout) == (3.0, 10.0)
