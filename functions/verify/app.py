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

The cold start loads the route; the form's reader, the use case, the models and the
verifier are loaded by the first request (issue 13).
"""

import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.access import refuse_outside_role
from fapiao.api.errors import describe_error
from fapiao.api.responses import exocr_request_id, install_envelope
from fapiao.catalogue.errors import Family
from fapiao.logs import hub_logger, hub_tracer
from fapiao.ports import VerifyDeps
from fapiao.settings import HubSettings, VerifierSettings

if TYPE_CHECKING:
    from fapiao.results import Verification

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver()  # a form API: no JSON body to validate
install_envelope(app, Family.EXOCR)


class InvalidTaskInput(ValueError):
    """The task's input is not {"invoice": <canonical invoice>, "qr": <optional>}."""


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    endpoint: VerifyDeps  # verifies without importing: no duplicate lookup
    task: VerifyDeps  # the pipeline's: never pays for an invoice imported already


@cache
def deps() -> Deps:
    from fapiao.providers.factory import build_verify_deps

    settings, verifier = HubSettings.from_env(), VerifierSettings.from_env()
    return Deps(
        endpoint=build_verify_deps(settings, verifier, duplicates=False),
        task=build_verify_deps(settings, verifier, duplicates=True, pipeline=True),
    )


@app.post("/data/v1/verify_invoice")
@tracer.capture_method
def verify_invoice_form() -> Response[Any]:
    from fapiao.api.exocr import read_verify_form, verify_response
    from fapiao.mapping.exocr import to_exocr_response
    from fapiao.services.verify import answer_check, verify_invoice

    started = time.monotonic()
    asked = read_verify_form(app.current_event)
    verification = verify_invoice(asked, deps().endpoint)
    record(verification)
    answer = to_exocr_response(
        answer_check(verification, asked),
        request_id=exocr_request_id(app.current_event),
        recognize_time=int((time.monotonic() - started) * 1000),
    )
    return verify_response(answer, verification)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_outside_role(event) or app.resolve(event, context)  # 403 before validation


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def task_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from pydantic import ValidationError

    from fapiao.model import Invoice
    from fapiao.rules.offline_checks import QrFields
    from fapiao.services.verify import verify_invoice

    try:
        invoice = Invoice.model_validate(event["invoice"])
        qr = QrFields.model_validate(event["qr"]) if event.get("qr") else None
    except (KeyError, TypeError, ValidationError) as error:
        raise InvalidTaskInput(describe_error(error)) from None
    verification = verify_invoice(invoice, deps().task, qr=qr)
    record(verification)
    return verification.model_dump(mode="json")


def record(verification: "Verification") -> None:
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
