"""The review console's use cases beyond the review API (services/console.py): the
overview above the queue (states, today's paid checks, 30 days of outcomes) and its
JSON (mapping/console.py, wire/console.py); an entry's file and its pages.

A queue that only counts, the daily counters in memory (``fakes.stats``), the drop
bucket in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from fixtures.generate import blank_pdf, invoice_pdf, vat_spec
from PIL import Image

from fakes.memory import MemoryFileStore
from fakes.stats import MemoryStats
from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.mapping.console import overview_data
from fapiao.model import Invoice, InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.review import OpenOutcome
from fapiao.model.stored import StoredInvoice
from fapiao.ports import OUTCOME_COUNTS, PAID_CHECKS
from fapiao.services.console import (
    CHARTED,
    DAYS,
    Overview,
    entry_file_key,
    entry_page,
    overview,
)
from fapiao.settings.limits import MAX_FILE_BYTES
from fapiao.wire.console import DayOutcomes as WireDayOutcomes
from fapiao.wire.console import OverviewData, OverviewResponse

U, F, C = (
    InvoiceStatus.UNRECOGNISABLE,
    InvoiceStatus.CHECK_FAILED,
    InvoiceStatus.AWAITING_CHECK,
)
TODAY = dt.date(2024, 6, 30)
NOW = dt.datetime(2024, 6, 30, 10, 30, tzinfo=SHANGHAI)
DROP = "fapiao-drop"


class CountingQueue:
    """A review queue that only counts (``ReviewQueue.count``), and says what was asked."""

    def __init__(self, counts: dict[InvoiceStatus, int]) -> None:
        self.counts = counts
        self.asked: list[InvoiceStatus] = []

    def count(self, status: InvoiceStatus) -> int:
        self.asked.append(status)
        return self.counts.get(status, 0)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


@pytest.fixture
def stats() -> MemoryStats:
    stats = MemoryStats()
    stats.add(OUTCOME_COUNTS, TODAY, {"created": 3, "duplicate": 1, "failed": 2, "identified": 5})
    stats.add(OUTCOME_COUNTS, ago(5), {"created": 2, "unrecognisable": 1})
    stats.add(OUTCOME_COUNTS, ago(5), {"unrecognisable": -2})  # taken back past zero
    stats.add(OUTCOME_COUNTS, ago(29), {"rejected": 4})  # the oldest day shown
    stats.add(OUTCOME_COUNTS, ago(30), {"created": 9})  # one day too old
    stats.add(OUTCOME_COUNTS, TODAY + dt.timedelta(days=1), {"created": 8})  # tomorrow
    stats.add(PAID_CHECKS, TODAY, {"calls": 7})
    stats.add(PAID_CHECKS, ago(1), {"calls": 40})
    return stats


def zero() -> dict[OutcomeKind, int]:
    return dict.fromkeys(CHARTED, 0)


# --- the overview ------------------------------------------------------------------------


def test_the_overview_counts_each_state_and_todays_paid_checks(stats: MemoryStats) -> None:
    queue = CountingQueue({U: 2, F: 5})

    seen = overview(queue, stats, TODAY)

    assert seen.states == {U: 2, F: 5, C: 0}
    assert sorted(queue.asked) == sorted([U, F, C])
    assert seen.paid_checks_today == 7


def test_thirty_days_oldest_first_today_last(stats: MemoryStats) -> None:
    seen = overview(CountingQueue({}), stats, TODAY)

    assert DAYS == 30
    assert [d.day for d in seen.outcomes] == [ago(n) for n in range(29, -1, -1)]
    assert seen.outcomes[0].day == dt.date(2024, 6, 1)
    assert seen.outcomes[-1].day == TODAY


def test_only_the_charted_kinds_and_negatives_are_zero(stats: MemoryStats) -> None:
    seen = overview(CountingQueue({}), stats, TODAY)
    by_day = {d.day: d.counts for d in seen.outcomes}

    assert set(CHARTED) == {
        OutcomeKind.CREATED,
        OutcomeKind.DUPLICATE,
        OutcomeKind.REJECTED,
        OutcomeKind.UNRECOGNISABLE,
    }
    assert all(set(counts) == set(CHARTED) for counts in by_day.values())
    assert by_day[TODAY] == {**zero(), OutcomeKind.CREATED: 3, OutcomeKind.DUPLICATE: 1}
    assert by_day[ago(5)] == {**zero(), OutcomeKind.CREATED: 2}
    assert by_day[ago(29)] == {**zero(), OutcomeKind.REJECTED: 4}
    assert sum(sum(c.values()) for c in by_day.values()) == 3 + 1 + 2 + 4  # nothing else


def test_an_empty_hub_has_thirty_days_of_zeros() -> None:
    seen = overview(CountingQueue({}), MemoryStats(), TODAY)

    assert seen.states == {U: 0, F: 0, C: 0}
    assert seen.paid_checks_today == 0
    assert len(seen.outcomes) == 30
    assert all(d.counts == zero() for d in seen.outcomes)


def test_paid_checks_taken_below_zero_show_zero() -> None:
    stats = MemoryStats()
    stats.add(PAID_CHECKS, TODAY, {"calls": -3})

    assert overview(CountingQueue({}), stats, TODAY).paid_checks_today == 0


def test_the_first_of_the_month_reaches_into_the_month_before() -> None:
    first = dt.date(2024, 3, 1)
    stats = MemoryStats()
    stats.add(OUTCOME_COUNTS, dt.date(2024, 2, 29), {"created": 1})

    seen = overview(CountingQueue({}), stats, first)

    assert seen.outcomes[0].day == dt.date(2024, 2, 1)  # 2024 is a leap year
    assert seen.outcomes[-2].day == dt.date(2024, 2, 29)
    assert seen.outcomes[-2].counts[OutcomeKind.CREATED] == 1


# --- its JSON ----------------------------------------------------------------------------


def test_the_overview_on_the_wire(stats: MemoryStats) -> None:
    data = overview_data(overview(CountingQueue({U: 2, F: 5, C: 1}), stats, TODAY))

    sent = data.model_dump(mode="json", by_alias=True)

    assert set(sent) == {"states", "paid_checks_today", "outcomes"}
    assert sent["states"] == {"U": 2, "F": 5, "C": 1}
    assert sent["paid_checks_today"] == 7
    assert len(sent["outcomes"]) == 30
    assert sent["outcomes"][0] == {
        "date": "2024-06-01",
        "created": 0,
        "duplicate": 0,
        "rejected": 4,
        "unrecognisable": 0,
    }
    assert sent["outcomes"][-1] == {
        "date": "2024-06-30",
        "created": 3,
        "duplicate": 1,
        "rejected": 0,
        "unrecognisable": 0,
    }
    assert [day["date"] for day in sent["outcomes"]] == sorted(d["date"] for d in sent["outcomes"])


def test_the_overview_in_the_platform_envelope_reads_back(stats: MemoryStats) -> None:
    data = overview_data(overview(CountingQueue({U: 1}), stats, TODAY))
    answer = OverviewResponse(res_code=200000, res_msg="success", data=data)

    sent = answer.model_dump(mode="json", by_alias=True)

    assert (sent["resCode"], sent["resMsg"]) == (200000, "success")
    assert OverviewResponse.model_validate(sent) == answer
    with pytest.raises(ValueError, match="extra"):
        OverviewData.model_validate({**sent["data"], "failed": 1})


def test_the_wire_names_the_charted_kinds() -> None:
    """Every charted kind has its field on the wire: the mapping writes each by name."""
    seen = Overview(
        states={U: 0, F: 0, C: 0},
        paid_checks_today=0,
        outcomes=[],
    )
    assert overview_data(seen).outcomes == []
    assert {kind.value for kind in CHARTED} == set(WireDayOutcomes.model_fields) - {"date"}


# --- an entry's file ---------------------------------------------------------------------


def stored(attachment_url: str | None) -> StoredInvoice:
    return StoredInvoice(
        invoice_key="310023113012345678",
        expense_id=1,
        user_code="a.b",
        biz_id="biz-1",
        status=F,
        currency="CNY",
        invoice=Invoice(
            invoice_type=InvoiceType.VAT_SPECIAL,
            invoice_code="3100231130",
            invoice_number="12345678",
            total_amount=Decimal("113.00"),
            attachment_url=attachment_url,
        ),
        created_at=NOW,
    )


def opened(bucket: str = DROP, key: str = "a.b/scan/发票 1.pdf") -> OpenOutcome:
    outcome = Outcome(
        outcome=OutcomeKind.UNRECOGNISABLE,
        object=DroppedObject(bucket=bucket, key=key, etag="e1"),
        owner="a.b",
        status=U,
        at=NOW,
    )
    return OpenOutcome(outcome=outcome, changed_at=NOW)


@pytest.mark.parametrize(
    ("reference", "key"),
    [
        (f"s3://{DROP}/a.b/2024/发票 1.pdf", "a.b/2024/发票 1.pdf"),
        (f"  s3://{DROP}/a.b/x.ofd \n", "a.b/x.ofd"),
        ("s3://another-bucket/a.b/x.pdf", None),
        (f"s3://{DROP}-2/a.b/x.pdf", None),
        ("http://example.com/invoice.pdf", None),
        ("https://files.example.com/a/b.jpg?token=1", None),
        ("base64", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("22067/2022/07-22/receipt/x.jpg", "22067/2022/07-22/receipt/x.jpg"),
        ("/22067/x.jpg", "22067/x.jpg"),
    ],
    ids=[
        "drop-bucket",
        "spaces",
        "other-bucket",
        "bucket-prefix",
        "http",
        "https",
        "base64",
        "empty",
        "blank",
        "none",
        "bare-key",
        "leading-slash",
    ],
)
def test_the_file_key_of_a_stored_invoice(reference: str | None, key: str | None) -> None:
    assert entry_file_key(stored(reference), DROP) == key


def test_the_file_key_of_an_open_outcome_is_its_object() -> None:
    assert entry_file_key(opened(), DROP) == "a.b/scan/发票 1.pdf"
    assert entry_file_key(opened(bucket="elsewhere"), DROP) is None


def picture_size(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        return image.size


def test_a_page_of_an_entrys_file() -> None:
    files = MemoryFileStore(
        {"a.b/scan/发票 1.pdf": blank_pdf(2), "a.b/x.pdf": invoice_pdf(vat_spec(1))}
    )

    second = entry_page(opened(), 2, files, DROP)
    first = entry_page(stored(f"s3://{DROP}/a.b/x.pdf"), 1, files, DROP)

    assert (second.media_type, second.pages) == ("image/png", 2)
    assert picture_size(second.content) == (800, 800)
    assert (first.media_type, first.pages) == ("image/png", 1)
    assert max(picture_size(first.content)) == 1600


@pytest.mark.parametrize(
    "entry",
    [
        stored("https://example.com/x.pdf"),
        stored("base64"),
        stored(f"s3://{DROP}/gone.pdf"),
        opened(bucket="elsewhere"),
        opened(key="a.b/never-kept.pdf"),
    ],
    ids=["url", "base64", "gone", "other-bucket", "not-in-the-bucket"],
)
def test_no_file_kept_is_not_found(entry: Any) -> None:
    with pytest.raises(HubError) as raised:
        entry_page(entry, 1, MemoryFileStore(), DROP)

    assert raised.value.problem is Problem.NOT_FOUND


def test_a_page_the_file_lacks_and_a_file_that_is_no_invoice() -> None:
    files = MemoryFileStore({"a.b/scan/发票 1.pdf": blank_pdf(1), "a.b/x.pdf": b"not a file"})

    with pytest.raises(HubError) as missing:
        entry_page(opened(), 2, files, DROP)
    with pytest.raises(HubError) as junk:
        entry_page(stored("a.b/x.pdf"), 1, files, DROP)

    assert missing.value.problem is Problem.NOT_FOUND
    assert junk.value.problem is Problem.UNSUPPORTED_FILE_TYPE


def test_the_file_is_read_within_the_hubs_limit() -> None:
    class Asked(MemoryFileStore):
        def __init__(self) -> None:
            super().__init__()
            self.limits: list[int] = []

        def get(self, key: str, max_bytes: int) -> bytes:
            self.limits.append(max_bytes)
            raise HubError(Problem.FILE_TOO_LARGE, f"over {max_bytes} bytes")

    files = Asked()
    with pytest.raises(HubError) as raised:
        entry_page(opened(), 1, files, DROP)

    assert raised.value.problem is Problem.FILE_TOO_LARGE  # said as it is, not NOT_FOUND
    assert files.limits == [MAX_FILE_BYTES]
