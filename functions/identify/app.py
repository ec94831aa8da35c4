"""The hub's own async identify API in yipiaoyun's shape (spec 004), backed by the ingest
state machine: submit a file or a URL, get an identify id, poll the result.

- ``POST /openapi/identify/sendByImageUrl``: ``{"imageUrl": ...}``; the hub downloads it.
- ``POST /openapi/identify/sendByImageFile``: multipart/form-data, the file in
  ``imageFile`` (jpg, jpeg, png or pdf, 1 MB at most). 004's signature fields may come
  along and are ignored: callers are authenticated by the API's authorizer.
- ``POST /openapi/identify/result``: ``{"identifyId": ...}``.

Answers are 004's envelope: ``{"code": 0, "data": ...}``, or ``{"code": -1, "message":
...}`` with the HTTP status of the error catalogue's row. A recognition in progress is
``{"code": 0, "data": null}``; see ``fapiao.services.identify`` for every decision.
"""

import base64
import binascii
from email.message import Message
from email.parser import Parser
from email.policy import HTTP
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.envelopes import error_envelope
from fapiao.api.errors import register_error_handlers
from fapiao.api.json_body import load_json_body
from fapiao.api.platform import json_response
from fapiao.catalogue.errors import CatalogueEntry, Family, HubError, Problem
from fapiao.logs import hub_logger
from fapiao.mapping.yipiaoyun import to_identify_result
from fapiao.providers.wiring import fetch_bytes
from fapiao.services.identify import (
    IdentifyDeps,
    IdentifyState,
    identify_result,
    submit_file,
    submit_url,
)
from fapiao.settings import HubSettings
from fapiao.store.executions import S3Drop, StepFunctionsExecutions
from fapiao.wire.yipiaoyun import ResultRequest, ResultResponse, SendByImageUrlRequest, SendResponse

logger = hub_logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
settings = HubSettings.from_env()
IMAGE_FILE = "imageFile"  # 004's form field


@cache
def deps() -> IdentifyDeps:
    return IdentifyDeps(
        uploads=S3Drop(settings.drop_bucket),
        executions=StepFunctionsExecutions(settings),
        fetch=fetch_bytes,
    )


def _write_error(entry: CatalogueEntry, detail: str | None) -> Response[Any]:
    return json_response(entry.http_status, error_envelope(Family.YIPIAOYUN, entry, detail))


register_error_handlers(app, Family.YIPIAOYUN, _write_error)


@app.post("/openapi/identify/sendByImageUrl", summary="Submit a file by URL (spec 004)")
@tracer.capture_method
def send_by_image_url(request: Annotated[SendByImageUrlRequest, Body()]) -> Response[Any]:
    return _submitted(submit_url(request.imageUrl, deps()))


@app.post("/openapi/identify/sendByImageFile", summary="Submit a file, multipart (spec 004)")
@tracer.capture_method
def send_by_image_file() -> Response[Any]:
    file_name, data = read_image_file(app.current_event)
    return _submitted(submit_file(file_name, data, deps()))


@app.post(
    "/openapi/identify/result",
    summary="The recognition of an identify id: pending (data null), done or failed",
)
@tracer.capture_method
def result(request: Annotated[ResultRequest, Body()]) -> Response[Any]:
    answer = identify_result(request.identifyId, deps())
    metrics.add_metric(name=f"Identify{answer.state.name.title()}", unit=MetricUnit.Count, value=1)
    if answer.state is IdentifyState.PENDING:
        return json_response(200, {"code": 0, "data": None})
    if answer.state is IdentifyState.FAILED or answer.invoice is None:
        failed = ResultResponse(code=-1, message=answer.message)
        return json_response(200, failed.to_wire(exclude_none=True))
    body = ResultResponse(code=0, data=to_identify_result(answer.invoice)).to_wire()
    body.pop("message", None)
    return json_response(200, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


# --- HTTP plumbing ---------------------------------------------------------------------


def _submitted(identify_id: str) -> Response[Any]:
    metrics.add_metric(name="IdentifySubmitted", unit=MetricUnit.Count, value=1)
    logger.info("identify submitted", extra={"identify_id": identify_id})
    return json_response(200, SendResponse(code=0, data=identify_id).to_wire(exclude_none=True))


def read_image_file(event: APIGatewayProxyEvent) -> tuple[str | None, bytes]:
    """(file name, bytes) of the form's ``imageFile`` part.

    The body must arrive base64-encoded (the API's binary media types include
    multipart/form-data) for a binary file to survive; a text body is taken as UTF-8.
    """
    header = Message()
    header["Content-Type"] = event.headers.get("Content-Type") or ""
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise HubError(Problem.INVALID_REQUEST, f"{IMAGE_FILE} must come as multipart/form-data")
    try:
        body = (
            base64.b64decode(event.body or "", validate=True)
            if event.is_base64_encoded
            else (event.body or "").encode("utf-8")
        )
    except binascii.Error:
        raise HubError(Problem.INVALID_REQUEST, "the body is not valid base64") from None
    found = multipart_file(body, boundary.encode("latin-1"), IMAGE_FILE)
    if found is None:
        raise HubError(Problem.INVALID_REQUEST, f"图片文件不能为空 ({IMAGE_FILE})")
    return found


def multipart_file(body: bytes, boundary: bytes, field: str) -> tuple[str | None, bytes] | None:
    """The first part named ``field`` of a multipart/form-data body (RFC 7578), byte for
    byte: (its file name, its content)."""
    for section in (b"\r\n" + body).split(b"\r\n--" + boundary)[1:]:
        if section.startswith(b"--"):  # the closing delimiter
            break
        head, separator, content = section.partition(b"\r\n\r\n")
        if not separator:
            continue
        headers = Parser(policy=HTTP).parsestr(
            head.split(b"\r\n", 1)[-1].decode("utf-8", "replace") + "\r\n\r\n", headersonly=True
        )
        if headers.get_param("name", header="content-disposition") == field:
            return headers.get_filename(), content
    return None
