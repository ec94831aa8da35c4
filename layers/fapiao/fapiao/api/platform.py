"""The expense platform's envelope (specs 000 and 001): resCode, resMsg, bizId, data."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from fapiao.api.envelopes import error_envelope
from fapiao.api.errors import register_error_handlers
from fapiao.catalogue.errors import CatalogueEntry, Family
from fapiao.wire.common import dump_json


def json_response(status: int, body: object) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, dump_json(body))


def _biz_id(app: APIGatewayRestResolver) -> str | None:
    """The caller's bizId for an error envelope, when the body is readable enough."""
    try:
        body = app.current_event.json_body
    except Exception:  # unreadable body: the envelope goes without bizId
        return None
    value = body.get("bizId") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)[:64]


def use_platform_envelope(app: APIGatewayRestResolver) -> None:
    def write(entry: CatalogueEntry, detail: str | None) -> Response[Any]:
        envelope = error_envelope(Family.PLATFORM, entry, detail, _biz_id(app))
        return json_response(entry.http_status, envelope)

    register_error_handlers(app, Family.PLATFORM, write)
