"""The day's paid checks (the review console's overview): every verification that reached
the provider adds its requests to ``PAID_CHECKS`` "calls" of its Asia/Shanghai day;
answers from the cache, offline refusals and the hub's own answers add nothing; and a
counter that fails never costs the answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fakes.exocr_server import APP_KEY, APP_SECRET, FakeExocr, raw, result, vat_data
from fakes.memory import MemoryKnownInvoices, MemoryVerificationCache
from fakes.stats import MemoryStats, RefusingStats
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.model import Invoice, InvoiceStatus
from fapiao.ports import PAID_CHECKS, DailyStats, VerifyDeps
from fapiao.providers.exocr import ExocrVerifier, static_credentials
from fapiao.providers.offline import OfflineVerifier
from fapiao.results import Source, Verification
from fapiao.services.verify import verify_invoice

NUMBER = "12345678"
KEY = "3100231130" + NUMBER
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI)
TODAY = NOW.date()


class PaidVerifier:
    """A provider that answers Y after ``calls`` requests, and counts what it was asked."""

    remote = True

    def __init__(self, calls: int = 1, status: InvoiceStatus = InvoiceStatus.VERIFIED) -> None:
        self.calls = calls
        self.status = status
        self.asked: list[str | None] = []

    def verify(self, invoice: Invoice) -> Verification:
        self.asked.append(invoice.invoice_key)
        return Verification(
            invoice_key=invoice.invoice_key,
            status=self.status,
            source=Source.PROVIDER,
            reason="fake provider",
            provider_calls=self.calls,
        )


def invoice(**fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": InvoiceType.VAT_SPECIAL,
        "invoice_code": "3100231130",
        "invoice_number": NUMBER,
        "receipt_date": dt.date(2024, 5, 6),
        "amount": Decimal("100.00"),
        "tax_amount": Decimal("13.00"),
        "total_amount": Decimal("113.00"),
        "seller_tax_code": "91110000600037341L",
    }
    base.update(fields)
    return Invoice(**base)


def deps(
    verifier: Any,
    stats: DailyStats | None,
    now: dt.datetime = NOW,
    cache: MemoryVerificationCache | None = None,
    known: MemoryKnownInvoices | None = None,
) -> VerifyDeps:
    return VerifyDeps(
        verifier=verifier,
        cache=cache if cache is not None else MemoryVerificationCache(),
        known=known,
        clock=lambda: now,
        stats=stats,
    )


def paid(stats: MemoryStats, day: dt.date = TODAY) -> dict[str, int]:
    return stats.days(PAID_CHECKS, [day])[day]


def test_a_verification_that_reached_the_provider_is_counted() -> None:
    stats = MemoryStats()

    answer = verify_invoice(invoice(), deps(PaidVerifier(), stats))

    assert (answer.status, answer.source, answer.provider_calls) == ("Y", Source.PROVIDER, 1)
    assert paid(stats) == {"calls": 1}
    assert stats.calls == [(PAID_CHECKS, TODAY, {"calls": 1})]


def test_every_request_of_a_verification_is_counted() -> None:
    stats = MemoryStats()

    verify_invoice(invoice(), deps(PaidVerifier(calls=3), stats))
    verify_invoice(invoice(invoice_number="87654321"), deps(PaidVerifier(calls=1), stats))

    assert paid(stats) == {"calls": 4}


def test_a_failure_the_provider_answered_is_paid_for_too() -> None:
    stats = MemoryStats()

    verify_invoice(invoice(), deps(PaidVerifier(status=InvoiceStatus.CHECK_FAILED), stats))

    assert paid(stats) == {"calls": 1}


def test_the_answer_from_the_cache_is_not_counted() -> None:
    stats, cache, verifier = MemoryStats(), MemoryVerificationCache(), PaidVerifier()

    first = verify_invoice(invoice(), deps(verifier, stats, cache=cache))
    second = verify_invoice(invoice(), deps(verifier, stats, cache=cache))

    assert (first.source, second.source, second.provider_calls) == (
        Source.PROVIDER,
        Source.CACHE,
        0,
    )
    assert verifier.asked == [KEY]
    assert paid(stats) == {"calls": 1}


@pytest.mark.parametrize(
    "fields",
    [
        {"receipt_date": dt.date(2024, 6, 2)},  # tomorrow: a misread date, refused
        {"receipt_date": TODAY},  # issued today: deferred until tomorrow
        {"total_amount": None, "amount": None},  # incomplete: waits for the fields
    ],
    ids=["future-date", "issued-today", "incomplete"],
)
def test_answers_decided_offline_are_not_counted(fields: dict[str, Any]) -> None:
    stats, verifier = MemoryStats(), PaidVerifier()

    answer = verify_invoice(invoice(**fields), deps(verifier, stats))

    assert answer.source is Source.OFFLINE_CHECKS
    assert answer.provider_calls == 0
    assert verifier.asked == []
    assert stats.calls == []


def test_a_duplicate_is_not_counted() -> None:
    stats, known, verifier = MemoryStats(), MemoryKnownInvoices(), PaidVerifier()
    known.keys.add(KEY)

    answer = verify_invoice(invoice(), deps(verifier, stats, known=known))

    assert answer.source is Source.STORE
    assert verifier.asked == [] and stats.calls == []


def test_no_provider_configured_is_not_counted() -> None:
    stats = MemoryStats()

    answer = verify_invoice(invoice(), deps(OfflineVerifier(), stats))

    assert answer.source is Source.NO_PROVIDER
    assert stats.calls == []


def test_another_verification_holding_the_invoice_is_not_counted() -> None:
    stats, cache, verifier = MemoryStats(), MemoryVerificationCache(), PaidVerifier()
    assert cache.claim(KEY, NOW, NOW + dt.timedelta(minutes=1)) is not None

    answer = verify_invoice(invoice(), deps(verifier, stats, cache=cache))

    assert (answer.status, answer.source) == (InvoiceStatus.AWAITING_CHECK, Source.HUB)
    assert verifier.asked == [] and stats.calls == []


def test_the_day_is_the_shanghai_day_of_the_verification() -> None:
    stats = MemoryStats()
    late = dt.datetime(2024, 5, 31, 17, 0, tzinfo=dt.UTC)  # 1 June, 01:00 in Shanghai

    verify_invoice(invoice(), deps(PaidVerifier(), stats, now=late))

    assert stats.calls == [(PAID_CHECKS, dt.date(2024, 6, 1), {"calls": 1})]


def test_a_counter_that_fails_never_costs_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    stats, cache = RefusingStats(), MemoryVerificationCache()

    with caplog.at_level(logging.WARNING, logger="fapiao.services.verify"):
        answer = verify_invoice(invoice(), deps(PaidVerifier(), stats, cache=cache))

    assert (answer.status, answer.source, answer.provider_calls) == ("Y", Source.PROVIDER, 1)
    assert stats.tried == 1
    assert cache.get(KEY) is not None  # paid and remembered all the same
    assert any(r.getMessage() == "paid check not counted" for r in caplog.records)


def test_without_counters_the_verification_is_the_same() -> None:
    answer = verify_invoice(invoice(), deps(PaidVerifier(), None))

    assert (answer.status, answer.provider_calls) == ("Y", 1)


# --- with the exocr verifier, over the fake exocr in process ---------------------------


@pytest.fixture
def exocr() -> FakeExocr:
    return FakeExocr()


@pytest.fixture
def verifier(exocr: FakeExocr) -> Iterator[ExocrVerifier]:
    client = httpx.Client(transport=exocr.transport())
    yield ExocrVerifier(
        "http://exocr.test/data/v1/verify_invoice",
        static_credentials(APP_KEY, APP_SECRET),
        client=client,
        clock=lambda: NOW,
        sleep=lambda _: None,
        jitter=lambda: 0.5,
    )
    client.close()


def test_exocr_requests_are_counted_retries_included(
    exocr: FakeExocr, verifier: ExocrVerifier
) -> None:
    stats = MemoryStats()
    exocr.script(NUMBER, raw(503, "busy"), result(1, vat_data({"invoice_no": NUMBER})))

    answer = verify_invoice(invoice(), deps(verifier, stats))
    again = verify_invoice(invoice(), deps(verifier, stats))  # no cache shared: paid again

    assert answer.provider_calls == exocr.calls_for(NUMBER) - again.provider_calls
    assert answer.provider_calls >= 2
    assert paid(stats) == {"calls": exocr.calls_for(NUMBER)}
