"""The review queue (/common/review): what needs attention, newest first; one entry and
its history; fix an entry's fields; check an invoice again now. The platform envelope
of specs 000/001 (``{"resCode", "resMsg", "data"}``).

The cold start loads the routes and their wire models; what serves them (the use cases,
the mappers, the adapters) is loaded by the first request (issue 13)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from fapiao.api.access import refuse_outside_role, role_named
from fapiao.api.json_body import load_json_body
from fapiao.api.responses import install_envelope, json_response
from fapiao.catalogue.errors import Family, HubError, Problem
from fapiao.clients import Role
from fapiao.logs import hub_logger, hub_tracer
from fapiao.model.paging import DEFAULT_LIMIT, MAX_LIMIT
from fapiao.ports import (
    DailyStats,
    FileStore,
    InvoiceStore,
    RecheckScheduler,
    ReviewQueue,
    StatusBus,
    VerifyDeps,
)
from fapiao.settings import CompanySettings, HubSettings, VerifierSettings
from fapiao.wire.console import OverviewResponse
from fapiao.wire.review import (
    FixRequest,
    ReviewDetailResponse,
    ReviewList,
    ReviewListResponse,
    ReviewOutcomeResponse,
)

if TYPE_CHECKING:
    from fapiao.model.review import ReviewOutcome
    from fapiao.services.review import ReviewDeps

logger = hub_logger()
tracer = hub_tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json_body)
install_envelope(app, Family.PLATFORM)

ReviewId = Annotated[str, Path(min_length=1, max_length=2048)]
_DAY = r"^\d{4}-\d{2}-\d{2}$"  # a calendar day as YYYY-MM-DD, nothing else


def _day(name: str, text: str | None) -> dt.date | None:
    """A query's day; 400 for one that is not on the calendar (2026-02-30)."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HubError(Problem.INVALID_REQUEST, f"{name}: {text} is not a day") from None


@dataclass(frozen=True)
class Deps:
    """What this function talks to, built at its first call."""

    queue: ReviewQueue
    store: InvoiceStore
    stats: DailyStats  # the console's overview: outcomes per day, paid checks
    files: FileStore  # the drop bucket: the files the console shows
    drop_bucket: str
    verify_stored: VerifyDeps  # a stored record is checked again: not "a duplicate of itself"
    verify_new: VerifyDeps  # a file's invoice created by a fix: duplicates looked up
    bus: StatusBus
    scheduler: RecheckScheduler
    company: Callable[[], CompanySettings]

    def review(self) -> "ReviewDeps":
        from fapiao.services.recheck import RecheckDeps
        from fapiao.services.review import ReviewDeps

        recheck = RecheckDeps(
            store=self.store,
            verify=self.verify_stored,
            bus=self.bus,
            scheduler=self.scheduler,
            company=self.company(),
        )
        return ReviewDeps(queue=self.queue, recheck=recheck, verify_new=self.verify_new)


@cache
def deps() -> Deps:
    from fapiao.providers.factory import build_verify_deps
    from fapiao.store.company import load_company_settings
    from fapiao.store.events import erp_feed
    from fapiao.store.files import S3FileStore
    from fapiao.store.invoices import DynamoInvoiceStore
    from fapiao.store.rechecks import EventBridgeStatusBus, StepFunctionsRecheckScheduler
    from fapiao.store.review import DynamoReviewQueue
    from fapiao.store.stats import DynamoStats

    settings, verifier = HubSettings.from_env(), VerifierSettings.from_env()
    return Deps(
        queue=DynamoReviewQueue(settings.invoices_table, settings.outcomes_table),
        store=DynamoInvoiceStore(settings.invoices_table, settings.expenses_table),
        stats=DynamoStats(settings.stats_table),
        files=S3FileStore(settings.drop_bucket),
        drop_bucket=settings.drop_bucket,
        verify_stored=build_verify_deps(settings, verifier, duplicates=False),
        verify_new=build_verify_deps(settings, verifier, duplicates=True),
        bus=EventBridgeStatusBus(settings.event_bus, feed=erp_feed()),
        scheduler=StepFunctionsRecheckScheduler(settings.recheck_state_machine),
        company=partial(load_company_settings, settings),
    )


def _caller() -> tuple[str, str]:
    """Who asks, for corrections and re-checks: the API client the authorizer named (its
    context) and its key's role (admin without one, as a direct invocation has)."""
    authorizer = app.current_event.request_context.authorizer
    role = role_named(authorizer) or Role.ADMIN  # an unknown role was refused already
    for name in ("client_name", "client_id"):
        value = authorizer.get(name)
        if isinstance(value, str) and value:
            return value, role.value
    return authorizer.principal_id or "unknown", role.value


def _outcome(name: str, outcome: "ReviewOutcome") -> Response[Any]:
    from fapiao.mapping.review import review_outcome

    data = review_outcome(name, outcome)
    return json_response(200, ReviewOutcomeResponse(res_code=200000, res_msg="success", data=data))


@app.get(
    "/common/review",
    summary="What needs attention (U files, F and C invoices), newest first, a page at a time",
    responses={
        200: {
            "description": "data.items, and data.cursor for the next page (null: the last)",
            "content": {"application/json": {"model": ReviewListResponse}},
        }
    },
)
@tracer.capture_method
def list_entries(
    status: Annotated[str | None, Query(pattern="^[UFC]$", description="U, F or C")] = None,
    owner: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    date_from: Annotated[
        str | None,
        Query(pattern=_DAY, description="changed on or after this day, YYYY-MM-DD (Shanghai)"),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(pattern=_DAY, description="changed on or before this day, YYYY-MM-DD (Shanghai)"),
    ] = None,
) -> Response[Any]:
    from fapiao.mapping.review import review_item
    from fapiao.model import InvoiceStatus
    from fapiao.model.review import REVIEW_STATUSES, ReviewCursor, ReviewQuery, day_bounds
    from fapiao.services.review import review_page

    try:
        after = None if cursor is None else ReviewCursor.decode(cursor)
    except ValueError as error:
        raise HubError(Problem.INVALID_REQUEST, f"cursor: {error}") from None
    statuses = REVIEW_STATUSES if status is None else frozenset({InvoiceStatus(status)})
    since, until = day_bounds(_day("date_from", date_from), _day("date_to", date_to))
    query = ReviewQuery(
        statuses=statuses, owner=owner, limit=limit, after=after, since=since, until=until
    )
    page = review_page(deps().queue, query)
    data = ReviewList(
        items=[review_item(entry) for entry in page.entries],
        cursor=None if page.next is None else page.next.encode(),
    )
    return json_response(200, ReviewListResponse(res_code=200000, res_msg="success", data=data))


@app.get(
    "/common/review/<review_id>",
    summary="One entry of the review queue with its check, history and corrections",
    responses={
        200: {
            "description": "data: the entry",
            "content": {"application/json": {"model": ReviewDetailResponse}},
        }
    },
)
@tracer.capture_method
def detail(review_id: ReviewId) -> Response[Any]:
    from fapiao.mapping.review import review_detail
    from fapiao.services.review import find_entry, recheck_state

    review = deps().review()
    entry = find_entry(review_id, review)
    data = review_detail(entry, recheck_state(entry, review))
    answer = ReviewDetailResponse(res_code=200000, res_msg="success", data=data)
    return json_response(200, answer)


@app.post(
    "/common/review/<review_id>/fix",
    summary="Correct or complete fields (001 receipt_ocr.invoices[] names), then verify and store",
    responses={
        200: {
            "description": "data: the new outcome",
            "content": {"application/json": {"model": ReviewOutcomeResponse}},
        }
    },
)
@tracer.capture_method
def fix(review_id: ReviewId, request: Annotated[FixRequest, Body()]) -> Response[Any]:
    from fapiao.mapping.review import parse_fields
    from fapiao.services.review import fix_entry

    values = parse_fields(request.set_)
    by, role = _caller()
    name, outcome = fix_entry(review_id, values, by=by, role=role, deps=deps().review())
    return _outcome(name, outcome)


@app.post(
    "/common/review/<review_id>/recheck",
    summary="Check an invoice again now (at most 5 checks of an invoice a day)",
    responses={
        200: {
            "description": "data: the new outcome",
            "content": {"application/json": {"model": ReviewOutcomeResponse}},
        }
    },
)
@tracer.capture_method
def recheck(review_id: ReviewId) -> Response[Any]:
    from fapiao.services.review import recheck_entry

    by, role = _caller()
    outcome = recheck_entry(review_id, deps().review(), by=by, role=role)
    return _outcome(outcome.invoice_key or review_id, outcome)


# --- the review console's own data (issue 18) ---------------------------------------------


@app.get(
    "/console/api/overview",
    summary="The console's overview: entries per state, paid checks today, outcomes per day",
    responses={
        200: {
            "description": "data: states, paid_checks_today, outcomes (30 days, oldest first)",
            "content": {"application/json": {"model": OverviewResponse}},
        }
    },
)
@tracer.capture_method
def console_overview() -> Response[Any]:
    from fapiao.dates import today_in_shanghai
    from fapiao.mapping.console import overview_data
    from fapiao.services.console import overview

    data = overview_data(overview(deps().queue, deps().stats, today_in_shanghai()))
    return json_response(200, OverviewResponse(res_code=200000, res_msg="success", data=data))


@app.get(
    "/console/api/items/<review_id>/file",
    summary="A page of the entry's file as a picture (image/png; a photo: image/jpeg)",
    responses={200: {"description": "the picture; X-Page-Count: the file's pages"}},
)
@tracer.capture_method
def console_file(  # type: ignore[no-untyped-def]  # see below
    review_id: ReviewId, page: Annotated[int, Query(ge=1, le=50)] = 1
):
    # No return annotation: with one, Powertools' response validation serialises the body
    # as JSON text, and a picture's bytes are not UTF-8. Without, the resolver answers the
    # bytes base64-encoded (isBase64Encoded), which API Gateway turns back into bytes.
    from fapiao.services.console import entry_page
    from fapiao.services.review import find_entry

    entry = find_entry(review_id, deps().review())
    picture = entry_page(entry, page, deps().files, deps().drop_bucket)
    return Response(
        status_code=200,
        content_type=picture.media_type,
        body=picture.content,  # bytes: the resolver answers them base64-encoded
        headers={"X-Page-Count": str(picture.pages), "Cache-Control": "private, max-age=60"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refuse_outside_role(event) or app.resolve(event, context)  # 403 before validation
