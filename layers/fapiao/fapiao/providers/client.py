"""ProviderClient: how the hub calls a remote provider over httpx, written once.

The exocr and yipiaoyun adapters call their provider through it and add only their wire
and their rules. One ``call`` is at most ``attempts`` POSTs of the same request:

- each attempt starts only while the call's time budget (``budget_seconds`` from the
  call's start) has time left, with the connect and read timeouts cut to what is left;
- after attempt n the adapter's ``decide`` says whether another may change the outcome;
  if so the client sleeps a full-jitter backoff, ``jitter() * min(backoff_cap,
  backoff_base * 2 ** (n - 1))`` seconds, unless that sleep would end past the budget;
- the outcome is the last one ``decide`` made, or ``no_time`` when no attempt started.

With ``turns`` (the provider's rate limit, ``fapiao.providers.turns``) every attempt,
the retries included, first takes a turn, waiting at most ``turn_wait`` seconds (and no
longer than the budget left); without one the call ends: ``no_turn`` when no attempt
was made, else the last outcome. An answer ``throttled`` recognises as the provider's
"busy" (HTTP 429 by default; exocr adds its 4007) lowers the shared rate, so that a
retry waits for a later turn instead of adding load.

A transport failure never raises; it is a ``Reply`` with ``failure`` set, ``retryable``
and ``problem`` (the error catalogue's word) as follows:

=====================================================  =========  ====================
what happened                                          retryable  problem
=====================================================  =========  ====================
timeout (connect, read, write, pool)                   yes        upstream_unavailable
connection refused or reset, TLS, protocol error       yes        upstream_unavailable
a body ``Body.read`` cannot read, HTTP 2xx, 429, 5xx   yes        upstream_unavailable
a body ``Body.read`` cannot read, any other status     no         internal (alarm)
anything else (a malformed URL: the hub's setting)     no         internal (alarm)
=====================================================  =========  ====================

A bad status with a readable body is an answer, not a failure: exocr says why in a 500
with 003's envelope. ``Reply.busy`` (429 or 5xx) tells the adapter the provider is busy.

Logs go to the adapter's logger, so they carry its name: each line has the adapter's
context (never a credential, a file or a URL), ``attempt`` and, once the provider
answered, ``http_status`` and ``elapsed_ms``; a failure adds ``failure`` (the exception's
class) and, when it is the hub's own fault, ``alarm`` (the provider's name).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from pydantic import ValidationError

from fapiao.catalogue.errors import Problem
from fapiao.logs import trace_httpx
from fapiao.wire.common import WireError, load_json

if TYPE_CHECKING:
    from fapiao.providers.turns import ProviderTurns

__all__ = ["JSON", "Body", "ProviderClient", "Reply", "too_many_requests"]

T = TypeVar("T")
Outcome = TypeVar("Outcome")


def _no_fields(_: object) -> Mapping[str, object]:
    return {}


@dataclass(frozen=True)
class Body(Generic[T]):
    """How an answer's body is read.

    ``read`` raises ``WireError`` or pydantic's ``ValidationError`` when the bytes are
    not what the provider should answer; ``what`` names that in reasons and logs ("003
    JSON"); ``fields`` are what the log line of a read answer carries (its codes).
    """

    what: str
    read: Callable[[bytes], T]
    fields: Callable[[T], Mapping[str, object]] = _no_fields


JSON: Body[Any] = Body("JSON", load_json)


def too_many_requests(reply: Reply[Any]) -> bool:
    """HTTP 429: the provider says the hub calls it too often."""
    return reply.http_status == 429


@dataclass(frozen=True)
class Reply(Generic[T]):
    """One request: the body read, or why there is none."""

    http_status: int | None = None
    body: T | None = None
    failure: str | None = None  # no answer to read: timeout, unreachable, unreadable body
    retryable: bool = False  # for a failure: can the same request succeed later?
    log: Mapping[str, object] = field(default_factory=dict)  # the request's log fields

    @property
    def busy(self) -> bool:
        """HTTP 429 or 5xx: the provider is overloaded or down."""
        return self.http_status is not None and (self.http_status == 429 or self.http_status >= 500)

    @property
    def ok(self) -> bool:
        """HTTP 2xx."""
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def problem(self) -> Problem:
        """A failure's problem: the provider is unavailable, or the hub is misconfigured."""
        return Problem.UPSTREAM_UNAVAILABLE if self.retryable else Problem.INTERNAL


class ProviderClient:
    """POSTs to one provider with retries, backoff, a time budget and timeouts."""

    def __init__(
        self,
        name: str,
        *,
        spec: str,
        logger: logging.Logger,
        client: httpx.Client | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        attempts: int = 3,
        budget_seconds: float = 20.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        turns: ProviderTurns | None = None,
        turn_wait: float = 10.0,
    ) -> None:
        self.name = name  # in messages and as the alarm: "exocr"
        self.spec = spec  # the spec its answers follow: "003"
        self._logger = logger
        if client is None:
            trace_httpx()  # X-Ray patched httpx lazily: only functions that call out
            client = httpx.Client(follow_redirects=False, headers={"User-Agent": "fapiao-hub"})
        self._client = client
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._attempts = attempts
        self._budget = budget_seconds
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._monotonic = monotonic
        self._jitter = jitter
        self.turns = turns  # None: no rate limit
        self.turn_wait = turn_wait

    def close(self) -> None:
        self._client.close()

    # -- the budget --------------------------------------------------------------------

    def start(self) -> float:
        """The start of a budget that several calls share (the pages of one PDF)."""
        return self._monotonic()

    def time_left(self, started: float) -> float:
        """Seconds left of the budget started at ``started``; 0 or less: none."""
        return self._budget - (self._monotonic() - started)

    # -- calls ---------------------------------------------------------------------------

    def call(
        self,
        url: str,
        body: Body[T],
        decide: Callable[[Reply[T]], tuple[Outcome, bool]],
        *,
        no_time: Outcome,
        no_turn: Outcome | None = None,
        throttled: Callable[[Reply[T]], bool] = too_many_requests,
        log: Mapping[str, object] | None = None,
        started: float | None = None,
        **content: Any,
    ) -> tuple[Outcome, int]:
        """POST ``content`` (httpx's ``data``, ``json``, ``files``) to ``url`` until
        ``decide`` says another attempt cannot change the outcome, the attempts are spent
        or the budget is (from ``started``, else from now), each attempt in its turn.
        Returns the last outcome (``no_time`` if no attempt started, ``no_turn`` if no
        turn came for the first) and how many requests were made."""
        started = self.start() if started is None else started
        outcome, requests = no_time, 0
        for attempt in range(1, self._attempts + 1):
            remaining = self.time_left(started)
            if remaining <= 0:
                break
            if self.turns is not None:  # wait for the turn, then see what is left
                if not self._turn(self.turns, min(self.turn_wait, remaining), attempt, log):
                    if requests == 0 and no_turn is not None:
                        outcome = no_turn
                    break
                remaining = self.time_left(started)
                if remaining <= 0:
                    break
            reply = self.post(url, body, attempt=attempt, remaining=remaining, log=log, **content)
            requests += 1
            if self.turns is not None and throttled(reply):
                self.turns.busy()
            outcome, retry = decide(reply)
            if not retry or attempt == self._attempts:
                break
            delay = self._jitter() * min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
            if self._monotonic() - started + delay >= self._budget:
                break
            self._sleep(delay)
        return outcome, requests

    def _turn(
        self,
        turns: ProviderTurns,
        within: float,
        attempt: int,
        log: Mapping[str, object] | None,
    ) -> bool:
        if turns.take(within):
            return True
        self._logger.info(
            f"{self.name} not called: no turn within {within:.1f} s",
            extra={**(log or {}), "attempt": attempt},
        )
        return False

    def post(
        self,
        url: str,
        body: Body[T],
        *,
        attempt: int = 1,
        remaining: float | None = None,
        log: Mapping[str, object] | None = None,
        **content: Any,
    ) -> Reply[T]:
        """One POST, its answer read by ``body``; never raises for a transport failure."""
        left = self._budget if remaining is None else remaining
        timeout = httpx.Timeout(
            connect=min(self._connect_timeout, left),
            read=min(self._read_timeout, left),
            write=min(self._read_timeout, left),
            pool=min(self._connect_timeout, left),
        )
        fields: dict[str, object] = {**(log or {}), "attempt": attempt}
        started = time.monotonic()
        try:
            response = self._client.post(url, timeout=timeout, **content)
        except Exception as error:  # every failure to get an answer becomes a Reply
            return self._unanswered(error, fields)
        fields.update(
            http_status=response.status_code,
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )
        try:
            read = body.read(response.content)
        except (WireError, ValidationError):
            return self._unreadable(response.status_code, body, fields)
        self._logger.info(f"{self.name} answered", extra={**fields, **body.fields(read)})
        return Reply(response.status_code, read, log=fields)

    def _unanswered(self, error: Exception, fields: dict[str, object]) -> Reply[Any]:
        failure = type(error).__name__
        if isinstance(error, httpx.TimeoutException):
            self._logger.warning(f"{self.name} timed out", extra={**fields, "failure": failure})
            return Reply(failure=f"{self.name} timed out ({failure})", retryable=True, log=fields)
        if isinstance(error, httpx.HTTPError):  # refused, reset, TLS, a broken protocol
            self._logger.warning(f"{self.name} unreachable", extra={**fields, "failure": failure})
            return Reply(failure=f"{self.name} unreachable ({failure})", retryable=True, log=fields)
        # A malformed URL and such: the hub's configuration, which no retry mends.
        self._logger.error(
            f"{self.name} cannot be called",
            extra={**fields, "failure": failure, "alarm": self.name},
        )
        return Reply(failure=f"{self.name} cannot be called ({failure})", log=fields)

    def _unreadable(self, status: int, body: Body[T], fields: dict[str, object]) -> Reply[T]:
        reply: Reply[T] = Reply(status, log=fields)
        if reply.busy or reply.ok:  # a busy server, or a broken answer: try again
            self._logger.warning(f"{self.name} answered no {body.what}", extra=fields)
            failure = f"{self.name} answered HTTP {status} without {body.what}"
            return Reply(status, failure=failure, retryable=True, log=fields)
        # Another status without the provider's body: a wrong URL or a proxy in the way.
        self._logger.error(
            f"{self.name} answered no {body.what}", extra={**fields, "alarm": self.name}
        )
        return Reply(
            status, failure=f"{self.name}'s answer is not {self.spec} (HTTP {status})", log=fields
        )
