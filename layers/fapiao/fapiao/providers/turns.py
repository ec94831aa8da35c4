"""Turns to call a rate-limited provider, held across every container (issue 20).

A provider caps requests per second per account (``FAPIAO_EXOCR_MAX_RPS``,
``FAPIAO_YIPIAOYUN_MAX_RPS``). Every attempt of a call takes a turn first: a time slot
reserved in the provider's shared ``TurnState`` (``fapiao.ports.ProviderTurnStore``; in
AWS and the local hub one DynamoDB item, ``fapiao.store.provider_turns``) with one
conditional write:

1. read the state; the slot is ``next_at`` or now, whichever is later;
2. a slot further away than the caller may wait: no turn (nothing written);
3. else write ``next_at = slot + 1 / rate`` on the condition that nobody wrote since the
   read (a lost race reads again), then sleep until the slot.

Slots are at least ``1 / rate`` apart, so in any sliding second the provider receives at
most ``rate`` calls, plus one for the calls a scheduler delays past their slot: a token
bucket of capacity one, whatever the number of containers, processes or threads.

The rate adapts (additive increase, multiplicative decrease), in the same state so that
every container shares it: it starts at the limit; a busy answer (exocr 4007, HTTP 429)
halves it, at least ``MIN_RATE`` a second, once per ``HOLD_SECONDS`` (the answers to one
burst lower it once); each ``QUIET_SECONDS`` without another busy answer adds back
``step(limit)``, up to the limit. The increase needs no write: the rate is computed from
when it was lowered.

A failure of the store is the hub's own fault, not the provider's: the call goes ahead
without a turn and the error is logged with ``alarm: provider_turns``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace

from fapiao.ports import ProviderTurnStore, TurnState

__all__ = [
    "HOLD_SECONDS",
    "MIN_RATE",
    "QUIET_SECONDS",
    "ProviderTurns",
    "current_rate",
    "lowered",
    "step",
]

logger = logging.getLogger(__name__)

MIN_RATE = 1.0  # calls per second a busy provider is still given (or the limit, if lower)
HOLD_SECONDS = 1.0  # busy answers this soon after a decrease belong to the same burst
QUIET_SECONDS = 5.0  # each quiet period without a busy answer adds back one step
LATE_SHARE = 0.5  # a caller past its slot by more than this share of an interval: missed
MAX_LEAD = 1.0  # seconds: the most a slot is reserved ahead for the reservation's own time
RACE_ATTEMPTS = 100  # lost races before a caller gives up its turn (never seen: a bound)


def step(limit: float) -> float:
    """What each quiet period adds back: a tenth of the limit, at least one call a second
    (from half the limit, back at the limit in five quiet periods)."""
    return max(1.0, limit / 10)


def current_rate(state: TurnState | None, limit: float, now: float) -> float:
    """Calls per second the provider is given at ``now``."""
    if state is None or state.lowered_to <= 0:
        return limit
    quiet = max(0.0, now - state.lowered_at)
    return min(limit, state.lowered_to + step(limit) * math.floor(quiet / QUIET_SECONDS))


def lowered(state: TurnState | None, limit: float, now: float) -> TurnState | None:
    """The state after a busy answer at ``now``: the rate halved (not below ``MIN_RATE``);
    None when it was lowered within ``HOLD_SECONDS`` already."""
    base = state or TurnState()
    if base.lowered_to > 0 and now - base.lowered_at < HOLD_SECONDS:
        return None
    rate = max(min(MIN_RATE, limit), current_rate(state, limit, now) / 2)
    return replace(base, lowered_to=rate, lowered_at=now, version=base.version + 1)


class ProviderTurns:
    """The turns of one provider at ``limit`` calls a second, over a shared store."""

    def __init__(
        self,
        provider: str,
        limit: float,
        store: ProviderTurnStore,
        *,
        clock: Callable[[], float] = time.time,  # shared between machines: wall time
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit <= 0:
            raise ValueError("a provider's limit is a positive number of calls per second")
        self.provider = provider
        self.limit = limit
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._lead = 0.0  # seconds the last reservation took (read and write)

    def __repr__(self) -> str:
        return f"ProviderTurns({self.provider!r}, {self.limit}/s)"

    def take(self, within: float) -> bool:
        """Wait for a turn, at most ``within`` seconds; False (no turn) when the next free
        slot is further away. A caller that reaches its slot too late (``_late``) leaves
        it unused and takes the next free one."""
        deadline = self._clock() + max(0.0, within)
        try:
            while True:
                slot = self._reserve(deadline)
                if slot is None:
                    return False
                wait = slot - self._clock()
                if wait > 0:
                    self._sleep(wait)
                if not self._late(slot):
                    return True
                logger.debug("provider turn missed", extra={"provider": self.provider})
        except Exception as error:  # the store: the hub's fault; the call goes ahead
            logger.error(
                "provider turn not taken: calling without one",
                extra={
                    "provider": self.provider,
                    "failure": type(error).__name__,
                    "alarm": "provider_turns",
                },
            )
            return True

    def _late(self, slot: float) -> bool:
        """Whether a caller is too late for its slot to call now: past it by more than
        ``LATE_SHARE`` of an interval at the limit (a slow write or wake-up), a call now
        would crowd the next slot's."""
        return self._clock() - slot > LATE_SHARE / self.limit

    def _reserve(self, deadline: float) -> float | None:
        for _ in range(RACE_ATTEMPTS):
            now = self._clock()
            state = self._store.read(self.provider)
            base = state or TurnState()
            # Not before the reservation can be written: a slot that is past by then
            # would be missed (the lead is how long the last reservation took).
            slot = max(now + self._lead, base.next_at)
            if slot > deadline:
                logger.info(
                    "no provider turn in time",
                    extra={"provider": self.provider, "wait_needed": round(slot - now, 3)},
                )
                return None
            rate = current_rate(state, self.limit, now)
            reserved = replace(base, next_at=slot + 1 / rate, version=base.version + 1)
            if self._store.write(self.provider, reserved, state):
                self._lead = min(MAX_LEAD, max(0.0, self._clock() - now))
                return slot
        logger.warning("provider turn lost every race", extra={"provider": self.provider})
        return None

    def busy(self) -> None:
        """The provider answered busy: lower the rate for every container."""
        try:
            for _ in range(RACE_ATTEMPTS):
                now = self._clock()
                state = self._store.read(self.provider)
                after = lowered(state, self.limit, now)
                if after is None:
                    return
                if self._store.write(self.provider, after, state):
                    logger.warning(
                        "provider busy: rate lowered",
                        extra={"provider": self.provider, "rate": round(after.lowered_to, 3)},
                    )
                    return
        except Exception as error:
            logger.error(
                "provider rate not lowered",
                extra={
                    "provider": self.provider,
                    "failure": type(error).__name__,
                    "alarm": "provider_turns",
                },
            )

    def rate(self) -> float:
        """The rate now (for logs and tests)."""
        return current_rate(self._store.read(self.provider), self.limit, self._clock())
