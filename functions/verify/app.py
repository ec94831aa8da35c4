"""Verification (查验): exocr's POST /data/v1/verify_invoice served by the hub, and the
pipeline's verify task.

- ``lambda_handler``: the endpoint in spec 003's shape, so that exocr's clients can
  point at the hub: a form in (x-www-form-urlencoded, or multipart/form-data), 003's
  JSON envelope out, its codes from the error catalogue (4001 for a malformed form,
  HTTP status from the catalogue's row, ``Retry-After`` on a deferral). The form's
  ``app_key``/``app_secret`` are required as in 003 and then ignored: callers are
  authenticated by the API's authorizer (``x-api-key``), and exocr is asked with the
  hub's own credentials. Duplicates are not refused here: verifying is not importing.
- ``task_handler``: the Step Functions task. In ``{"invoice": <canonical invoice JSON>,
  "qr": <QR fields, optional>}``, out the ``Verification`` as JSON (``retry_at`` in UTC
  for a Wait state). A failing provider never raises: it ends in status C.
"""

from __future__ import annotations

import binascii
import math
import time
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from fapiao.catalogue.errors import Family, Problem, by_code, lookup
from fapiao.dates import now_in_shanghai
from fapiao.logs import hub_logger
from fapiao.mapping.exocr import invoice_from_verify_request, to_exocr_response
from fapiao.model import Invoice
from fapiao.providers.factory import build_verify_deps
from fapiao.providers.settings import VerifierSettings
from fapiao.providers.verifier import Verification
from fapiao.rules.offline_checks import QrFields
from fapiao.services.verify import VerifyDeps, answer_check, verify_invoice
from fapiao.settings import HubSettings
from fapiao.wire.exocr import VerifyRequest, VerifyResponse

logger = hub_logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
settings = HubSettings.from_env()
verifier_settings = VerifierSettings.from_env()


class InvalidForm(ValueError):
    """A form that is not 003's request (answered with 4001)."""


class InvalidTaskInput(ValueError):
    """The task's input is not {"invoice": <canonical invoice>, "qr": <optional>}."""


@app.post("/data/v1/verify_invoice")
def verify_invoice_form() -> Response[str]:
    started = time.monotonic()
    asked = read_form(app.current_event)
    verification = verify_invoice(asked, api_deps())
    record(verification)
    answer = to_exocr_response(
        answer_check(verification, asked),
        request_id=request_id(),
        recognize_time=int((time.monotonic() - started) * 1000),
    )
    return exocr_response(answer, verification)


@app.exception_handler(InvalidForm)
def invalid_form(error: Exception) -> Response[str]:
    metrics.add_metric(name="InvalidRequests", unit=MetricUnit.Count, value=1)
    return exocr_error(Problem.INVALID_REQUEST, str(error))


@app.exception_handler(Exception)
def internal_error(error: Exception) -> Response[str]:
    logger.exception("verify_invoice failed")
    metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
    return exocr_error(Problem.INTERNAL, None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def task_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        invoice = Invoice.model_validate(event["invoice"])
        qr = QrFields.model_validate(event["qr"]) if event.get("qr") else None
    except (KeyError, TypeError, ValidationError) as error:
        raise InvalidTaskInput(_problems(error)) from None
    verification = verify_invoice(invoice, task_deps(), qr=qr)
    record(verification)
    return verification.model_dump(mode="json")


# --- wiring: the adapters each entry point uses, built at the first call ---------------


@cache
def api_deps() -> VerifyDeps:
    return build_verify_deps(settings, verifier_settings, duplicates=False)


@cache
def task_deps() -> VerifyDeps:
    return build_verify_deps(settings, verifier_settings, duplicates=True)


# --- HTTP plumbing ---------------------------------------------------------------------


def read_form(event: APIGatewayProxyEvent) -> Invoice:
    """The invoice a 003 form asks about; ``InvalidForm`` (answered 4001) otherwise."""
    try:
        body = event.decoded_body
    except (UnicodeDecodeError, binascii.Error):
        raise InvalidForm("the body is not UTF-8 text") from None
    content_type = event.headers.get("Content-Type") or ""  # the lookup is case-insensitive
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            fields = _multipart(body or "", content_type)  # the boundary keeps its case
        elif kind in ("application/x-www-form-urlencoded", ""):
            fields = dict(parse_qsl(body or "", keep_blank_values=True))
        else:
            raise InvalidForm(f"Content-Type {content_type} is not a form")
        request = VerifyRequest.from_form(fields)
        invoice = invoice_from_verify_request(request)
    except InvalidForm:
        raise
    except ValueError as error:  # ValidationError, UnknownTypeCode, InvalidDate, amounts
        raise InvalidForm(_problems(error)) from None
    # Only the tail of the check code travels; the offline checks and exocr take it.
    return invoice.model_copy(update={"check_code": request.check_code_last6})


def _multipart(body: str, content_type: str) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body.encode("utf-8"))
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = str(part.get_content()).strip()
    return fields


def _problems(error: Exception) -> str:
    """What is wrong, without the input's values (a form holds a secret)."""
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
    if isinstance(error, KeyError):
        return f"missing {error}"
    return str(error)


def request_id() -> str:
    return app.current_event.request_context.request_id.replace("-", "").upper()


def exocr_response(answer: VerifyResponse, verification: Verification) -> Response[str]:
    status = 200 if answer.error_code == 0 else by_code(Family.EXOCR, answer.error_code).http_status
    headers: dict[str, str] = {}
    if verification.retry_at is not None:
        wait = (verification.retry_at - now_in_shanghai()).total_seconds()
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=answer.to_json(),
        headers=headers,
    )


def exocr_error(problem: Problem, detail: str | None) -> Response[str]:
    entry = lookup(Family.EXOCR, problem)
    answer = VerifyResponse(
        result=None,
        error_code=int(entry.code),
        description=f"{entry.message}: {detail}" if detail else entry.message,
        request_id=request_id(),
    )
    return Response(
        status_code=entry.http_status,
        content_type=content_types.APPLICATION_JSON,
        body=answer.to_json(),
    )


def record(verification: Verification) -> None:
    metrics.add_metric(
        name="ProviderCalls", unit=MetricUnit.Count, value=verification.provider_calls
    )
    logger.info(
        "verified",
        extra={
            "invoice_key": verification.invoice_key,
            "status": verification.status.value,
            "source": verification.source.value,
            "code": verification.code,
            "provider_calls": verification.provider_calls,
        },
    )
