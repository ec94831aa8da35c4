"""How a function's resolver answers: JSON, and every failure in its API family's envelope.

``install_envelope(app, family)`` is the one way a handler sets up its errors: every
exception of ``app``'s routes becomes a catalogue row (``fapiao.api.errors.to_problem``)
answered in ``family``'s envelope with the row's HTTP status, e.g. 001's
``{"resCode": 400000, ...}`` with 400, 002's ``{"code": "NACK", "errorCode": "INV20002"}``
with 409, 003's ``{"error_code": 4001, ...}`` with 400, 004's ``{"code": -1}`` with 404;
and counted (metrics ``RequestsRefused``, or ``Errors`` for an unexpected failure).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from fapiao.api.envelopes import error_envelope
from fapiao.api.errors import to_problem
from fapiao.catalogue.errors import CatalogueEntry, Family, Problem, lookup
from fapiao.jsontext import dump_json

logger = Logger(child=True)
metrics = Metrics()  # Powertools metrics share one buffer: the handler's log_metrics flushes


def json_response(
    status: int, body: object, headers: dict[str, str] | None = None
) -> Response[Any]:
    """``body`` as JSON (``Decimal`` as exact numbers, non-ASCII kept as is)."""
    return Response(status, content_types.APPLICATION_JSON, dump_json(body), headers)


def exocr_request_id(event: APIGatewayProxyEvent) -> str | None:
    """003's ``request_id``: API Gateway's request id, upper-case hex."""
    request_id = (event.get("requestContext") or {}).get("requestId")
    return request_id.replace("-", "").upper() if isinstance(request_id, str) else None


def _biz_id(event: APIGatewayProxyEvent) -> str | None:
    """The caller's bizId for a platform envelope, when the body is readable enough."""
    try:
        body = event.json_body
    except Exception:  # unreadable body: the envelope goes without bizId
        return None
    value = body.get("bizId") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)[:64]


def request_envelope(
    family: Family, entry: CatalogueEntry, detail: str | None, event: APIGatewayProxyEvent
) -> dict[str, Any]:
    """``family``'s envelope for a refusal of ``event``: the platform's echoes the
    caller's bizId, exocr's is 003's whole envelope with the request's id."""
    if family is Family.PLATFORM:
        return error_envelope(family, entry, detail, _biz_id(event))
    envelope = error_envelope(family, entry, detail)
    if family is Family.EXOCR:
        envelope["request_id"] = exocr_request_id(event)
        from fapiao.wire.exocr import VerifyResponse  # only the exocr family's functions

        return VerifyResponse.model_validate(envelope).to_wire()
    return envelope


def install_envelope(app: APIGatewayRestResolver, family: Family) -> None:
    """Answer every failure of ``app``'s routes in ``family``'s envelope, with the HTTP
    status of the catalogue's row; an unknown route too, where the family has a code."""

    def answer(problem: Problem, detail: str | None) -> Response[Any]:
        try:
            entry = lookup(family, problem)
        except LookupError:  # a family without its own code answers the generic one
            entry = lookup(family, Problem.INVALID_REQUEST)
        envelope = request_envelope(family, entry, detail, app.current_event)
        return json_response(entry.http_status, envelope)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def refuse(error: Exception) -> Response[Any]:
        problem, detail = to_problem(error)
        if problem is Problem.INTERNAL:
            logger.exception("unexpected failure", extra={"error_type": type(error).__name__})
            metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
        else:
            logger.info("request refused", extra={"problem": problem.value, "detail": detail})
            metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return answer(problem, detail)

    try:
        lookup(family, Problem.NOT_FOUND)
    except LookupError:  # exocr's 003 has no such code: Powertools' own 404 answers
        return

    @app.not_found
    def not_found(error: Exception) -> Response[Any]:
        return answer(Problem.NOT_FOUND, "no such route")
