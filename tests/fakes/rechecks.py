"""In-memory fakes of the re-check ports (``fapiao.ports.StatusBus``,
``fapiao.ports.RecheckScheduler``), with the same contracts as the adapters of
``fapiao.store.rechecks``."""

from __future__ import annotations

import datetime as dt
import threading

from fapiao.model.status import StatusChange


class MemoryStatusBus:
    """Keeps what is published; ``fail_next`` publishes fail (the bus is down)."""

    def __init__(self) -> None:
        self.changes: list[StatusChange] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    def publish(self, change: StatusChange) -> None:
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("the event bus refused the status change")
            self.changes.append(change)


class MemoryRecheckScheduler:
    """Keeps the schedules; the same invoice and time twice is one schedule, as one
    execution name is one execution."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[str, dt.datetime]] = []
        self._lock = threading.Lock()

    def schedule(self, invoice_key: str, at: dt.datetime) -> None:
        with self._lock:
            if (invoice_key, at) not in self.scheduled:
                self.scheduled.append((invoice_key, at))
