"""Use case: is each component the hub depends on there and answering?

The report is a dataclass, not a pydantic model: the health function imports no
pydantic (its cold start, issue 13); the OpenAPI document still describes it (pydantic
reads dataclasses when the document is made).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fapiao.ports import ResourceProbe
from fapiao.settings import HubSettings


@dataclass(frozen=True)
class ComponentHealth:
    ok: bool
    detail: str


@dataclass(frozen=True)
class HealthReport:
    status: Literal["ok", "degraded"]
    components: dict[str, ComponentHealth]


def check_health(settings: HubSettings, probe: ResourceProbe) -> HealthReport:
    checks = {
        "invoices_table": (probe.table_exists, settings.invoices_table),
        "idempotency_table": (probe.table_exists, settings.idempotency_table),
        "expenses_table": (probe.table_exists, settings.expenses_table),
        "drop_bucket": (probe.bucket_exists, settings.drop_bucket),
        "event_bus": (probe.event_bus_exists, settings.event_bus),
    }
    components: dict[str, ComponentHealth] = {}
    for component, (exists, name) in checks.items():
        try:
            ok = exists(name)
            detail = name if ok else f"{name} does not exist"
        except Exception as error:  # any failure to ask is itself the finding
            ok, detail = False, f"{name}: {type(error).__name__}"
        components[component] = ComponentHealth(ok=ok, detail=detail)
    status: Literal["ok", "degraded"] = (
        "ok" if all(c.ok for c in components.values()) else "degraded"
    )
    return HealthReport(status=status, components=components)
