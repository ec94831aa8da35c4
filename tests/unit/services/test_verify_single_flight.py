"""Single flight (issue 20): a verification that finds another one of the same invoice
under way waits for its answer and serves it; nothing in time is the synchronous APIs'
busy answer (HubError BUSY) or the pipeline's C; no turn to call the provider likewise."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fakes.exocr_server import APP_KEY, APP_SECRET, FakeExocr
from fakes.memory import MemoryVerificationCache
from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.model import Invoice
from fapiao.ports import TurnState, VerifyDeps
from fapiao.providers.exocr import ExocrVerifier, static_credentials
from fapiao.providers.turns import ProviderTurns
from fapiao.results import Source
from fapiao.services.verify import POLL_SECONDS, verify_invoice
from unit.providers.test_turns import MemoryTurns

NUMBER = "12345678"
KEY = "3100231130" + NUMBER
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI)


def invoice() -> Invoice:
    return Invoice(
        invoice_type=InvoiceType.VAT_SPECIAL,
        invoice_code="3100231130",
        invoice_number=NUMBER,
        receipt_date=dt.date(2024, 5, 6),
        amount=Decimal("100.00"),
        tax_amount=Decimal("13.00"),
        total_amount=Decimal("113.00"),
        seller_tax_code="91110000600037341L",
    )


@pytest.fixture
def exocr() -> FakeExocr:
    return FakeExocr()


@pytest.fixture
def cache() -> MemoryVerificationCache:
    return MemoryVerificationCache()


def make_deps(
    exocr: FakeExocr,
    cache: MemoryVerificationCache,
    sleep: list[float],
    *,
    busy_raises: bool,
    turns: ProviderTurns | None = None,
) -> VerifyDeps:
    verifier = ExocrVerifier(
        "http://exocr.test/data/v1/verify_invoice",
        static_credentials(APP_KEY, APP_SECRET),
        client=httpx.Client(transport=exocr.transport()),
        clock=lambda: NOW,
        turns=turns,
        turn_wait=10,
    )
    return VerifyDeps(
        verifier=verifier,
        cache=cache,
        clock=lambda: NOW,
        wait=dt.timedelta(seconds=10),
        busy_raises=busy_raises,
        sleep=sleep.append,
    )


def test_a_concurrent_request_waits_for_the_holders_answer_and_pays_nothing(
    exocr: FakeExocr, cache: MemoryVerificationCache
) -> None:
    holder = make_deps(exocr, cache, [], busy_raises=True)
    token = cache.claim(KEY, NOW, NOW + dt.timedelta(seconds=60))  # the holder asks ...
    assert token is not None
    answered = threading.Event()

    def holder_answers(seconds: float) -> None:  # ... and answers while the other waits
        if not answered.is_set():
            cache.release(KEY, token)
            paid = verify_invoice(invoice(), holder)
            assert paid.provider_calls == 1
            assert cache.claim(KEY, NOW, NOW + dt.timedelta(seconds=60)) is not None
            answered.set()

    waiter = dataclasses.replace(holder, sleep=holder_answers)
    served = verify_invoice(invoice(), waiter)
    assert (served.status, served.source, served.provider_calls) == ("Y", Source.CACHE, 0)
    assert len(exocr.calls) == 1


def test_a_holder_that_never_answers_is_the_synchronous_apis_busy_answer_in_time(
    exocr: FakeExocr, cache: MemoryVerificationCache
) -> None:
    slept: list[float] = []
    deps = make_deps(exocr, cache, slept, busy_raises=True)
    assert cache.claim(KEY, NOW, NOW + dt.timedelta(seconds=60)) is not None
    with pytest.raises(HubError) as busy:
        verify_invoice(invoice(), deps)
    assert busy.value.problem is Problem.BUSY
    assert sum(slept) == pytest.approx(10) and set(slept) == {POLL_SECONDS}
    assert len(exocr.calls) == 0


def test_the_pipeline_answers_c_instead(exocr: FakeExocr, cache: MemoryVerificationCache) -> None:
    deps = make_deps(exocr, cache, [], busy_raises=False)
    assert cache.claim(KEY, NOW, NOW + dt.timedelta(seconds=60)) is not None
    outcome = verify_invoice(invoice(), deps)
    assert (outcome.status, outcome.problem, len(exocr.calls)) == ("C", Problem.RATE_LIMITED, 0)
    assert outcome.retry_at is not None and outcome.retry_at > NOW


def test_a_lease_given_back_without_an_answer_is_taken_by_the_waiter(
    exocr: FakeExocr, cache: MemoryVerificationCache
) -> None:
    token = cache.claim(KEY, NOW, NOW + dt.timedelta(seconds=60))
    assert token is not None
    deps = make_deps(exocr, cache, [], busy_raises=True)
    waiter = dataclasses.replace(deps, sleep=lambda _: cache.release(KEY, token))
    outcome = verify_invoice(invoice(), waiter)
    assert (outcome.status, outcome.source, outcome.provider_calls) == ("Y", Source.PROVIDER, 1)


def test_no_provider_turn_is_busy_for_a_synchronous_api_and_c_for_the_pipeline(
    exocr: FakeExocr, cache: MemoryVerificationCache
) -> None:
    store = MemoryTurns()
    now = NOW.timestamp()
    store.states["exocr"] = TurnState(next_at=now + 60, version=1)  # a minute's backlog
    turns = ProviderTurns("exocr", 1, store, clock=lambda: now, sleep=lambda _: None)
    with pytest.raises(HubError) as busy:
        verify_invoice(invoice(), make_deps(exocr, cache, [], busy_raises=True, turns=turns))
    assert busy.value.problem is Problem.BUSY
    deferred = verify_invoice(
        invoice(), make_deps(exocr, cache, [], busy_raises=False, turns=turns)
    )
    assert (deferred.status, deferred.problem, deferred.cause) == (
        "C",
        Problem.BUSY,
        Problem.CHECK_DEFERRED,  # 907011: the re-check machine tries again after its wait
    )
    assert len(exocr.calls) == 0
    assert len(cache) == 0  # nothing was asked: nothing is remembered
    assert cache.claim(KEY, NOW, NOW) is not None  # and the lease was given back


class AnsweredBetween(MemoryVerificationCache):
    """Another verification claims, pays, caches and gives the lease back between this
    one's first look and its claim."""

    def __init__(self, other: Any) -> None:
        super().__init__()
        self.other = other
        self.looks = 0

    def get(self, invoice_key: str) -> Any:
        self.looks += 1
        found = super().get(invoice_key)
        if self.looks == 1:
            self.other()  # after this look answered "nothing yet"
        return found


def test_an_answer_written_between_the_look_and_the_claim_is_served_not_paid_again(
    exocr: FakeExocr,
) -> None:
    """The lease kept after its release tells the later claim to look again."""
    holder: list[VerifyDeps] = []
    cache = AnsweredBetween(lambda: verify_invoice(invoice(), holder[0]))
    holder.append(make_deps(exocr, MemoryVerificationCache(), [], busy_raises=True))
    holder[0] = dataclasses.replace(holder[0], cache=_Plain(cache))

    served = verify_invoice(invoice(), make_deps(exocr, cache, [], busy_raises=True))

    assert (served.source, served.provider_calls) == (Source.CACHE, 0)
    assert len(exocr.calls) == 1  # the other verification's, paid once


def test_the_first_lease_of_an_invoice_pays_without_looking_again(exocr: FakeExocr) -> None:
    cache = MemoryVerificationCache()

    paid = verify_invoice(invoice(), make_deps(exocr, cache, [], busy_raises=True))

    assert paid.provider_calls == 1
    # look, claim, put, release: no second look after a first lease
    assert cache.requests == 4


class _Plain:
    """The same cache without AnsweredBetween's hook (the other verification's view)."""

    def __init__(self, cache: MemoryVerificationCache) -> None:
        self.cache = cache

    def get(self, invoice_key: str) -> Any:
        return MemoryVerificationCache.get(self.cache, invoice_key)

    def put(self, record: Any) -> None:
        self.cache.put(record)

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> Any:
        return self.cache.claim(invoice_key, now, until)

    def release(self, invoice_key: str, token: str) -> None:
        self.cache.release(invoice_key, token)
