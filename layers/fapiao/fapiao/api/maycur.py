"""Maycur's envelope (spec 002): code "NACK", success false, errorCode and message."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from fapiao.api.envelopes import error_envelope
from fapiao.api.errors import register_error_handlers
from fapiao.api.platform import json_response
from fapiao.catalogue.errors import CatalogueEntry, Family


def use_maycur_envelope(app: APIGatewayRestResolver) -> None:
    """Answer every failure of ``app``'s routes in 002's envelope, with the HTTP status
    of the catalogue's row (AUTH0007 404, INV20002 409, INV30109 413 ...)."""

    def write(entry: CatalogueEntry, detail: str | None) -> Response[Any]:
        return json_response(entry.http_status, error_envelope(Family.MAYCUR, entry, detail))

    register_error_handlers(app, Family.MAYCUR, write)
