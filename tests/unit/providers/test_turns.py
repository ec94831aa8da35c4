"""A provider's turns (fapiao.providers.turns) on a fake clock: slots 1/rate apart in any
sliding second, no turn past the wait, a lost race taking the next slot, AIMD, and the
exocr verifier taking a turn for every attempt (its retries included)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import httpx
import pytest

from fakes.exocr_server import APP_KEY, APP_SECRET, FakeExocr, error, most_in_one_second, result
from fapiao.catalogue.errors import Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.model import Invoice, InvoiceStatus
from fapiao.ports import TurnState
from fapiao.providers.exocr import ExocrVerifier, static_credentials
from fapiao.providers.turns import (
    HOLD_SECONDS,
    MIN_RATE,
    QUIET_SECONDS,
    ProviderTurns,
    current_rate,
    step,
)
from fapiao.results import Source

START = 1_700_000_000.0


class Clock:
    """Wall time that only moves when someone sleeps (or a test advances it)."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


class MemoryTurns:
    """The store in a dict, with the port's contract: a write wins only over the
    version it read."""

    def __init__(self) -> None:
        self.states: dict[str, TurnState] = {}
        self.writes = 0
        self.refused = 0

    def read(self, provider: str) -> TurnState | None:
        return self.states.get(provider)

    def write(self, provider: str, state: TurnState, expected: TurnState | None) -> bool:
        stored = self.states.get(provider)
        if (stored is None) != (expected is None) or (
            stored is not None and expected is not None and stored.version != expected.version
        ):
            self.refused += 1
            return False
        self.states[provider] = state
        self.writes += 1
        return True


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryTurns:
    return MemoryTurns()


def turns(store: MemoryTurns, clock: Clock, limit: float = 8) -> ProviderTurns:
    return ProviderTurns("exocr", limit, store, clock=clock, sleep=clock.sleep)


def test_turns_are_one_interval_apart_so_no_second_holds_more_than_the_limit(
    store: MemoryTurns, clock: Clock
) -> None:
    limiter = turns(store, clock, limit=8)
    called = []
    for _ in range(100):  # a burst: every caller asks at once, each waits for its slot
        assert limiter.take(within=60)
        called.append(clock())
    gaps = [b - a for a, b in pairwise(called)]
    assert min(gaps) == pytest.approx(1 / 8)
    assert most_in_one_second(called) == 8
    assert called[-1] - called[0] == pytest.approx(99 / 8)


def test_an_idle_provider_gives_a_turn_at_once(store: MemoryTurns, clock: Clock) -> None:
    limiter = turns(store, clock)
    assert limiter.take(within=0)
    clock.now += 10  # long after: the next slot is now, not a backlog
    assert limiter.take(within=0)
    assert clock.slept == []


def test_no_turn_past_the_wait_and_nothing_is_reserved(store: MemoryTurns, clock: Clock) -> None:
    limiter = turns(store, clock, limit=2)
    assert limiter.take(within=0)  # now
    reserved = store.states["exocr"]
    assert not limiter.take(within=0.4)  # the next slot is 0.5 s away
    assert store.states["exocr"] == reserved
    assert clock.slept == []
    assert limiter.take(within=0.5)
    assert clock.slept == [pytest.approx(0.5)]


def test_a_caller_that_loses_the_race_takes_the_next_slot(store: MemoryTurns, clock: Clock) -> None:
    limiter = turns(store, clock, limit=4)

    class RacedOnce(MemoryTurns):
        """Another container reserves the slot between this caller's read and write."""

        def __init__(self) -> None:
            super().__init__()
            self.raced = False

        def write(self, provider: str, state: TurnState, expected: TurnState | None) -> bool:
            if not self.raced:
                self.raced = True
                other = replace(state, version=state.version)  # the other's reservation
                assert super().write(provider, other, expected)
            return super().write(provider, state, expected)

    raced = RacedOnce()
    limiter = ProviderTurns("exocr", 4, raced, clock=clock, sleep=clock.sleep)
    assert limiter.take(within=5)
    assert raced.refused == 1
    # the other caller has the slot at START; this one waited one interval for the next
    assert clock.slept == [pytest.approx(0.25)]
    assert raced.states["exocr"].next_at == pytest.approx(START + 0.5)


def test_a_caller_woken_too_late_leaves_its_slot_and_takes_the_next(
    store: MemoryTurns, clock: Clock
) -> None:
    limiter = turns(store, clock, limit=4)
    assert limiter.take(within=0)  # START; the next slot is START + 0.25
    late = [0.2]  # the first wake-up is 0.2 s late: past half an interval (0.125 s)

    def oversleep(seconds: float) -> None:
        clock.sleep(seconds + (late.pop() if late else 0))

    limiter = ProviderTurns("exocr", 4, store, clock=clock, sleep=oversleep)
    assert limiter.take(within=5)
    # woke at START + 0.45: START + 0.25 went unused; its turn is START + 0.5
    assert clock() == pytest.approx(START + 0.5)
    assert store.states["exocr"].next_at == pytest.approx(START + 0.75)


def test_a_slow_store_reserves_its_slot_ahead_by_the_time_a_reservation_takes(
    clock: Clock,
) -> None:
    class Slow(MemoryTurns):
        def write(self, provider: str, state: TurnState, expected: TurnState | None) -> bool:
            clock.now += 0.3  # the write takes 0.3 s: an immediate slot would be past
            return super().write(provider, state, expected)

    store = Slow()
    limiter = ProviderTurns("exocr", 10, store, clock=clock, sleep=clock.sleep)
    # The first knows no lead: its slot (START) is 0.3 s past once written, so it is left
    # unused and the next reserved 0.3 s ahead (START + 0.6), where the write ends.
    assert limiter.take(within=5)
    assert (store.writes, clock()) == (2, pytest.approx(START + 0.6))
    assert limiter.take(within=5)  # every later one is reserved ahead and kept
    assert (store.writes, clock()) == (3, pytest.approx(START + 0.9))


def test_a_busy_answer_halves_the_rate_once_per_burst_and_quiet_periods_restore_it(
    store: MemoryTurns, clock: Clock
) -> None:
    limiter = turns(store, clock, limit=8)
    assert limiter.rate() == 8
    limiter.busy()
    assert limiter.rate() == 4
    limiter.busy()  # another answer of the same burst
    assert limiter.rate() == 4
    clock.now += HOLD_SECONDS
    limiter.busy()  # still busy a second later: lower again
    assert limiter.rate() == 2
    for expected in (3, 4, 5, 6, 7, 8, 8):
        clock.now += QUIET_SECONDS
        assert limiter.rate() == expected
    assert step(8) == 1


def test_the_rate_never_falls_below_the_floor(store: MemoryTurns, clock: Clock) -> None:
    limiter = turns(store, clock, limit=8)
    for _ in range(10):
        limiter.busy()
        clock.now += HOLD_SECONDS
    assert limiter.rate() == MIN_RATE
    slow = turns(store, clock, limit=0.5)  # a limit below the floor stays the floor
    assert current_rate(TurnState(lowered_to=0.25, lowered_at=clock()), 0.5, clock()) == 0.25
    assert slow.limit == 0.5


def test_after_a_busy_answer_turns_are_spaced_by_the_lowered_rate(
    store: MemoryTurns, clock: Clock
) -> None:
    limiter = turns(store, clock, limit=8)
    limiter.busy()
    called = []
    for _ in range(9):
        assert limiter.take(within=60)
        called.append(clock())
    assert called[-1] - called[0] == pytest.approx(8 / 4)
    assert most_in_one_second(called) == 4


def test_a_broken_store_lets_the_call_go_with_an_alarm(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(MemoryTurns):
        def read(self, provider: str) -> TurnState | None:
            raise ConnectionError("dynamodb down")

    limiter = ProviderTurns("exocr", 8, Broken(), clock=clock, sleep=clock.sleep)
    with caplog.at_level(logging.ERROR):
        assert limiter.take(within=1)
        limiter.busy()
    assert [r.__dict__.get("alarm") for r in caplog.records] == ["provider_turns"] * 2


def test_a_limit_must_be_positive(store: MemoryTurns, clock: Clock) -> None:
    with pytest.raises(ValueError, match="positive"):
        turns(store, clock, limit=0)


# --- the exocr verifier takes its turns -------------------------------------------------


def invoice() -> Invoice:
    return Invoice(
        invoice_type=InvoiceType.VAT_SPECIAL,
        invoice_code="3100231130",
        invoice_number="12345678",
        receipt_date=dt.date(2024, 5, 6),
        amount=Decimal("100.00"),
        tax_amount=Decimal("13.00"),
        total_amount=Decimal("113.00"),
        seller_tax_code="91110000600037341L",
    )


def verifier(
    exocr: FakeExocr, limiter: ProviderTurns, clock: Clock, **options: float
) -> ExocrVerifier:
    return ExocrVerifier(
        "http://exocr.test/data/v1/verify_invoice",
        static_credentials(APP_KEY, APP_SECRET),
        client=httpx.Client(transport=exocr.transport()),
        clock=lambda: dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI),
        sleep=clock.sleep,
        monotonic=clock,
        jitter=lambda: 0.0,  # no backoff: the turns alone space the attempts
        turns=limiter,
        **options,
    )


def test_every_attempt_takes_a_turn_and_4007_lowers_the_rate_for_the_retry(
    store: MemoryTurns, clock: Clock
) -> None:
    exocr = FakeExocr()
    exocr.script("12345678", error(4007), result(1))
    limiter = turns(store, clock, limit=8)
    outcome = verifier(exocr, limiter, clock).verify(invoice())
    assert (outcome.status, outcome.provider_calls) == (InvoiceStatus.VERIFIED, 2)
    assert store.states["exocr"].lowered_to == 4
    assert store.writes == 3  # two turns and one decrease
    # the retry waited for the next slot (1/8 s on); the one after it is 1/4 s later
    assert [s for s in clock.slept if s] == [pytest.approx(1 / 8)]
    assert store.states["exocr"].next_at == pytest.approx(START + 1 / 8 + 1 / 4)


def test_no_turn_within_the_wait_is_busy_and_asks_nothing(store: MemoryTurns, clock: Clock) -> None:
    exocr = FakeExocr()
    limiter = turns(store, clock, limit=1)
    store.states["exocr"] = TurnState(next_at=START + 30, version=1)  # a 30 s backlog
    outcome = verifier(exocr, limiter, clock, turn_wait=10).verify(invoice())
    assert (outcome.status, outcome.source, outcome.problem) == ("C", Source.HUB, Problem.BUSY)
    assert (outcome.provider_calls, len(exocr.calls), clock.slept) == (0, 0, [])
    assert outcome.retry_at is not None
