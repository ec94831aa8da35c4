"""exocr's verify_invoice as the hub serves it (spec 003): a form in, 003's envelope out
(its refusals: ``install_envelope(app, Family.EXOCR)``).

The form's ``app_key``/``app_secret`` are required as in 003 and then ignored: callers
are authenticated by the API's authorizer. Nothing here echoes a value of the form.
"""

from __future__ import annotations

import math
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from fapiao.api.errors import describe_error
from fapiao.api.requests import form_fields
from fapiao.api.responses import json_response
from fapiao.catalogue.errors import Family, HubError, Problem, by_code
from fapiao.dates import now_in_shanghai
from fapiao.mapping.exocr import invoice_from_verify_request
from fapiao.model import Invoice
from fapiao.results import Verification
from fapiao.wire.exocr import VerifyRequest, VerifyResponse


def read_verify_form(event: APIGatewayProxyEvent) -> Invoice:
    """The invoice a 003 form asks about (URL-encoded or multipart); ``HubError``
    INVALID_REQUEST (4001) naming what is wrong otherwise."""
    fields = form_fields(event)
    try:
        request = VerifyRequest.from_form(fields)
        invoice = invoice_from_verify_request(request)
    except ValueError as error:  # ValidationError, UnknownTypeCode, InvalidDate, amounts
        raise HubError(Problem.INVALID_REQUEST, describe_error(error)) from None
    # Only the tail of the check code travels; the offline checks and exocr take it.
    return invoice.model_copy(update={"check_code": request.check_code_last6})


def verify_response(answer: VerifyResponse, verification: Verification) -> Response[Any]:
    """003's answer with the HTTP status of its error code's catalogue row, and
    ``Retry-After`` when the verification is deferred."""
    status = 200 if answer.error_code == 0 else by_code(Family.EXOCR, answer.error_code).http_status
    headers: dict[str, str] = {}
    if verification.retry_at is not None:
        wait = (verification.retry_at - now_in_shanghai()).total_seconds()
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return json_response(status, answer, headers)
