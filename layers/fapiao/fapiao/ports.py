"""Ports: what the use cases (``fapiao.services``) ask of the world, as small Protocols.

The adapters in ``fapiao.store`` (DynamoDB, S3, Step Functions, EventBridge) and
``fapiao.providers`` (exocr, yipiaoyun, the safe fetcher) satisfy them structurally:
nothing here imports an adapter, and the records that cross a port are only named
(importing this module builds no model: a handler's cold start). Unit tests pass
in-memory fakes with the same contract (``tests/fakes/memory.py``).

What a verification ends in (``Verification``) is defined in ``fapiao.results``, below
this module. The identifier port (``Identifier``) is still defined with its adapter, in
``fapiao.providers.identifier``: nothing below the adapters needs it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from fapiao.dates import now_in_shanghai

if TYPE_CHECKING:  # the records only name types here: importing ports builds no model
    from fapiao.clients import ApiClient
    from fapiao.model import Invoice, InvoiceStatus
    from fapiao.model.erp import ErpEvent
    from fapiao.model.parties import Employee
    from fapiao.model.pipeline import DroppedObject, Execution, Outcome, Publication, Recorded
    from fapiao.model.review import OpenOutcome, OutcomeRef, ReviewPage, ReviewQuery
    from fapiao.model.status import StatusChange
    from fapiao.model.stored import Expense, StoredInvoice
    from fapiao.model.webhooks import Delivery, DeliveryAttempt, WebhookSubscription
    from fapiao.results import CachedVerification, Lease, Verification

__all__ = [
    "OUTCOME_COUNTS",
    "PAID_CHECKS",
    "ApiKeyStore",
    "DailyStats",
    "DeliveryQueue",
    "EmployeeDirectory",
    "ErpEvents",
    "Executions",
    "FileLoader",
    "FileStore",
    "InvoiceStore",
    "KnownInvoices",
    "OutcomeBus",
    "OutcomeLog",
    "OutcomeOutbox",
    "ProviderTurnStore",
    "RecheckScheduler",
    "ResourceProbe",
    "ReviewQueue",
    "StatusBus",
    "TurnState",
    "Uploads",
    "VerificationCache",
    "Verifier",
    "VerifyDeps",
    "WebhookAnswer",
    "WebhookPoster",
    "WebhookStore",
]

# --- files -----------------------------------------------------------------------------

# A file referred to by URL or key, the caller's limit in bytes -> its bytes.
FileLoader = Callable[[str, int], bytes]


class FileStore(Protocol):
    """Port: invoice files in the drop bucket."""

    def get(self, key: str, max_bytes: int) -> bytes:
        """The object's bytes; HubError FILE_UNREACHABLE / FILE_TOO_LARGE otherwise."""


class Uploads(Protocol):
    """Port: where submitted files go (the drop bucket, ``S3Drop``)."""

    def put(self, key: str, data: bytes) -> DroppedObject: ...


# --- invoices and expenses ---------------------------------------------------------------


class InvoiceStore(Protocol):
    """Port: one record per invoice key, written with its expense or not at all."""

    def create(self, invoice: StoredInvoice, expense: Expense) -> None:
        """Write both or neither; ``DuplicateInvoice`` when the key is taken."""

    def bind(self, invoice: StoredInvoice) -> None:
        """Write the invoice and add it to its existing, open expense (both or neither):
        ``DuplicateInvoice``, ``ExpenseNotFound`` or ``ExpenseLocked`` otherwise."""

    def get(self, invoice_key: str) -> StoredInvoice | None: ...

    def get_expense(self, expense_id: int) -> Expense | None: ...

    def replace(self, invoice: StoredInvoice) -> StoredInvoice:
        """Write the record over the one of the same key whose ``version`` it carries,
        and answer it as written (version + 1). ``StaleInvoice`` when the stored record
        has another version; ``KeyError`` when there is none."""
        ...


class EmployeeDirectory(Protocol):
    """Port: the employees Maycur's employeeId is looked up in (002: AUTH0007)."""

    def get(self, employee_id: str) -> Employee | None: ...

    def put(self, employee: Employee) -> None: ...


class ApiKeyStore(Protocol):
    """Port: the hub's API clients, by the hash of their key."""

    def find(self, key_hash: str) -> ApiClient | None: ...

    def put(self, client: ApiClient) -> None: ...


# --- verification --------------------------------------------------------------------------


class Verifier(Protocol):
    """Port: verifies one invoice. Never raises for the provider's failures: a timeout,
    a 5xx storm or a busy provider end in status C with ``retry_at``."""

    @property
    def remote(self) -> bool:
        """True when answers come from the tax authority (paid; worth caching)."""

    def verify(self, invoice: Invoice) -> Verification: ...


class VerificationCache(Protocol):
    """Port: what the provider said about an invoice, by invoice key, and a short lease
    per invoice so that two verifications running at once pay once."""

    def get(self, invoice_key: str) -> CachedVerification | None: ...

    def put(self, record: CachedVerification) -> None:
        """Write or replace the record of ``record.invoice_key``."""

    def claim(self, invoice_key: str, now: dt.datetime, until: dt.datetime) -> Lease | None:
        """Hold the invoice until ``until``; a lease (its token), or None when another
        holds it."""

    def release(self, invoice_key: str, token: str) -> None:
        """Give the invoice back (only the holder of ``token`` can); the lease is kept,
        free, so that the next claim knows one was held."""


class KnownInvoices(Protocol):
    """Port: is the invoice imported already? (A duplicate is never verified.) A record
    waiting for completion (907010) does not count: a complete reading completes it."""

    def exists(self, invoice_key: str) -> bool: ...


# The counters kept per day (``DailyStats``): outcomes of dropped files by kind, and
# requests that reached the verification provider ("calls").
OUTCOME_COUNTS = "outcomes"
PAID_CHECKS = "paid_checks"


class DailyStats(Protocol):
    """Port: counters per Asia/Shanghai day (``fapiao.store.stats``), added atomically."""

    def add(self, name: str, day: dt.date, counts: Mapping[str, int]) -> None:
        """Add ``counts`` (field -> number; negative subtracts) to the day's ``name``."""

    def days(self, name: str, days: Sequence[dt.date]) -> dict[dt.date, dict[str, int]]:
        """The counter ``name`` on each day ({} where nothing was counted)."""


@dataclass(frozen=True)
class VerifyDeps:
    """What the verify use case runs on (``providers.factory.build_verify_deps`` builds
    it from settings for every entry point)."""

    verifier: Verifier
    cache: VerificationCache
    known: KnownInvoices | None = None  # None: duplicates are not looked for
    clock: Callable[[], dt.datetime] = now_in_shanghai
    lease: dt.timedelta = dt.timedelta(seconds=60)
    retry_after: dt.timedelta = dt.timedelta(minutes=5)
    stats: DailyStats | None = None  # where paid checks are counted; None: not counted
    # How long a verification waits for another one's answer to the same invoice (single
    # flight), polling the cache; 0: not at all. The verifier's own wait for a provider's
    # turn is set where it is built (``providers.factory``).
    wait: dt.timedelta = dt.timedelta(0)
    # Without a turn or that answer in time: True (the synchronous APIs) raises
    # ``HubError(BUSY)``, which each API answers in its envelope; False (the pipeline)
    # answers C with a retry time.
    busy_raises: bool = False
    sleep: Callable[[float], None] = time.sleep


# --- the S3 drop pipeline ------------------------------------------------------------------


class Executions(Protocol):
    """Port: executions of the ingest state machine, named by the caller."""

    def start(self, name: str, obj: DroppedObject) -> bool:
        """True when an execution started; False when one of that name exists already."""

    def describe(self, name: str) -> Execution | None:
        """The execution of that name; None when there is none."""


class OutcomeLog(Protocol):
    """Port: the terminal outcomes recorded so far, by object (what reconciliation reads)."""

    def of_object(self, object_id: str) -> Sequence[Outcome]: ...


class OutcomeOutbox(OutcomeLog, Protocol):
    """Port: the outcomes as an outbox of the ERP's events, one per (object_id, index)."""

    def record(self, outcome: Outcome, claim_until: float | None = None) -> Recorded:
        """Keep ``outcome``, unpublished, unless one is kept for its (object_id, index)
        already: that first one is answered, unchanged, with its ``published`` marker.
        With ``claim_until``, an outcome kept by this call is claimed for publication
        until then in the same write (``claimed``), as ``claim_publication`` would."""

    def mark_published(self, outcome: Outcome) -> None:
        """Mark the outcome kept for ``outcome``'s (object_id, index) as published;
        ``KeyError`` when none is kept (nothing is written then)."""

    def claim_publication(self, outcome: Outcome, until: float, now: float) -> Publication:
        """Take the right to publish the kept outcome ``outcome`` until ``until`` (epoch
        seconds): CLAIMED when it is unpublished and nobody holds an unexpired claim;
        DONE when it is published, or no longer the one kept; HELD otherwise."""

    def release_publication(self, outcome: Outcome) -> None:
        """Give up this run's claim (its publication failed)."""


class OutcomeBus(Protocol):
    """Port: where the ERP hears of outcomes (the event bus)."""

    def publish(self, outcome: Outcome) -> None: ...


# --- re-checks ------------------------------------------------------------------------------


class StatusBus(Protocol):
    """Port: where the ERP hears that a stored invoice's status changed (the event bus)."""

    def publish(self, change: StatusChange) -> None: ...


class RecheckScheduler(Protocol):
    """Port: the hub checks an invoice again by itself at a time (a Step Functions wait)."""

    def schedule(self, invoice_key: str, at: dt.datetime) -> None:
        """Check ``invoice_key`` again at ``at``; the same invoice and time twice start
        one re-check."""


# --- the review queue ----------------------------------------------------------------------


class ReviewQueue(Protocol):
    """Port: what needs attention, newest change first, from the invoice records (F, C)
    and the outcomes of files never stored (U): the two tables' ``Attention`` indexes."""

    def page(self, query: ReviewQuery) -> ReviewPage:
        """The entries after ``query.after`` (at most ``query.limit``), and the cursor
        of the next page when there are more."""

    def open_outcome(self, ref: OutcomeRef) -> OpenOutcome | None:
        """The outcome item ``ref`` names, resolved or not; None when there is none."""

    def resolve(self, ref: OutcomeRef, invoice_key: str) -> None:
        """Take the outcome out of the queue: the invoice ``invoice_key`` stands for it
        now. ``KeyError`` when there is no such outcome."""

    def count(self, status: InvoiceStatus) -> int:
        """How many entries of ``status`` (U, F or C) the queue holds."""


# --- webhooks ----------------------------------------------------------------------------


class WebhookStore(Protocol):
    """Port: webhook subscriptions, their deliveries (one per event and subscription)
    and every attempt (the WebhooksTable)."""

    def add_subscription(self, subscription: WebhookSubscription) -> None:
        """Keep a new subscription (its id is new)."""

    def get_subscription(self, subscription_id: str) -> WebhookSubscription | None: ...

    def subscriptions(self) -> list[WebhookSubscription]:
        """Every subscription, oldest first."""

    def replace_subscription(self, subscription: WebhookSubscription) -> bool:
        """Store the subscription as it is now; False when it was removed meanwhile."""

    def remove_subscription(self, subscription_id: str) -> bool:
        """False when there was none."""

    def create_delivery(self, delivery: Delivery) -> bool:
        """Keep a new delivery; False (nothing written) when one of that subscription
        and event exists already."""

    def get_delivery(self, subscription_id: str, event_id: str) -> Delivery | None:
        """The delivery as last written (a strongly consistent read)."""

    def save_delivery(self, delivery: Delivery, attempts: int) -> bool:
        """Write ``delivery`` over the stored one if that is still pending with
        ``attempts`` attempts; False (nothing written) otherwise."""

    def put_delivery(self, delivery: Delivery) -> None:
        """Write ``delivery`` whatever is stored (a redelivery)."""

    def record_attempt(self, attempt: DeliveryAttempt, delivery: Delivery) -> bool:
        """Keep ``attempt`` and ``delivery`` as it stands after it, in one write, if the
        stored delivery is still pending with ``attempt.attempt`` attempts (the claim);
        False (nothing written) otherwise."""

    def history(self, subscription_id: str) -> tuple[list[Delivery], list[DeliveryAttempt]]:
        """A subscription's kept deliveries (without their body) and attempts, the
        attempts newest first."""


class DeliveryQueue(Protocol):
    """Port: the messages that wake deliveries (WebhookDeliveryQueue) and where a
    delivery that failed for good is told (its dead-letter queue)."""

    def wake(self, subscription_id: str, event_id: str, delay_seconds: int) -> None:
        """Send a message that wakes the delivery in ``delay_seconds`` (at most 900)."""

    def keep_invisible(self, receipt_handle: str, seconds: int) -> None:
        """Keep a received message out of sight for ``seconds`` (at most 12 h)."""

    def dead_letter(self, delivery: Delivery, reason: str) -> None: ...


class WebhookAnswer(Protocol):
    """What a receiver answered a POST: its status, and how long it took."""

    @property
    def status(self) -> int: ...

    @property
    def latency_ms(self) -> int: ...


class WebhookPoster(Protocol):
    """Port: POST to a receiver named by a URL, never to a refused address (the safe
    fetcher); both raise ``HubError(FILE_UNREACHABLE)`` saying why."""

    def check(self, url: str) -> object:
        """Check ``url`` (scheme, resolution, refused addresses); nothing is sent."""

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float = 10.0
    ) -> WebhookAnswer:
        """POST once, following no redirect."""


class ErpEvents(Protocol):
    """Port: the kept ERP events (the pull feed), for a redelivery."""

    def get(self, event_id: str) -> ErpEvent | None: ...

    def since(self, at: dt.datetime, limit: int = 10_000) -> list[ErpEvent]: ...


# --- health --------------------------------------------------------------------------------


class ResourceProbe(Protocol):
    """Port: asks the cloud whether a resource exists; raises when it cannot tell."""

    def table_exists(self, name: str) -> bool: ...
    def bucket_exists(self, name: str) -> bool: ...
    def event_bus_exists(self, name: str) -> bool: ...


# --- a provider's rate limit ------------------------------------------------------------


@dataclass(frozen=True)
class TurnState:
    """One provider's shared schedule of calls (``fapiao.providers.turns``): the next free
    slot, and the rate the last busy answer lowered it to. Times are epoch seconds."""

    next_at: float = 0.0  # the next free slot: a caller's turn is this or now, the later
    lowered_to: float = 0.0  # calls per second after the last decrease (0: never lowered)
    lowered_at: float = 0.0  # when the provider last answered busy
    version: int = 0  # the writes so far: each write is conditional on it


class ProviderTurnStore(Protocol):
    """Port: one ``TurnState`` per provider, shared by every container and process."""

    def read(self, provider: str) -> TurnState | None:
        """The state as last written (a strongly consistent read); None: never written."""

    def write(self, provider: str, state: TurnState, expected: TurnState | None) -> bool:
        """Write ``state`` if the stored one is still ``expected`` (its version; None:
        none is stored); False, nothing written, when another writer came first."""
