"""One contract for both DailyStats adapters: MemoryStats (what the unit tests stand on) and
DynamoStats, on the local AWS (moto behind the hub's gateway) with the StatsTable
template.yaml declares: one item per counter and Asia/Shanghai day, added to atomically,
read back in batches of at most 100 days.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from fakes.stats import MemoryStats
from fapiao.local.resources import LocalNames
from fapiao.ports import OUTCOME_COUNTS, PAID_CHECKS, DailyStats
from fapiao.store.stats import DynamoStats

DAY = dt.date(2024, 6, 1)


@pytest.fixture(params=["memory", "dynamo"])
def stats(request: pytest.FixtureRequest, names: LocalNames) -> DailyStats:
    if request.param == "memory":
        return MemoryStats()
    session = request.getfixturevalue("tables")  # started only for this adapter
    return DynamoStats(names.ref("StatsTable"), client=session.client("dynamodb"))


def test_adding_counts_and_a_negative_subtracts(stats: DailyStats) -> None:
    stats.add(OUTCOME_COUNTS, DAY, {"created": 1})
    stats.add(OUTCOME_COUNTS, DAY, {"created": 1})
    stats.add(OUTCOME_COUNTS, DAY, {"failed": 1})
    stats.add(OUTCOME_COUNTS, DAY, {"failed": -1, "created": 3})

    assert stats.days(OUTCOME_COUNTS, [DAY]) == {DAY: {"created": 5, "failed": 0}}


def test_several_fields_at_once_and_a_reserved_word_as_a_field(stats: DailyStats) -> None:
    stats.add(OUTCOME_COUNTS, DAY, {"created": 2, "duplicate": 1, "count": 4, "size": 7})

    assert stats.days(OUTCOME_COUNTS, [DAY])[DAY] == {
        "created": 2,
        "duplicate": 1,
        "count": 4,
        "size": 7,
    }


def test_counters_of_other_names_and_days_are_apart(stats: DailyStats) -> None:
    stats.add(OUTCOME_COUNTS, DAY, {"created": 1})
    stats.add(PAID_CHECKS, DAY, {"calls": 2})
    stats.add(OUTCOME_COUNTS, DAY + dt.timedelta(days=1), {"rejected": 1})

    assert stats.days(PAID_CHECKS, [DAY]) == {DAY: {"calls": 2}}
    assert stats.days(OUTCOME_COUNTS, [DAY, DAY + dt.timedelta(days=1)]) == {
        DAY: {"created": 1},
        DAY + dt.timedelta(days=1): {"rejected": 1},
    }


def test_a_day_nothing_was_counted_on_is_empty(stats: DailyStats) -> None:
    stats.add(OUTCOME_COUNTS, DAY, {"created": 0})  # nothing to add: nothing written

    assert stats.days(OUTCOME_COUNTS, [DAY, dt.date(1999, 12, 31)]) == {
        DAY: {},
        dt.date(1999, 12, 31): {},
    }
    assert stats.days(OUTCOME_COUNTS, []) == {}


def test_more_days_than_one_batch_holds_and_a_day_asked_twice(stats: DailyStats) -> None:
    days = [DAY - dt.timedelta(days=n) for n in range(250)]
    for n, day in enumerate(days):
        if n % 3 == 0:
            stats.add(OUTCOME_COUNTS, day, {"created": n + 1})

    found = stats.days(OUTCOME_COUNTS, [*days, days[0], days[150]])

    assert set(found) == set(days)
    for n, day in enumerate(days):
        assert found[day] == ({"created": n + 1} if n % 3 == 0 else {}), day


def test_adds_from_many_threads_are_all_counted(stats: DailyStats) -> None:
    """Every container counts into the same item: nothing read to be written."""

    def count(_: Any) -> None:
        for _ in range(10):
            stats.add(PAID_CHECKS, DAY, {"calls": 1})

    threads = [threading.Thread(target=count, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stats.days(PAID_CHECKS, [DAY]) == {DAY: {"calls": 40}}


def test_one_item_per_counter_and_day_keyed_as_the_template_says() -> None:
    """The item's key (``stat`` = "<name>#<YYYY-MM-DD>") and its number attributes."""
    client = _RecordingClient()
    DynamoStats("Stats", client=client).add(PAID_CHECKS, DAY, {"calls": 2})

    (call,) = client.updates
    assert call["TableName"] == "Stats"
    assert call["Key"] == {"stat": {"S": "paid_checks#2024-06-01"}}
    assert call["UpdateExpression"].startswith("ADD ")
    assert list(call["ExpressionAttributeNames"].values()) == ["calls"]
    assert list(call["ExpressionAttributeValues"].values()) == [{"N": "2"}]


class _RecordingClient:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_item(self, **arguments: Any) -> dict[str, Any]:
        self.updates.append(arguments)
        return {}


def test_unprocessed_keys_are_asked_again() -> None:
    """BatchGetItem may answer part of a batch and hand back the rest as UnprocessedKeys."""
    first, second = DAY, DAY + dt.timedelta(days=1)

    class Throttled:
        def __init__(self) -> None:
            self.asked: list[list[str]] = []

        def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            keys = [key["stat"]["S"] for key in RequestItems["T"]["Keys"]]
            self.asked.append(keys)
            item = {"stat": {"S": keys[0]}, "created": {"N": "1"}}
            rest = RequestItems["T"]["Keys"][1:]
            return {
                "Responses": {"T": [item]},
                "UnprocessedKeys": {"T": {"Keys": rest}} if rest else {},
            }

    client = Throttled()

    found = DynamoStats("T", client=client).days(OUTCOME_COUNTS, [first, second])

    assert found == {first: {"created": 1}, second: {"created": 1}}
    assert client.asked == [
        ["outcomes#2024-06-01", "outcomes#2024-06-02"],
        ["outcomes#2024-06-02"],
    ]
