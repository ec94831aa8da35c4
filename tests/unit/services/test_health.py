from __future__ import annotations

from fapiao.services.health import check_health
from fapiao.settings import HubSettings


class FakeProbe:
    def __init__(self, missing: set[str] = frozenset(), broken: set[str] = frozenset()) -> None:
        self.missing, self.broken = missing, broken

    def _exists(self, name: str) -> bool:
        if name in self.broken:
            raise ConnectionError("endpoint down")
        return name not in self.missing

    table_exists = bucket_exists = event_bus_exists = _exists


SETTINGS = HubSettings.from_env({})


def test_all_components_present_is_ok() -> None:
    report = check_health(SETTINGS, FakeProbe())
    assert report.status == "ok"
    assert set(report.components) == {
        "invoices_table",
        "expenses_table",
        "idempotency_table",
        "drop_bucket",
        "event_bus",
    }


def test_a_missing_table_degrades_and_says_which() -> None:
    report = check_health(SETTINGS, FakeProbe(missing={SETTINGS.invoices_table}))
    assert report.status == "degraded"
    assert not report.components["invoices_table"].ok
    assert "does not exist" in report.components["invoices_table"].detail
    assert report.components["drop_bucket"].ok


def test_an_unreachable_service_is_reported_not_raised() -> None:
    report = check_health(SETTINGS, FakeProbe(broken={SETTINGS.event_bus}))
    assert report.status == "degraded"
    assert report.components["event_bus"].detail.endswith("ConnectionError")
