"""Each API family's error envelope, built from a catalogue row: one place for all five.

Used by the handlers' exception handlers and by the authorizer, whose refusal API
Gateway returns verbatim (template.yaml's ACCESS_DENIED gateway response), so a caller
is refused in its own API's envelope before any handler runs.
"""

from __future__ import annotations

from typing import Any

from fapiao.catalogue.errors import CatalogueEntry, Family, Problem, lookup

# Route prefixes -> the family that answers them (template.yaml's paths).
_PREFIXES: tuple[tuple[str, Family], ...] = (
    ("/api/openapi/", Family.MAYCUR),
    ("/data/v1/", Family.EXOCR),
    ("/openapi/identify/", Family.YIPIAOYUN),
    ("/common/", Family.PLATFORM),
)


def family_for_path(path: str) -> Family:
    for prefix, family in _PREFIXES:
        if path.startswith(prefix):
            return family
    return Family.PLATFORM


def error_envelope(
    family: Family, entry: CatalogueEntry, detail: str | None = None, biz_id: str | None = None
) -> dict[str, Any]:
    message = entry.message if not detail else f"{entry.message}: {detail}"
    if family is Family.MAYCUR:
        return {
            "code": "NACK",
            "message": message,
            "data": None,
            "errorCode": entry.code,
            "success": False,
        }
    if family is Family.EXOCR:
        return {
            "result": None,
            "error_code": int(entry.code),
            "description": message,
            "request_id": None,
        }
    if family is Family.YIPIAOYUN:
        return {"code": int(entry.code), "message": message}
    return {"resCode": int(entry.code), "resMsg": message, "bizId": biz_id, "data": None}


def problem_envelope(
    family: Family, problem: Problem, detail: str | None = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for ``problem`` in ``family``'s envelope."""
    entry = lookup(family, problem)
    return entry.http_status, error_envelope(family, entry, detail)
