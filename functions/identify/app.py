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

The cold start loads the routes and their wire models; what serves them (the use cases,
the mapper, the adapters) is loaded by the first request (issue 13).
"""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.access import refuse_outside_role
from fapiao.api.json_body import load_json_body
from fapiao.api.requests import form_file
from fapiao.api.responses import install_envelope, json_response
from fapiao.catalogue.errors import Family, HubError, Problem
from fapiao.logs import hub_logger, hub_tracer
from fapiao.settings import HubSettings
from fapiao.wire.yipiaoyun import ResultRequest, ResultResponse, SendByImageUrlRequest, SendResponse

if TYPE_CHECKING:
    from fapiao.services.identify import IdentifyDeps

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
install_envelope(app, Family.YIPIAOYUN)
IMAGE_FILE = "imageFile"  # 004's form field


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    identify: "IdentifyDeps"


@cache
def deps() -> Deps:
    from fapiao.providers.wiring import fetch_bytes
    from fapiao.services.identify import IdentifyDeps
    from fapiao.store.executions import S3Drop, StepFunctionsExecutions

    settings = HubSettings.from_env()
    return Deps(
        identify=IdentifyDeps(
            uploads=S3Drop(settings.drop_bucket),
            executions=StepFunctionsExecutions(settings),
            fetch=fetch_bytes,
        )
    )


@app.post("/openapi/identify/sendByImageUrl", summary="Submit a file by URL (spec 004)")
@tracer.capture_method
def send_by_image_url(request: Annotated[SendByImageUrlRequest, Body()]) -> Response[Any]:
    from fapiao.services.identify import submit_url

    return submitted(submit_url(request.imageUrl, deps().identify))


@app.post("/openapi/identify/sendByImageFile", summary="Submit a file, multipart (spec 004)")
@tracer.capture_method
def send_by_image_file() -> Response[Any]:
    from fapiao.services.identify import submit_file

    found = form_file(app.current_event, IMAGE_FILE)
    if found is None:
        raise HubError(Problem.INVALID_REQUEST, f"图片文件不能为空 ({IMAGE_FILE})")
    file_name, data = found
    return submitted(submit_file(file_name, data, deps().identify))


@app.post(
    "/openapi/identify/result",
    summary="The recognition of an identify id: pending (data null), done or failed",
)
@tracer.capture_method
def result(request: Annotated[ResultRequest, Body()]) -> Response[Any]:
    from fapiao.services.identify import IdentifyState, identify_result

    answer = identify_result(request.identifyId, deps().identify)
    metrics.add_metric(name=f"Identify{answer.state.name.title()}", unit=MetricUnit.Count, value=1)
    if answer.state is IdentifyState.PENDING:
        return json_response(200, {"code": 0, "data": None})
    if answer.state is IdentifyState.FAILED or answer.invoice is None:
        failed = ResultResponse(code=-1, message=answer.message)
        return json_response(200, failed.to_wire(exclude_none=True))
    from fapiao.mapping.yipiaoyun import to_identify_result

    body = ResultResponse(code=0, data=to_identify_result(answer.invoice)).to_wire()
    body.pop("message", None)
    return json_response(200, body)


def submitted(identify_id: str) -> Response[Any]:
    metrics.add_metric(name="IdentifySubmitted", unit=MetricUnit.Count, value=1)
    logger.info("identify submitted", extra={"identify_id": identify_id})
    return json_response(200, SendResponse(code=0, data=identify_id).to_wire(exclude_none=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_outside_role(event) or app.resolve(event, context)  # 403 before validation
