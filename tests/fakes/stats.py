"""In-memory daily counters (``fapiao.ports.DailyStats``) for unit tests, with the DynamoDB
adapter's contract (``fapiao.store.stats``; tests/integration/test_stats_store.py runs
the same tests on both): a number per counter, day and field, added to; a day nothing
was counted on is {}.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence

__all__ = ["MemoryStats", "RefusingStats"]


class MemoryStats:
    def __init__(self) -> None:
        self.counters: dict[tuple[str, dt.date], dict[str, int]] = {}
        self.calls: list[tuple[str, dt.date, dict[str, int]]] = []
        self._lock = threading.Lock()

    def add(self, name: str, day: dt.date, counts: Mapping[str, int]) -> None:
        counts = {field: n for field, n in counts.items() if n}
        if not counts:
            return
        with self._lock:
            self.calls.append((name, day, dict(counts)))
            kept = self.counters.setdefault((name, day), {})
            for field, n in counts.items():
                kept[field] = kept.get(field, 0) + n

    def days(self, name: str, days: Sequence[dt.date]) -> dict[dt.date, dict[str, int]]:
        with self._lock:
            return {day: dict(self.counters.get((name, day), {})) for day in days}


class RefusingStats:
    """Counters that are down: every call raises (what a throttled table does)."""

    def __init__(self) -> None:
        self.tried = 0

    def add(self, name: str, day: dt.date, counts: Mapping[str, int]) -> None:
        self.tried += 1
        raise RuntimeError("the stats table is unavailable")

    def days(self, name: str, days: Sequence[dt.date]) -> dict[dt.date, dict[str, int]]:
        raise RuntimeError("the stats table is unavailable")
